package webhook

import (
	"context"
	"encoding/json"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/logging"
)

// Event types the webhook applies. Anything else is acknowledged (200) and changes nothing.
const (
	evCheckoutCompleted    = "checkout.session.completed"
	evCheckoutAsyncPaid    = "checkout.session.async_payment_succeeded" // delayed methods (e.g. bank debits)
	evSubscriptionCreated  = "customer.subscription.created"
	evSubscriptionUpdated  = "customer.subscription.updated"
	evSubscriptionDeleted  = "customer.subscription.deleted"
	evInvoicePaid          = "invoice.paid"
	evInvoicePaymentFailed = "invoice.payment_failed"
	evChargeRefunded       = "charge.refunded"
	evDisputeCreated       = "charge.dispute.created"
	evDisputeClosed        = "charge.dispute.closed"
)

// Handled lists the event types the webhook applies (the endpoint's enabled_events).
var Handled = []string{
	evCheckoutCompleted, evCheckoutAsyncPaid, evSubscriptionCreated, evSubscriptionUpdated, evSubscriptionDeleted,
	evInvoicePaid, evInvoicePaymentFailed, evChargeRefunded, evDisputeCreated, evDisputeClosed,
}

// Outcomes reported in the response body (and logs).
const (
	outcomeApplied     = "applied"
	outcomeIgnored     = "ignored"      // a type we do not handle
	outcomeUnknownUser = "unknown user" // not tied to any of our users
	outcomeNotOurs     = "not ours"     // e.g. a subscription without a price of our tiers
)

func decodeObject(ev stripe.Event, v any) error {
	if ev.Data == nil || len(ev.Data.Raw) == 0 {
		return apperr.New(apperr.Invalid, "event has no object")
	}
	if err := json.Unmarshal(ev.Data.Raw, v); err != nil {
		return apperr.Wrap(err, apperr.Invalid, "event object does not parse")
	}
	return nil
}

// prepare parses the event's object and resolves its user with reads only. It returns nil work when
// the event changes nothing, with the outcome to report.
func (h *handler) prepare(ctx context.Context, ev stripe.Event) (work, string, error) {
	switch string(ev.Type) {
	case evCheckoutCompleted, evCheckoutAsyncPaid:
		var s stripe.CheckoutSession
		if err := decodeObject(ev, &s); err != nil {
			return nil, "", err
		}
		userID, err := h.resolveUser(ctx, customerID(s.Customer), s.Metadata["userId"], s.ClientReferenceID)
		if err != nil || userID == "" {
			return nil, outcomeUnknownUser, err
		}
		return func(ctx context.Context) error { return h.checkoutCompleted(ctx, userID, &s, ev.ID) }, outcomeApplied, nil

	case evSubscriptionCreated, evSubscriptionUpdated, evSubscriptionDeleted:
		var sub stripe.Subscription
		if err := decodeObject(ev, &sub); err != nil {
			return nil, "", err
		}
		if _, err := billing.StateFromStripe(&sub, h.prices()); err != nil {
			if apperr.Is(err, apperr.Unprocessable) {
				logging.From(ctx).Error("subscription has no price of our tiers; check STRIPE_PRICE_* configuration",
					"subscription", sub.ID)
				return nil, outcomeNotOurs, nil
			}
			return nil, "", err
		}
		userID, err := h.resolveUser(ctx, customerID(sub.Customer), sub.Metadata["userId"])
		if err == nil && userID == "" {
			userID, err = h.userBySubscription(ctx, sub.ID)
		}
		if err != nil || userID == "" {
			return nil, outcomeUnknownUser, err
		}
		return func(ctx context.Context) error {
			_, err := billing.SyncFromStripe(ctx, h.d, userID, &sub, billing.Stamp{Created: ev.Created, ID: ev.ID},
				audit.ActorStripe, ev.ID)
			return err
		}, outcomeApplied, nil

	case evInvoicePaid, evInvoicePaymentFailed:
		var inv stripe.Invoice
		if err := decodeObject(ev, &inv); err != nil {
			return nil, "", err
		}
		var md string
		if inv.SubscriptionDetails != nil {
			md = inv.SubscriptionDetails.Metadata["userId"]
		}
		userID, err := h.resolveUser(ctx, customerID(inv.Customer), md, inv.Metadata["userId"])
		if err == nil && userID == "" && inv.Subscription != nil {
			userID, err = h.userBySubscription(ctx, inv.Subscription.ID)
		}
		if err != nil || userID == "" {
			return nil, outcomeUnknownUser, err
		}
		if string(ev.Type) == evInvoicePaymentFailed {
			return func(ctx context.Context) error {
				return h.p.InvoicePaymentFailed(ctx, h.d, userID, &inv, ev.ID)
			}, outcomeApplied, nil
		}
		return func(ctx context.Context) error {
			if end := paidPeriodEnd(&inv); !end.IsZero() {
				if err := billing.RecordPaidThrough(ctx, h.d, userID, end, ev.ID); err != nil {
					return err
				}
			}
			return h.p.InvoicePaid(ctx, h.d, userID, &inv, ev.ID)
		}, outcomeApplied, nil

	case evChargeRefunded:
		var ch stripe.Charge
		if err := decodeObject(ev, &ch); err != nil {
			return nil, "", err
		}
		return func(ctx context.Context) error { return h.p.ChargeRefunded(ctx, h.d, &ch, ev.ID) }, outcomeApplied, nil

	case evDisputeCreated, evDisputeClosed:
		var dp stripe.Dispute
		if err := decodeObject(ev, &dp); err != nil {
			return nil, "", err
		}
		return func(ctx context.Context) error { return h.p.Dispute(ctx, h.d, &dp, ev.ID) }, outcomeApplied, nil
	}
	return nil, outcomeIgnored, nil
}

