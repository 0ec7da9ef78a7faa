package httpapi

import (
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// FuzzWholeDigits checks wholeDigits against exact rational arithmetic (math/big) for any JSON
// number with a modest exponent. `go test` runs the seeds; `go test -fuzz FuzzWholeDigits` explores.
func FuzzWholeDigits(f *testing.F) {
	for _, s := range []string{"0", "-0", "-0.0", "100", "100.0", "1e2", "1E+2", "12.50e1", "9.99", "1e-2",
		"0.000", "10e-1", "123456789012345678901", "9223372036854775807", "-9223372036854775808", "5e19", "0e5", "1.0e0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !isJSONNumber(s) {
			return
		}
		if _, exp, ok := strings.Cut(strings.ToLower(s), "e"); ok {
			if e, err := strconv.Atoi(exp); err != nil || e > 60 || e < -60 {
				return // big.Rat would expand it; wholeDigits's bounds are tested in TestDecode
			}
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("big.Rat refuses %q", s)
		}
		neg, digits, whole := wholeDigits(s)
		if whole != r.IsInt() {
			t.Fatalf("%q: whole = %v, want %v", s, whole, r.IsInt())
		}
		if !whole {
			return
		}
		want := new(big.Int).Abs(r.Num()).String()
		if len(want) > len(tooBig) {
			if digits != tooBig {
				t.Fatalf("%q: digits %q, want tooBig", s, digits)
			}
			return
		}
		if digits != want || (neg && r.Sign() > 0) || (!neg && r.Sign() < 0) {
			t.Fatalf("%q: got neg=%v %q, want %s", s, neg, digits, r.RatString())
		}
	})
}

// isJSONNumber: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isJSONNumber(s string) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, n = i+1, n+1
		}
		return n
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
