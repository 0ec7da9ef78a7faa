package payments

import (
	"context"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
	"github.com/liberation/monetization/shared/webhook"
)

// Payments' wiring (decision 0074) and its hooks into the frames. The generated New<Name>
// (functions_gen.go) hands the function's runtime to its wire<Name>, beside the handler: each
// builds only what its function uses (repoOf, refunderOf, blob.From — a client the function does
// not declare is an init error naming the manifest field) and hands the handler only the
// interfaces it needs.

// newWiring: payments builds per function, from the runtime, only what that function uses.
func newWiring(rt *platform.Runtime) (*platform.Runtime, error) { return rt, nil }

func repoOf(rt *platform.Runtime) Repo { return Repo{S: store.Open(rt)} }

// refunderOf wires the Refunder of a function that calls Stripe and sends to the receipts queue.
func refunderOf(rt *platform.Runtime) (*Refunder, error) {
	q, err := queue.From(rt)
	if err != nil {
		return nil, err
	}
	return &Refunder{Ledger: repoOf(rt), Stripe: stripeRefunds{c: stripeapi.Open(rt)}, Queue: q, Clock: rt.Clock,
		Emit: func(ctx context.Context, name string, v int64) { metric.Emit(ctx, rt.Log, rt.Fn.Name, name, v) }}, nil
}

// Outcome payments reports for an event it cannot tie to a user.
const outcomeUnknownUser = "unknown user"

// MetaRecordedBy is the Checkout Session metadata naming the area that records a paid session
// (through CheckoutRecorder and CheckoutPaidWith); payments records the sessions without it.
const MetaRecordedBy = "recordedBy"

// CheckoutRecorder is payments' recorder of paid Checkout Sessions for an area that sells through
// Checkout and records its items in the payment's transaction. The function must send to the
// receipts queue (the receipt goes out like any payment's).
func CheckoutRecorder(rt *platform.Runtime) (*Recorder, error) {
	refunds, err := refunderOf(rt)
	if err != nil {
		return nil, err
	}
	return &Recorder{Repo: repoOf(rt), Queue: refunds.Queue, Clock: rt.Clock, AppURL: rt.Config.AppURL,
		Reconcile: refunds.ReconcileUnmatched}, nil
}

// SourceOf is the Source of a Stripe event (its id and creation time).
func SourceOf(ev *stripe.Event) Source { return sourceOf(ev) }

// StripeWebhookHooks registers payments' Stripe events with the webhook: paid and failed invoices,
// paid one-off Checkout Sessions, refunds (and refunds that later fail) and disputes.
func StripeWebhookHooks(rt *platform.Runtime, r *webhook.Router) error {
	refunds, err := refunderOf(rt)
	if err != nil {
		return err
	}
	repo := repoOf(rt)
	rec := &Recorder{Repo: repo, Queue: refunds.Queue, Clock: rt.Clock, AppURL: rt.Config.AppURL, Reconcile: refunds.ReconcileUnmatched}
	disputes := &DisputeBook{Ledger: repo, Clock: rt.Clock}
	registerHooks(r, rec, refunds, disputes)
	return nil
}

