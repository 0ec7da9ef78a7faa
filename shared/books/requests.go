package books

import (
	"time"

	"github.com/liberation/monetization/shared/apperr"
)

// earliest is the first day the routes accept: the journal refuses entries before it, so nothing
// earlier can be asked about.
var earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func invalid(field, format string, args ...any) error {
	return apperr.New(apperr.Invalid, field+" "+format, args...)
}

func dayStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// parseDay reads a yyyy-mm-dd UTC day no earlier than 2000-01-01 and no later than latest (a
// day): a malformed or out-of-range day is a 400 naming the field.
func parseDay(field, s string, latest time.Time) (time.Time, error) {
	d, err := time.Parse("2006-01-02", s)
	if err != nil || len(s) != len("2006-01-02") {
		return time.Time{}, invalid(field, "must be a date yyyy-mm-dd")
	}
	if d.Before(earliest) || d.After(latest) {
		return time.Time{}, invalid(field, "must be from %s to %s", earliest.Format("2006-01-02"), latest.Format("2006-01-02"))
	}
	return d, nil
}

// parseMonth reads a yyyy-mm month from 2000-01 to the current month (UTC) of now: a malformed
// month, one before 2000 or one still ahead is a 400 naming the field.
func parseMonth(field, s string, now time.Time) (time.Time, error) {
	m, err := time.Parse("2006-01", s)
	if err != nil || len(s) != len("2006-01") {
		return time.Time{}, invalid(field, "must be a month yyyy-mm")
	}
	current := monthStart(now)
	if m.Before(earliest) || m.After(current) {
		return time.Time{}, invalid(field, "must be from %s to %s (a month that has not begun has no books)",
			earliest.Format("2006-01"), current.Format("2006-01"))
	}
	return m, nil
}

// exportRequest is POST /admin/books/exports.
type exportRequest struct {
	Month  string `json:"month"`
	Format string `json:"format"`
}

// The export formats.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)
