package billing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

// repository is every port of ports.go but Stripe's: what dynamoRepo implements over the table and
// memRepo in memory, and what the contract below checks on both.
type repository interface {
	subscriptions
	versionReader
	customers
	userResolver
	auditor
	dueLister
	otherSubscriptions
	metricsReader
	jobRecords
}

var (
	_ repository = dynamoRepo{}
	_ repository = (*memRepo)(nil)
)

// contractHarness is a repository and how the contract looks at what has no port of its own.
type contractHarness struct {
	repo repository
	// auditActions lists the actions of the audit records written today (the clock's day), sorted.
	auditActions func() []string
	// closeMonth adds a closed month's counters, as licensing's usage report does.
	closeMonth func(month string, counters map[string]int64)
	// jobRun reads the "n" of a job run's report; ok is false without a run.
	jobRun func(job, period string) (n int64, ok bool)
}

// testRepoContract checks the semantics billing's rules rely on. It runs on memRepo and on
// dynamoRepo (in process over minidyn, on moto with the integration tag: newTestStore), so the fake
// cannot drift from DynamoDB. The repository's clock reads t0.
func testRepoContract(t *testing.T, h contractHarness) {
	ctx := context.Background()
	r := h.repo
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// A subscription lands over the version read, once, with its metric deltas and audit record.
	if _, err := r.GetSubscription(ctx, "u1"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("no subscription yet: %v", err)
	}
	if v, err := r.SubscriptionVersion(ctx, "u1"); v != 0 || err != nil {
		t.Fatalf("version of none: %d %v", v, err)
	}
	end := t0.AddDate(0, 1, 0)
	first := Subscription{Tier: TierPro, PlanTier: TierPro, Status: StatusActive, StripeSubscriptionID: "sub_c1",
		StripeCustomerID: "cus_c1", PriceID: testRules.Prices.Pro, CurrentPeriodStart: t0, CurrentPeriodEnd: end,
		PaidThrough: end, PayingSince: t0, ReviewAt: end, LastEventCreated: t0.Unix(), LastEventID: "evt_1", UpdatedAt: t0}
	must(r.WriteSubscription(ctx, subscriptionWrite{UserID: "u1", Next: &first, At: t0,
		Gauges: map[string]int64{"mrrCents": 999, "subs_pro": 1}, Day: map[string]int64{"newPaying": 1},
		Audit: &audit.Entry{Actor: audit.ActorStripe, Action: "subscription.sync", Target: "user:u1"}}))
	if first.Version != 1 {
		t.Fatalf("the write did not set the version: %d", first.Version)
	}
	got, err := r.GetSubscription(ctx, "u1")
	if err != nil || got.UserID != "u1" || got.Version != 1 || got.Tier != TierPro || got.Status != StatusActive ||
		got.StripeSubscriptionID != "sub_c1" || !got.CurrentPeriodEnd.Equal(end) || !got.PaidThrough.Equal(end) ||
		got.LastEventID != "evt_1" || got.LastEventCreated != t0.Unix() {
		t.Fatalf("read back %+v %v", got, err)
	}
	stale := first
	stale.Tier = TierEnterprise
	err = r.WriteSubscription(ctx, subscriptionWrite{UserID: "u1", Next: &stale, PrevVersion: 0, At: t0,
		Gauges: map[string]int64{"mrrCents": 9900}, Day: map[string]int64{"newPaying": 1},
		Audit: &audit.Entry{Actor: audit.ActorStripe, Action: "subscription.stale", Target: "user:u1"}})
	if !store.IsConditionFailed(err) {
		t.Fatalf("a write over a version that moved: %v", err)
	}
	canceling := got
	canceling.CancelAtPeriodEnd = true
	must(r.WriteSubscription(ctx, subscriptionWrite{UserID: "u1", Next: &canceling, PrevVersion: 1, At: t0.AddDate(0, 0, 1),
		Day: map[string]int64{"canceling": 1}}))
	if v, err := r.SubscriptionVersion(ctx, "u1"); v != 2 || err != nil {
		t.Fatalf("version %d %v", v, err)
	}
	if got, err = r.GetSubscription(ctx, "u1"); err != nil || !got.CancelAtPeriodEnd || got.Tier != TierPro {
		t.Fatalf("second write %+v %v", got, err)
	}

	// The deltas of the writes that landed, and nothing of the one that did not.
	if g, err := r.Gauges(ctx); err != nil || !equalNonZero(g, map[string]int64{"mrrCents": 999, "subs_pro": 1}) {
		t.Fatalf("gauges %v %v", g, err)
	}
	for _, c := range []struct {
		from, to time.Time
		want     map[string]int64
	}{
		{t0, t0, map[string]int64{"newPaying": 1}},
		{t0.AddDate(0, 0, -1), t0.AddDate(0, 0, 1), map[string]int64{"newPaying": 1, "canceling": 1}},
		{t0.AddDate(0, 0, 1), t0.AddDate(0, 0, 1), map[string]int64{"canceling": 1}},
		{t0.AddDate(0, 0, 2), t0.AddDate(0, 0, 30), map[string]int64{}},
	} {
		if got, err := r.DaySums(ctx, c.from, c.to); err != nil || !equalNonZero(got, c.want) {
			t.Fatalf("days %s…%s: %v %v, want %v", dayOf(c.from), dayOf(c.to), got, err, c.want)
		}
	}
	must(r.WriteAudit(ctx, audit.Entry{Actor: "ops", Action: "subscription.note", Target: "user:u1"}))
	if a := h.auditActions(); !slices.Equal(a, []string{"subscription.note", "subscription.sync"}) {
		t.Fatalf("audit records %v", a)
	}

	// Customers: the first one linked stays; Stripe objects resolve to users.
	if _, err := r.GetUser(ctx, "u1"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("no user yet: %v", err)
	}
	for _, cus := range []string{"cus_c1", "cus_other"} {
		if id, err := r.LinkStripeCustomer(ctx, "u1", "u1@example.com", cus); id != "cus_c1" || err != nil {
			t.Fatalf("link %s: %q %v", cus, id, err)
		}
	}
	if u, err := r.GetUser(ctx, "u1"); err != nil || u.UserID != "u1" || u.StripeCustomerID != "cus_c1" || u.Email != "u1@example.com" {
		t.Fatalf("user %+v %v", u, err)
	}
	for _, c := range []struct {
		customer, sub string
		candidates    []string
		want          string
	}{
		{"cus_c1", "sub_c1", []string{"", "u-meta"}, "u-meta"},
		{"cus_c1", "", nil, "u1"},
		{"", "sub_c1", nil, "u1"},
		{"cus_unknown", "sub_unknown", []string{""}, ""},
	} {
		if id, err := r.ResolveStripeUser(ctx, c.customer, c.sub, c.candidates...); id != c.want || err != nil {
			t.Fatalf("resolve %+v: %q %v", c, id, err)
		}
	}

	// Due subscriptions: by status, review time (else the period end) before the bound, oldest first.
	put := func(user string, s Subscription) {
		t.Helper()
		must(r.WriteSubscription(ctx, subscriptionWrite{UserID: user, Next: &s, At: t0}))
	}
	put("u2", Subscription{Tier: TierPro, Status: StatusActive, CurrentPeriodEnd: t0.Add(-time.Hour)})
	put("u3", Subscription{Tier: TierPro, Status: StatusActive, CurrentPeriodEnd: end, ReviewAt: t0.Add(-2 * time.Hour)})
	put("u4", Subscription{Tier: TierPro, Status: StatusPastDue, ReviewAt: t0.Add(-3 * time.Hour)})
	put("u5", Subscription{Tier: TierPro, Status: StatusActive, ReviewAt: t0})
	var due []string
	more, err := r.EachDue(ctx, StatusActive, t0, 5, func(s Subscription) error { due = append(due, s.UserID); return nil })
	if !slices.Equal(due, []string{"u3", "u2"}) || more || err != nil {
		t.Fatalf("due %v %v %v", due, more, err)
	}
	boom := errors.New("boom")
	calls := 0
	if _, err := r.EachDue(ctx, StatusActive, end.Add(time.Hour), 5, func(Subscription) error { calls++; return boom }); !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("a failing step: %v after %d", err, calls)
	}
	// At most maxPages pages of duePageSize: what is left waits for the next walk.
	for i := 0; i <= duePageSize; i++ {
		put(fmt.Sprintf("bulk-%03d", i), Subscription{Tier: TierFree, Status: StatusUnpaid, ReviewAt: t0.Add(-time.Duration(i+1) * time.Minute)})
	}
	for _, c := range []struct{ pages, want int }{{1, duePageSize}, {2, duePageSize + 1}} {
		n, last := 0, ""
		more, err := r.EachDue(ctx, StatusUnpaid, t0, c.pages, func(s Subscription) error { n, last = n+1, s.UserID; return nil })
		if n != c.want || more != (c.pages == 1) || err != nil {
			t.Fatalf("%d pages: %d walked, more %v, %v", c.pages, n, more, err)
		}
		if want := fmt.Sprintf("bulk-%03d", duePageSize-c.want+1); last != want {
			t.Fatalf("%d pages: last %s, want %s (oldest first)", c.pages, last, want)
		}
	}

	// Other subscriptions: the first sighting wins, open ones oldest first, a resolved one reopens.
	open := func() []OtherSubscription {
		t.Helper()
		var out []OtherSubscription
		if _, err := r.EachOpenOther(ctx, 5, func(o OtherSubscription) error { out = append(out, o); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	seen1, seen2 := t0.Add(-2*time.Hour), t0.Add(-time.Hour)
	must(r.RecordOtherSubscription(ctx, "u1", "sub_b", StatusActive, seen2))
	must(r.RecordOtherSubscription(ctx, "u2", "sub_a", StatusTrialing, seen1))
	must(r.RecordOtherSubscription(ctx, "u1", "sub_b", StatusPastDue, t0))
	o := open()
	if len(o) != 2 || o[0].UserID != "u2" || o[0].StripeSubscriptionID != "sub_a" || o[0].Status != StatusTrialing ||
		!o[0].SeenAt.Equal(seen1) || o[1].UserID != "u1" || o[1].Status != StatusActive || !o[1].SeenAt.Equal(seen2) {
		t.Fatalf("open %+v", o)
	}
	must(r.ResolveOtherSubscription(ctx, "u2", "sub_a", "adopted"))
	if err := r.ResolveOtherSubscription(ctx, "u9", "sub_none", "adopted"); !store.IsConditionFailed(err) {
		t.Fatalf("resolving no record: %v", err)
	}
	if o = open(); len(o) != 1 || o[0].StripeSubscriptionID != "sub_b" {
		t.Fatalf("after resolving %+v", o)
	}
	must(r.RecordOtherSubscription(ctx, "u2", "sub_a", StatusActive, t0))
	if o = open(); len(o) != 2 || o[1].StripeSubscriptionID != "sub_a" || o[1].Status != StatusActive ||
		!o[1].SeenAt.Equal(t0) || o[1].Resolution != "" {
		t.Fatalf("reopened %+v", o)
	}
	if _, err := r.EachOpenOther(ctx, 5, func(OtherSubscription) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("a failing step: %v", err)
	}

	// The job's records: one snapshot and one run record per day, the first write wins.
	if d, err := r.LatestSnapshot(ctx); d != "" || err != nil {
		t.Fatalf("no snapshot yet: %q %v", d, err)
	}
	for i, c := range []struct {
		day  time.Time
		mrr  int64
		want bool
	}{{t0, 999, true}, {t0, 1, false}, {t0.AddDate(0, 0, -1), 5, true}} {
		if ok, err := r.PutSnapshot(ctx, snapshotOf(Metrics{Currency: "usd", MRRCents: c.mrr}, c.day)); ok != c.want || err != nil {
			t.Fatalf("snapshot %d: %v %v", i, ok, err)
		}
	}
	if d, err := r.LatestSnapshot(ctx); d != dayOf(t0) || err != nil {
		t.Fatalf("latest snapshot %q %v", d, err)
	}
	must(r.RecordJobRun(ctx, cycleJobName, dayOf(t0), t0, map[string]int64{"n": 1}))
	must(r.RecordJobRun(ctx, cycleJobName, dayOf(t0), t0.Add(time.Hour), map[string]int64{"n": 2}))
	if n, ok := h.jobRun(cycleJobName, dayOf(t0)); !ok || n != 1 {
		t.Fatalf("job run %d %v", n, ok)
	}
	if _, ok := h.jobRun(cycleJobName, dayOf(end)); ok {
		t.Fatal("a run of a day that did not run")
	}

	// The other areas' metrics: a closed month's counters, the marketplace's month, the tokens' window.
	if c, err := r.MonthCounters(ctx, "2026-02"); len(c) != 0 || err != nil {
		t.Fatalf("no month yet: %v %v", c, err)
	}
	h.closeMonth("2026-02", map[string]int64{store.CtrEntOverageSeatDays: 42, store.CtrEntTrueUpLines: 1})
	if c, err := r.MonthCounters(ctx, "2026-02"); err != nil ||
		!equalNonZero(c, map[string]int64{store.CtrEntOverageSeatDays: 42, store.CtrEntTrueUpLines: 1}) {
		t.Fatalf("closed month %v %v", c, err)
	}
	if c, err := r.MonthCounters(ctx, "2026-01"); len(c) != 0 || err != nil {
		t.Fatalf("another month: %v %v", c, err)
	}
	if mk, err := r.Marketplace(ctx, "2026-03"); err != nil || mk.Period != "2026-03" || mk.GMVCents != 0 || mk.Sales != 0 {
		t.Fatalf("marketplace %+v %v", mk, err)
	}
	if tk, err := r.Tokens(ctx, t0, 30); err != nil || tk.From != "2026-01-31" || tk.To != "2026-03-01" || tk.Issued != 0 {
		t.Fatalf("tokens %+v %v", tk, err)
	}
}

func TestMemRepoContract(t *testing.T) {
	m := newMemRepo()
	testRepoContract(t, contractHarness{repo: m,
		auditActions: func() []string { return slices.Sorted(slices.Values(m.auditActions())) },
		closeMonth: func(month string, counters map[string]int64) {
			m.mu.Lock()
			defer m.mu.Unlock()
			if m.months == nil {
				m.months = map[string]map[string]int64{}
			}
			m.months[month] = counters
		},
		jobRun: func(job, period string) (int64, bool) {
			m.mu.Lock()
			defer m.mu.Unlock()
			rep, ok := m.jobRuns[job+"/"+period]
			if !ok {
				return 0, false
			}
			return rep.(map[string]int64)["n"], true
		}})
}

func TestDynamoRepoContract(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(t0)
	s := newTestStore(t, clk)
	testRepoContract(t, contractHarness{repo: dynamoRepo{s},
		auditActions: func() []string {
			recs, err := store.QueryAll[audit.Record](ctx, s, &dynamodb.QueryInput{
				KeyConditionExpression:    aws.String("PK = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.AuditKey(clk.Now(), "x").PK)},
				ConsistentRead:            aws.Bool(true),
			})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, rec := range recs {
				out = append(out, rec.Action)
			}
			return slices.Sorted(slices.Values(out))
		},
		closeMonth: func(month string, counters map[string]int64) {
			if err := s.Transact(ctx, store.Append(nil, store.AddCounters(store.MetricsMonthKey(month), counters))); err != nil {
				t.Fatal(err)
			}
		},
		jobRun: func(job, period string) (int64, bool) {
			var run struct {
				Report map[string]int64 `dynamodbav:"report"`
			}
			err := s.GetConsistent(ctx, store.JobRunKey(job, period), &run)
			if apperr.Is(err, apperr.NotFound) {
				return 0, false
			}
			if err != nil {
				t.Fatal(err)
			}
			return run.Report["n"], true
		}})
}
