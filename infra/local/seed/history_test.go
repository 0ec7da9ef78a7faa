package seed

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/store"
)

// The demo history is the same on every run of a day, covers the days before today (never
// today, whose snapshot is the job's), one per day in order, keyed as billing keys snapshots.
func TestDemoHistoryIsDeterministicAndEndsYesterday(t *testing.T) {
	now := time.Date(2026, 12, 7, 15, 4, 5, 0, time.UTC)
	a, b := DemoHistory(now, DefaultHistoryDays, testToday), DemoHistory(now.Add(8*time.Hour), DefaultHistoryDays, testToday)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs on the same day give different history")
	}
	if len(a) != DefaultHistoryDays-1 {
		t.Fatalf("%d demo days, want %d (today is the job's)", len(a), DefaultHistoryDays-1)
	}
	today := store.SnapshotKey(now).SK
	for i, s := range a {
		want := now.AddDate(0, 0, i-(DefaultHistoryDays-1))
		if k := store.SnapshotKey(want); s.PK != k.PK || s.SK != k.SK || s.Day != k.SK || s.Type != "snapshot" {
			t.Fatalf("day %d: key %s/%s day %s type %s, want %s/%s", i, s.PK, s.SK, s.Day, s.Type, k.PK, k.SK)
		}
		if s.Day >= today {
			t.Fatalf("a demo day on or after today: %s", s.Day)
		}
		if !IsDemo(s) || s.Source != "seed" {
			t.Fatalf("%s: not marked as a demo day (source %q)", s.Day, s.Source)
		}
		if s.Currency != billing.Currency {
			t.Fatalf("%s: currency %q", s.Day, s.Currency)
		}
	}
	if a[len(a)-1].Day != "2026-12-06" || a[0].Day != "2026-09-09" {
		t.Fatalf("range %s..%s, want 2026-09-09..2026-12-06", a[0].Day, a[len(a)-1].Day)
	}
	// Another day moves the window; a shorter history is the newest part of the same curve.
	if c := DemoHistory(now.AddDate(0, 0, 1), DefaultHistoryDays, testToday); c[len(c)-1].Day != "2026-12-07" {
		t.Fatalf("next day's history ends %s", c[len(c)-1].Day)
	}
	short := DemoHistory(now, 8, testToday)
	if len(short) != 7 || !reflect.DeepEqual(short, a[len(a)-7:]) {
		t.Fatalf("an 8-day history is not the last 7 days of the 90-day one")
	}
	if len(DemoHistory(now, 1, testToday)) != 0 {
		t.Fatal("a 1-day history has demo days: today alone is the job's")
	}
	// Other numbers today, another history: it is shaped by them.
	other := testToday
	other.Pro++
	if reflect.DeepEqual(DemoHistory(now, DefaultHistoryDays, other), a) {
		t.Fatal("the history does not depend on today's numbers")
	}
	// A snapshot without the source (the billing-cycle job's) is not a demo day.
	if IsDemo(billing.SnapshotForDay(now)) {
		t.Fatal("a snapshot without a source counts as a demo day")
	}
}

// testToday is a business of some size today (the targets of the demo history).
var testToday = Today{Pro: 600, Enterprise: 40, PaymentsSucceeded: 900, PaymentsFailed: 1, RevenueCents: 1_500_000,
	RefundedCents: 15_000, Sales: 119, GMVCents: 119 * 2650, TokensIssued: 60_000, TokensRedeemed: 18_000,
	TokensOutstanding: 200_000, LicensesActive: 3, SeatsSold: 75, SeatsUsed: 60, SLAMet: 120, SLABreached: 3}

// seededToday is about what `make seed` has today: two dozen subscribers, a few sales, one license,
// support's SLA not yet decided on any ticket.
var seededToday = Today{Pro: 20, Enterprise: 4, PaymentsSucceeded: 40, RevenueCents: 79_000, Sales: 8, GMVCents: 8 * 2900,
	TokensIssued: 7500, TokensOutstanding: 7500, LicensesActive: 1, SeatsSold: 10, SeatsUsed: 4}

