//go:build integration

package billing

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/store"
)

func TestFeatureCheckCacheInvalidatedByVersion(t *testing.T) {
	e := newEnv(t)
	clk := e.WithFakeClock()
	cache := newFeatureCache(featureCacheTTL, featureCacheMax)
	h := httpapi.Route(fn("check-feature"), newCheckFeature(e.d, cache))
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
	seed(t, e.d, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-f", PeriodEnd: end, Created: clk.Now().Add(-time.Minute)})
	if _, body := check(FeatureProCourses); body["allowed"] != true || body["tier"] != TierPro {
		t.Fatalf("after subscribing: %v", body)
	}
	if h, m := stats(); h != 1 || m != 2 {
		t.Fatalf("hits %d misses %d, want 1 2", h, m)
	}
	seed(t, e.d, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-f", PeriodEnd: end,
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

func TestBillingCycleTwiceChangesNothingMore(t *testing.T) {
	e := newEnv(t)
	clk := e.WithFakeClock()
	ctx := context.Background()
	now := clk.Now().Truncate(time.Second)
	past := now.Add(-2 * time.Hour)
	future := now.Add(10 * 24 * time.Hour)
	created := now.Add(-40 * 24 * time.Hour)

	// A: canceled at period end, period over, Stripe unreachable for it → expired by step 2.
	seed(t, e.d, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-a", PeriodEnd: past, CancelAtPeriodEnd: true, Created: created})
	// B: active, period in the future → untouched.
	seed(t, e.d, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-b", PeriodEnd: future, Created: created})
	// C: past_due with the period over; Stripe says it is now canceled → reconciled.
	seed(t, e.d, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-c", PeriodEnd: past, Status: "past_due", Created: created})
	// D: active, period over, Stripe says renewed → reconciled to the new period.
	seed(t, e.d, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-d", PeriodEnd: past, Tier: "enterprise", Created: created})

	fetches := 0
	fetch := func(_ context.Context, id string) (*stripe.Subscription, error) {
		fetches++
		switch id {
		case stripeevents.SubscriptionIDFor("u-c"):
			return stripeSub(t, stripeevents.CustomerSubscriptionDeleted, stripeevents.Options{UserID: "u-c", PeriodEnd: past, Created: past}), nil
		case stripeevents.SubscriptionIDFor("u-d"):
			return stripeSub(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-d", Tier: "enterprise",
				PeriodStart: past, PeriodEnd: past.AddDate(0, 1, 0), Created: now}), nil
		}
		return nil, errors.New("stripe unreachable")
	}
	rep, err := RunBillingCycle(ctx, e.d, fetch)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reconciled != 2 || rep.Expired != 1 || rep.ReconcileErrors != 1 || !rep.SnapshotWritten {
		t.Fatalf("first run: %+v", rep)
	}
	want := map[string]struct{ status, tier string }{
		"u-a": {StatusCanceled, TierFree}, "u-b": {StatusActive, TierPro}, "u-c": {StatusCanceled, TierFree}, "u-d": {StatusActive, TierEnterprise},
	}
	states := map[string]store.Subscription{}
	for u, w := range want {
		s := mustSub(t, e.d, u)
		if s.Status != w.status || s.Tier != w.tier {
			t.Fatalf("%s: %s/%s, want %s/%s", u, s.Status, s.Tier, w.status, w.tier)
		}
		states[u] = s
	}
	if d := mustSub(t, e.d, "u-d"); !d.CurrentPeriodEnd.Equal(past.AddDate(0, 1, 0)) {
		t.Fatalf("u-d period end %v", d.CurrentPeriodEnd)
	}
	g1 := gauges(t, e.d)
	if g1[store.GaugePayingCustomers] != 2 || g1[store.GaugeMRRCents] != 999+9900 {
		t.Fatalf("gauges: %v", g1)
	}
	snap := rawItem(t, e.d, store.SnapshotKey(now))
	if snap == nil || counters(snap)["mrrCents"] != 999+9900 || counters(snap)["payingCustomers"] != 2 {
		t.Fatalf("snapshot = %v", snap)
	}
	if rawItem(t, e.d, store.JobRunKey("billing-cycle", day(now))) == nil {
		t.Fatal("job run not recorded")
	}
	expireAudits := auditCount(t, e.d, now, "subscription.expire")

	rep2, err := RunBillingCycle(ctx, e.d, fetch)
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Reconciled != 0 || rep2.Expired != 0 || rep2.SnapshotWritten {
		t.Fatalf("second run: %+v", rep2)
	}
	for u, before := range states {
		if after := mustSub(t, e.d, u); after.Version != before.Version {
			t.Fatalf("%s changed on the second run: v%d → v%d", u, before.Version, after.Version)
		}
	}
	if g2 := gauges(t, e.d); !equalNonZero(g1, g2) {
		t.Fatalf("gauges changed: %v → %v", g1, g2)
	}
	if n := auditCount(t, e.d, now, "subscription.expire"); n != expireAudits || n != 1 {
		t.Fatalf("expire audits %d → %d", expireAudits, n)
	}
	if snap2 := rawItem(t, e.d, store.SnapshotKey(now)); counters(snap2)["mrrCents"] != counters(snap)["mrrCents"] {
		t.Fatal("snapshot rewritten")
	}
}

func TestMetricsAfterKnownSequence(t *testing.T) {
	e := newEnv(t)
	clk := e.WithFakeClock()
	ctx := context.Background()
	now := clk.Now()
	old := now.Add(-40 * 24 * time.Hour).Truncate(time.Second) // outside the 30-day window
	future := now.Add(20 * 24 * time.Hour)

	seed(t, e.d, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "m1", Created: old, PeriodEnd: future})
	seed(t, e.d, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "m2", Tier: "enterprise", Created: old, PeriodEnd: future})
	seed(t, e.d, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "m3", Created: old, PeriodEnd: future})
	seed(t, e.d, stripeevents.CustomerSubscriptionDeleted, stripeevents.Options{UserID: "m3", Created: now.Add(-5 * 24 * time.Hour)})
	seed(t, e.d, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "m4", Created: now.Add(-2 * 24 * time.Hour), PeriodEnd: future})
	// Payment counters are the payments engineer's; written here as they would be.
	tx := store.Append(nil,
		store.AddDayCounters(now.Add(-3*24*time.Hour), map[string]int64{store.CtrPaymentsSucceeded: 6, store.CtrPaymentsFailed: 1}),
		store.AddDayCounters(now, map[string]int64{store.CtrPaymentsSucceeded: 3}),
		store.AddDayCounters(old, map[string]int64{store.CtrPaymentsFailed: 50})) // outside the window
	if err := e.d.Store.Transact(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if _, err := RunBillingCycle(ctx, e.d, func(context.Context, string) (*stripe.Subscription, error) {
		return nil, errors.New("unused")
	}); err != nil {
		t.Fatal(err)
	}

	h := HandleGetMetrics(fn("get-metrics"), e.d)
	if status, _ := call(t, h, "not-admin", "", callOpts{}); status != http.StatusForbidden {
		t.Fatalf("non-admin: %d", status)
	}
	status, m := call(t, h, "admin-1", "", callOpts{admin: true})
	if status != 200 {
		t.Fatalf("%d %v", status, m)
	}
	num := func(v any) int64 { f, _ := v.(float64); return int64(f) }
	churn, pay := m["churn"].(map[string]any), m["payments"].(map[string]any)
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
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if m["currency"] != "usd" || m["latestSnapshot"] != day(now) {
		t.Errorf("currency %v latestSnapshot %v", m["currency"], m["latestSnapshot"])
	}
}
