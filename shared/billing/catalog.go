// Package billing is subscriptions: entitlements, the subscription lifecycle driven by Stripe, the
// subscription routes, metrics and the billing-cycle job. The tier catalogue is billing/tiers.
package billing

import "github.com/liberation/monetization/shared/billing/tiers"

// The catalogue under the names billing's code and callers use.
type (
	Tier   = tiers.Tier
	Prices = tiers.Prices
)

// Tier ids.
const (
	TierFree       = tiers.Free
	TierPro        = tiers.Pro
	TierEnterprise = tiers.Enterprise
)

// Feature ids.
const (
	FeatureCourseCatalog    = tiers.FeatureCourseCatalog
	FeatureFreeCourses      = tiers.FeatureFreeCourses
	FeatureTokenRewards     = tiers.FeatureTokenRewards
	FeatureCommunity        = tiers.FeatureCommunity
	FeatureProCourses       = tiers.FeatureProCourses
	FeatureCertificates     = tiers.FeatureCertificates
	FeatureOfflineDownloads = tiers.FeatureOfflineDownloads
	FeatureAIAssistant      = tiers.FeatureAIAssistant
	FeatureTeamSeats        = tiers.FeatureTeamSeats
	FeatureWhiteLabel       = tiers.FeatureWhiteLabel
	FeatureSSO              = tiers.FeatureSSO
	FeatureSLASupport       = tiers.FeatureSLASupport
	FeatureUsageAnalytics   = tiers.FeatureUsageAnalytics
)

// Tiers returns the catalogue (cumulative features).
func Tiers() []Tier { return tiers.All() }

// TierByID returns a tier.
func TierByID(id string) (Tier, bool) { return tiers.ByID(id) }

// TierByPrice maps a Stripe price id back to a tier.
func TierByPrice(p Prices, priceID string) (Tier, bool) { return tiers.ByPrice(p, priceID) }

// KnownFeature reports whether any tier grants the feature.
func KnownFeature(feature string) bool { return tiers.KnownFeature(feature) }