func registerHooks(r *webhook.Router, rec *Recorder, refunds *Refunder, disputes *DisputeBook) {
	r.On(stripe.EventTypeInvoicePaid, invoiceHook(rec, rec.InvoicePaid))
	r.On(stripe.EventTypeInvoicePaymentFailed, invoiceHook(rec, rec.InvoicePaymentFailed))
	checkout := func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		var s stripe.CheckoutSession
		if err := webhook.Decode(ev, &s); err != nil {
			return nil, "", err
		}
		if s.Mode != stripe.CheckoutSessionModePayment {
			return nil, "", nil
		}
		if by := s.Metadata[MetaRecordedBy]; by != "" && by != "payments" {
			return nil, "", nil // another area records it with its own items (CheckoutPaidWith)
		}
		userID, err := rec.Repo.ResolveStripeUser(ctx, customerID(s.Customer), "", s.Metadata["userId"], s.ClientReferenceID)
		if err != nil || userID == "" {
			return nil, outcomeUnknownUser, err
		}
		return func(ctx context.Context) error { return rec.CheckoutPaid(ctx, userID, &s, sourceOf(ev)) }, "", nil
	}
	r.On(stripe.EventTypeCheckoutSessionCompleted, checkout)
	r.On(stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, checkout)

	r.On(stripe.EventTypeChargeRefunded, func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		var ch stripe.Charge
		if err := webhook.Decode(ev, &ch); err != nil {
			return nil, "", err
		}
		ref := ChargeRef{ChargeID: ch.ID, AmountRefundedCents: ch.AmountRefunded, Currency: string(ch.Currency)}
		if ch.PaymentIntent != nil {
			ref.PaymentIntentID = ch.PaymentIntent.ID
		}
		return refundWork(refunds, ref, ev)
	})
	r.On(stripe.EventTypeChargeRefundUpdated, func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		var rf stripe.Refund
		if err := webhook.Decode(ev, &rf); err != nil {
			return nil, "", err
		}
		ref := ChargeRef{Currency: string(rf.Currency)}
		if rf.Charge != nil {
			ref.ChargeID = rf.Charge.ID
		}
		if rf.PaymentIntent != nil {
			ref.PaymentIntentID = rf.PaymentIntent.ID
		}
		return refundWork(refunds, ref, ev)
	})

	dispute := func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		var dp stripe.Dispute
		if err := webhook.Decode(ev, &dp); err != nil {
			return nil, "", err
		}
		return func(ctx context.Context) error { return disputes.Apply(ctx, &dp, ev.Type, sourceOf(ev)) }, "", nil
	}
	for _, t := range []stripe.EventType{stripe.EventTypeChargeDisputeCreated, stripe.EventTypeChargeDisputeUpdated,
		stripe.EventTypeChargeDisputeClosed, stripe.EventTypeChargeDisputeFundsWithdrawn, stripe.EventTypeChargeDisputeFundsReinstated} {
		r.On(t, dispute)
	}
}

func refundWork(refunds *Refunder, ref ChargeRef, ev *stripe.Event) (webhook.Work, string, error) {
	if ref.ChargeID == "" && ref.PaymentIntentID == "" {
		return nil, "", apperr.New(apperr.Invalid, "the refund names no charge")
	}
	return func(ctx context.Context) error { return refunds.ChargeRefunded(ctx, ref, sourceOf(ev)) }, "", nil
}

func invoiceHook(rec *Recorder, apply func(context.Context, string, *stripe.Invoice, Source) error) webhook.Hook {
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
		userID, err := rec.Repo.ResolveStripeUser(ctx, customerID(inv.Customer), subID, md, inv.Metadata["userId"])
		if err != nil || userID == "" {
			return nil, outcomeUnknownUser, err
		}
		return func(ctx context.Context) error { return apply(ctx, userID, &inv, sourceOf(ev)) }, "", nil
	}
}

func sourceOf(ev *stripe.Event) Source {
	s := Source{EventID: ev.ID}
	if ev.Created > 0 {
		s.Created = unixUTC(ev.Created)
	}
	return s
}

func customerID(c *stripe.Customer) string {
	if c == nil {
		return ""
	}
	return c.ID
}

// NewMailer builds the receipts-queue consumer's mailer (the function must declare Bucket and
// Email) with render drawing the PDFs; payments/receiptsender wires it to send-receipts.
func NewMailer(rt *platform.Runtime, render Renderer) (*Mailer, error) {
	docs, err := blob.From(rt)
	if err != nil {
		return nil, err
	}
	sender, err := mail.From(rt)
	if err != nil {
		return nil, err
	}
	s := store.Open(rt)
	return &Mailer{Source: Repo{S: s}, Claims: s, Docs: docs, Mail: sender, From: rt.Config.MailFrom,
		Brands: licenseBrands{s}, Render: render}, nil
}

// MessageTypes are the receipts-queue messages the mailer handles.
var MessageTypes = []string{MsgReceipt, MsgRefundReceipt, MsgDunning}
