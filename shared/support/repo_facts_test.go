package support

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/support/sla"
)

// licensingFacts asks licensing about the table support runs on (in process, or moto with the
// integration tag): a user without a seat has none, administers no organisation, gets the
// platform's branding, and counts as no license's active learner.
func TestLicensingFactsWithoutASeat(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	f := licensingFacts{newTestStore(t, clock.NewFake(now))}
	ctx := context.Background()
	if seat, ok, err := f.Seat(ctx, "nobody", now); err != nil || ok || seat.LicenseID != "" {
		t.Fatalf("seat %+v %v %v", seat, ok, err)
	}
	if ok, err := f.IsOrgAdmin(ctx, "lic_none", "nobody"); err != nil || ok {
		t.Fatalf("org admin %v %v", ok, err)
	}
	if b, err := f.Branding(ctx, "nobody"); err != nil || !reflect.DeepEqual(b, licensing.PlatformBranding()) {
		t.Fatalf("branding %+v %v", b, err)
	}
	if err := f.RecordActivity(ctx, "nobody", "nobody@example.com", now); err != nil {
		t.Fatal(err)
	}
}

// A schedule entry's key says its due time; anything else says none.
func TestDueTimeOfAnEntryKey(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 45, 0, 0, time.UTC)
	for sk, want := range map[string]time.Time{
		store.SortTime(at) + "#tkt_1": at,
		store.SortTime(at):            {},
		"short":                       {},
		store.SortTime(at)[:10] + "X" + "#tkt_1" + "pad12": {},
		"not-a-time-at-all-here#tkt_1":                     {},
	} {
		if got := dueAtOf(sk); !got.Equal(want) {
			t.Errorf("dueAtOf(%q) = %v, want %v", sk, got, want)
		}
	}
}

// The requester's tier on the table: support reads the subscription item billing stores (through
// records.Records), free without one, and the stored tier while the subscription grants it.
func TestStoredTierReadsBillingsSubscription(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	s := newTestStore(t, clock.NewFake(now))
	repo := &dynamoRepo{s}
	tier := storedTier(licensingFacts{s}, repo)
	ctx := context.Background()
	if _, err := repo.GetSubscription(ctx, "u-none"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("no subscription: %v", err)
	}
	k := store.SubscriptionKey("u-pro")
	if err := s.Put(ctx, records.Subscription{PK: k.PK, SK: k.SK, Type: "subscription", UserID: "u-pro", Tier: sla.TierPro,
		Status: "active", CurrentPeriodEnd: now.AddDate(0, 1, 0), Version: 1}, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	for user, want := range map[string]string{"u-none": sla.TierFree, "u-pro": sla.TierPro} {
		got, seat, err := tier(ctx, user, now)
		if err != nil || got != want || seat != nil {
			t.Fatalf("%s: tier %q seat %+v %v, want %q", user, got, seat, err, want)
		}
	}
}
