package marketplace

import (
	"regexp"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/ids"
)

// Id prefixes.
const (
	prefixCourse = "crs_"
	prefixLesson = "lsn_"
	prefixSale   = "sale_"
	prefixLedger = "led_"
)

var periodPattern = regexp.MustCompile(`^(20[2-9][0-9])-(0[1-9]|1[0-2])$`)

// ValidCourseID reports whether s has the shape of a course id.
func ValidCourseID(s string) bool { return ids.Valid(strings.TrimSuffix(prefixCourse, "_"), s) }

// newID returns prefix + a ULID (shared/ids), so ids sort by time and a reverse Query lists newest
// first.
func newID(prefix string, at time.Time) string { return ids.New(strings.TrimSuffix(prefix, "_"), at) }

// PayoutID is the id of an instructor's payout of a period. It is derived, not random: the Stripe
// transfer's idempotency key and transfer_group are made from it, so every attempt of the same
// payout is the same Stripe operation.
func PayoutID(instructorID, period string) string { return "po_" + period + "_" + instructorID }

// ValidPeriod reports a payout period "YYYY-MM".
func ValidPeriod(s string) bool { return periodPattern.MatchString(s) }

// Period is the payout period of t ("2026-12").
func Period(t time.Time) string { return t.UTC().Format("2006-01") }
