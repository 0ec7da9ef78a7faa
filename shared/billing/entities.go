package billing

import "github.com/liberation/monetization/shared/billing/records"

// Billing's entities are declared in its leaf package records (decision 0075), so that other areas
// can read them without linking billing; billing names them as its own.
type (
	Subscription      = records.Subscription
	OtherSubscription = records.OtherSubscription
	User              = records.User
)
