package ids

import (
	"sort"
	"strings"
	"testing"
	"time"
)

func TestNewSortsByTimeAndRoundTrips(t *testing.T) {
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var got []string
	for i := 0; i < 50; i++ {
		got = append(got, New("pay", base.Add(time.Duration(i)*time.Millisecond)))
	}
	if !sort.StringsAreSorted(got) {
		t.Fatalf("ids are not in time order: %v", got)
	}
	for i, id := range got {
		if !Valid("pay", id) {
			t.Fatalf("%q is not valid", id)
		}
		at, ok := Time(strings.TrimPrefix(id, "pay_"))
		if want := base.Add(time.Duration(i) * time.Millisecond); !ok || !at.Equal(want) {
			t.Fatalf("Time(%q) = %v %v, want %v", id, at, ok, want)
		}
	}
	if a, b := New("pay", base), New("pay", base); a == b {
		t.Fatal("two ids of the same millisecond are equal: the random part is missing")
	}
}

func TestValid(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"pay_01ARZ3NDEKTSV4RRFFQ69G5FAV", true},
		{"pay_01arz3ndektsv4rrffq69g5fav", false}, // lower case
		{"pay_01ARZ3NDEKTSV4RRFFQ69G5FA", false},  // 25 characters
		{"pay_01ARZ3NDEKTSV4RRFFQ69G5FAI", false}, // I is not Crockford
		{"pay_81ARZ3NDEKTSV4RRFFQ69G5FAV", false}, // more than 128 bits
		{"sal_01ARZ3NDEKTSV4RRFFQ69G5FAV", false}, // another type
		{"pay01ARZ3NDEKTSV4RRFFQ69G5FAVX", false},
		{"USER#x", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := Valid("pay", tt.s); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.s, got, tt.want)
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
