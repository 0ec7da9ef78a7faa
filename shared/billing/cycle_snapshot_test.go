package billing

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/support/slametrics"
)

// The billing-cycle job's snapshot holds what the console's charts need, taken from the metrics it
// read: the 30-day payments revenue and refunds, the marketplace's month to date, the tokens, the
// enterprise gauges and support's SLA. Every input below is distinct and non-zero, so a field copied
// from the wrong place (or not at all) shows; the same numbers are what GET /admin/metrics answers
// at that moment, and what GET /admin/metrics/history answers after a round trip through the table.
func TestCycleSnapshotHoldsTheMetricsItRead(t *testing.T) {
	w := newWorld(t)
	now := t0.AddDate(0, 0, 20) // 2026-03-21
	w.repo.addDay(now.AddDate(0, 0, -2), map[string]int64{store.CtrPaymentsSucceeded: 19, store.CtrPaymentsFailed: 1,
		store.CtrRevenueCents: 123456, store.CtrRefundedCents: 2345})
	w.repo.addDay(now.AddDate(0, 0, -45), map[string]int64{store.CtrRevenueCents: 999999}) // outside the window
	pct := 87.5
	w.repo.mu.Lock()
	w.repo.gauges[store.GaugeEntLicensesActive], w.repo.gauges[store.GaugeEntSeatsSold], w.repo.gauges[store.GaugeEntSeatsUsed] = 4, 60, 41
	w.repo.marketplace = mktmetrics.Metrics{PublishedCourses: 9, Sales: 11, GMVCents: 54321, PlatformRevenueCents: 16296,
		InstructorEarningsCents: 38025, PaidOutCents: 20000, Payouts: 3, RefundedCents: 777}
	w.repo.tokensIssued, w.repo.tokensRedeemed, w.repo.tokensOutstanding = 1500, 320, 8800
	w.repo.sla = slametrics.Counts{Met: 7, Breached: 1, MetPercent: &pct}
	w.repo.mu.Unlock()
	w.clock.Set(now)

	if rep := w.runJob(t); !rep.SnapshotWritten {
		t.Fatalf("no snapshot: %+v", rep)
	}
	snap, ok := w.repo.snapshots["2026-03-21"]
	if !ok {
		t.Fatalf("snapshots %v", w.repo.snapshots)
	}
	m, err := readMetrics(context.Background(), w.repo, w.repo, testRules, now, metricsMaxPages)
	if err != nil {
		t.Fatal(err)
	}

	// Equal to the metrics read …
	got := map[string]any{
		"revenue": *snap.PaymentsRevenue30dCents, "refunded": *snap.PaymentsRefunded30dCents,
		"marketplace": *snap.Marketplace, "tokens": *snap.Tokens, "enterprise": *snap.Enterprise, "support": *snap.Support,
	}
	fromMetrics := map[string]any{
		"revenue": m.Payments.RevenueCents, "refunded": m.Payments.RefundedCents,
		"marketplace": SnapshotMarketplace{Period: m.Marketplace.Period, Sales: m.Marketplace.Sales, GMVCents: m.Marketplace.GMVCents,
			PlatformRevenueCents: m.Marketplace.PlatformRevenueCents, InstructorEarningsCents: m.Marketplace.InstructorEarningsCents,
			PaidOutCents: m.Marketplace.PaidOutCents, Payouts: m.Marketplace.Payouts, RefundedCents: m.Marketplace.RefundedCents},
		"tokens":     SnapshotTokens{Issued: m.Tokens.Issued, Redeemed: m.Tokens.Redeemed, Outstanding: m.Tokens.Outstanding},
		"enterprise": SnapshotEnterprise{LicensesActive: m.Enterprise.LicensesActive, SeatsSold: m.Enterprise.SeatsSold, SeatsUsed: m.Enterprise.SeatsUsed},
		"support":    m.Support,
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(fromMetrics)
	if string(a) != string(b) {
		t.Fatalf("snapshot\n %s\nmetrics\n %s", a, b)
	}
	// … and to the inputs (so neither side is trivially zero).
	want := `{"enterprise":{"licensesActive":4,"seatsSold":60,"seatsUsed":41},` +
		`"marketplace":{"period":"2026-03","sales":11,"gmvCents":54321,"platformRevenueCents":16296,"instructorEarningsCents":38025,"paidOutCents":20000,"payouts":3,"refundedCents":777},` +
		`"refunded":2345,"revenue":123456,"support":{"slaMet":7,"slaBreached":1,"slaMetPercent":87.5},` +
		`"tokens":{"issued":1500,"redeemed":320,"outstanding":8800}}`
	if string(a) != want {
		t.Fatalf("snapshot\n got %s\nwant %s", a, want)
	}
	// The fields the snapshot had before are unchanged.
	if snap.PaymentsSucceeded30d != 19 || snap.PaymentsFailed30d != 1 || snap.SuccessRateBasisPoints == nil || *snap.SuccessRateBasisPoints != 9500 {
		t.Fatalf("payments %+v", snap)
	}

	// GET /admin/metrics answers the same support section.
	code, body := call(t, HandleGetMetrics(fn("get-metrics"), w.repo, w.repo, testRules, w.clock), "admin", "", callOpts{admin: true})
	if sup, _ := json.Marshal(body["support"]); code != 200 || string(sup) != `{"slaBreached":1,"slaMet":7,"slaMetPercent":87.5}` {
		t.Fatalf("metrics route support: %d %s", code, sup)
	}

	// Through the table and the history route, the snapshot reads back as it was written.
	f := newHistoryFixture(t)
	f.write(t, snap)
	_, h, _ := f.get(t, true, map[string]string{"from": "2026-03-21", "to": "2026-03-21"})
	if len(h.Days) != 1 {
		t.Fatalf("history %+v", h)
	}
	back, _ := json.Marshal(h.Days[0])
	direct, _ := json.Marshal(historyDayOf(snap))
	if string(back) != string(direct) {
		t.Fatalf("through the table\n %s\nwritten\n %s", back, direct)
	}
}

// Nothing decided in the window: the SLA share is null in the metrics and the snapshot, not 0 % or
// 100 %.
func TestSnapshotSLAWithoutOutcomesIsNull(t *testing.T) {
	w := newWorld(t)
	w.runJob(t)
	snap := w.repo.snapshots[dayOf(w.clock.Now())]
	if snap.Support == nil || snap.Support.SLAMetPercent != nil || snap.Support.SLAMet != 0 {
		t.Fatalf("support %+v", snap.Support)
	}
	b, _ := json.Marshal(historyDayOf(snap).Support)
	if string(b) != `{"slaMet":0,"slaBreached":0,"slaMetPercent":null}` {
		t.Fatalf("history support %s", b)
	}
}
