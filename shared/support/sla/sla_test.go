package sla

import (
	"math/rand/v2"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := LoadZone(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestTargetsPerTierAndPriority(t *testing.T) {
	h := time.Hour
	for _, tc := range []struct {
		tier, prio string
		want       Policy
	}{
		{TierEnterprise, Urgent, Policy{FirstReply: 1 * h, Resolution: 8 * h}},
		{TierEnterprise, High, Policy{FirstReply: 4 * h, Resolution: 24 * h}},
		{TierEnterprise, Normal, Policy{FirstReply: 8 * h, Resolution: 72 * h, Business: true}},
		{TierEnterprise, Low, Policy{FirstReply: 24 * h, Resolution: 120 * h, Business: true}},
		{TierPro, Urgent, Policy{FirstReply: 24 * h, Business: true}},
		{TierPro, High, Policy{FirstReply: 24 * h, Business: true}},
		{TierPro, Normal, Policy{FirstReply: 24 * h, Business: true}},
		{TierPro, Low, Policy{FirstReply: 24 * h, Business: true}},
		{TierFree, Urgent, Policy{}},
		{TierFree, Low, Policy{}},
		{"platinum", Urgent, Policy{}},
		{TierEnterprise, "critical", Policy{}},
	} {
		if got := For(tc.tier, tc.prio); got != tc.want {
			t.Errorf("For(%s, %s) = %+v, want %+v", tc.tier, tc.prio, got, tc.want)
		}
	}
	if !For(TierFree, Urgent).None() || For(TierPro, Low).None() {
		t.Error("None")
	}
	if WarnAt(time.Hour) != 45*time.Minute || WarnAt(24*time.Hour) != 18*time.Hour {
		t.Error("warning threshold is not 75 %")
	}
}

func TestBusinessBetween(t *testing.T) {
	b := Business(nil)
	for _, tc := range []struct {
		from, to string
		want     time.Duration
	}{
		{"2026-11-30 09:00", "2026-11-30 17:00", 8 * time.Hour},  // a whole Monday
		{"2026-11-30 08:00", "2026-11-30 18:00", 8 * time.Hour},  // before and after hours
		{"2026-11-30 16:30", "2026-12-01 09:30", 1 * time.Hour},  // overnight
		{"2026-12-04 16:00", "2026-12-07 10:00", 2 * time.Hour},  // Friday to Monday over a weekend
		{"2026-12-05 10:00", "2026-12-06 20:00", 0},              // Saturday to Sunday
		{"2026-11-30 09:00", "2026-12-07 09:00", 40 * time.Hour}, // one week
		{"2026-11-30 12:00", "2026-11-30 12:00", 0},              // empty
		{"2026-11-30 13:00", "2026-11-30 12:00", 0},              // backwards
		{"2026-11-30 17:00", "2026-12-01 09:00", 0},              // closed to open
		{"2026-12-24 09:00", "2026-12-28 09:00", 16 * time.Hour}, // Thu, Fri; no holidays
	} {
		if got := b.Between(utc(tc.from), utc(tc.to)); got != tc.want {
			t.Errorf("Between(%s, %s) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
}

func TestBusinessAdd(t *testing.T) {
	b := Business(nil)
	for _, tc := range []struct {
		from string
		d    time.Duration
		want string
	}{
		{"2026-11-30 09:00", 8 * time.Hour, "2026-11-30 17:00"},    // lands on closing time the same day
		{"2026-11-30 10:00", 8 * time.Hour, "2026-12-01 10:00"},    // into the next day
		{"2026-12-04 16:00", 1 * time.Hour, "2026-12-04 17:00"},    // Friday's last hour
		{"2026-12-04 16:00", 8 * time.Hour, "2026-12-07 16:00"},    // over the weekend
		{"2026-12-05 12:00", 1 * time.Hour, "2026-12-07 10:00"},    // from a Saturday
		{"2026-12-04 18:00", 30 * time.Minute, "2026-12-07 09:30"}, // Friday evening
		{"2026-12-04 18:00", 0, "2026-12-04 18:00"},                // nothing to add
		{"2026-11-30 09:00", 72 * time.Hour, "2026-12-10 17:00"},   // enterprise normal resolution: 9 days
		{"2026-11-30 09:00", 120 * time.Hour, "2026-12-18 17:00"},  // enterprise low resolution: 15 days
	} {
		if got := b.Add(utc(tc.from), tc.d); !got.Equal(utc(tc.want)) {
			t.Errorf("Add(%s, %v) = %s, want %s", tc.from, tc.d, got.UTC().Format("2006-01-02 15:04 Mon"), tc.want)
		}
	}
}

// Business hours are wall-clock hours in the organisation's zone, across DST changes too.
func TestBusinessHoursInTimeZones(t *testing.T) {
	ny := Business(zone(t, "America/New_York"))
	// Friday 16:30 EST = 21:30 UTC; one business hour: 30 minutes on Friday, 30 on Monday from 09:00 EST.
	if got := ny.Add(utc("2026-12-04 21:30"), time.Hour); !got.Equal(utc("2026-12-07 14:30")) {
		t.Errorf("New York: %s", got.UTC())
	}
	if got := ny.Between(utc("2026-12-04 21:30"), utc("2026-12-07 14:30")); got != time.Hour {
		t.Errorf("New York Between: %v", got)
	}
	// 10:00 UTC on a Monday is 05:00 in New York: nothing counts before 14:00 UTC.
	if got := ny.Between(utc("2026-11-30 10:00"), utc("2026-11-30 14:00")); got != 0 {
		t.Errorf("before New York opens: %v", got)
	}
	tokyo := Business(zone(t, "Asia/Tokyo")) // UTC+9: Monday 09:00 JST is Monday 00:00 UTC
	if got := tokyo.Between(utc("2026-11-29 20:00"), utc("2026-11-30 02:00")); got != 2*time.Hour {
		t.Errorf("Tokyo: %v", got)
	}
	// Berlin springs forward on Sunday 2026-03-29: Friday 09:00–17:00 is 08:00–16:00 UTC (CET), Monday
	// 09:00–17:00 is 07:00–15:00 UTC (CEST).
	berlin := Business(zone(t, "Europe/Berlin"))
	if got := berlin.Add(utc("2026-03-27 15:00"), 2*time.Hour); !got.Equal(utc("2026-03-30 08:00")) {
		t.Errorf("Berlin across DST: %s", got.UTC())
	}
	if got := berlin.Between(utc("2026-03-27 00:00"), utc("2026-03-31 00:00")); got != 16*time.Hour {
		t.Errorf("Berlin Friday+Monday: %v", got)
	}
	if _, err := LoadZone("Mars/Olympus_Mons"); err == nil {
		t.Error("unknown zone loaded")
	}
	if loc, err := LoadZone(""); err != nil || loc != time.UTC {
		t.Error("empty zone is not UTC")
	}
}

// Add and Between are inverses: Between(from, Add(from, d)) == d, from any instant, in any zone.
func TestAddBetweenRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, name := range []string{"UTC", "America/Los_Angeles", "Asia/Kolkata", "Australia/Lord_Howe"} {
		b := Business(zone(t, name))
		for i := 0; i < 500; i++ {
			from := utc("2026-01-01 00:00").Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour))))
			d := time.Duration(r.Int64N(int64(130*time.Hour))) / time.Minute * time.Minute
			to := b.Add(from, d)
			if got := b.Between(from, to); got != d {
				t.Fatalf("%s: Between(%s, Add(+%v)=%s) = %v", name, from, d, to, got)
			}
			if d > 0 && b.Between(from, to.Add(-time.Minute)) >= d {
				t.Fatalf("%s: Add(%s, %v) = %s is not the earliest instant", name, from, d, to)
			}
		}
	}
}

