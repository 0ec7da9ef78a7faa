package billing

import (
	"time"

	"github.com/stripe/stripe-go/v76"
)

// Stripe subscription statuses (stored as Stripe spells them), plus "none" for a user without one.
const (
	StatusNone              = "none"
	StatusActive            = string(stripe.SubscriptionStatusActive)
	StatusTrialing          = string(stripe.SubscriptionStatusTrialing)
	StatusPastDue           = string(stripe.SubscriptionStatusPastDue)
	StatusUnpaid            = string(stripe.SubscriptionStatusUnpaid)
	StatusCanceled          = string(stripe.SubscriptionStatusCanceled)
	StatusIncomplete        = string(stripe.SubscriptionStatusIncomplete)
	StatusIncompleteExpired = string(stripe.SubscriptionStatusIncompleteExpired)
	StatusPaused            = string(stripe.SubscriptionStatusPaused)
)

// grantsByStatus: the statuses under which the subscribed tier may be usable (past_due only within
// its grace, a cancellation only until the period end: see entitlement). unpaid, canceled,
// incomplete(_expired) and paused are Free.
func grantsByStatus(status string) bool {
	return status == StatusActive || status == StatusTrialing || status == StatusPastDue
}

// payingStatus: the statuses counted in MRR and paying customers (trials pay nothing yet).
func payingStatus(status string) bool { return status == StatusActive || status == StatusPastDue }

// terminal statuses never come back for the same Stripe subscription.
func terminal(status string) bool {
	return status == StatusCanceled || status == StatusIncompleteExpired
}

// Access is what a subscription entitles to at a moment, and why.
type Access struct {
	Tier        string    // effective tier
	Status      string    // stored Stripe status, or "none"
	Reason      string    // human-readable why
	AccessUntil time.Time // when paid access ends if nothing changes (zero: renews / not applicable)
	PaidThrough time.Time // end of the last paid invoice period (zero: unknown)
}

// planTier is the tier of the subscription's price (items written before PlanTier existed carry it
// in Tier).
func planTier(s Subscription) string {
	if s.PlanTier != "" {
		return s.PlanTier
	}
	return s.Tier
}

// paidThroughOf is the date a past_due subscription's grace counts from: the end of the last paid
// invoice period, or, when no invoice.paid was ever recorded, the start of the current period (the
// period whose invoice is unpaid: Stripe moves the period forward at renewal, before the charge).
func paidThroughOf(s Subscription) time.Time {
	if !s.PaidThrough.IsZero() {
		return s.PaidThrough
	}
	return s.CurrentPeriodStart
}

// AccessAt evaluates sub at now under the grace rule. Time-bound ends (a cancellation reaching its
// period end; past_due beyond paid-through + grace) apply here, on read, so access never outlives
// them even before the billing-cycle job or Stripe's next event has updated the item.
func AccessAt(sub Subscription, now time.Time, grace time.Duration) Access {
	if !sub.Exists() || sub.Status == "" {
		return Access{Tier: TierFree, Status: StatusNone, Reason: "no subscription: the Free tier", PaidThrough: sub.PaidThrough}
	}
	a := Access{Tier: TierFree, Status: sub.Status, PaidThrough: sub.PaidThrough}
	plan := planTier(sub)
	end := sub.CurrentPeriodEnd
	switch {
	case plan == TierFree || plan == "":
		a.Reason = "subscription is " + sub.Status + ": the Free tier"
	case sub.Status == StatusActive || sub.Status == StatusTrialing:
		if sub.CancelAtPeriodEnd {
			if !now.Before(end) {
				a.Reason = "subscription was canceled and ended at " + rfc(end) + ": the Free tier"
				return a
			}
			a.AccessUntil = end
			a.Tier, a.Reason = plan, "subscription is "+sub.Status+" and cancels at "+rfc(end)
			return a
		}
		a.Tier, a.Reason = plan, "subscription is "+sub.Status
	case sub.Status == StatusPastDue:
		paid := paidThroughOf(sub)
		until := paid.Add(grace)
		if !now.Before(until) {
			a.Reason = "payment is past due; paid through " + rfc(paid) + ", grace ended at " + rfc(until) + ": the Free tier"
			return a
		}
		a.AccessUntil = until
		a.Tier, a.Reason = plan, "payment is past due; access continues until "+rfc(until)+
			" (paid through "+rfc(paid)+" plus the grace period) while payment is retried"
	default:
		a.Reason = "subscription is " + sub.Status + ": the Free tier"
	}
	return a
}

// accessEndedAt is when a subscription that grants nothing at now stopped granting its tier by a
// time rule (the period end of a cancellation, the grace end of past_due); zero when no time rule
// ended it (its status alone grants nothing).
func accessEndedAt(sub Subscription, grace time.Duration) time.Time {
	switch {
	case (sub.Status == StatusActive || sub.Status == StatusTrialing) && sub.CancelAtPeriodEnd:
		return sub.CurrentPeriodEnd
	case sub.Status == StatusPastDue:
		return paidThroughOf(sub).Add(grace)
	}
	return time.Time{}
}

// reviewAt is when the billing-cycle job must look at an item: a past_due one from its paid-through
// date (its due query subtracts the grace; unknown dates make it due at once), any other at its
// period end.
func reviewAt(sub Subscription) time.Time {
	if sub.Status == StatusPastDue {
		if p := paidThroughOf(sub); !p.IsZero() {
			return p
		}
		return time.Unix(0, 0).UTC()
	}
	return sub.CurrentPeriodEnd
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }
