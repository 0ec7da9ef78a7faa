package records

import "time"

// Billing's entities: the items billing owns on the single table (their keys are built in
// shared/store/keys.go, the table's one key map). billing's dynamoRepo writes them; Records
// (repo_records.go) reads them and links a customer, for billing and for the other areas.

// Subscription is a user's one current subscription item (PK USER#<id>, SK SUB). It is found by
// Stripe subscription id through GSI1 and listed by status, ordered by ReviewAt, through GSI2.
//
// Every write goes through billing's dynamoRepo.WriteSubscription, conditioned on the version read before it, so a
// writer that computed metric deltas from version n can only land on version n. The fields
// LastEvent* are the ordering watermark of the Stripe state stored (see docs/decisions/0007).
type Subscription struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI1PK string `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK string `dynamodbav:"GSI1SK,omitempty"`
	GSI2PK string `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK string `dynamodbav:"GSI2SK,omitempty"`
	Type   string `dynamodbav:"type"`
	UserID string `dynamodbav:"userId"`

	// Tier is what the subscription entitled to when the item was written: PlanTier while the status
	// and the time rules grant it, "free" once they do not (canceled, unpaid, incomplete…, a
	// cancellation past its period end, past_due beyond paid-through + grace). Time-bound ends are
	// applied on read and made permanent by the billing-cycle job. The metric gauges follow Tier.
	Tier string `dynamodbav:"tier"`
	// PlanTier is the tier of the subscription's price, whatever the status ("" on items written
	// before it existed: Tier stands in).
	PlanTier             string    `dynamodbav:"planTier,omitempty"`
	Status               string    `dynamodbav:"status"` // Stripe's status; "" for a stub without one
	StripeSubscriptionID string    `dynamodbav:"stripeSubscriptionId,omitempty"`
	StripeCustomerID     string    `dynamodbav:"stripeCustomerId,omitempty"`
	StripeItemID         string    `dynamodbav:"stripeItemId,omitempty"` // the subscription item carrying the price
	PriceID              string    `dynamodbav:"priceId,omitempty"`
	CurrentPeriodStart   time.Time `dynamodbav:"currentPeriodStart"`
	CurrentPeriodEnd     time.Time `dynamodbav:"currentPeriodEnd"`
	CancelAtPeriodEnd    bool      `dynamodbav:"cancelAtPeriodEnd"`
	PendingTier          string    `dynamodbav:"pendingTier,omitempty"` // downgrade due at currentPeriodEnd
	ScheduleID           string    `dynamodbav:"scheduleId,omitempty"`  // Stripe subscription schedule doing it
	PaidThrough          time.Time `dynamodbav:"paidThrough"`           // end of the last paid invoice period
	// PayingSince is when the subscription last became paying (the day its newPaying was counted);
	// churn uses it to tell customers who joined inside the metrics window.
	PayingSince time.Time `dynamodbav:"payingSince"`
	// ReviewAt is when the billing-cycle job must look at the item (GSI2's sort key): the period end,
	// or for past_due the paid-through date its grace counts from. Zero: CurrentPeriodEnd.
	ReviewAt time.Time `dynamodbav:"reviewAt"`
	Version  int64     `dynamodbav:"version"`
	// Ordering watermark: Stripe event created (unix s), status rank and event id of the stored state.
	LastEventCreated int64     `dynamodbav:"lastEventCreated"`
	LastEventRank    int       `dynamodbav:"lastEventRank"`
	LastEventID      string    `dynamodbav:"lastEventId,omitempty"`
	UpdatedAt        time.Time `dynamodbav:"updatedAt"`
}

// Exists reports whether the item was read from the table (version 0 means never written).
func (s Subscription) Exists() bool { return s.Version > 0 }

// OtherSubscription records a live Stripe subscription of a user other than the stored one: its
// events are not applied while the stored one is live (one live subscription per user). The
// billing-cycle job checks each open record with Stripe, adopts the other subscription once the
// stored one has ended, or reports two live subscriptions.
type OtherSubscription struct {
	PK                   string    `dynamodbav:"PK"`
	SK                   string    `dynamodbav:"SK"`
	GSI2PK               string    `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK               string    `dynamodbav:"GSI2SK,omitempty"`
	Type                 string    `dynamodbav:"type"`
	UserID               string    `dynamodbav:"userId"`
	StripeSubscriptionID string    `dynamodbav:"stripeSubscriptionId"`
	Status               string    `dynamodbav:"status"` // as first seen
	SeenAt               time.Time `dynamodbav:"seenAt"`
	ResolvedAt           time.Time `dynamodbav:"resolvedAt,omitempty"`
	Resolution           string    `dynamodbav:"resolution,omitempty"`
}

// User is a user's profile item: who they are to Stripe.
type User struct {
	PK               string    `dynamodbav:"PK"`
	SK               string    `dynamodbav:"SK"`
	GSI1PK           string    `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK           string    `dynamodbav:"GSI1SK,omitempty"`
	Type             string    `dynamodbav:"type"`
	UserID           string    `dynamodbav:"userId"`
	Email            string    `dynamodbav:"email,omitempty"`
	StripeCustomerID string    `dynamodbav:"stripeCustomerId,omitempty"`
	CreatedAt        time.Time `dynamodbav:"createdAt"`
}