// The demo history leads to today's numbers: yesterday is within 10 % of each series' value today
// (the marketplace's month to date: of today's less one day), the first day about 40 % of it.
func TestDemoHistoryEndsNearToday(t *testing.T) {
	now := time.Date(2026, 12, 17, 10, 0, 0, 0, time.UTC) // mid-month: yesterday is in today's month
	for _, to := range []Today{testToday, seededToday} {
		h := DemoHistory(now, DefaultHistoryDays, to)
		first, last := h[0], h[len(h)-1]
		near := func(what string, got, want int64, share float64) {
			t.Helper()
			// Whole customers and licenses: a count of a few rounds by up to half of one.
			if w := float64(want) * share; math.Abs(float64(got)-w) > max(0.1*w, 0.5) {
				t.Errorf("%+v: %s = %d, want within 10 %% of %.1f", to, what, got, w)
			}
		}
		wantMRR := to.Pro*proPriceCents + to.Enterprise*enterprisePriceCents
		near("yesterday's MRR", last.MRRCents, wantMRR, 1)
		near("yesterday's paying customers", last.PayingCustomers, to.Pro+to.Enterprise, 1)
		near("yesterday's pro", last.ActiveSubscriptions["pro"], to.Pro, 1)
		near("yesterday's enterprise", last.ActiveSubscriptions["enterprise"], to.Enterprise, 1)
		near("yesterday's month-to-date sales", last.Marketplace.Sales, to.Sales, 16.0/17)
		near("yesterday's month-to-date GMV", last.Marketplace.GMVCents, to.GMVCents, 16.0/17)
		near("yesterday's tokens outstanding", last.Tokens.Outstanding, to.TokensOutstanding, 1)
		near("yesterday's tokens issued", last.Tokens.Issued, to.TokensIssued, 1)
		near("yesterday's seats used", last.Enterprise.SeatsUsed, to.SeatsUsed, 1)
		near("yesterday's payments", last.PaymentsSucceeded30d, to.PaymentsSucceeded, 1)
		if last.Enterprise.LicensesActive != to.LicensesActive || last.Enterprise.SeatsSold != to.SeatsSold {
			t.Errorf("%+v: yesterday's licenses %+v", to, last.Enterprise)
		}
		near("the first day's pro", first.ActiveSubscriptions["pro"], to.Pro, startLevel)
		near("the first day's enterprise", first.ActiveSubscriptions["enterprise"], to.Enterprise, startLevel)
		near("the first day's tokens outstanding", first.Tokens.Outstanding, to.TokensOutstanding, startLevel)
		checkInvariants(t, h)
	}
}

// A stack with nothing today gets a history of nothing: no division by zero, rates null, no
// fake payouts.
func TestDemoHistoryOfAnEmptyToday(t *testing.T) {
	h := DemoHistory(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), DefaultHistoryDays, Today{})
	for _, s := range h {
		if s.MRRCents != 0 || s.PayingCustomers != 0 || s.Marketplace.GMVCents != 0 || s.Marketplace.Payouts != 0 ||
			s.Tokens.Outstanding != 0 || s.Enterprise.SeatsSold != 0 || s.ChurnRateBasisPoints != nil ||
			s.SuccessRateBasisPoints != nil || s.Support.SLAMetPercent != nil || s.DisputesOpened30dCents != 0 {
			t.Fatalf("%s: %+v", s.Day, s)
		}
	}
}

// The numbers are a plausible growing business and consistent with each other the way the job's
// snapshots are: MRR from the tier counts, the churn identity, rates from their counts, the
// marketplace split, seats within what is sold.
func TestDemoHistoryShapes(t *testing.T) {
	h := DemoHistory(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), DefaultHistoryDays, testToday)
	first, last := h[0], h[len(h)-1]
	if first.MRRCents < 370000 || first.MRRCents > 430000 || last.MRRCents < 950000 || last.MRRCents > 1000000 {
		t.Fatalf("MRR %d → %d cents; want about 40 %% of today's $9,954 growing to it", first.MRRCents, last.MRRCents)
	}
	for _, s := range h {
		if r := s.ChurnRateBasisPoints; r == nil || *r < 50 || *r > 150 {
			t.Fatalf("%s: churn rate %v bp, want about 1 %%", s.Day, r)
		}
		if r := s.SuccessRateBasisPoints; r == nil || *r < 9975 {
			t.Fatalf("%s: success rate %v bp, want about 99.9 %%", s.Day, r)
		}
		if sp := s.Support.SLAMetPercent; sp == nil || *sp < 90 {
			t.Fatalf("%s: SLA met %v %%", s.Day, sp)
		}
	}
	checkInvariants(t, h)
}

