package payments

import (
	"context"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/webhook"
)

// Constructors of payments' functions: functions/<name>/main.go (generated) and the local gateway
// call New<Name>(runtime). Each builds only what its function uses.

func build(rt *platform.Runtime, h func(*Deps) httpapi.Lambda) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return h(d), nil
}

// NewListPayments builds GET /payments.
func NewListPayments(rt *platform.Runtime) (httpapi.Lambda, error) {
	return build(rt, func(d *Deps) httpapi.Lambda { return HandleListPayments(rt.Fn, d) })
}

// NewGetPayment builds GET /payments/{paymentId}.
func NewGetPayment(rt *platform.Runtime) (httpapi.Lambda, error) {
	return build(rt, func(d *Deps) httpapi.Lambda { return HandleGetPayment(rt.Fn, d) })
}

// NewGetReceipt builds GET /payments/{paymentId}/receipt.
func NewGetReceipt(rt *platform.Runtime) (httpapi.Lambda, error) {
	return build(rt, func(d *Deps) httpapi.Lambda { return HandleGetReceipt(rt.Fn, d) })
}

// NewCreateRefund builds POST /admin/refunds.
func NewCreateRefund(rt *platform.Runtime) (httpapi.Lambda, error) {
	return build(rt, func(d *Deps) httpapi.Lambda { return HandleCreateRefund(rt.Fn, d) })
}

// Outcome payments reports for an event it cannot tie to a user.
const outcomeUnknownUser = "unknown user"

// StripeWebhookHooks registers payments' Stripe events with the webhook: paid and failed invoices,
// paid one-off Checkout Sessions, refunds and disputes.
func StripeWebhookHooks(rt *platform.Runtime, r *webhook.Router) error {
	d, err := NewDeps(rt)
	if err != nil {
		return err
	}
	r.On(stripe.EventTypeInvoicePaid, invoiceHook(d, ApplyInvoicePaid))
	r.On(stripe.EventTypeInvoicePaymentFailed, invoiceHook(d, ApplyInvoicePaymentFailed))
	checkout := func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		var s stripe.CheckoutSession
		if err := webhook.Decode(ev, &s); err != nil {
			return nil, "", err
		}
		if s.Mode != stripe.CheckoutSessionModePayment {
			return nil, "", nil
		}
		userID, err := d.Store.ResolveStripeUser(ctx, customerID(s.Customer), "", s.Metadata["userId"], s.ClientReferenceID)
		if err != nil || userID == "" {
			return nil, outcomeUnknownUser, err
		}
		return func(ctx context.Context) error { return ApplyCheckoutPayment(ctx, d, userID, &s, ev.ID) }, "", nil
	}
	r.On(stripe.EventTypeCheckoutSessionCompleted, checkout)
	r.On(stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, checkout)
	r.On(stripe.EventTypeChargeRefunded, func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		var ch stripe.Charge
		if err := webhook.Decode(ev, &ch); err != nil {
			return nil, "", err
		}
		return func(ctx context.Context) error { return ApplyChargeRefunded(ctx, d, &ch, ev.ID) }, "", nil
	})
	dispute := func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		var dp stripe.Dispute
		if err := webhook.Decode(ev, &dp); err != nil {
			return nil, "", err
		}
		return func(ctx context.Context) error { return ApplyDispute(ctx, d, &dp, ev.ID) }, "", nil
	}
	r.On(stripe.EventTypeChargeDisputeCreated, dispute)
	r.On(stripe.EventTypeChargeDisputeClosed, dispute)
	return nil
}

func invoiceHook(d *Deps, apply func(context.Context, *Deps, string, *stripe.Invoice, string) error) webhook.Hook {
	return func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		var inv stripe.Invoice
		if err := webhook.Decode(ev, &inv); err != nil {
			return nil, "", err
		}
		var md, subID string
		if inv.SubscriptionDetails != nil {
			md = inv.SubscriptionDetails.Metadata["userId"]
		}
		if inv.Subscription != nil {
			subID = inv.Subscription.ID
		}
		userID, err := d.Store.ResolveStripeUser(ctx, customerID(inv.Customer), subID, md, inv.Metadata["userId"])
		if err != nil || userID == "" {
			return nil, outcomeUnknownUser, err
		}
		return func(ctx context.Context) error { return apply(ctx, d, userID, &inv, ev.ID) }, "", nil
	}
}

func customerID(c *stripe.Customer) string {
	if c == nil {
		return ""
	}
	return c.ID
}
