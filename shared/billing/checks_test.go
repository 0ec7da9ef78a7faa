package billing

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/licensing"
)

// The feature check's cache on the fakes: an entry serves while the stored version is the cached
// one and the TTL runs; a write or the TTL makes the next check read again; a full cache starts over.
func TestFeatureCacheServesOnlyTheCurrentVersion(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	cache := newFeatureCache(w.repo, w.clock, time.Minute, 2)
	read := func(u string) string {
		t.Helper()
		s, err := cache.subscription(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		return s.Tier
	}
	counts := func(hits, misses int64) {
		t.Helper()
		if h, m := cache.hits.Load(), cache.misses.Load(); h != hits || m != misses {
			t.Fatalf("hits %d misses %d, want %d %d", h, m, hits, misses)
		}
	}
	first := read("u1")
	if second := read("u1"); first != "" || second != "" {
		t.Fatal("a user without a subscription")
	}
	counts(1, 1)
	subscribed(t, w, "u1", TierPro, t0.AddDate(0, 1, 0))
	if tier := read("u1"); tier != TierPro {
		t.Fatalf("after subscribing: %q", tier)
	}
	read("u1")
	counts(2, 2)
	w.clock.Advance(time.Minute)
	if tier := read("u1"); tier != TierPro {
		t.Fatalf("after the TTL: %q", tier)
	}
	counts(2, 3)
	read("u2") // two entries: the bound
	read("u3") // starts over with u3 alone
	read("u3")
	read("u1")
	counts(3, 6)
}

// activeSeats answers seat grants and records activity as licensing does (licenseSeats), with a
// failure to inject.
type activeSeats struct {
	fakeSeats
	mu       sync.Mutex
	recorded []string
	fail     error
	grantErr error
}

func (a *activeSeats) SeatGrant(ctx context.Context, userID string, now time.Time) (licensing.Grant, error) {
	if a.grantErr != nil {
		return licensing.Grant{}, a.grantErr
	}
	return a.fakeSeats.SeatGrant(ctx, userID, now)
}

func (a *activeSeats) RecordActivity(_ context.Context, userID, email string, at time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.recorded = append(a.recorded, userID+" "+email+" "+at.Format(time.RFC3339))
	return a.fail
}

// The apps' sign-in calls (GET /subscription, GET /features/{feature}) count the caller among their
// license's active learners; a failure to count is logged, never the caller's problem, while a seat
// that cannot be read is.
func TestSignInCallsRecordActivity(t *testing.T) {
	w := newWorld(t)
	seats := &activeSeats{fakeSeats: fakeSeats{}}
	sub := HandleGetSubscription(fn("get-subscription"), w.repo, seats, testRules, w.clock)
	feature := HandleCheckFeature(fn("check-feature"), w.repo, seats, testRules, w.clock)
	check := callOpts{path: map[string]string{"feature": FeatureCommunity}}

	if code, v := call(t, sub, "u-a", "", callOpts{}); code != http.StatusOK || v["tier"] != TierFree {
		t.Fatalf("%d %v", code, v)
	}
	if code, d := call(t, feature, "u-a", "", check); code != http.StatusOK || d["allowed"] != true {
		t.Fatalf("%d %v", code, d)
	}
	want := "u-a u-a@example.com " + t0.Format(time.RFC3339)
	if len(seats.recorded) != 2 || seats.recorded[0] != want || seats.recorded[1] != want {
		t.Fatalf("recorded %v", seats.recorded)
	}
	seats.fail = errors.New("table unavailable")
	if code, _ := call(t, sub, "u-a", "", callOpts{}); code != http.StatusOK {
		t.Fatalf("a failed count failed the request: %d", code)
	}
	if code, _ := call(t, feature, "u-a", "", check); code != http.StatusOK || len(seats.recorded) != 4 {
		t.Fatalf("a failed count failed the request: %d (%d recorded)", code, len(seats.recorded))
	}
	seats.grantErr = apperr.New(apperr.Unavailable, "read failed")
	if code, _ := call(t, sub, "u-a", "", callOpts{}); code != http.StatusServiceUnavailable {
		t.Fatalf("unreadable seat: %d", code)
	}
	if code, _ := call(t, feature, "u-a", "", check); code != http.StatusServiceUnavailable || len(seats.recorded) != 4 {
		t.Fatalf("unreadable seat: %d (%d recorded)", code, len(seats.recorded))
	}
	if code, _ := call(t, feature, "u-a", "", callOpts{path: map[string]string{"feature": "teleportation"}}); code != http.StatusNotFound {
		t.Fatalf("unknown feature: %d", code)
	}
}

// Billing's seat adapter reads licensing's items on the table: a user without a seat has none, and
// GET /subscription answers from the subscription alone.
func TestLicenseSeatsOnTheTable(t *testing.T) {
	w := newWorld(t)
	seats := licenseSeats{newTestStore(t, w.clock)}
	g, err := seats.SeatGrant(context.Background(), "u-t", t0)
	if err != nil || g.Granted || g.LicenseID != "" || g.Reason != licensing.NoGrant.Reason {
		t.Fatalf("grant %+v %v", g, err)
	}
	w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-t", Created: t0})
	code, v := call(t, HandleGetSubscription(fn("get-subscription"), w.repo, seats, testRules, w.clock), "u-t", "", callOpts{})
	if _, shown := v["license"]; code != http.StatusOK || v["tier"] != TierPro || v["source"] != "subscription" || shown {
		t.Fatalf("%d %v", code, v)
	}
}
