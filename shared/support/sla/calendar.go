package sla

import (
	"errors"
	"time"
	// Embedded zone database: zone names resolve the same whatever the OS image ships (provided.al2023
	// first came without /usr/share/zoneinfo: aws/aws-lambda-dotnet#1620).
	_ "time/tzdata"
)

// Clock measures working time: Between counts it in [from, to), Add finds when d of it has passed.
type Clock interface {
	Between(from, to time.Time) time.Duration
	Add(from time.Time, d time.Duration) time.Time
}

// Calendar counts every hour.
type Calendar struct{}

// Between implements Clock.
func (Calendar) Between(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	return to.Sub(from)
}

// Add implements Clock.
func (Calendar) Add(from time.Time, d time.Duration) time.Time { return from.Add(d) }

// BusinessHours counts Monday–Friday OpenHour:00–CloseHour:00 in Loc (DST handled by the zone:
// a business day is 09:00–17:00 on the wall clock).
type BusinessHours struct {
	Loc                 *time.Location
	OpenHour, CloseHour int
}

// Business returns the standard business hours (09:00–17:00, Monday–Friday) in loc (UTC if nil).
func Business(loc *time.Location) BusinessHours {
	if loc == nil {
		loc = time.UTC
	}
	return BusinessHours{Loc: loc, OpenHour: 9, CloseHour: 17}
}

// LoadZone resolves an IANA time zone name ("" is UTC).
func LoadZone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if len(name) > 64 {
		return nil, errors.New("time zone name too long")
	}
	return time.LoadLocation(name)
}

// ClockFor returns the clock a policy counts in.
func ClockFor(p Policy, loc *time.Location) Clock {
	if p.Business {
		return Business(loc)
	}
	return Calendar{}
}

// window returns the business window of the local day containing t (ok false on weekends).
func (b BusinessHours) window(day time.Time) (open, close time.Time, ok bool) {
	y, m, d := day.Date()
	open = time.Date(y, m, d, b.OpenHour, 0, 0, 0, b.Loc)
	close = time.Date(y, m, d, b.CloseHour, 0, 0, 0, b.Loc)
	wd := open.Weekday()
	return open, close, wd != time.Saturday && wd != time.Sunday
}

// nextDay is the local midnight after day's (DST-safe: built from the date, not by adding 24 h).
func (b BusinessHours) nextDay(day time.Time) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, b.Loc)
}

// maxDays bounds the walks (a ticket open for ten years is not a real case).
const maxDays = 3660

// Between implements Clock.
func (b BusinessHours) Between(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	var total time.Duration
	day := from.In(b.Loc)
	for i := 0; i < maxDays && day.Before(to); i++ {
		if open, close, ok := b.window(day); ok {
			s, e := later(open, from), earlier(close, to)
			if e.After(s) {
				total += e.Sub(s)
			}
		}
		day = b.nextDay(day)
	}
	return total
}

// Add implements Clock: the earliest instant at which d of business time has passed since from.
// Add(from, 0) is from itself, even outside business hours.
func (b BusinessHours) Add(from time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return from
	}
	day := from.In(b.Loc)
	for i := 0; i < maxDays; i++ {
		if open, close, ok := b.window(day); ok {
			s := later(open, from)
			if close.After(s) {
				if avail := close.Sub(s); avail >= d {
					return s.Add(d)
				} else {
					d -= avail
				}
			}
		}
		day = b.nextDay(day)
	}
	return from.Add(time.Duration(maxDays) * 24 * time.Hour)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