func TestMeterPausesWhilePending(t *testing.T) {
	b := Business(nil)
	m := Start(utc("2026-12-04 15:00")) // Friday 15:00
	// Pending (waiting on the customer) from Friday 16:00: one hour counted.
	m = m.Pause(b, utc("2026-12-04 16:00"))
	if got := m.Elapsed(b, utc("2026-12-08 12:00")); got != time.Hour {
		t.Fatalf("paused meter moved: %v", got)
	}
	if _, ok := m.ReachesAt(Resolution, b, 8*time.Hour); ok {
		t.Fatal("a paused meter reaches a target")
	}
	// The customer answers on Monday 10:00: the clock runs again.
	m = m.Resume(utc("2026-12-07 10:00"))
	if got := m.Elapsed(b, utc("2026-12-07 12:00")); got != 3*time.Hour {
		t.Fatalf("after resume: %v", got)
	}
	// 8 business hours: 1 h on Friday + 7 h from Monday 10:00 → Monday 17:00.
	at, ok := m.ReachesAt(Resolution, b, 8*time.Hour)
	if !ok || !at.Equal(utc("2026-12-07 17:00")) {
		t.Fatalf("reaches 8 h at %s %v", at, ok)
	}
	// Solved on Monday 16:00: stopped at 7 h; the target no longer runs.
	m = m.Solve(b, utc("2026-12-07 16:00"))
	if m.Running(Resolution) || m.Running(FirstReply) || !m.Complete(Resolution) || m.Elapsed(b, utc("2026-12-20 16:00")) != 7*time.Hour {
		t.Fatalf("solved meter: %+v", m)
	}
	// Reopened: runs again from where it stopped.
	m = m.Resume(utc("2026-12-08 09:00"))
	if m.Complete(Resolution) || m.Elapsed(b, utc("2026-12-08 10:00")) != 8*time.Hour {
		t.Fatalf("reopened meter: %+v", m)
	}
}

