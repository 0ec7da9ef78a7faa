package billing

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/store"
)

// seedPastDue delivers a subscription paid through t0 whose renewal at t0 failed (period moved to
// [t0, t0+1 month)).
func seedPastDue(t *testing.T, w *world, u string) {
	t.Helper()
	start := t0.AddDate(0, -1, 0)
	w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: u, Created: start, PeriodStart: start, PeriodEnd: t0})
	w.mustDeliver(t, stripeevents.InvoicePaid, stripeevents.Options{UserID: u, Created: start, PeriodStart: start, PeriodEnd: t0})
	w.mustDeliver(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: u, Created: t0.Add(time.Minute),
		Status: "past_due", PeriodStart: t0, PeriodEnd: t0.AddDate(0, 1, 0)})
}

// seedCanceling delivers a subscription set to cancel at end.
func seedCanceling(t *testing.T, w *world, u string, end time.Time) {
	t.Helper()
	w.mustDeliver(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: u, Created: end.AddDate(0, 0, -20),
		PeriodStart: end.AddDate(0, -1, 0), PeriodEnd: end, CancelAtPeriodEnd: true})
}

// The case: a Stripe read that fails during the job leaves the subscription exactly as it
// was (before, the job expired it to "canceled" and later Stripe events could never revive it).
func TestCycleFailingStripeReadLeavesSubscriptionAsItWas(t *testing.T) {
	w := newWorld(t)
	w.clock.Set(t0.Add(-24 * time.Hour)) // both still paying when their events arrive
	seedCanceling(t, w, "u-cancel", t0)
	seedPastDue(t, w, "u-pastdue")
	before := map[string]Subscription{"u-cancel": w.repo.sub("u-cancel"), "u-pastdue": w.repo.sub("u-pastdue")}
	gauges := w.repo.gaugeSnapshot()
	audits := len(w.repo.auditActions())

	w.clock.Set(t0.Add(5 * 24 * time.Hour)) // both access ends have passed
	w.stripe.fail["GetSubscription"] = apperr.Wrap(errors.New("timeout"), apperr.Unavailable, "reading the subscription failed")
	rep := w.runJob(t)
	if rep.Checked != 2 || rep.SkippedUnreachable != 2 || rep.Expired != 0 || rep.Reconciled != 0 {
		t.Fatalf("report %+v", rep)
	}
	for u, b := range before {
		if a := w.repo.sub(u); a != b {
			t.Fatalf("%s changed although Stripe could not be read:\n%+v\n%+v", u, b, a)
		}
	}
	if g := w.repo.gaugeSnapshot(); !equalNonZero(g, gauges) || len(w.repo.auditActions()) != audits {
		t.Fatalf("gauges %v → %v, audits %d → %d", gauges, g, audits, len(w.repo.auditActions()))
	}
	// Feature checks apply the time rules on read meanwhile.
	for u := range before {
		if a := AccessAt(w.repo.sub(u), w.clock.Now(), testRules.Grace); a.Tier != TierFree {
			t.Fatalf("%s on read: %+v", u, a)
		}
	}

	// Stripe answers again: the next run reconciles and expires.
	delete(w.stripe.fail, "GetSubscription")
	w.stripe.setSub(stripeSub(t, stripeevents.CustomerSubscriptionDeleted, stripeevents.Options{UserID: "u-cancel", Created: t0, CancelAtPeriodEnd: true,
		PeriodStart: t0.AddDate(0, -1, 0), PeriodEnd: t0}))
	w.stripe.setSub(stripeSub(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-pastdue", Created: t0,
		Status: "past_due", PeriodStart: t0, PeriodEnd: t0.AddDate(0, 1, 0)}))
	w.clock.Set(t0.Add(6 * 24 * time.Hour))
	rep = w.runJob(t)
	if rep.Checked != 2 || rep.SkippedUnreachable != 0 || rep.Reconciled != 1 || rep.Expired != 1 || rep.PastDueExpired != 1 {
		t.Fatalf("second report %+v", rep)
	}
	if s := w.repo.sub("u-cancel"); s.Status != StatusCanceled || s.Tier != TierFree {
		t.Fatalf("u-cancel %+v", s)
	}
	if s := w.repo.sub("u-pastdue"); s.Status != StatusPastDue || s.Tier != TierFree || s.PlanTier != TierPro {
		t.Fatalf("u-pastdue %+v", s)
	}
	if g := w.repo.gaugeSnapshot(); len(g) != 0 {
		t.Fatalf("gauges %v", g)
	}
	// Each churn is counted on the day access ended, not on the day the job wrote it.
	if c := w.repo.dayCounters(t0); c[store.CtrChurnedPaying] != 1 {
		t.Fatalf("cancellation churn on its period end: %v", c)
	}
	if c := w.repo.dayCounters(t0.Add(testRules.Grace)); c[store.CtrChurnedPaying] != 1 {
		t.Fatalf("past_due churn on its grace end: %v", c)
	}
}

