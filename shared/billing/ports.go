package billing

import (
	"context"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/rewards/tokenmetrics"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/support/slametrics"
)

// The small interfaces billing's code is written against. Production implements them over
// DynamoDB (dynamoRepo, repo_dynamo.go) and stripe-go (stripePort, stripe_port.go); unit tests use
// the in-memory fakes in fakes_test.go. Each handler takes only the ones it uses.

// subscriptionReader reads a user's subscription item; a user without one gets apperr.NotFound.
type subscriptionReader interface {
	GetSubscription(ctx context.Context, userID string) (Subscription, error)
}

// subscriptionWrite is one change of a user's subscription item, written atomically with its
// metric deltas and audit record.
type subscriptionWrite struct {
	UserID      string
	Next        *Subscription    // its Version is set by the write
	PrevVersion int64            // the write fails (store.IsConditionFailed) unless the item is still at it
	Gauges, Day map[string]int64 // metric deltas; day counters go on the day of At
	At          time.Time
	Audit       *audit.Entry // nil: none
}

// subscriptions reads and writes subscription items (the versioned read-compute-write of apply).
type subscriptions interface {
	subscriptionReader
	WriteSubscription(ctx context.Context, w subscriptionWrite) error
}

// versionReader reads only an item's version (the feature-check cache's stamp); 0 when none.
type versionReader interface {
	SubscriptionVersion(ctx context.Context, userID string) (int64, error)
}

// customers are users' Stripe customers.
type customers interface {
	GetUser(ctx context.Context, userID string) (User, error)
	LinkStripeCustomer(ctx context.Context, userID, email, customerID string) (string, error)
}

// userResolver ties a Stripe object to one of our users ("" when none is known).
type userResolver interface {
	ResolveStripeUser(ctx context.Context, customerID, subscriptionID string, candidates ...string) (string, error)
}

// auditor writes audit records that have no transaction of their own.
type auditor interface {
	WriteAudit(ctx context.Context, e audit.Entry) error
}

// dueLister walks the subscriptions with a status whose ReviewAt is before `before`, oldest first,
// at most maxPages pages; it reports whether it stopped at that bound.
type dueLister interface {
	EachDue(ctx context.Context, status string, before time.Time, maxPages int, f func(Subscription) error) (bool, error)
}

// otherSubscriptions are the records of live subscriptions that are not a user's stored one.
type otherSubscriptions interface {
	RecordOtherSubscription(ctx context.Context, userID, subID, status string, seenAt time.Time) error
	EachOpenOther(ctx context.Context, maxPages int, f func(OtherSubscription) error) (bool, error)
	ResolveOtherSubscription(ctx context.Context, userID, subID, resolution string) error
}

// metricsReader reads the metric items: gauges, the day counters of a range of days summed, and the
// newest snapshot's day ("" when none).
type metricsReader interface {
	Gauges(ctx context.Context) (map[string]int64, error)
	DaySums(ctx context.Context, from, to time.Time) (map[string]int64, error)
	LatestSnapshot(ctx context.Context) (string, error)
	// MonthCounters reads the counters of a closed month (METRICS/MONTH#yyyy-mm; empty when none).
	MonthCounters(ctx context.Context, month string) (map[string]int64, error)
	// Marketplace reads the course marketplace's metrics of a month ("2006-01").
	Marketplace(ctx context.Context, period string) (mktmetrics.Metrics, error)
	// Tokens reads the token programme's metrics of the last days UTC days up to now.
	Tokens(ctx context.Context, now time.Time, days int) (tokenmetrics.Metrics, error)
	// SLA reads support's SLA outcomes of the UTC days from..to, all together (slametrics.ReadTotals).
	SLA(ctx context.Context, from, to time.Time) (slametrics.Counts, error)
}

// snapshotHistory reads the daily snapshots of the UTC days from..to ("YYYY-MM-DD", inclusive),
// oldest first, one page at a time (the cursor is bound to the range).
type snapshotHistory interface {
	Snapshots(ctx context.Context, from, to string, limit int32, cursor string) (store.Page[Snapshot], error)
}

// jobRecords are the billing-cycle job's own writes: the day's snapshot and the run record, each
// once per day (the first write wins; written reports whether this call wrote it).
type jobRecords interface {
	PutSnapshot(ctx context.Context, s Snapshot) (written bool, err error)
	RecordJobRun(ctx context.Context, job, period string, at time.Time, report any) error
}

// stripeAPI is billing's port to Stripe: the calls billing makes, each bound to ctx with the given
// idempotency key (reads take none) and failing with stripeapi.Error's mapping.
type stripeAPI interface {
	CreateCustomer(ctx context.Context, p *stripe.CustomerParams, key string) (*stripe.Customer, error)
	CreateCheckoutSession(ctx context.Context, p *stripe.CheckoutSessionParams, key string) (*stripe.CheckoutSession, error)
	CreatePortalSession(ctx context.Context, p *stripe.BillingPortalSessionParams, key string) (*stripe.BillingPortalSession, error)
	GetSubscription(ctx context.Context, id string) (*stripe.Subscription, error)
	UpdateSubscription(ctx context.Context, id string, p *stripe.SubscriptionParams, key string) (*stripe.Subscription, error)
	GetSchedule(ctx context.Context, id string) (*stripe.SubscriptionSchedule, error)
	CreateSchedule(ctx context.Context, p *stripe.SubscriptionScheduleParams, key string) (*stripe.SubscriptionSchedule, error)
	UpdateSchedule(ctx context.Context, id string, p *stripe.SubscriptionScheduleParams, key string) (*stripe.SubscriptionSchedule, error)
	ReleaseSchedule(ctx context.Context, id string, key string) error
}

// stripeEraser is billing's port to Stripe for an erasure (privacy_erase.go): cancel a live
// subscription at once and delete the customer (Stripe keeps its financial records), each with our
// idempotency key; GetSubscription tells whether a refused cancellation was already done.
type stripeEraser interface {
	GetSubscription(ctx context.Context, id string) (*stripe.Subscription, error)
	CancelSubscriptionNow(ctx context.Context, id string, key string) error
	DeleteCustomer(ctx context.Context, id string, key string) error
}

// profiles erase a user's billing profile (repo_erase.go) and read their subscription.
type profiles interface {
	subscriptionReader
	EraseProfile(ctx context.Context, e profileErasure) error
}
