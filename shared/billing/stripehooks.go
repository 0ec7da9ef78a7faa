package billing

import (
	"context"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/facts"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/webhook"
)

// Outcomes billing reports for an event it leaves alone.
const (
	outcomeUnknownUser = "unknown user" // not tied to any of our users
	outcomeNotOurs     = "not ours"     // e.g. a subscription without a price of our tiers
)

// StripeWebhookHooks registers billing's Stripe events with the webhook: the subscription's state
// from customer.subscription.*, the paid-through date from invoice.paid, and the customer link from
// a completed Checkout Session.
func StripeWebhookHooks(rt *platform.Runtime, r *webhook.Router) error {
	set, err := settingsOf(rt)
	if err != nil {
		return err
	}
	q, err := queue.From(rt)
	if err != nil {
		return err
	}
	repo := dynamoRepo{store.Open(rt)}
	registerHooks(r, &hooks{
		life:  &lifecycle{subs: repo, clock: rt.Clock, rules: set.Rules},
		users: repo, customers: repo, others: repo, audit: repo, facts: q,
	})
	return nil
}

// hooks is what billing's webhook hooks use.
type hooks struct {
	life      *lifecycle
	users     userResolver
	customers customers
	others    otherSubscriptions
	audit     auditor
	facts     queue.Sender // subscription.renewed, to manifest.FactsQueue
}

func registerHooks(r *webhook.Router, h *hooks) {
	r.On(stripe.EventTypeCheckoutSessionCompleted, h.checkoutCompleted)
	r.On(stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, h.checkoutCompleted)
	for _, t := range []stripe.EventType{stripe.EventTypeCustomerSubscriptionCreated,
		stripe.EventTypeCustomerSubscriptionUpdated, stripe.EventTypeCustomerSubscriptionDeleted} {
		r.On(t, h.subscription)
	}
	r.On(stripe.EventTypeInvoicePaid, h.invoicePaid)
}

func customerID(c *stripe.Customer) string {
	if c == nil {
		return ""
	}
	return c.ID
}

// checkoutCompleted links the Stripe customer to the user, so later events without metadata
// resolve, and audits a subscription checkout. The subscription's state arrives with its own
// customer.subscription.* events, which Stripe always sends; a purchase is recorded by payments.
func (h *hooks) checkoutCompleted(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
	var s stripe.CheckoutSession
	if err := webhook.Decode(ev, &s); err != nil {
		return nil, "", err
	}
	userID, err := h.users.ResolveStripeUser(ctx, customerID(s.Customer), "", s.Metadata["userId"], s.ClientReferenceID)
	if err != nil || userID == "" {
		return nil, outcomeUnknownUser, err
	}
	cus := customerID(s.Customer)
	if cus == "" && s.Mode != stripe.CheckoutSessionModeSubscription {
		return nil, "", nil
	}
	return func(ctx context.Context) error {
		if cus != "" {
			email := s.CustomerEmail
			if s.CustomerDetails != nil && s.CustomerDetails.Email != "" {
				email = s.CustomerDetails.Email
			}
			linked, err := h.customers.LinkStripeCustomer(ctx, userID, email, cus)
			if err != nil {
				return err
			}
			if linked != cus {
				logging.From(ctx).Warn("user already has another Stripe customer", "userId", userID)
			}
		}
		if s.Mode != stripe.CheckoutSessionModeSubscription {
			return nil
		}
		var subID string
		if s.Subscription != nil {
			subID = s.Subscription.ID
		}
		return h.audit.WriteAudit(ctx, audit.Entry{Actor: audit.ActorStripe, Action: "subscription.checkout_completed",
			Target: "user:" + userID, RequestID: ev.ID,
			Details: map[string]string{"session": s.ID, "subscription": subID, "customer": cus}})
	}, "", nil
}

// subscription applies customer.subscription.created/updated/deleted with the ordering stamp. A
// live subscription other than the user's stored live one is not applied; it is recorded for the
// billing-cycle job, which adopts it once the stored one has ended or reports the duplicate.
func (h *hooks) subscription(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
	var sub stripe.Subscription
	if err := webhook.Decode(ev, &sub); err != nil {
		return nil, "", err
	}
	st, err := StateFromStripe(&sub, h.life.rules.Prices)
	if err != nil {
		if apperr.Is(err, apperr.Unprocessable) {
			logging.From(ctx).Error("subscription has no price of our tiers; check STRIPE_PRICE_* configuration",
				"subscription", sub.ID)
			return nil, outcomeNotOurs, nil
		}
		return nil, "", err
	}
	userID, err := h.users.ResolveStripeUser(ctx, customerID(sub.Customer), sub.ID, sub.Metadata["userId"])
	if err != nil || userID == "" {
		return nil, outcomeUnknownUser, err
	}
	return func(ctx context.Context) error {
		res, err := h.life.syncFromStripe(ctx, userID, st, Stamp{Created: ev.Created, ID: ev.ID}, audit.ActorStripe, ev.ID)
		if err != nil || !res.OtherLive {
			return err
		}
		logging.From(ctx).Warn("a second live subscription: not applied, recorded for the billing-cycle job",
			"userId", userID, "stored", res.Stored.StripeSubscriptionID, "other", st.SubscriptionID, "status", st.Status)
		return h.others.RecordOtherSubscription(ctx, userID, st.SubscriptionID, st.Status, time.Unix(ev.Created, 0).UTC())
	}, "", nil
}

// invoicePaid records the end of the paid period (what past_due access is measured against) and,
// for a renewal, tells the other areas (subscription.renewed) once that write has committed. A
// failed send fails the delivery; Stripe's retry rewrites the same end and resends the same fact.
func (h *hooks) invoicePaid(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
	var inv stripe.Invoice
	if err := webhook.Decode(ev, &inv); err != nil {
		return nil, "", err
	}
	end := PaidPeriodEnd(&inv)
	if end.IsZero() {
		return nil, "", nil // not a subscription invoice
	}
	var md, subID string
	if inv.SubscriptionDetails != nil {
		md = inv.SubscriptionDetails.Metadata["userId"]
	}
	if inv.Subscription != nil {
		subID = inv.Subscription.ID
	}
	userID, err := h.users.ResolveStripeUser(ctx, customerID(inv.Customer), subID, md, inv.Metadata["userId"])
	if err != nil || userID == "" {
		return nil, outcomeUnknownUser, err
	}
	renewal, renewed := RenewalFact(&inv, userID, h.life.rules.Prices)
	return func(ctx context.Context) error {
		if err := h.life.recordPaidThrough(ctx, userID, end, ev.ID); err != nil || !renewed {
			return err
		}
		return h.facts.Send(ctx, manifest.FactsQueue, facts.SubscriptionRenewed, renewal.DedupeID(), renewal)
	}, "", nil
}

// PaidPeriodEnd is the latest service-period end among the invoice's subscription lines (zero for an
// invoice that is not for a subscription).
func PaidPeriodEnd(inv *stripe.Invoice) time.Time {
	if inv.Subscription == nil || inv.Lines == nil {
		return time.Time{}
	}
	var end int64
	for _, l := range inv.Lines.Data {
		if l != nil && l.Period != nil && l.Period.End > end {
			end = l.Period.End
		}
	}
	if end == 0 {
		return time.Time{}
	}
	return time.Unix(end, 0).UTC()
}
