package billing

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/tabletest"
)

// dynamoRepo's own DynamoDB cases (moved from shared/store with the entities): the items' keys and
// indexes, the job's page-by-page walks, the customer link under races, and what another area
// reads through Records. They run on newTestStore: in process without the integration tag, moto
// with it.

// mapKey is a DynamoDB key as the page-by-page lists take and return it.
type mapKey = map[string]types.AttributeValue

// dayCounters reads the numeric attributes of a counters item (none before the first count).
func dayCounters(t *testing.T, s *store.Store, k store.Key) map[string]int64 {
	t.Helper()
	var item map[string]any
	err := s.GetConsistent(context.Background(), k, &item)
	if apperr.Is(err, apperr.NotFound) {
		return map[string]int64{}
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for name, v := range item {
		if n, ok := v.(float64); ok {
			out[name] = int64(n)
		}
	}
	return out
}

// A subscription write lands only over the version read, with its keys and index attributes, its
// gauges, day counters and audit record in the same transaction; a lost race changes nothing.
func TestDynamoWriteSubscriptionOverItsVersion(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := newTestStore(t, clock.NewFake(at))
	r := dynamoRepo{s}
	ctx := context.Background()
	end := at.AddDate(0, 1, 0)
	first := &Subscription{Tier: "pro", PlanTier: "pro", Status: "active", StripeSubscriptionID: "sub_1",
		StripeCustomerID: "cus_1", CurrentPeriodStart: at, CurrentPeriodEnd: end, UpdatedAt: at}
	if err := r.WriteSubscription(ctx, subscriptionWrite{UserID: "u1", Next: first, At: at,
		Gauges: map[string]int64{store.GaugeMRRCents: 999, "subs_pro": 1},
		Day:    map[string]int64{store.CtrNewPaying: 1, store.CtrChurnedPaying: 0},
		Audit:  &audit.Entry{Actor: audit.ActorStripe, Action: "subscription.create", Target: "user:u1"}}); err != nil {
		t.Fatal(err)
	}
	if first.Version != 1 || first.PK != "USER#u1" || first.SK != "SUB" || first.Type != "subscription" || first.UserID != "u1" ||
		first.GSI1PK != "STRIPESUB#sub_1" || first.GSI1SK != "SUB" ||
		first.GSI2PK != store.SubscriptionStatusPrefix+"active" || first.GSI2SK != store.SortTime(end)+"#u1" {
		t.Fatalf("written %+v", first)
	}
	got, err := r.GetSubscription(ctx, "u1")
	if err != nil || !got.Exists() || got.Version != 1 || got.Tier != "pro" || !got.CurrentPeriodEnd.Equal(end) {
		t.Fatalf("read %+v %v", got, err)
	}
	if g := dayCounters(t, s, store.MetricsCurrentKey()); g[store.GaugeMRRCents] != 999 || g["subs_pro"] != 1 {
		t.Fatalf("gauges %v", g)
	}
	if d := dayCounters(t, s, store.MetricsDayKey(at)); d[store.CtrNewPaying] != 1 || len(d) != 1 {
		t.Fatalf("day counters %v (a zero delta is not written)", d)
	}

	// Two writers read version 1; the second loses, and none of its deltas land.
	canceled := got
	canceled.Status, canceled.Tier = "canceled", "free"
	if err := r.WriteSubscription(ctx, subscriptionWrite{UserID: "u1", Next: &canceled, PrevVersion: 1, At: at,
		Gauges: map[string]int64{store.GaugeMRRCents: -999}}); err != nil {
		t.Fatal(err)
	}
	stale := got
	stale.Tier = "team"
	err = r.WriteSubscription(ctx, subscriptionWrite{UserID: "u1", Next: &stale, PrevVersion: 1, At: at,
		Gauges: map[string]int64{store.GaugeMRRCents: 500}, Day: map[string]int64{store.CtrNewPaying: 1}})
	if !store.IsConditionFailed(err) {
		t.Fatalf("a write over a stale version: %v, want a failed condition", err)
	}
	if g := dayCounters(t, s, store.MetricsCurrentKey()); g[store.GaugeMRRCents] != 0 {
		t.Fatalf("gauges %v after the lost race", g)
	}
	if d := dayCounters(t, s, store.MetricsDayKey(at)); d[store.CtrNewPaying] != 1 {
		t.Fatalf("day counters %v after the lost race", d)
	}
	if got, _ := r.GetSubscription(ctx, "u1"); got.Version != 2 || got.Tier != "free" || got.Status != "canceled" {
		t.Fatalf("after the race %+v", got)
	}
	// A second create of the same user's item is a lost race too.
	dup := &Subscription{Tier: "pro", Status: "active"}
	if err := r.WriteSubscription(ctx, subscriptionWrite{UserID: "u1", Next: dup, At: at}); !store.IsConditionFailed(err) {
		t.Fatalf("a second create: %v", err)
	}
	// A stub (no Stripe id, no status) is in neither index.
	stub := &Subscription{Tier: "free"}
	if err := r.WriteSubscription(ctx, subscriptionWrite{UserID: "u-stub", Next: stub, At: at}); err != nil ||
		stub.GSI1PK != "" || stub.GSI2PK != "" || stub.Version != 1 {
		t.Fatalf("stub %+v %v", stub, err)
	}
}

// The item is found by its Stripe id (GSI1) and listed as due by status and review time (GSI2),
// a page at a time: a stub without a Stripe id or status is in neither index.
func TestDynamoSubscriptionIndexes(t *testing.T) {
	s := newTestStore(t, nil)
	r := dynamoRepo{s}
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	write := func(user, subID, status string, end, review time.Time) {
		t.Helper()
		sub := &Subscription{Tier: "pro", Status: status, StripeSubscriptionID: subID, CurrentPeriodEnd: end, ReviewAt: review}
		if err := r.WriteSubscription(ctx, subscriptionWrite{UserID: user, Next: sub, At: base}); err != nil {
			t.Fatal(err)
		}
	}
	write("u1", "sub_1", "active", base.Add(1*time.Hour), time.Time{})
	write("u2", "sub_2", "active", base.Add(3*time.Hour), time.Time{})
	write("u3", "sub_3", "active", base.Add(2*time.Hour), time.Time{})
	write("u4", "sub_4", "past_due", base.AddDate(0, 1, 0), base.Add(30*time.Minute)) // due by its paid-through date
	write("u5", "", "", time.Time{}, time.Time{})                                     // a stub
	write("u6", "sub_6", "active", base.Add(48*time.Hour), time.Time{})               // not due yet

	if got, err := r.records().SubscriptionByStripeID(ctx, "sub_3"); err != nil || got.UserID != "u3" {
		t.Fatalf("by Stripe id: %+v %v", got, err)
	}
	if _, err := r.records().SubscriptionByStripeID(ctx, "sub_unknown"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown Stripe id: %v", err)
	}
	var due []string
	ek := mapKey(nil)
	pages := 0
	for {
		if pages++; pages > 5 {
			t.Fatal("too many pages")
		}
		page, next, err := r.subscriptionsDue(ctx, "active", base.Add(24*time.Hour), 2, ek)
		if err != nil {
			t.Fatal(err)
		}
		for _, sub := range page {
			due = append(due, sub.UserID)
		}
		if ek = next; ek == nil {
			break
		}
	}
	if !slices.Equal(due, []string{"u1", "u3", "u2"}) {
		t.Fatalf("active and due: %v, want u1 u3 u2 (oldest review first)", due)
	}
	pastDue, end, err := r.subscriptionsDue(ctx, "past_due", base.Add(time.Hour), 10, nil)
	if err != nil || len(pastDue) != 1 || pastDue[0].UserID != "u4" || end != nil {
		t.Fatalf("past_due by review time: %+v %v %v", pastDue, end, err)
	}
}

// One live subscription per user: another live Stripe subscription is recorded once (the first
// sighting wins), listed while open a page at a time, and reopened when seen live again after its
// resolution, which is stamped with the clock.
func TestDynamoOtherSubscriptions(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := newTestStore(t, clk)
	r := dynamoRepo{s}
	ctx := context.Background()
	first := clk.Now()
	for i, rec := range []struct{ user, sub, status string }{
		{"u1", "sub_b", "active"}, {"u1", "sub_b", "trialing"}, {"u2", "sub_c", "past_due"}, {"u1", "sub_d", "active"},
	} {
		if err := r.RecordOtherSubscription(ctx, rec.user, rec.sub, rec.status, first.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	open := func() []OtherSubscription {
		t.Helper()
		var out []OtherSubscription
		ek := mapKey(nil)
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("too many pages")
			}
			page, next, err := r.openOtherSubscriptions(ctx, 2, ek)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, page...)
			if ek = next; ek == nil {
				return out
			}
		}
	}
	got := open()
	if len(got) != 3 || got[0].StripeSubscriptionID != "sub_b" || got[0].Status != "active" || !got[0].SeenAt.Equal(first) ||
		got[0].Type != "subscription-other" || got[1].StripeSubscriptionID != "sub_c" || got[2].StripeSubscriptionID != "sub_d" {
		t.Fatalf("open records %+v (oldest first, the first sighting kept)", got)
	}
	if err := r.ResolveOtherSubscription(ctx, "u1", "sub_b", "canceled at Stripe"); err != nil {
		t.Fatal(err)
	}
	if got := open(); len(got) != 2 || got[0].StripeSubscriptionID != "sub_c" {
		t.Fatalf("after resolving sub_b: %+v", got)
	}
	var resolved OtherSubscription
	if err := s.GetConsistent(ctx, store.OtherSubscriptionKey("u1", "sub_b"), &resolved); err != nil ||
		resolved.Resolution != "canceled at Stripe" || !resolved.ResolvedAt.Equal(clk.Now()) {
		t.Fatalf("resolved record %+v %v", resolved, err)
	}
	if err := r.ResolveOtherSubscription(ctx, "u9", "sub_x", "x"); !store.IsConditionFailed(err) {
		t.Fatalf("resolving a record never made: %v", err)
	}
	// Live again: open again.
	if err := r.RecordOtherSubscription(ctx, "u1", "sub_b", "active", first.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := open(); len(got) != 3 || got[2].StripeSubscriptionID != "sub_b" {
		t.Fatalf("after sub_b is seen live again: %+v", got)
	}
}

// A Stripe object is tied to our user by its metadata first, then its customer, then its
// subscription; "" when none is known. Records answers the same as billing's own repository, and
// reads the subscription item as billing wrote it.
func TestDynamoResolveStripeUser(t *testing.T) {
	s := newTestStore(t, nil)
	r := dynamoRepo{s}
	ctx := context.Background()
	if _, err := r.LinkStripeCustomer(ctx, "u-cus", "a@example.com", "cus_1"); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteSubscription(ctx, subscriptionWrite{UserID: "u-sub", At: time.Now(),
		Next: &Subscription{Tier: "pro", Status: "active", StripeSubscriptionID: "sub_1"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, customer, sub string
		candidates          []string
		want                string
	}{
		{"MetadataFirst", "cus_1", "sub_1", []string{"", "u-meta"}, "u-meta"},
		{"Customer", "cus_1", "sub_1", []string{"", ""}, "u-cus"},
		{"SubscriptionWhenTheCustomerIsUnknown", "cus_unknown", "sub_1", nil, "u-sub"},
		{"Subscription", "", "sub_1", nil, "u-sub"},
		{"Nobody", "cus_unknown", "sub_unknown", nil, ""},
		{"NothingNamed", "", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := r.ResolveStripeUser(ctx, tt.customer, tt.sub, tt.candidates...); err != nil || got != tt.want {
				t.Fatalf("got %q %v, want %q", got, err, tt.want)
			}
			if got, err := (records.Records{S: s}).ResolveStripeUser(ctx, tt.customer, tt.sub, tt.candidates...); err != nil || got != tt.want {
				t.Fatalf("through Records: got %q %v, want %q", got, err, tt.want)
			}
		})
	}
	if sub, err := (records.Records{S: s}).GetSubscription(ctx, "u-sub"); err != nil || sub.Tier != "pro" || sub.Version != 1 {
		t.Fatalf("through Records: %+v %v", sub, err)
	}
	if _, err := (records.Records{S: s}).GetSubscription(ctx, "u-none"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("through Records, none: %v", err)
	}
}

// Reads and writes fail as Unavailable when DynamoDB does; a customer link that fails is no link.
func TestDynamoRepoWhenTheTableIsDown(t *testing.T) {
	ctx := context.Background()
	r := dynamoRepo{tabletest.Down(errors.New("timeout"))}
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, err := r.SubscriptionVersion(ctx, "u1"); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("SubscriptionVersion: %v", err)
	}
	if _, _, err := r.subscriptionsDue(ctx, "active", at, 10, nil); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("subscriptionsDue: %v", err)
	}
	if _, _, err := r.openOtherSubscriptions(ctx, 10, nil); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("openOtherSubscriptions: %v", err)
	}
	for _, c := range []struct{ customer, sub string }{{"cus_1", ""}, {"", "sub_1"}} {
		if _, err := r.ResolveStripeUser(ctx, c.customer, c.sub); !apperr.Is(err, apperr.Unavailable) {
			t.Fatalf("ResolveStripeUser %+v: %v", c, err)
		}
	}
	if id, err := r.LinkStripeCustomer(ctx, "u1", "a@example.com", "cus_1"); id != "" || !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("LinkStripeCustomer: %q %v", id, err)
	}
	if err := r.RecordOtherSubscription(ctx, "u1", "sub_b", "active", at); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("RecordOtherSubscription: %v", err)
	}
}