// Between the end of a grace and the job's run, the metrics read already leaves the subscription
// out (the same deltas the job then writes); after the run the numbers are the same.
func TestMetricsBetweenGraceEndAndJob(t *testing.T) {
	w := newWorld(t)
	seedPastDue(t, w, "u-pd")
	w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-ok", Tier: "enterprise", Created: t0})
	read := func() Metrics {
		t.Helper()
		m, err := readMetrics(context.Background(), w.repo, w.repo, testRules, w.clock.Now(), metricsMaxPages)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	w.clock.Set(t0.Add(testRules.Grace - time.Second))
	if m := read(); m.MRRCents != 999+9900 || m.PayingCustomers != 2 || m.LapsedAwaitingJob != 0 {
		t.Fatalf("within grace: %+v", m)
	}
	w.clock.Set(t0.Add(testRules.Grace + time.Hour))
	pending := read()
	if pending.MRRCents != 9900 || pending.PayingCustomers != 1 || pending.ActiveSubscriptions[TierPro] != 0 ||
		pending.LapsedAwaitingJob != 1 || pending.Churn.ChurnedPaying != 1 {
		t.Fatalf("after the grace, before the job: %+v", pending)
	}
	if g := w.repo.gaugeSnapshot(); g[store.GaugeMRRCents] != 999+9900 {
		t.Fatalf("the gauges themselves wait for the job: %v", g)
	}
	w.stripe.setSub(stripeSub(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-pd", Created: t0,
		Status: "past_due", PeriodStart: t0, PeriodEnd: t0.AddDate(0, 1, 0)}))
	if rep := w.runJob(t); rep.PastDueExpired != 1 {
		t.Fatalf("report %+v", rep)
	}
	after := read()
	if after.MRRCents != pending.MRRCents || after.PayingCustomers != pending.PayingCustomers || after.LapsedAwaitingJob != 0 ||
		after.Churn.ChurnedPaying != pending.Churn.ChurnedPaying || after.Churn.PayingAtStart != pending.Churn.PayingAtStart {
		t.Fatalf("after the job %+v\nbefore it     %+v", after, pending)
	}
	snap := w.repo.snapshots[dayOf(w.clock.Now())]
	if snap.MRRCents != 9900 || snap.PayingCustomers != 1 || snap.ChurnedPaying30d != 1 {
		t.Fatalf("snapshot %+v", snap)
	}
}

func TestCycleTwiceChangesNothingMore(t *testing.T) {
	w := newWorld(t)
	now := t0.AddDate(0, 2, 0)
	past, future, created := now.Add(-2*time.Hour), now.Add(10*24*time.Hour), now.Add(-40*24*time.Hour)
	// A: canceled at period end, period over; Stripe: ended.
	w.mustDeliver(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-a", PeriodEnd: past, CancelAtPeriodEnd: true, Created: created})
	w.stripe.setSub(stripeSub(t, stripeevents.CustomerSubscriptionDeleted, stripeevents.Options{UserID: "u-a", PeriodEnd: past, CancelAtPeriodEnd: true, Created: past}))
	// B: active, period in the future: not due.
	w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-b", PeriodEnd: future, Created: created})
	// C: active, period over; Stripe: renewed.
	w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-c", PeriodEnd: past, Tier: "enterprise", Created: created})
	w.stripe.setSub(stripeSub(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-c", Tier: "enterprise",
		PeriodStart: past, PeriodEnd: past.AddDate(0, 1, 0), Created: now}))
	w.clock.Set(now)

	rep := w.runJob(t)
	if rep.Checked != 2 || rep.Reconciled != 2 || rep.Expired != 0 || rep.SkippedUnreachable != 0 || !rep.SnapshotWritten {
		t.Fatalf("first run %+v", rep)
	}
	want := map[string][2]string{"u-a": {StatusCanceled, TierFree}, "u-b": {StatusActive, TierPro}, "u-c": {StatusActive, TierEnterprise}}
	states := map[string]Subscription{}
	for u, st := range want {
		s := w.repo.sub(u)
		if s.Status != st[0] || s.Tier != st[1] {
			t.Fatalf("%s: %s/%s, want %v", u, s.Status, s.Tier, st)
		}
		states[u] = s
	}
	g1, audits := w.repo.gaugeSnapshot(), len(w.repo.auditActions())
	if g1[store.GaugePayingCustomers] != 2 || g1[store.GaugeMRRCents] != 999+9900 {
		t.Fatalf("gauges %v", g1)
	}
	if _, ok := w.repo.jobRuns["billing-cycle/"+dayOf(now)]; !ok {
		t.Fatal("job run not recorded")
	}

	rep2 := w.runJob(t)
	if rep2.Reconciled != 0 || rep2.Expired != 0 || rep2.SnapshotWritten {
		t.Fatalf("second run %+v", rep2)
	}
	for u, before := range states {
		if after := w.repo.sub(u); after.Status != before.Status || after.Tier != before.Tier || !sameState(before, after) {
			t.Fatalf("%s changed on the second run:\n%+v\n%+v", u, before, after)
		}
	}
	if g2 := w.repo.gaugeSnapshot(); !equalNonZero(g1, g2) || len(w.repo.auditActions()) != audits {
		t.Fatalf("second run changed gauges %v → %v or audited (%d → %d)", g1, g2, audits, len(w.repo.auditActions()))
	}
}

