package scheduler

import (
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04 Mon", s)
	if err != nil {
		t, err = time.Parse("2006-01-02 15:04", s)
	}
	if err != nil {
		panic(err)
	}
	return t
}

func TestCronNext(t *testing.T) {
	tests := []struct {
		expr, from string
		want       []string // successive fire times
	}{
		// billing-cycle: 00:15 UTC daily.
		{"cron(15 0 * * ? *)", "2026-03-10 00:14", []string{"2026-03-10 00:15", "2026-03-11 00:15", "2026-03-12 00:15"}},
		{"cron(15 0 * * ? *)", "2026-12-31 00:15", []string{"2027-01-01 00:15"}},
		// Every 15 minutes from minute 0 (AWS's "0/15").
		{"cron(0/15 * * * ? *)", "2026-03-10 10:07", []string{"2026-03-10 10:15", "2026-03-10 10:30", "2026-03-10 10:45", "2026-03-10 11:00"}},
		{"cron(*/20 9 * * ? *)", "2026-03-10 09:41", []string{"2026-03-11 09:00"}},
		// Weekdays at 08:00: day-of-week 2-6 = MON-FRI; 2026-03-13 is a Friday.
		{"cron(0 8 ? * MON-FRI *)", "2026-03-13 08:00", []string{"2026-03-16 08:00", "2026-03-17 08:00"}},
		{"cron(0 8 ? * 2-6 *)", "2026-03-13 09:00", []string{"2026-03-16 08:00"}},
		// Sunday is 1.
		{"cron(30 23 ? * 1 *)", "2026-03-10 00:00", []string{"2026-03-15 23:30"}},
		// Lists and month names; the 31st skips short months.
		{"cron(0 12 31 JAN,APR,MAY ? *)", "2026-01-31 12:00", []string{"2026-05-31 12:00", "2027-01-31 12:00"}},
		{"cron(0 0 1 * ? 2027)", "2026-06-01 00:00", []string{"2027-01-01 00:00", "2027-02-01 00:00"}},
		{"cron(5,35 1-2 * * ? *)", "2026-03-10 01:05", []string{"2026-03-10 01:35", "2026-03-10 02:05", "2026-03-10 02:35", "2026-03-11 01:05"}},
		// Leap day.
		{"cron(0 0 29 2 ? *)", "2026-01-01 00:00", []string{"2028-02-29 00:00"}},
	}
	for _, tc := range tests {
		t.Run(tc.expr+" after "+tc.from, func(t *testing.T) {
			s, err := Parse(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			cur := at(tc.from)
			for _, w := range tc.want {
				cur = s.Next(cur)
				if !cur.Equal(at(w)) {
					t.Fatalf("next = %s, want %s", cur.Format("2006-01-02 15:04 Mon"), w)
				}
			}
		})
	}
}

func TestCronNext_Never(t *testing.T) {
	s, err := Parse("cron(0 0 1 1 ? 1999)")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Next(at("2026-01-01 00:00")); !got.IsZero() {
		t.Errorf("past-only schedule fires at %s", got)
	}
}

func TestRate(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want time.Duration
	}{
		{"rate(1 minute)", time.Minute}, {"rate(5 minutes)", 5 * time.Minute},
		{"rate(1 hour)", time.Hour}, {"rate(12 hours)", 12 * time.Hour},
		{"rate(1 day)", 24 * time.Hour}, {"rate(7 days)", 7 * 24 * time.Hour},
	} {
		s, err := Parse(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		r := s.(Rate)
		if r.Every != tc.want {
			t.Errorf("%s: every %s, want %s", tc.expr, r.Every, tc.want)
		}
		r.Start = at("2026-03-10 10:00")
		if got := r.Next(at("2026-03-10 10:00")); !got.Equal(r.Start.Add(tc.want)) {
			t.Errorf("%s: next after start = %s", tc.expr, got)
		}
		if got := r.Next(r.Start.Add(tc.want + time.Second)); !got.Equal(r.Start.Add(2 * tc.want)) {
			t.Errorf("%s: second fire = %s", tc.expr, got)
		}
		if got := r.Next(at("2026-03-01 00:00")); !got.Equal(r.Start) {
			t.Errorf("%s: before start = %s", tc.expr, got)
		}
	}
}

func TestParse_Errors(t *testing.T) {
	for _, expr := range []string{
		"", "every day", "rate()", "rate(0 minutes)", "rate(-1 minutes)", "rate(1 minutes)", "rate(5 minute)",
		"rate(2 weeks)", "rate(x hours)",
		"cron(0 0 * * *)",      // five fields (Unix cron)
		"cron(0 0 * * * *)",    // neither day field is ?
		"cron(0 0 ? * ? *)",    // both are
		"cron(60 0 * * ? *)",   // minute out of range
		"cron(0 24 * * ? *)",   // hour out of range
		"cron(0 0 0 * ? *)",    // day 0
		"cron(0 0 ? * 8 *)",    // day-of-week 8
		"cron(0 0 ? 13 * *)",   // month 13
		"cron(0 0 L * ? *)",    // L unsupported: refuse rather than misfire
		"cron(0 0 ? * 6#3 *)",  // # unsupported
		"cron(0 10-5 * * ? *)", // backwards range
		"cron(0/0 0 * * ? *)",  // zero step
		"cron(? 0 * * ? *)",    // ? in minutes
		"cron(0 0 * FOO ? *)",  // unknown name
	} {
		if _, err := Parse(expr); err == nil {
			t.Errorf("Parse(%q) accepted", expr)
		}
	}
}
