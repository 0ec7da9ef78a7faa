// Package tiers is the subscription tier catalogue: tiers, their prices and the features each
// grants, and the public GET /tiers route. It is its own package so that list-tiers links no
// DynamoDB client (it needs none).
package tiers

import (
	"context"
	"slices"

	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/platform"
)

// Tier ids.
const (
	Free       = "free"
	Pro        = "pro"
	Enterprise = "enterprise"
)

// Feature ids. A tier includes its own features and those of every tier below it.
const (
	FeatureCourseCatalog    = "course-catalog"
	FeatureFreeCourses      = "free-courses"
	FeatureTokenRewards     = "token-rewards"
	FeatureCommunity        = "community"
	FeatureProCourses       = "pro-courses"
	FeatureCertificates     = "certificates"
	FeatureOfflineDownloads = "offline-downloads"
	FeatureAIAssistant      = "ai-assistant"
	FeatureTeamSeats        = "team-seats"
	FeatureWhiteLabel       = "white-label"
	FeatureSSO              = "sso"
	FeatureSLASupport       = "sla-support"
	FeatureUsageAnalytics   = "usage-analytics"
)

// Tier is one subscription tier. Prices are integer cents.
type Tier struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	PriceCents    int64    `json:"priceCents"`
	Currency      string   `json:"currency"`
	Interval      string   `json:"interval"`
	Features      []string `json:"features"`
	Rank          int      `json:"rank"`
	stripePriceID func(Prices) string
}

// Prices are the Stripe price ids of the paid tiers (from configuration).
type Prices struct{ Pro, Enterprise string }

var catalogue = []Tier{
	{ID: Free, Name: "Free", PriceCents: 0, Currency: "usd", Interval: "month", Rank: 0,
		Features: []string{FeatureCourseCatalog, FeatureFreeCourses, FeatureTokenRewards, FeatureCommunity}},
	{ID: Pro, Name: "Pro", PriceCents: 999, Currency: "usd", Interval: "month", Rank: 1,
		Features:      []string{FeatureProCourses, FeatureCertificates, FeatureOfflineDownloads, FeatureAIAssistant},
		stripePriceID: func(p Prices) string { return p.Pro }},
	{ID: Enterprise, Name: "Enterprise", PriceCents: 9900, Currency: "usd", Interval: "month", Rank: 2,
		Features:      []string{FeatureTeamSeats, FeatureWhiteLabel, FeatureSSO, FeatureSLASupport, FeatureUsageAnalytics},
		stripePriceID: func(p Prices) string { return p.Enterprise }},
}

// All returns the catalogue, each tier listing all features it grants (cumulative).
func All() []Tier {
	out := make([]Tier, len(catalogue))
	var acc []string
	for i, t := range catalogue {
		acc = append(acc, t.Features...)
		t.Features = slices.Clone(acc)
		out[i] = t
	}
	return out
}

// ByID returns a tier (with cumulative features).
func ByID(id string) (Tier, bool) {
	for _, t := range All() {
		if t.ID == id {
			return t, true
		}
	}
	return Tier{}, false
}

// ByPrice maps a Stripe price id back to a tier.
func ByPrice(p Prices, priceID string) (Tier, bool) {
	for _, t := range All() {
		if t.stripePriceID != nil && priceID != "" && t.stripePriceID(p) == priceID {
			return t, true
		}
	}
	return Tier{}, false
}

// PriceID returns the Stripe price id for a paid tier ("" for free).
func (t Tier) PriceID(p Prices) string {
	if t.stripePriceID == nil {
		return ""
	}
	return t.stripePriceID(p)
}

// Grants reports whether the tier includes a feature.
func (t Tier) Grants(feature string) bool { return slices.Contains(t.Features, feature) }

// KnownFeature reports whether any tier grants the feature.
func KnownFeature(feature string) bool {
	all := All()
	return all[len(all)-1].Grants(feature)
}

// wireListTiers builds GET /tiers (public): the catalogue, cacheable for five minutes.
func wireListTiers(rt *platform.Runtime) (httpapi.Lambda, error) {
	body := map[string]any{"tiers": All()}
	return httpapi.Route(rt.Fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		resp := httpapi.OK(body)
		resp.Headers = map[string]string{"cache-control": "public, max-age=300"}
		return resp, nil
	}), nil
}

// newWiring: the package's functions need nothing but their runtime (decision 0074).
func newWiring(rt *platform.Runtime) (*platform.Runtime, error) { return rt, nil }