func TestFirstReplyFreezes(t *testing.T) {
	c := Calendar{}
	m := Start(utc("2026-11-30 09:00"))
	m = m.FirstReply(c, utc("2026-11-30 09:40"))
	m = m.FirstReply(c, utc("2026-11-30 11:00")) // a second reply changes nothing
	if got := m.TargetElapsed(FirstReply, c, utc("2026-11-30 15:00")); got != 40*time.Minute {
		t.Fatalf("first reply elapsed %v", got)
	}
	if got := m.TargetElapsed(Resolution, c, utc("2026-11-30 15:00")); got != 6*time.Hour {
		t.Fatalf("resolution elapsed %v", got)
	}
	if !Met(40*time.Minute, time.Hour) || Met(61*time.Minute, time.Hour) || !Met(time.Hour, time.Hour) {
		t.Fatal("Met")
	}
}

func TestUpcomingEvents(t *testing.T) {
	c := Calendar{}
	t0 := utc("2026-11-30 09:00")
	p := For(TierEnterprise, Urgent)
	m := Start(t0)
	got := m.Upcoming(p, c, nil)
	want := []Event{
		{FirstReply, Warning, t0.Add(45 * time.Minute)},
		{FirstReply, Breach, t0.Add(time.Hour)},
		{Resolution, Warning, t0.Add(6 * time.Hour)},
		{Resolution, Breach, t0.Add(8 * time.Hour)},
	}
	if len(got) != len(want) {
		t.Fatalf("events %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// The warning was sent; the first reply came at 50 minutes: only resolution events remain.
	m = m.FirstReply(c, t0.Add(50*time.Minute))
	got = m.Upcoming(p, c, map[string]bool{"firstReply#warning": true})
	if len(got) != 2 || got[0].Target != Resolution || got[1].Kind != Breach {
		t.Fatalf("after the first reply: %+v", got)
	}
	// Pending: nothing is due while the customer has the ball.
	if got := m.Pause(c, t0.Add(time.Hour)).Upcoming(p, c, nil); len(got) != 0 {
		t.Fatalf("pending ticket has events %+v", got)
	}
	// Past due already (clock resumed after the target passed): due at once.
	late := Meter{Stopwatch: Stopwatch{ElapsedSeconds: int64(9 * time.Hour / time.Second)}}.Resume(t0)
	got = late.Upcoming(For(TierEnterprise, Urgent), c, map[string]bool{"firstReply#warning": true, "firstReply#breach": true})
	if len(got) != 2 || !got[0].At.Equal(t0) || !got[1].At.Equal(t0) {
		t.Fatalf("overdue events %+v", got)
	}
	// Pro: a first-reply target only, in business hours; Free: nothing.
	if got := Start(utc("2026-12-04 16:00")).Upcoming(For(TierPro, Urgent), Business(nil), nil); len(got) != 2 ||
		!got[0].At.Equal(utc("2026-12-09 10:00")) || !got[1].At.Equal(utc("2026-12-09 16:00")) {
		t.Fatalf("pro events %+v", got)
	}
	if got := Start(t0).Upcoming(For(TierFree, Urgent), c, nil); len(got) != 0 {
		t.Fatalf("free events %+v", got)
	}
}

// Pending waits on the customer, so it pauses the resolution target only: the customer is still
// owed a first reply (as in Zendesk, where first reply time is not a pausable metric).
func TestFirstReplyRunsWhilePending(t *testing.T) {
	b := Business(nil)
	p := For(TierEnterprise, Normal)    // 8 h first reply, 72 h resolution, business hours
	m := Start(utc("2026-12-04 15:00")) // Friday 15:00
	m = m.Pause(b, utc("2026-12-04 16:00"))
	now := utc("2026-12-07 12:00") // Monday: Friday 15–17 and Monday 09–12
	if got := m.TargetElapsed(FirstReply, b, now); got != 5*time.Hour {
		t.Fatalf("first reply elapsed %v while pending, want 5h", got)
	}
	if got := m.TargetElapsed(Resolution, b, now); got != time.Hour {
		t.Fatalf("resolution elapsed %v while pending, want 1h", got)
	}
	at, ok := m.ReachesAt(FirstReply, b, p.FirstReply)
	if !ok || !at.Equal(utc("2026-12-07 15:00")) {
		t.Fatalf("first reply reaches 8 h at %s %v, want Monday 15:00", at, ok)
	}
	if _, ok := m.ReachesAt(Resolution, b, p.Resolution); ok {
		t.Fatal("a pending ticket's resolution target reaches its breach")
	}
	if up := m.Upcoming(p, b, nil); len(up) != 2 || up[0].Target != FirstReply || up[1].Target != FirstReply {
		t.Fatalf("upcoming while pending %+v", up)
	}
	// The first agent reply freezes it as before; the resolution clock still waits on the customer.
	m = m.FirstReply(b, utc("2026-12-07 13:00"))
	if got := m.TargetElapsed(FirstReply, b, utc("2026-12-08 13:00")); got != 6*time.Hour {
		t.Fatalf("frozen first reply %v", got)
	}
	if up := m.Upcoming(p, b, nil); len(up) != 0 {
		t.Fatalf("upcoming after the reply, still pending %+v", up)
	}
}
