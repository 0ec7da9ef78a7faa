package marketplace

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/webhook"
)

// Reasons the marketplace reports for an event that changes nothing for it.
const (
	reasonNotCourseSale = "not a course sale"
	reasonNotOurAccount = "not an instructor account"
)

// StripeWebhookHooks registers the marketplace's Stripe events with the webhook: paid course
// Checkout Sessions (the sale), refunds and disputes of course sales (their shares), and
// account.updated (instructors' payouts enabled).
func StripeWebhookHooks(rt *platform.Runtime, r *webhook.Router) error {
	d, err := NewDeps(rt)
	if err != nil {
		return err
	}
	rec, err := payments.CheckoutRecorder(rt)
	if err != nil {
		return err
	}
	checkout := func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		var s stripe.CheckoutSession
		if err := webhook.Decode(ev, &s); err != nil {
			return nil, "", err
		}
		p, ok := PurchaseOf(&s, time.Unix(ev.Created, 0))
		if !ok {
			return nil, "", nil // a subscription, or another one-off purchase: not ours
		}
		// One transaction: payments' record of the payment (and its receipt e-mail) with the sale,
		// the enrolment and the instructor's ledger entry (docs/decisions/0062).
		// Then course.purchased, also when the sale was booked by an earlier delivery.
		return func(ctx context.Context) error {
			err := rec.CheckoutPaidWith(ctx, p.BuyerID, &s, payments.SourceOf(ev),
				func(ctx context.Context, pay store.Payment) ([]types.TransactWriteItem, error) {
					return SaleItemsForPayment(ctx, d, pay, ev.ID)
				})
			if err != nil {
				return err
			}
			return tellPurchase(ctx, d, s.ID)
		}, "", nil
	}
	r.On(stripe.EventTypeCheckoutSessionCompleted, checkout)
	r.On(stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, checkout)

	r.On(stripe.EventTypeChargeRefunded, func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		var ch stripe.Charge
		if err := webhook.Decode(ev, &ch); err != nil {
			return nil, "", err
		}
		pi := ""
		if ch.PaymentIntent != nil {
			pi = ch.PaymentIntent.ID
		}
		if ours, err := isCourseSale(ctx, d, ch.ID, pi); err != nil || !ours {
			return nil, reasonNotCourseSale, err
		}
		return func(ctx context.Context) error {
			return ApplyChargeRefunds(ctx, d, ch.ID, pi, ch.AmountRefunded, ev.ID)
		}, "", nil
	})
	r.On(stripe.EventTypeChargeRefundUpdated, func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		var rf stripe.Refund
		if err := webhook.Decode(ev, &rf); err != nil {
			return nil, "", err
		}
		chargeID, pi := "", ""
		if rf.Charge != nil {
			chargeID = rf.Charge.ID
		}
		if rf.PaymentIntent != nil {
			pi = rf.PaymentIntent.ID
		}
		if ours, err := isCourseSale(ctx, d, chargeID, pi); err != nil || !ours {
			return nil, reasonNotCourseSale, err
		}
		return func(ctx context.Context) error { return ApplyChargeRefunds(ctx, d, chargeID, pi, 0, ev.ID) }, "", nil
	})
	dispute := func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		var dp stripe.Dispute
		if err := webhook.Decode(ev, &dp); err != nil {
			return nil, "", err
		}
		chargeID, pi := "", ""
		if dp.Charge != nil {
			chargeID = dp.Charge.ID
		}
		if dp.PaymentIntent != nil {
			pi = dp.PaymentIntent.ID
		}
		if ours, err := isCourseSale(ctx, d, chargeID, pi); err != nil || !ours {
			return nil, reasonNotCourseSale, err
		}
		return func(ctx context.Context) error { return ApplyDispute(ctx, d, &dp, ev.ID) }, "", nil
	}
	for _, t := range []stripe.EventType{stripe.EventTypeChargeDisputeCreated, stripe.EventTypeChargeDisputeUpdated,
		stripe.EventTypeChargeDisputeClosed} {
		r.On(t, dispute)
	}
	r.On(stripe.EventTypeAccountUpdated, func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		var a stripe.Account
		if err := webhook.Decode(ev, &a); err != nil {
			return nil, "", err
		}
		if a.ID == "" || a.Metadata["userId"] == "" {
			return nil, reasonNotOurAccount, nil
		}
		return func(ctx context.Context) error { return ApplyAccountUpdated(ctx, d, &a, ev.Created, ev.ID) }, "", nil
	})
	return nil
}

// isCourseSale tells whether a charge is a recorded course sale. A charge whose payment payments has
// recorded for a course while the sale is missing is an error (Stripe retries the event): the sale
// is written in the same delivery as that payment, so it will be there.
func isCourseSale(ctx context.Context, d *Deps, chargeID, paymentIntentID string) (bool, error) {
	_, err := findSale(ctx, d, chargeID, paymentIntentID)
	if err == nil {
		return true, nil
	}
	if !apperr.Is(err, apperr.NotFound) {
		return false, err
	}
	var pay store.Payment
	if chargeID != "" {
		pay, err = d.Store.PaymentByCharge(ctx, chargeID)
	}
	if (chargeID == "" || apperr.Is(err, apperr.NotFound)) && paymentIntentID != "" {
		pay, err = d.Store.PaymentByLookup(ctx, store.PaymentIntentKey(paymentIntentID))
	}
	switch {
	case err == nil && pay.CourseID != "":
		return false, apperr.New(apperr.Unavailable, "the course sale of charge %s is not recorded yet", chargeID)
	case err != nil && !apperr.Is(err, apperr.NotFound):
		return false, err
	}
	return false, nil
}
