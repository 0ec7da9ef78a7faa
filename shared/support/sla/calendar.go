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

// BusinessHours counts Monday–Friday OpenHour:00–CloseHour:00 on the wall clock in Loc: a day's
// window runs from the first instant the clock reads 09:00 to the first it reads 17:00 (firstAt),
// so DST days and jumps at any hour are handled by the zone's own rules.
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

// dateOf is the local calendar date of t, as the UTC midnight of that date. The walks step through
// these dates (UTC has no DST: +24 h is always the next date), never through local midnights: where
// clocks jump at midnight (America/Santiago, America/Havana, Atlantic/Azores) a Sunday 00:00 does
// not exist, time.Date normalises it back into Saturday, and such a walk never left Saturday.
func (b BusinessHours) dateOf(t time.Time) time.Time {
	y, m, d := t.In(b.Loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// window is the business window of a local date: from the first instant the wall clock reads
// OpenHour:00 to the first it reads CloseHour:00 (ok false on weekends). Both ends grow with the
// date, so the windows of successive dates never overlap, whatever the zone does.
func (b BusinessHours) window(date time.Time) (open, close time.Time, ok bool) {
	if wd := date.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return time.Time{}, time.Time{}, false
	}
	return firstAt(date, b.OpenHour, b.Loc), firstAt(date, b.CloseHour, b.Loc), true
}

// maxDays bounds the walks (a ticket open for ten years is not a real case).
const maxDays = 3660

// Between implements Clock.
func (b BusinessHours) Between(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	var total time.Duration
	date := b.dateOf(from)
	for i := 0; i < maxDays; i, date = i+1, date.Add(24*time.Hour) {
		open, close, ok := b.window(date)
		if !ok {
			continue
		}
		if !open.Before(to) {
			break
		}
		if s, e := later(open, from), earlier(close, to); e.After(s) {
			total += e.Sub(s)
		}
	}
	return total
}

// Add implements Clock: the earliest instant at which d of business time has passed since from.
// Add(from, 0) is from itself, even outside business hours.
func (b BusinessHours) Add(from time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return from
	}
	date := b.dateOf(from)
	for i := 0; i < maxDays; i, date = i+1, date.Add(24*time.Hour) {
		open, close, ok := b.window(date)
		if !ok {
			continue
		}
		s := later(open, from)
		if !close.After(s) {
			continue
		}
		if avail := close.Sub(s); avail < d {
			d -= avail
			continue
		}
		return s.Add(d)
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
