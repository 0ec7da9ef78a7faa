package records_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

// A user's Stripe customer is linked once: the first id wins, however many checkouts race, and
// the user is found by it. Billing and the other areas link through Records.
func TestLinkStripeCustomerFirstWins(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := newTestStore(t, clk)
	r := records.Records{S: s}
	other := r
	ctx := context.Background()
	if _, err := other.GetUser(ctx, "u1"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a user who never touched billing: %v", err)
	}
	if id, err := r.LinkStripeCustomer(ctx, "u1", "ada@example.com", "cus_1"); err != nil || id != "cus_1" {
		t.Fatalf("first link: %q %v", id, err)
	}
	clk.Advance(time.Hour)
	if id, err := other.LinkStripeCustomer(ctx, "u1", "ada@new.example", "cus_1"); err != nil || id != "cus_1" {
		t.Fatalf("the same customer again: %q %v", id, err)
	}
	if id, err := r.LinkStripeCustomer(ctx, "u1", "ada@example.com", "cus_2"); err != nil || id != "cus_1" {
		t.Fatalf("a second customer: %q %v, want the first kept", id, err)
	}
	u, err := other.GetUser(ctx, "u1")
	if err != nil || u.StripeCustomerID != "cus_1" || u.Email != "ada@new.example" || u.UserID != "u1" || u.Type != "user" ||
		u.GSI1PK != "CUS#cus_1" || !u.CreatedAt.Equal(clk.Now().Add(-time.Hour)) {
		t.Fatalf("profile %+v %v (created once, the address kept current)", u, err)
	}
	if id, err := r.UserIDByStripeCustomer(ctx, "cus_1"); err != nil || id != "u1" {
		t.Fatalf("by customer: %q %v", id, err)
	}
	for _, c := range []string{"cus_2", ""} {
		if _, err := r.UserIDByStripeCustomer(ctx, c); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("customer %q: %v, want NotFound", c, err)
		}
	}

	// Racing checkouts of another user end with one customer on file, the one every racer returns.
	var wg sync.WaitGroup
	got := make([]string, 4)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = r.LinkStripeCustomer(ctx, "u2", "bo@example.com", "cus_race_"+string(rune('a'+i)))
		}()
	}
	wg.Wait()
	u2, _ := r.GetUser(ctx, "u2")
	for _, id := range got {
		if id != u2.StripeCustomerID || id == "" {
			t.Fatalf("racers got %v, stored %q", got, u2.StripeCustomerID)
		}
	}
}

// A subscription item is found by its Stripe id (GSI1) and its user resolved through it.
func TestSubscriptionByStripeID(t *testing.T) {
	s := newTestStore(t, nil)
	r := records.Records{S: s}
	ctx := context.Background()
	k := store.SubscriptionKey("u-sub")
	g1, g1s := store.StripeSubscriptionGSI1("sub_1")
	sub := records.Subscription{PK: k.PK, SK: k.SK, GSI1PK: g1, GSI1SK: g1s, Type: "subscription", UserID: "u-sub",
		Tier: "pro", StripeSubscriptionID: "sub_1", Version: 1}
	if err := s.Put(ctx, sub, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := r.SubscriptionByStripeID(ctx, "sub_1"); err != nil || got.UserID != "u-sub" || got.Tier != "pro" {
		t.Fatalf("by Stripe id: %+v %v", got, err)
	}
	if _, err := r.SubscriptionByStripeID(ctx, "sub_unknown"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown: %v", err)
	}
	if got, err := r.GetSubscription(ctx, "u-sub"); err != nil || got.Version != 1 {
		t.Fatalf("by user: %+v %v", got, err)
	}
	if got, err := r.ResolveStripeUser(ctx, "", "sub_1"); err != nil || got != "u-sub" {
		t.Fatalf("resolve by subscription: %q %v", got, err)
	}
	if got, err := r.ResolveStripeUser(ctx, "cus_unknown", "sub_unknown"); err != nil || got != "" {
		t.Fatalf("resolve nobody: %q %v", got, err)
	}
}
