package billing

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/manifest"
)

// SubscriptionView is the wire shape of a user's subscription (GET /subscription and the answers of
// the routes that change it). A user without a subscription is on Free with status "none".
type SubscriptionView struct {
	Tier              string     `json:"tier"`   // effective tier now
	Status            string     `json:"status"` // Stripe's status, or "none"
	SubscribedTier    string     `json:"subscribedTier,omitempty"`
	CurrentPeriodEnd  *time.Time `json:"currentPeriodEnd"`
	CancelAtPeriodEnd bool       `json:"cancelAtPeriodEnd"`
	PendingTier       string     `json:"pendingTier,omitempty"` // downgrade taking effect at currentPeriodEnd
	AccessUntil       *time.Time `json:"accessUntil"`           // paid access ends then unless renewed
	PaidThrough       *time.Time `json:"paidThrough"`
	Reason            string     `json:"reason"`
	Entitlements      []string   `json:"entitlements"`
	// Source says what grants Tier: "subscription" (or Free without one) or "license" (a seat on
	// an organisation's Enterprise license).
	Source  string       `json:"source"`
	License *LicenseView `json:"license,omitempty"` // the seat the user holds, if any
}

// View renders a stored subscription at now under the grace rule.
func View(sub Subscription, now time.Time, grace time.Duration) SubscriptionView {
	return ViewWithSeat(sub, licensing.NoGrant, now, grace)
}

// ViewWithSeat renders a stored subscription combined with the user's seat grant.
func ViewWithSeat(sub Subscription, g licensing.Grant, now time.Time, grace time.Duration) SubscriptionView {
	a, bySeat := withSeat(AccessAt(sub, now, grace), g)
	t, _ := TierByID(a.Tier)
	v := SubscriptionView{Tier: a.Tier, Status: a.Status, Reason: a.Reason, Entitlements: t.Features,
		AccessUntil: timePtr(a.AccessUntil), PaidThrough: timePtr(a.PaidThrough), Source: "subscription",
		License: licenseView(g)}
	if bySeat {
		v.Source = "license"
	}
	if a.Status != StatusNone {
		v.CurrentPeriodEnd = timePtr(sub.CurrentPeriodEnd)
		v.CancelAtPeriodEnd = sub.CancelAtPeriodEnd
		v.PendingTier = sub.PendingTier
		if p := planTier(sub); p != a.Tier && !terminal(sub.Status) {
			v.SubscribedTier = p
		}
	}
	return v
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() || t.Unix() <= 0 {
		return nil
	}
	u := t.UTC()
	return &u
}

func wireGetSubscription(w wiring) (httpapi.Lambda, error) {
	return HandleGetSubscription(w.rt.Fn, w.repo, licenseSeats{w.repo.Store}, w.set.Rules, w.rt.Clock), nil
}

// HandleGetSubscription serves GET /subscription: the user's subscription, combined with a seat
// on an organisation's Enterprise license if they hold one.
func HandleGetSubscription(fn manifest.Function, subs subscriptionReader, seats seatGrants, rules Rules, clk clock.Clock) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		sub, err := loadSubscription(ctx, subs, r.Principal.UserID)
		if err != nil {
			return httpapi.Response{}, err
		}
		now := clk.Now()
		g, err := seats.SeatGrant(ctx, r.Principal.UserID, now)
		if err != nil {
			return httpapi.Response{}, err
		}
		if a, ok := seats.(activity); ok {
			recordActivity(ctx, a, r.Principal.UserID, r.Principal.Email, now)
		}
		return httpapi.OK(ViewWithSeat(sub, g, now, rules.Grace)), nil
	})
}

// FeatureDecision is the answer of GET /features/{feature}.
type FeatureDecision struct {
	Feature      string     `json:"feature"`
	Allowed      bool       `json:"allowed"`
	Tier         string     `json:"tier"`
	Status       string     `json:"status"`
	RequiredTier string     `json:"requiredTier"`
	AccessUntil  *time.Time `json:"accessUntil"`
	PaidThrough  *time.Time `json:"paidThrough"`
	Reason       string     `json:"reason"`
	// Source says what grants Tier: "subscription" or "license" (an organisation's seat).
	Source string `json:"source"`
}

// Feature-check cache settings (see docs/decisions/0008).
const (
	featureCacheTTL = 60 * time.Second
	featureCacheMax = 10000
)

