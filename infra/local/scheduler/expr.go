// Package scheduler runs the schedule functions locally: it parses EventBridge Scheduler
// expressions (rate and cron), computes their next fire time, and invokes each job on time with the
// same event payload the deployed schedule sends.
package scheduler

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule computes fire times.
type Schedule interface {
	// Next returns the first fire time strictly after t.
	Next(t time.Time) time.Time
}

// Parse parses "rate(N unit)" or "cron(min hour dom month dow year)". Times are UTC, the
// Scheduler default when no ScheduleExpressionTimezone is set.
func Parse(expr string) (Schedule, error) {
	expr = strings.TrimSpace(expr)
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		return parseRate(expr[5 : len(expr)-1])
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		return parseCron(expr[5 : len(expr)-1])
	}
	return nil, fmt.Errorf("schedule %q: want rate(...) or cron(...)", expr)
}

// Rate fires every Every, counted from Start (Scheduler counts from the schedule's creation).
type Rate struct {
	Every time.Duration
	Start time.Time
}

// Next implements Schedule.
func (r Rate) Next(t time.Time) time.Time {
	if t.Before(r.Start) {
		return r.Start
	}
	n := t.Sub(r.Start)/r.Every + 1
	return r.Start.Add(n * r.Every)
}

func parseRate(s string) (Schedule, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return nil, fmt.Errorf("rate(%s): want rate(value unit)", s)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 1 {
		return nil, fmt.Errorf("rate(%s): value must be a positive integer", s)
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	unit := f[1]
	// AWS insists on the singular for 1 and the plural otherwise; so do we, to fail before deploy.
	if n == 1 && strings.HasSuffix(unit, "s") || n > 1 && !strings.HasSuffix(unit, "s") {
		return nil, fmt.Errorf("rate(%s): use %q with 1 and the plural otherwise", s, strings.TrimSuffix(unit, "s"))
	}
	d, ok := units[strings.TrimSuffix(unit, "s")]
	if !ok {
		return nil, fmt.Errorf("rate(%s): unit must be minute(s), hour(s) or day(s)", s)
	}
	return Rate{Every: time.Duration(n) * d, Start: time.Now().UTC().Truncate(time.Minute)}, nil
}

// Cron is a parsed six-field EventBridge cron expression; each field is the set of allowed values.
type Cron struct {
	minute, hour, dom, month, dow, year set
	domAny, dowAny                      bool // "?" or "*": the field does not restrict the day
}

type set map[int]bool

type field struct {
	name     string
	min, max int
	names    map[string]int
}

var (
	months = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
		"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	days = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

	fields = [6]field{
		{"minutes", 0, 59, nil}, {"hours", 0, 23, nil}, {"day-of-month", 1, 31, nil},
		{"month", 1, 12, months}, {"day-of-week", 1, 7, days}, {"year", 1970, 2199, nil},
	}
)

func parseCron(s string) (Schedule, error) {
	f := strings.Fields(s)
	if len(f) != 6 {
		return nil, fmt.Errorf("cron(%s): want 6 fields (minutes hours day-of-month month day-of-week year)", s)
	}
	var sets [6]set
	for i, spec := range fields {
		v := strings.ToUpper(f[i])
		if v == "?" {
			if i != 2 && i != 4 {
				return nil, fmt.Errorf("cron(%s): ? is only allowed in day-of-month or day-of-week", s)
			}
			v = "*"
		}
		st, err := parseField(v, spec)
		if err != nil {
			return nil, fmt.Errorf("cron(%s): %w", s, err)
		}
		sets[i] = st
	}
	// AWS requires exactly one of the two day fields to be "?".
	if (f[2] == "?") == (f[4] == "?") {
		return nil, fmt.Errorf("cron(%s): exactly one of day-of-month and day-of-week must be ?", s)
	}
	return &Cron{minute: sets[0], hour: sets[1], dom: sets[2], month: sets[3], dow: sets[4], year: sets[5],
		domAny: f[2] == "?" || f[2] == "*", dowAny: f[4] == "?" || f[4] == "*"}, nil
}

// parseField handles "*", "n", "a-b", "a,b,c", "*/s", "a/s" and "a-b/s", with names where allowed.
// L, W and # are not supported (no schedule of ours uses them); they are rejected, not ignored.
func parseField(v string, f field) (set, error) {
	out := set{}
	for _, part := range strings.Split(v, ",") {
		step := 1
		if i := strings.IndexByte(part, '/'); i >= 0 {
			n, err := strconv.Atoi(part[i+1:])
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%s: bad step in %q", f.name, part)
			}
			step, part = n, part[:i]
		}
		lo, hi := f.min, f.max
		switch {
		case part == "*":
		case strings.Contains(part, "-"):
			a, b, _ := strings.Cut(part, "-")
			var err error
			if lo, err = value(a, f); err != nil {
				return nil, err
			}
			if hi, err = value(b, f); err != nil {
				return nil, err
			}
			if hi < lo {
				return nil, fmt.Errorf("%s: range %q runs backwards", f.name, part)
			}
		default:
			n, err := value(part, f)
			if err != nil {
				return nil, err
			}
			lo = n
			if step == 1 {
				hi = n // "5" is one value; "5/10" is 5, 15, 25…
			}
		}
		for x := lo; x <= hi; x += step {
			out[x] = true
		}
	}
	return out, nil
}

func value(s string, f field) (int, error) {
	if n, ok := f.names[s]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a value (L, W and # are not supported locally)", f.name, s)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("%s: %d is outside %d-%d", f.name, n, f.min, f.max)
	}
	return n, nil
}

// Next implements Schedule: it advances field by field (year, month, day, hour, minute), jumping to
// the start of the next unit on a mismatch, so it takes at most a few hundred steps.
func (c *Cron) Next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	for limit := 0; limit < 100000; limit++ {
		switch {
		case t.Year() > 2199:
			return time.Time{}
		case !c.year[t.Year()]:
			t = time.Date(t.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
		case !c.month[int(t.Month())]:
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		case !c.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
		case !c.hour[t.Hour()]:
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, time.UTC)
		case !c.minute[t.Minute()]:
			t = t.Add(time.Minute)
		default:
			return t
		}
	}
	return time.Time{}
}

func (c *Cron) dayMatches(t time.Time) bool {
	dom, dow := c.dom[t.Day()], c.dow[int(t.Weekday())+1] // Go: Sunday=0; EventBridge: SUN=1
	switch {
	case c.domAny && c.dowAny:
		return true
	case c.domAny:
		return dow
	case c.dowAny:
		return dom
	}
	return dom && dow // unreachable: one of the two must be "?"
}
