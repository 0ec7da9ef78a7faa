package ids

import (
	"strings"
	"testing"
	"time"
)

func TestNewIsValidAndTimeOrdered(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	a, b := New("lic", t0), New("lic", t0.Add(time.Millisecond))
	if !Valid("lic", a) || !Valid("lic", b) {
		t.Fatalf("not valid: %s %s", a, b)
	}
	if !(a < b) {
		t.Fatalf("ids not time ordered: %s ≥ %s", a, b)
	}
	if New("lic", t0) == a {
		t.Fatal("two ids at one instant are equal")
	}
}

func TestValid(t *testing.T) {
	ok := "tkt_01JDZ8K3M4N5P6Q7R8S9T0VWXY"
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{ok, true},
		{"lic_01JDZ8K3M4N5P6Q7R8S9T0VWXY", false},       // other prefix
		{"tkt_01JDZ8K3M4N5P6Q7R8S9T0VWX", false},        // short
		{"tkt_01JDZ8K3M4N5P6Q7R8S9T0VWXYZ", false},      // long
		{"tkt_01JDZ8K3M4N5P6Q7R8S9T0VWXI", false},       // I is not Crockford
		{"tkt_01jdz8k3m4n5p6q7r8s9t0vwxy", false},       // lower case
		{"tkt-01JDZ8K3M4N5P6Q7R8S9T0VWXY", false},       // separator
		{"TICKET#x#tkt_01JDZ8K3M4N5P6Q7R8S9T0V", false}, // key injection
	} {
		if got := Valid("tkt", tc.s); got != tc.want {
			t.Errorf("Valid(%q) = %v", tc.s, got)
		}
	}
}

func TestRandom(t *testing.T) {
	s := Random(10)
	if len(s) != 16 || strings.Trim(s, crockford) != "" {
		t.Fatalf("Random(10) = %q", s)
	}
	if Random(10) == s {
		t.Fatal("not random")
	}
}