// featureCache keeps, per user, the subscription item last read in this Lambda container, stamped
// with its version. A check reads the item's version (one small, strongly consistent GetItem) and
// uses the cached item only when the versions match and the entry is younger than the TTL, so a
// changed subscription is never served past its version. Access is computed from the item at the
// time of the check, so a period end is honoured to the second even from the cache.
type featureCache struct {
	subs    subscriptionReader
	version versionReader
	clock   clock.Clock
	ttl     time.Duration
	max     int
	mu      sync.Mutex
	entries map[string]cacheEntry
	hits    atomic.Int64
	misses  atomic.Int64
}

type cacheEntry struct {
	sub     Subscription
	expires time.Time
}

// subscriptionsWithVersion reads items and their versions (the store does both).
type subscriptionsWithVersion interface {
	subscriptionReader
	versionReader
}

func newFeatureCache(subs subscriptionsWithVersion, clk clock.Clock, ttl time.Duration, max int) *featureCache {
	return &featureCache{subs: subs, version: subs, clock: clk, ttl: ttl, max: max, entries: map[string]cacheEntry{}}
}

func (c *featureCache) subscription(ctx context.Context, userID string) (Subscription, error) {
	now := c.clock.Now()
	version, err := c.version.SubscriptionVersion(ctx, userID)
	if err != nil {
		return Subscription{}, err
	}
	c.mu.Lock()
	e, ok := c.entries[userID]
	c.mu.Unlock()
	if ok && e.sub.Version == version && now.Before(e.expires) {
		c.hits.Add(1)
		return e.sub, nil
	}
	c.misses.Add(1)
	sub, err := loadSubscription(ctx, c.subs, userID)
	if err != nil {
		return sub, err
	}
	c.mu.Lock()
	if len(c.entries) >= c.max {
		clear(c.entries) // a container serving this many users restarts its cache rather than grow
	}
	c.entries[userID] = cacheEntry{sub: sub, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return sub, nil
}

// requiredTier is the lowest tier granting feature.
func requiredTier(feature string) string {
	for _, t := range Tiers() {
		if t.Grants(feature) {
			return t.ID
		}
	}
	return ""
}

// Decide answers whether sub allows feature at now under the grace rule.
func Decide(sub Subscription, feature string, now time.Time, grace time.Duration) FeatureDecision {
	return DecideWithSeat(sub, licensing.NoGrant, feature, now, grace)
}

// DecideWithSeat answers whether sub, combined with the user's seat grant, allows feature at now.
func DecideWithSeat(sub Subscription, g licensing.Grant, feature string, now time.Time, grace time.Duration) FeatureDecision {
	a, bySeat := withSeat(AccessAt(sub, now, grace), g)
	t, _ := TierByID(a.Tier)
	dec := FeatureDecision{Feature: feature, Allowed: t.Grants(feature), Tier: a.Tier, Status: a.Status,
		RequiredTier: requiredTier(feature), AccessUntil: timePtr(a.AccessUntil), PaidThrough: timePtr(a.PaidThrough),
		Source: "subscription"}
	if bySeat {
		dec.Source = "license"
	}
	if dec.Allowed {
		dec.Reason = "included in the " + t.Name + " tier; " + a.Reason
	} else {
		req, _ := TierByID(dec.RequiredTier)
		dec.Reason = "requires the " + req.Name + " tier; " + a.Reason
	}
	return dec
}

func wireCheckFeature(w wiring) (httpapi.Lambda, error) {
	return HandleCheckFeature(w.rt.Fn, w.repo, licenseSeats{w.repo.Store}, w.set.Rules, w.rt.Clock), nil
}

// HandleCheckFeature serves GET /features/{feature}: the cached subscription (by version) combined
// with the user's seat grant, evaluated now.
func HandleCheckFeature(fn manifest.Function, subs subscriptionsWithVersion, seats seatGrants, rules Rules, clk clock.Clock) httpapi.Lambda {
	return httpapi.Route(fn, newCheckFeature(newFeatureCache(subs, clk, featureCacheTTL, featureCacheMax), seats, rules))
}

func newCheckFeature(cache *featureCache, seats seatGrants, rules Rules) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		feature := r.PathParam("feature")
		if !KnownFeature(feature) {
			return httpapi.Response{}, apperr.New(apperr.NotFound, "unknown feature")
		}
		sub, err := cache.subscription(ctx, r.Principal.UserID)
		if err != nil {
			return httpapi.Response{}, err
		}
		now := cache.clock.Now()
		g, err := seats.SeatGrant(ctx, r.Principal.UserID, now)
		if err != nil {
			return httpapi.Response{}, err
		}
		if a, ok := seats.(activity); ok {
			recordActivity(ctx, a, r.Principal.UserID, r.Principal.Email, now)
		}
		return httpapi.OK(DecideWithSeat(sub, g, feature, now, rules.Grace)), nil
	}
}
