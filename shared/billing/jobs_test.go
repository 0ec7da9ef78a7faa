//go:build integration

package billing

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/store"
)

func TestFeatureCheckCacheInvalidatedByVersion(t *testing.T) {
	e := newEnv(t)
	clk := e.WithFakeClock()
	cache := newFeatureCache(e.repo, clk, featureCacheTTL, featureCacheMax)
	h := httpapi.Route(fn("check-feature"), newCheckFeature(cache, licenseSeats{e.Store()}, e.set.Rules))
	check := func(feature string) (int, map[string]any) {
		return call(t, h, "u-f", "", callOpts{path: map[string]string{"feature": feature}})
	}
	stats := func() (int64, int64) { return cache.hits.Load(), cache.misses.Load() }

	if status, _ := check("teleportation"); status != http.StatusNotFound {
		t.Fatalf("unknown feature: %d", status)
	}
	status, body := check(FeatureProCourses)
	if status != 200 || body["allowed"] != false || body["tier"] != TierFree || body["requiredTier"] != TierPro {
		t.Fatalf("free user: %d %v", status, body)
	}
	if _, body := check(FeatureCommunity); body["allowed"] != true {
		t.Fatalf("free feature: %v", body)
	}
	if h, m := stats(); h != 1 || m != 1 {
		t.Fatalf("hits %d misses %d, want 1 1", h, m)
	}

	// A subscription change bumps the version: the next check misses the cache and sees it.
	end := clk.Now().Add(30 * time.Second).Truncate(time.Second) // within one cache TTL
	seed(t, e, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-f", PeriodEnd: end, Created: clk.Now().Add(-time.Minute)})
	if _, body := check(FeatureProCourses); body["allowed"] != true || body["tier"] != TierPro {
		t.Fatalf("after subscribing: %v", body)
	}
	if h, m := stats(); h != 1 || m != 2 {
		t.Fatalf("hits %d misses %d, want 1 2", h, m)
	}
	seed(t, e, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-f", PeriodEnd: end,
		CancelAtPeriodEnd: true, Created: clk.Now()})
	if _, body := check(FeatureProCourses); body["allowed"] != true || body["accessUntil"] == nil {
		t.Fatalf("canceling: %v", body)
	}
	if _, m := stats(); m != 3 {
		t.Fatalf("misses %d, want 3", m)
	}
	// Served from the cache, but evaluated at the time of the check: the end is honoured.
	clk.Set(end.Add(time.Second))
	if _, body := check(FeatureProCourses); body["allowed"] != false || body["tier"] != TierFree {
		t.Fatalf("after the period end: %v", body)
	}
	if h, m := stats(); h != 2 || m != 3 {
		t.Fatalf("hits %d misses %d, want 2 3", h, m)
	}
	// The TTL bounds an entry's life even without a change.
	clk.Advance(featureCacheTTL + time.Second)
	check(FeatureProCourses)
	if _, m := stats(); m != 4 {
		t.Fatalf("misses %d after TTL, want 4", m)
	}
}

func (e *testEnv) cycle(st stripeAPI) *cycle {
	return &cycle{fn: "billing-cycle", life: e.life, due: e.repo, others: e.repo, stripe: st, metrics: e.repo,
		records: e.repo, audit: e.repo}
}