// checkInvariants checks what holds on every snapshot the job writes.
func checkInvariants(t *testing.T, h []billing.Snapshot) {
	t.Helper()
	for i, s := range h {
		subs := s.ActiveSubscriptions
		if s.MRRCents != subs["pro"]*proPriceCents+subs["enterprise"]*enterprisePriceCents || s.PayingCustomers != subs["pro"]+subs["enterprise"] {
			t.Fatalf("%s: MRR %d, paying %d from %v", s.Day, s.MRRCents, s.PayingCustomers, subs)
		}
		if i >= 7 && s.MRRCents < h[i-7].MRRCents {
			t.Fatalf("%s: MRR fell over a week (%d → %d)", s.Day, h[i-7].MRRCents, s.MRRCents)
		}
		if s.PayingAtStart30d != s.PayingCustomers-s.NewPaying30d+s.ChurnedPaying30d+s.JoinedAndLeft30d || s.NewPaying30d < 0 {
			t.Fatalf("%s: churn identity broken: %+v", s.Day, s)
		}
		if r := s.ChurnRateBasisPoints; r == nil || *r > 1000 || *r != *basisPoints(s.ChurnedPaying30d, s.PayingAtStart30d) {
			t.Fatalf("%s: churn rate %v bp, want its counts' (at most 10 %%)", s.Day, r)
		}
		if r := s.SuccessRateBasisPoints; r == nil || *r < 9900 || *r > 10000 ||
			*r != *basisPoints(s.PaymentsSucceeded30d, s.PaymentsSucceeded30d+s.PaymentsFailed30d) {
			t.Fatalf("%s: success rate %v bp, want its counts' (at least 99 %%)", s.Day, r)
		}
		if s.PaymentsRevenue30dCents == nil || s.PaymentsRefunded30dCents == nil ||
			*s.PaymentsRefunded30dCents > 0 && *s.PaymentsRefunded30dCents >= *s.PaymentsRevenue30dCents/50 {
			t.Fatalf("%s: revenue %v refunded %v", s.Day, s.PaymentsRevenue30dCents, s.PaymentsRefunded30dCents)
		}
		m := s.Marketplace
		if m == nil || m.Period != s.Day[:7] || m.GMVCents != m.PlatformRevenueCents+m.InstructorEarningsCents ||
			m.InstructorEarningsCents != m.GMVCents*ledger.InstructorBasisPoints/10000 || m.Sales < 0 {
			t.Fatalf("%s: marketplace %+v", s.Day, m)
		}
		if (s.Day[8:] == "01") != (m.Payouts == 0) || (m.Payouts == 0) != (m.PaidOutCents == 0) {
			t.Fatalf("%s: payouts %d (%d cents): instructors are paid from the 2nd of the month", s.Day, m.Payouts, m.PaidOutCents)
		}
		if i > 0 && s.Day[8:] != "01" && m.GMVCents < h[i-1].Marketplace.GMVCents {
			t.Fatalf("%s: month-to-date GMV fell inside the month", s.Day)
		}
		if tk := s.Tokens; tk == nil || tk.Issued <= 0 || tk.Redeemed > tk.Issued || tk.Outstanding <= 0 {
			t.Fatalf("%s: tokens %+v", s.Day, tk)
		}
		if e := s.Enterprise; e == nil || e.LicensesActive < 1 || e.SeatsUsed > e.SeatsSold || e.SeatsUsed <= 0 {
			t.Fatalf("%s: enterprise %+v", s.Day, e)
		}
		sp := s.Support
		if sp == nil || (sp.SLAMet+sp.SLABreached == 0) != (sp.SLAMetPercent == nil) || sp.SLAMetPercent != nil &&
			*sp.SLAMetPercent != float64(int64(float64(sp.SLAMet)*1000/float64(sp.SLAMet+sp.SLABreached)+0.5))/10 {
			t.Fatalf("%s: support %+v", s.Day, sp)
		}
		if !s.CreatedAt.After(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || s.CreatedAt.Format("2006-01-02") != s.Day {
			t.Fatalf("%s: createdAt %s is not inside its day", s.Day, s.CreatedAt)
		}
	}
}
