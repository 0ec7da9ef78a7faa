package marketplace

import (
	"crypto/rand"
	"encoding/binary"
	"regexp"
	"time"
)

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// Id prefixes.
const (
	prefixCourse = "crs_"
	prefixLesson = "lsn_"
	prefixSale   = "sale_"
	prefixLedger = "led_"
)

var (
	courseIDPattern = regexp.MustCompile(`^crs_[0-9A-HJKMNP-TV-Z]{26}$`)
	periodPattern   = regexp.MustCompile(`^(20[2-9][0-9])-(0[1-9]|1[0-2])$`)
)

// ValidCourseID reports whether s has the shape of a course id.
func ValidCourseID(s string) bool { return courseIDPattern.MatchString(s) }

// newID returns prefix + a ULID (48-bit millisecond time, 80 random bits, Crockford base32), so ids
// sort by time and a reverse Query lists newest first.
func newID(prefix string, at time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at.UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	var out [26]byte
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return prefix + string(out[:])
}

// PayoutID is the id of an instructor's payout of a period. It is derived, not random: the Stripe
// transfer's idempotency key and transfer_group are made from it, so every attempt of the same
// payout is the same Stripe operation.
func PayoutID(instructorID, period string) string { return "po_" + period + "_" + instructorID }

// ValidPeriod reports a payout period "YYYY-MM".
func ValidPeriod(s string) bool { return periodPattern.MatchString(s) }

// Period is the payout period of t ("2026-12").
func Period(t time.Time) string { return t.UTC().Format("2006-01") }