// The billing-cycle job on DynamoDB (moto): the GSI2 lists (period ends, past_due paid-through
// dates), the other-subscription records, the snapshot and the run record. Stripe is the in-memory
// fake (stripe-mock is stateless: it cannot answer with these subscriptions).
func TestBillingCycleOnDynamoDB(t *testing.T) {
	e := newEnv(t)
	clk := e.WithFakeClock()
	ctx := context.Background()
	now := clk.Now().Truncate(time.Second)
	past, future, created := now.Add(-2*time.Hour), now.Add(10*24*time.Hour), now.Add(-40*24*time.Hour)
	fake := newFakeStripe()

	// A: canceled at period end, period over; Stripe unreachable for it → left as it was.
	clk.Set(past.Add(-time.Hour))
	seed(t, e, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-a", PeriodEnd: past, CancelAtPeriodEnd: true, Created: created})
	fake.fail["GetSubscription:"+stripeevents.SubscriptionIDFor("u-a")] = errors.New("stripe unreachable")
	// B: active, period in the future → untouched.
	seed(t, e, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-b", PeriodEnd: future, Created: created})
	// C: past_due, paid through 5 days ago (grace over) though its period runs for weeks → expired.
	paid := now.Add(-5 * 24 * time.Hour)
	clk.Set(paid)
	seed(t, e, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-c", Status: "past_due", PeriodStart: paid,
		PeriodEnd: paid.AddDate(0, 1, 0), Created: paid})
	fake.setSub(stripeSub(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-c", Status: "past_due",
		PeriodStart: paid, PeriodEnd: paid.AddDate(0, 1, 0), Created: paid}))
	// D: active, period over; Stripe says renewed → reconciled to the new period.
	seed(t, e, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-d", PeriodEnd: past, Tier: "enterprise", Created: created})
	fake.setSub(stripeSub(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-d", Tier: "enterprise",
		PeriodStart: past, PeriodEnd: past.AddDate(0, 1, 0), Created: now}))
	// E: two live subscriptions.
	seed(t, e, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-e", SubscriptionID: "sub_e1", PeriodEnd: future, Created: created})
	e2 := stripeevents.Options{UserID: "u-e", SubscriptionID: "sub_e2", PeriodEnd: future, Created: created.Add(time.Hour)}
	if res := seed(t, e, stripeevents.CustomerSubscriptionCreated, e2); res.StripeSubscriptionID != "sub_e1" {
		t.Fatalf("the second live subscription was stored: %+v", res)
	}
	if err := e.repo.RecordOtherSubscription(ctx, "u-e", "sub_e2", StatusActive, created.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	fake.setSub(stripeSub(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-e", SubscriptionID: "sub_e1", PeriodEnd: future, Created: created}))
	fake.setSub(stripeSub(t, stripeevents.CustomerSubscriptionCreated, e2))
	clk.Set(now)
	beforeA := mustSub(t, e, "u-a")

	rep, err := e.cycle(fake).run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked != 3 || rep.Reconciled != 1 || rep.Expired != 1 || rep.PastDueExpired != 1 || rep.SkippedUnreachable != 1 ||
		rep.DuplicateLive != 1 || !rep.SnapshotWritten {
		t.Fatalf("first run: %+v", rep)
	}
	if a := mustSub(t, e, "u-a"); !reflect.DeepEqual(a, beforeA) {
		t.Fatalf("u-a changed although Stripe could not be read:\n%+v\n%+v", beforeA, a)
	}
	want := map[string]struct{ status, tier string }{
		"u-a": {StatusActive, TierPro}, "u-b": {StatusActive, TierPro}, "u-c": {StatusPastDue, TierFree}, "u-d": {StatusActive, TierEnterprise},
		"u-e": {StatusActive, TierPro},
	}
	states := map[string]Subscription{}
	for u, w := range want {
		s := mustSub(t, e, u)
		if s.Status != w.status || s.Tier != w.tier {
			t.Fatalf("%s: %s/%s, want %s/%s", u, s.Status, s.Tier, w.status, w.tier)
		}
		states[u] = s
	}
	if d := mustSub(t, e, "u-d"); !d.CurrentPeriodEnd.Equal(past.AddDate(0, 1, 0)) {
		t.Fatalf("u-d period end %v", d.CurrentPeriodEnd)
	}
	// Stored gauges: u-a (still stored as paying until Stripe answers), u-b, u-d, u-e.
	g1 := gauges(t, e)
	if g1[store.GaugePayingCustomers] != 4 || g1[store.GaugeMRRCents] != 999+999+9900+999 {
		t.Fatalf("gauges: %v", g1)
	}
	// The snapshot is as of now: u-a's cancellation ended, so it is not counted.
	snap := rawItem(t, e, store.SnapshotKey(now))
	if snap == nil || store.Numbers(snap)["mrrCents"] != 999+9900+999 || store.Numbers(snap)["payingCustomers"] != 3 {
		t.Fatalf("snapshot = %v", snap)
	}
	if rawItem(t, e, store.JobRunKey("billing-cycle", dayOf(now))) == nil {
		t.Fatal("job run not recorded")
	}
	if n := auditCount(t, e, now, "subscription.duplicate_live"); n != 1 {
		t.Fatalf("duplicate audits %d", n)
	}

	rep2, err := e.cycle(fake).run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Reconciled != 0 || rep2.Expired != 0 || rep2.SnapshotWritten || rep2.DuplicateLive != 1 {
		t.Fatalf("second run: %+v", rep2)
	}
	for u, before := range states {
		if after := mustSub(t, e, u); !sameState(before, after) {
			t.Fatalf("%s changed on the second run:\n%+v\n%+v", u, before, after)
		}
	}
	if g2 := gauges(t, e); !equalNonZero(g1, g2) {
		t.Fatalf("gauges changed: %v → %v", g1, g2)
	}
	if n := auditCount(t, e, now, "subscription.expire"); n != 1 {
		t.Fatalf("expire audits %d", n)
	}
	if snap2 := rawItem(t, e, store.SnapshotKey(now)); store.Numbers(snap2)["mrrCents"] != store.Numbers(snap)["mrrCents"] {
		t.Fatal("snapshot rewritten")
	}

	// sub_e1 ends at Stripe: the next run adopts sub_e2 and closes its record.
	fake.setSub(stripeSub(t, stripeevents.CustomerSubscriptionDeleted, stripeevents.Options{UserID: "u-e", SubscriptionID: "sub_e1", Created: now}))
	rep3, err := e.cycle(fake).run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep3.Adopted != 1 || rep3.DuplicateLive != 0 {
		t.Fatalf("third run: %+v", rep3)
	}
	if s := mustSub(t, e, "u-e"); s.StripeSubscriptionID != "sub_e2" || s.Tier != TierPro {
		t.Fatalf("u-e %+v", s)
	}
	n := 0
	if _, err := e.repo.EachOpenOther(ctx, 5, func(OtherSubscription) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("open records %d %v", n, err)
	}
}

func TestMetricsAfterKnownSequence(t *testing.T) {
	e := newEnv(t)
	clk := e.WithFakeClock()
	ctx := context.Background()
	now := clk.Now()
	old := now.Add(-40 * 24 * time.Hour).Truncate(time.Second) // outside the 30-day window
	future := now.Add(20 * 24 * time.Hour)

	seed(t, e, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "m1", Created: old, PeriodEnd: future})
	seed(t, e, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "m2", Tier: "enterprise", Created: old, PeriodEnd: future})
	seed(t, e, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "m3", Created: old, PeriodEnd: future})
	seed(t, e, stripeevents.CustomerSubscriptionDeleted, stripeevents.Options{UserID: "m3", Created: now.Add(-5 * 24 * time.Hour)})
	seed(t, e, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "m4", Created: now.Add(-2 * 24 * time.Hour), PeriodEnd: future})
	// Payment counters are the payments engineer's; written here as they would be.
	tx := store.Append(nil,
		store.AddDayCounters(now.Add(-3*24*time.Hour), map[string]int64{store.CtrPaymentsSucceeded: 6, store.CtrPaymentsFailed: 1}),
		store.AddDayCounters(now, map[string]int64{store.CtrPaymentsSucceeded: 3, store.CtrDisputeWonCents: 1999}),
		store.AddDayCounters(now.Add(-2*24*time.Hour), map[string]int64{store.CtrDisputedCents: 1999 + 999, store.CtrDisputeLostCents: 999}),
		store.AddDayCounters(old, map[string]int64{store.CtrPaymentsFailed: 50})) // outside the window
	if err := e.repo.Transact(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cycle(newFakeStripe()).run(ctx); err != nil {
		t.Fatal(err)
	}

	h := HandleGetMetrics(fn("get-metrics"), e.repo, e.repo, e.set.Rules, clk)
	if status, _ := call(t, h, "not-admin", "", callOpts{}); status != http.StatusForbidden {
		t.Fatalf("non-admin: %d", status)
	}
	status, m := call(t, h, "admin-1", "", callOpts{admin: true})
	if status != 200 {
		t.Fatalf("%d %v", status, m)
	}
	num := func(v any) int64 { f, _ := v.(float64); return int64(f) }
	churn, pay, disp := m["churn"].(map[string]any), m["payments"].(map[string]any), m["disputes"].(map[string]any)
	subs := m["activeSubscriptions"].(map[string]any)
	// Paying now: m1 (pro), m2 (enterprise), m4 (pro). In the window: 1 new (m4), 1 churned (m3).
	// payingAtStart = 3 − 1 + 1 = 3; churn = 1/3 = 3333 bp. Payments: 9 of 10 = 9000 bp.
	checks := []struct {
		name      string
		got, want int64
	}{
		{"mrrCents", num(m["mrrCents"]), 999 + 9900 + 999},
		{"payingCustomers", num(m["payingCustomers"]), 3},
		{"subs pro", num(subs["pro"]), 2},
		{"subs enterprise", num(subs["enterprise"]), 1},
		{"newPaying", num(churn["newPaying"]), 1},
		{"churnedPaying", num(churn["churnedPaying"]), 1},
		{"payingAtStart", num(churn["payingAtStart"]), 3},
		{"churn bp", num(churn["rateBasisPoints"]), 3333},
		{"succeeded", num(pay["succeeded"]), 9},
		{"failed", num(pay["failed"]), 1},
		{"success bp", num(pay["successRateBasisPoints"]), 9000},
		{"joinedAndLeft", num(churn["joinedAndLeft"]), 0},
		{"disputes opened", num(disp["openedCents"]), 1999 + 999},
		{"disputes lost", num(disp["lostCents"]), 999},
		{"disputes won", num(disp["wonCents"]), 1999},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if m["currency"] != "usd" || m["latestSnapshot"] != dayOf(now) || churn["definition"] != ChurnDefinition {
		t.Errorf("currency %v latestSnapshot %v", m["currency"], m["latestSnapshot"])
	}
}
