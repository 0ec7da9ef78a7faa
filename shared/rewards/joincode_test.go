package rewards

import (
	"bytes"
	"io"
	mrand "math/rand/v2"
	"strings"
	"testing"
)

// cycle yields 0, 1, …, 255, 0, 1, …: every byte value equally often, which is what a perfect random
// source gives on average. A generator that maps bytes to symbols with a plain modulo gives the first
// 256 mod 31 = 8 symbols 9 bytes in 256 and the others 8: a bias chi-square sees at once.
type cycle struct{ n byte }

func (c *cycle) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.n
		c.n++
	}
	return len(p), nil
}

// chiSquare of symbol counts against a uniform distribution over the alphabet.
func chiSquare(t *testing.T, codes []string) float64 {
	t.Helper()
	counts := map[rune]float64{}
	total := 0.0
	for _, c := range codes {
		for _, r := range c {
			counts[r]++
			total++
		}
	}
	want := total / float64(len(joinCodeAlphabet))
	chi := 0.0
	for _, r := range joinCodeAlphabet {
		d := counts[r] - want
		chi += d * d / want
	}
	return chi
}

// chi2Critical is the 0.999 quantile of chi-square with 30 degrees of freedom (31 symbols): a
// uniform generator exceeds it once in a thousand runs of a random source; the fixed sources below
// make the test deterministic.
const chi2Critical = 59.70

func draw(t *testing.T, src io.Reader, n int) []string {
	t.Helper()
	out := make([]string, n)
	for i := range out {
		c, err := drawJoinCode(src)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = c
	}
	return out
}

func TestJoinCodeHasNoModuloBias(t *testing.T) {
	if chi := chiSquare(t, draw(t, &cycle{}, 4000)); chi > chi2Critical {
		t.Fatalf("every byte value equally often gives biased symbols: chi-square %.1f > %.1f (modulo bias)", chi, chi2Critical)
	}
	src := mrand.NewChaCha8([32]byte{'j', 'o', 'i', 'n'})
	if chi := chiSquare(t, draw(t, src, 4000)); chi > chi2Critical {
		t.Fatalf("a seeded uniform source: chi-square %.1f > %.1f", chi, chi2Critical)
	}
}

// The alphabet's bytes above the largest multiple of 31 are rejected, not folded; a source that
// gives only those ends in an error, not a loop or a biased code.
func TestJoinCodeRejectsTheTailBytes(t *testing.T) {
	if _, err := drawJoinCode(bytes.NewReader(bytes.Repeat([]byte{255, 248}, 100))); err == nil {
		t.Fatal("a code drawn from bytes that must all be rejected")
	}
}

func TestJoinCodeShapeAndEntropy(t *testing.T) {
	// ≥ 64 bits: JoinCodeLen × log2(31) ≥ 64 ⇔ 31^JoinCodeLen ≥ 2^64.
	if bits := float64(JoinCodeLen) * 4.954196310386876; bits < 64 {
		t.Fatalf("%d symbols of 31 carry %.1f bits, want ≥ 64", JoinCodeLen, bits)
	}
	seen := map[string]bool{}
	for i := 0; i < 500; i++ {
		c := newJoinCode()
		if len(c) != JoinCodeLen || strings.Trim(c, joinCodeAlphabet) != "" {
			t.Fatalf("%q: want %d symbols of %s", c, JoinCodeLen, joinCodeAlphabet)
		}
		q := JoinRequest{Code: c}
		if err := q.Validate(); err != nil || q.Code != c {
			t.Fatalf("%q: %v", c, err)
		}
		typed := JoinRequest{Code: strings.ToLower(c[:4] + "-" + c[4:8] + " " + c[8:])}
		if err := typed.Validate(); err != nil || typed.Code != c {
			t.Fatalf("%q as typed: %q %v", c, typed.Code, err)
		}
		seen[c] = true
	}
	if len(seen) != 500 {
		t.Fatalf("codes repeat: %d distinct of 500", len(seen))
	}
}

// Classes created before keep their 8-symbol codes; any other length is refused before a lookup.
func TestJoinCodeLengths(t *testing.T) {
	for code, ok := range map[string]bool{
		"ABCDEF23":       true,  // legacy
		"ab-cd ef23":     true,  // legacy, as typed
		"ABCDEFGHJKMNP":  true,  // new
		"ABCDEFGHJ":      false, // 9
		"ABCDEFGHJKMN":   false, // 12
		"ABCDEFGHJKMNPQ": false, // 14
		"ABCDEF2O":       false, // O is not in the alphabet
	} {
		q := JoinRequest{Code: code}
		if err := q.Validate(); (err == nil) != ok {
			t.Errorf("%q: err %v, want ok=%v", code, err, ok)
		}
	}
}
