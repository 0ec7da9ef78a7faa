// Package payments records charges, refunds and disputes reported by Stripe, serves a user's
// payment history and receipts, refunds payments for admins, and renders and e-mails receipts.
package payments

// SCAFFOLD — the functions below are the contract the webhook (shared/webhook) calls. The payments
// engineer replaces this file with the real implementation (keep the signatures).

import (
	"context"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/platform"
)

// ApplyInvoicePaid records a successful subscription payment for userID (idempotent per invoice),
// counts it in the day's metrics, audits it, and queues the receipt e-mail (every call queues; the
// receipt consumer sends one e-mail per payment).
func ApplyInvoicePaid(ctx context.Context, d *platform.Deps, userID string, inv *stripe.Invoice, eventID string) error {
	return apperr.New(apperr.Internal, "not implemented")
}

// ApplyInvoicePaymentFailed counts a failed payment and queues a dunning e-mail (one per invoice attempt).
func ApplyInvoicePaymentFailed(ctx context.Context, d *platform.Deps, userID string, inv *stripe.Invoice, eventID string) error {
	return apperr.New(apperr.Internal, "not implemented")
}

// ApplyCheckoutPayment records a one-off purchase paid through Checkout (mode "payment").
func ApplyCheckoutPayment(ctx context.Context, d *platform.Deps, userID string, s *stripe.CheckoutSession, eventID string) error {
	return apperr.New(apperr.Internal, "not implemented")
}

// ApplyChargeRefunded syncs the charge's refunds (from our admin route or the Stripe Dashboard).
func ApplyChargeRefunded(ctx context.Context, d *platform.Deps, ch *stripe.Charge, eventID string) error {
	return apperr.New(apperr.Internal, "not implemented")
}

// ApplyDispute records a dispute opening or closing on a payment.
func ApplyDispute(ctx context.Context, d *platform.Deps, dp *stripe.Dispute, eventID string) error {
	return apperr.New(apperr.Internal, "not implemented")
}
