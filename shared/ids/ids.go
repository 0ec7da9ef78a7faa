// Package ids makes our own identifiers: a type prefix and a ULID ("pay_01HV…"). A ULID is a 48-bit
// millisecond time and 80 random bits in 26 Crockford base-32 characters, so ids of one type sort by
// the time they name and a reverse Query lists newest first. Every area uses it for its own ids
// (payments; courses, lessons and sales next), so there is one generator and one validator.
package ids

import (
	"crypto/rand"
	"encoding/binary"
	"time"
)

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ULID returns a ULID for time at.
func ULID(at time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at.UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	// 128 bits → 26 base-32 characters (the first carries 3 bits).
	var out [26]byte
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// New returns prefix + "_" + a ULID for time at, e.g. New("pay", t) = "pay_01HV…".
func New(prefix string, at time.Time) string { return prefix + "_" + ULID(at) }

// Valid reports whether s is prefix + "_" + a well-formed ULID (upper-case Crockford characters,
// a first character of at most 7 so the 128 bits fit).
func Valid(prefix, s string) bool {
	if len(s) != len(prefix)+1+26 || s[:len(prefix)] != prefix || s[len(prefix)] != '_' {
		return false
	}
	u := s[len(prefix)+1:]
	if u[0] > '7' {
		return false
	}
	for i := 0; i < len(u); i++ {
		if !isCrockford(u[i]) {
			return false
		}
	}
	return true
}

// Time returns the time a valid ULID names (millisecond precision).
func Time(ulid string) (time.Time, bool) {
	if len(ulid) != 26 || ulid[0] > '7' {
		return time.Time{}, false
	}
	var ms uint64
	for i := 0; i < 10; i++ { // the first 10 characters carry the 48-bit time (and 2 zero bits)
		v := indexOf(ulid[i])
		if v < 0 {
			return time.Time{}, false
		}
		ms = ms<<5 | uint64(v)
	}
	return time.UnixMilli(int64(ms)).UTC(), true
}

func isCrockford(c byte) bool { return indexOf(c) >= 0 }

func indexOf(c byte) int {
	for i := 0; i < len(crockford); i++ {
		if crockford[i] == c {
			return i
		}
	}
	return -1
}

// Random returns n random bytes encoded as Crockford base32 (8 bytes → 13 characters): secrets such
// as invite codes, where nothing must be guessable and nothing needs to sort.
func Random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	out := make([]byte, 0, (n*8+4)/5)
	var acc uint32
	bits := 0
	for _, x := range b {
		acc = acc<<8 | uint32(x)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out = append(out, crockford[(acc>>uint(bits))&31])
		}
	}
	if bits > 0 {
		out = append(out, crockford[(acc<<uint(5-bits))&31])
	}
	return string(out)
}