func (h *handler) prices() billing.Prices {
	return billing.Prices{Pro: h.d.Config.PricePro, Enterprise: h.d.Config.PriceEnterprise}
}

func customerID(c *stripe.Customer) string {
	if c == nil {
		return ""
	}
	return c.ID
}

// resolveUser returns the first non-empty candidate id (metadata.userId, client_reference_id), else
// the user linked to the Stripe customer; "" when none is known.
func (h *handler) resolveUser(ctx context.Context, customer string, candidates ...string) (string, error) {
	for _, c := range candidates {
		if c != "" {
			return c, nil
		}
	}
	if customer == "" {
		return "", nil
	}
	id, err := h.d.Store.UserIDByStripeCustomer(ctx, customer)
	if apperr.Is(err, apperr.NotFound) {
		return "", nil
	}
	return id, err
}

func (h *handler) userBySubscription(ctx context.Context, subID string) (string, error) {
	if subID == "" {
		return "", nil
	}
	sub, err := h.d.Store.SubscriptionByStripeID(ctx, subID)
	if apperr.Is(err, apperr.NotFound) {
		return "", nil
	}
	return sub.UserID, err
}

// paidPeriodEnd is the latest service-period end among the invoice's subscription lines (zero for an
// invoice that is not for a subscription).
func paidPeriodEnd(inv *stripe.Invoice) time.Time {
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

// checkoutCompleted links the Stripe customer to the user (so later events without metadata resolve)
// and, for a one-off purchase, records the payment. A subscription's state arrives with its own
// customer.subscription.* events, which Stripe always sends.
func (h *handler) checkoutCompleted(ctx context.Context, userID string, s *stripe.CheckoutSession, eventID string) error {
	if cus := customerID(s.Customer); cus != "" {
		email := s.CustomerEmail
		if s.CustomerDetails != nil && s.CustomerDetails.Email != "" {
			email = s.CustomerDetails.Email
		}
		linked, err := h.d.Store.LinkStripeCustomer(ctx, userID, email, cus)
		if err != nil {
			return err
		}
		if linked != cus {
			logging.From(ctx).Warn("user already has another Stripe customer", "userId", userID)
		}
	}
	if s.Mode == stripe.CheckoutSessionModePayment {
		return h.p.CheckoutPayment(ctx, h.d, userID, s, eventID)
	}
	if s.Mode != stripe.CheckoutSessionModeSubscription {
		return nil
	}
	var subID string
	if s.Subscription != nil {
		subID = s.Subscription.ID
	}
	return audit.Write(ctx, h.d.Store, audit.Entry{Actor: audit.ActorStripe, Action: "subscription.checkout_completed",
		Target: "user:" + userID, RequestID: eventID,
		Details: map[string]string{"session": s.ID, "subscription": subID, "customer": customerID(s.Customer)}})
}
