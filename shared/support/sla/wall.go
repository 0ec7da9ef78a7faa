package sla

import "time"

// firstAt is the first instant whose wall clock in loc reads hour:00 or later on date (a UTC
// midnight standing for the local calendar date).
//
// Where that reading shows once, it is time.Date's answer. Around a change of offset time.Date
// picks one of the two offsets without saying which, so it is not used there: if the hour repeats
// (clocks go back) the first showing is under the earlier offset; if the hour is skipped (clocks
// jump forward) it never shows, and the day reaches it at the jump. Defined this way, the instant
// grows with the reading, so business windows never overlap or run backwards in any zone.
func firstAt(date time.Time, hour int, loc *time.Location) time.Time {
	wall := date.Add(time.Duration(hour) * time.Hour).Unix() // the reading, in seconds as if UTC
	t := time.Date(date.Year(), date.Month(), date.Day(), hour, 0, 0, 0, loc)
	// The tz database changes a zone's offset at most once within a day either side of any instant
	// (the whole-zone property test checks what follows from it), so these are all the offsets
	// that can show the reading.
	before, at, after := offset(t.Add(-24*time.Hour), loc), offset(t, loc), offset(t.Add(24*time.Hour), loc)
	if before == at && at == after {
		return t
	}
	first := int64(0)
	found := false
	for _, off := range []int64{before, at, after} {
		if c := wall - off; offset(time.Unix(c, 0), loc) == off && (!found || c < first) {
			first, found = c, true
		}
	}
	if found {
		return time.Unix(first, 0).In(loc)
	}
	// Skipped: the jump lies between the instant that would show the reading under the later
	// offset (the clock still reads less) and under the earlier one (it already reads more).
	lo, hi := wall-after, wall-before
	if lo >= hi || lo+offset(time.Unix(lo, 0), loc) >= wall || hi+offset(time.Unix(hi, 0), loc) < wall {
		return t // not a single jump over the reading: nothing better than time.Date's choice
	}
	for hi-lo > 1 { // offsets change on whole seconds
		mid := lo + (hi-lo)/2
		if mid+offset(time.Unix(mid, 0), loc) >= wall {
			hi = mid
		} else {
			lo = mid
		}
	}
	return time.Unix(hi, 0).In(loc)
}

// offset is loc's UTC offset at t, in seconds.
func offset(t time.Time, loc *time.Location) int64 {
	_, off := t.In(loc).Zone()
	return int64(off)
}
