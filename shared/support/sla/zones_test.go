package sla

import (
	"archive/zip"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// goZones loads every zone of the Go installation's tz database ($GOROOT/lib/time/zoneinfo.zip, the
// data time/tzdata embeds), from the zip itself so the system's zoneinfo cannot change the answer.
func goZones(t *testing.T) []*time.Location {
	t.Helper()
	root := os.Getenv("GOROOT")
	if root == "" {
		out, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			t.Fatalf("go env GOROOT: %v", err)
		}
		root = strings.TrimSpace(string(out))
	}
	z, err := zip.OpenReader(filepath.Join(root, "lib", "time", "zoneinfo.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	var locs []*time.Location
	for _, f := range z.File {
		if f.FileInfo().IsDir() {
			continue
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		loc, err := time.LoadLocationFromTZData(f.Name, data)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		locs = append(locs, loc)
	}
	if len(locs) < 400 {
		t.Fatalf("only %d zones in the Go tz database", len(locs))
	}
	return locs
}

// transitions lists the instants in [from, to) at which loc's UTC offset changes. ZoneBounds also
// reports the year ends of rule-based periods, where nothing changes (answering end == t there).
func transitions(loc *time.Location, from, to time.Time) []time.Time {
	var out []time.Time
	for t := from; t.Before(to); {
		_, end := t.In(loc).ZoneBounds()
		switch {
		case end.IsZero() || !end.Before(to):
			return out
		case !end.After(t):
			t = t.Add(time.Hour)
			continue
		case offset(end.Add(-time.Second), loc) != offset(end, loc):
			out = append(out, end)
		}
		t = end
	}
	return out
}

// openMinutes counts, minute by minute, the instants in [from, to) whose wall clock in loc reads
// Monday–Friday 09:00–16:59, independently of the calendar's walk and of time.Date. It agrees with
// the calendar's windows wherever clocks do not go back across 09:00 or 17:00 (none does in
// 2025–2028; where one did, a window would end at the first 17:00).
func openMinutes(loc *time.Location, from, to time.Time) time.Duration {
	var n time.Duration
	for t := from; t.Before(to); t = t.Add(time.Minute) {
		l := t.In(loc)
		if wd := l.Weekday(); wd != time.Saturday && wd != time.Sunday && l.Hour() >= 9 && l.Hour() < 17 {
			n += time.Minute
		}
	}
	return n
}

// maxSpan bounds how far a due date may lie: every week holds at least five business days of at
// least seven hours (a one-hour DST change inside a window), so d takes at most ceil(d/35 h) weeks,
// plus one week for where from falls.
func maxSpan(d time.Duration) time.Duration {
	weekly := 35 * time.Hour
	return time.Duration((d+weekly-1)/weekly+1) * 7 * 24 * time.Hour
}

// Every zone of the Go tz database, 2025–2028: Add then Between round-trips, Add is the earliest
// such instant, lands inside business hours and within a bounded distance; and around every zone
// transition Between equals a minute-by-minute count of the wall clock.
func TestBusinessHoursInEveryZone(t *testing.T) {
	start, end := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)
	zones := goZones(t)
	began := time.Now()
	var cases, counted int
	for _, loc := range zones {
		b := Business(loc)
		h := fnv.New64a()
		h.Write([]byte(loc.String()))
		r := rand.New(rand.NewPCG(h.Sum64(), 2025)) // per zone, so a failure replays alone
		minute := func(span time.Duration) time.Duration {
			return time.Duration(r.Int64N(int64(span/time.Minute))) * time.Minute
		}
		var froms []time.Time
		for i := 0; i < 6; i++ {
			froms = append(froms, start.Add(minute(end.Sub(start)-200*24*time.Hour)))
		}
		for _, tr := range transitions(loc, start, end) {
			// Around each change: just before and at it, and somewhere in the three days before.
			froms = append(froms, tr.Add(-time.Minute), tr, tr.Add(-minute(72*time.Hour)))
			from := tr.Add(-36 * time.Hour).Truncate(time.Minute)
			if got, want := b.Between(from, from.Add(72*time.Hour)), openMinutes(loc, from, from.Add(72*time.Hour)); got != want {
				t.Fatalf("%s: Between(%s, +72h) = %v, the wall clock shows %v of business hours", loc, from, got, want)
			}
			counted++
		}
		for _, from := range froms {
			for _, d := range []time.Duration{0, time.Minute, 8 * time.Hour, 72 * time.Hour, 120 * time.Hour, minute(130 * time.Hour)} {
				cases++
				due := b.Add(from, d)
				if got := b.Between(from, due); got != d {
					t.Fatalf("%s: Between(%s, Add(+%v) = %s) = %v", loc, from, d, due, got)
				}
				if due.Sub(from) > maxSpan(d) || due.Before(from) {
					t.Fatalf("%s: Add(%s, %v) = %s, %v away", loc, from, d, due, due.Sub(from))
				}
				if d == 0 {
					continue
				}
				if b.Between(from, due.Add(-time.Minute)) >= d {
					t.Fatalf("%s: Add(%s, %v) = %s is not the earliest instant", loc, from, d, due)
				}
				l := due.In(loc)
				if wd, hm := l.Weekday(), l.Hour()*60+l.Minute(); wd == time.Saturday || wd == time.Sunday || hm < 9*60 || hm > 17*60 {
					t.Fatalf("%s: Add(%s, %v) = %s is outside business hours", loc, from, d, l)
				}
			}
		}
	}
	t.Logf("%d zones, %d Add/Between cases, %d transitions counted minute by minute, in %v", len(zones), cases, counted,
		time.Since(began).Round(time.Millisecond))
}

// Zones whose clocks jump at midnight: the day after a Saturday whose midnight does not exist is
// Sunday, and the week goes on (a walk that builds the next day from local midnight stays on
// Saturday; Add answered from + 3,660 days).
func TestBusinessHoursWhereMidnightIsSkipped(t *testing.T) {
	for _, tc := range []struct {
		zone     string
		from     string // UTC
		d        time.Duration
		want     string // UTC
		weekdays time.Duration
	}{
		// Santiago springs forward at Saturday 24:00 (2026-09-05): Friday 15:00 −04 + 8 h → Monday 15:00 −03.
		{"America/Santiago", "2026-09-04 19:00", 8 * time.Hour, "2026-09-07 18:00", 8 * time.Hour},
		// and falls back at Saturday 24:00 (2026-04-04): Friday 16:00 −03 + 2 h → Monday 10:00 −04.
		{"America/Santiago", "2026-04-03 19:00", 2 * time.Hour, "2026-04-06 14:00", 2 * time.Hour},
		// Havana springs forward at Saturday 24:00 (2026-03-07): Friday 16:00 −05 + 2 h → Monday 10:00 −04.
		{"America/Havana", "2026-03-06 21:00", 2 * time.Hour, "2026-03-09 14:00", 2 * time.Hour},
		// Azores springs forward at Saturday 24:00 (2026-03-28): Friday 16:00 −01 + 2 h → Monday 10:00 +00.
		{"Atlantic/Azores", "2026-03-27 17:00", 2 * time.Hour, "2026-03-30 10:00", 2 * time.Hour},
		// Enterprise low resolution (120 h) over the Santiago weekend: 15 business days.
		{"America/Santiago", "2026-09-04 13:00", 120 * time.Hour, "2026-09-24 20:00", 120 * time.Hour},
	} {
		b := Business(zone(t, tc.zone))
		from, want := utc(tc.from), utc(tc.want)
		if got := b.Add(from, tc.d); !got.Equal(want) {
			t.Errorf("%s: Add(%s, %v) = %s, want %s", tc.zone, tc.from, tc.d, got.UTC().Format("2006-01-02 15:04 Mon"), tc.want)
		}
		if got := b.Between(from, want); got != tc.weekdays {
			t.Errorf("%s: Between(%s, %s) = %v, want %v", tc.zone, tc.from, tc.want, got, tc.weekdays)
		}
	}
}