// Two live subscriptions for one user: reported by every run (report, audit record, alarm metric)
// until one ends; then the stored one ending makes the other one the stored subscription.
func TestCycleReportsTwoLiveSubscriptionsAndAdoptsAfterOneEnds(t *testing.T) {
	w := newWorld(t)
	const u = "u-dup-live"
	a := stripeevents.Options{UserID: u, SubscriptionID: "sub_a", Created: t0}
	b := stripeevents.Options{UserID: u, SubscriptionID: "sub_b", Tier: "enterprise", Created: t0.Add(time.Minute)}
	w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, a)
	w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, b)
	w.stripe.setSub(stripeSub(t, stripeevents.CustomerSubscriptionCreated, a))
	w.stripe.setSub(stripeSub(t, stripeevents.CustomerSubscriptionCreated, b))
	w.clock.Set(t0.Add(time.Hour))

	rep := w.runJob(t)
	if rep.DuplicateLive != 1 || rep.Adopted != 0 {
		t.Fatalf("report %+v", rep)
	}
	if n := countActions(w.repo.auditActions(), "subscription.duplicate_live"); n != 1 {
		t.Fatalf("duplicate audits %d", n)
	}
	if got := emitted(t, w, metric.DuplicateLiveSubscriptions); !slices.Equal(got, []float64{1}) {
		t.Fatalf("metric points %v", got)
	}
	if s := w.repo.sub(u); s.StripeSubscriptionID != "sub_a" {
		t.Fatalf("stored %+v", s)
	}

	// The stored one ends at Stripe without us hearing of it: the next run adopts the other one.
	a.Created = t0.Add(2 * time.Hour)
	w.stripe.setSub(stripeSub(t, stripeevents.CustomerSubscriptionDeleted, a))
	w.clock.Set(t0.AddDate(0, 0, 1))
	rep = w.runJob(t)
	if rep.DuplicateLive != 0 || rep.Adopted != 1 {
		t.Fatalf("second report %+v", rep)
	}
	if s := w.repo.sub(u); s.StripeSubscriptionID != "sub_b" || s.Tier != TierEnterprise || s.Status != StatusActive {
		t.Fatalf("after adoption %+v", s)
	}
	if o := w.repo.others[u+"#sub_b"]; o.Resolution != "adopted" {
		t.Fatalf("record %+v", o)
	}
	if g := w.repo.gaugeSnapshot(); !equalNonZero(g, map[string]int64{"mrrCents": 9900, "payingCustomers": 1, "subs_enterprise": 1}) {
		t.Fatalf("gauges %v", g)
	}
	if got := emitted(t, w, metric.DuplicateLiveSubscriptions); !slices.Equal(got, []float64{1, 0}) {
		t.Fatalf("metric points %v", got)
	}
	// Nothing open any more: a third run does nothing.
	if rep := w.runJob(t); rep.DuplicateLive != 0 || rep.Adopted != 0 || rep.SkippedUnreachable != 0 {
		t.Fatalf("third report %+v", rep)
	}
}

// A recorded other subscription that has since ended is resolved without a report.
func TestCycleResolvesAnEndedOtherSubscription(t *testing.T) {
	w := newWorld(t)
	const u = "u-other-ended"
	w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: u, SubscriptionID: "sub_a", Created: t0})
	w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: u, SubscriptionID: "sub_b", Created: t0})
	w.stripe.setSub(stripeSub(t, stripeevents.CustomerSubscriptionDeleted, stripeevents.Options{UserID: u, SubscriptionID: "sub_b", Created: t0}))
	if rep := w.runJob(t); rep.DuplicateLive != 0 || rep.Adopted != 0 {
		t.Fatalf("report %+v", rep)
	}
	if o := w.repo.others[u+"#sub_b"]; o.Resolution != "ended" {
		t.Fatalf("record %+v", o)
	}
	if s := w.repo.sub(u); s.StripeSubscriptionID != "sub_a" || s.Status != StatusActive {
		t.Fatalf("stored %+v", s)
	}
}

func countActions(actions []string, action string) int {
	n := 0
	for _, a := range actions {
		if a == action {
			n++
		}
	}
	return n
}

// emitted returns the values of the EMF data points of a metric in the job's log, in order.
func emitted(t *testing.T, w *world, name string) []float64 {
	t.Helper()
	var out []float64
	for _, l := range w.logs.lines(t) {
		aws, _ := l["_aws"].(map[string]any)
		v, ok := l[name].(float64)
		if aws != nil && ok && l["Function"] == "billing-cycle" {
			out = append(out, v)
		}
	}
	return out
}
