package marketplace

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/webhook"
)

// Reasons the marketplace reports for an event that changes nothing for it.
const (
	reasonNotOurAccount  = "not an instructor account"
	reasonNotOurTransfer = "not a payout transfer"
)

// StripeWebhookHooks registers the marketplace's Stripe events with the webhook: paid course
// Checkout Sessions (the sale), refunds and disputes of course sales (their shares, the buyer's
// access), transfer reversals (payouts) and account.updated (instructors' payouts enabled).
func StripeWebhookHooks(rt *platform.Runtime, r *webhook.Router) error {
	d, err := NewDeps(rt)
	if err != nil {
		return err
	}
	rec, err := payments.CheckoutRecorder(rt)
	if err != nil {
		return err
	}
	registerHooks(r, d, rec)
	return nil
}

// registerHooks registers the marketplace's events on d and payments' recorder of paid Checkout
// Sessions (what unit tests call with the fakes).
func registerHooks(r *webhook.Router, d *Deps, rec checkoutRecorder) {
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
		// the enrolment and the instructor's ledger entry (docs/decisions/0062). Then the sale is
		// brought in line with Stripe, refunded if it is a second payment, and announced — also
		// when an earlier delivery booked it.
		return func(ctx context.Context) error {
			err := rec.CheckoutPaidWith(ctx, p.BuyerID, &s, payments.SourceOf(ev),
				func(ctx context.Context, pay payments.Payment) ([]types.TransactWriteItem, error) {
					// payments' record has what was paid; the session has the coupon's discount.
					return saleItems(ctx, d, PurchaseOfPayment(pay).withDiscountOf(p), ev.ID)
				})
			if err != nil {
				return err
			}
			return settleBooking(ctx, d, s.ID, ev.ID)
		}, "", nil
	}
	r.On(stripe.EventTypeCheckoutSessionCompleted, checkout)
	r.On(stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, checkout)

	orPark := func(ctx context.Context, ev *stripe.Event, chargeID, pi string, apply func() error) error {
		return applyOrPark(ctx, d, string(ev.Type), chargeID, pi, ev.ID, apply)
	}
	r.On(stripe.EventTypeChargeRefunded, func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		var ch stripe.Charge
		if err := webhook.Decode(ev, &ch); err != nil {
			return nil, "", err
		}
		pi := idOf(ch.PaymentIntent)
		return func(ctx context.Context) error {
			return orPark(ctx, ev, ch.ID, pi, func() error { return ApplyChargeRefunds(ctx, d, ch.ID, pi, ch.AmountRefunded, ev.ID) })
		}, "", nil
	})
	refundEvent := func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		var rf stripe.Refund
		if err := webhook.Decode(ev, &rf); err != nil {
			return nil, "", err
		}
		chargeID, pi := "", idOf(rf.PaymentIntent)
		if rf.Charge != nil {
			chargeID = rf.Charge.ID
		}
		return func(ctx context.Context) error {
			return orPark(ctx, ev, chargeID, pi, func() error { return ApplyChargeRefunds(ctx, d, chargeID, pi, 0, ev.ID) })
		}, "", nil
	}
	r.On(stripe.EventTypeChargeRefundUpdated, refundEvent)
	r.On(stripe.EventTypeRefundUpdated, refundEvent)
	dispute := func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		var dp stripe.Dispute
		if err := webhook.Decode(ev, &dp); err != nil {
			return nil, "", err
		}
		chargeID, pi := "", idOf(dp.PaymentIntent)
		if dp.Charge != nil {
			chargeID = dp.Charge.ID
		}
		sd := StripeDispute{ID: dp.ID, Status: string(dp.Status), AmountCents: dp.Amount}
		return func(ctx context.Context) error {
			return orPark(ctx, ev, chargeID, pi, func() error { return ApplyDispute(ctx, d, sd, chargeID, pi, ev.ID) })
		}, "", nil
	}
	for _, t := range []stripe.EventType{stripe.EventTypeChargeDisputeCreated, stripe.EventTypeChargeDisputeUpdated,
		stripe.EventTypeChargeDisputeClosed} {
		r.On(t, dispute)
	}
	// account.updated comes from the Connect endpoint, from the instructor's connected account: the
	// frame hands it over only for an account knownAccount knows (docs/decisions/0077).
	r.ConnectAccounts(knownAccount(d))
	r.OnConnect(stripe.EventTypeAccountUpdated, func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		var a stripe.Account
		if err := webhook.Decode(ev, &a); err != nil {
			return nil, "", err
		}
		if a.ID == "" || a.Metadata["userId"] == "" {
			return nil, reasonNotOurAccount, nil
		}
		return func(ctx context.Context) error { return ApplyAccountUpdated(ctx, d, &a, ev.Created, ev.ID) }, "", nil
	})
	r.On(stripe.EventTypeTransferReversed, func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		var tr stripe.Transfer
		if err := webhook.Decode(ev, &tr); err != nil {
			return nil, "", err
		}
		rev, ok := TransferReversalOf(&tr)
		if !ok {
			return nil, reasonNotOurTransfer, nil
		}
		return func(ctx context.Context) error { return ApplyTransferReversed(ctx, d, rev, ev.ID) }, "", nil
	})
}

// knownAccount is the marketplace's port to the webhook frame: a connected account is known when it
// is the account stored on the profile of the instructor the event's object names (metadata.userId,
// which connect-instructor sets when it creates the account; an account.updated's object is the
// account itself). An object that names no instructor is not known; a Connect type whose objects
// carry no userId would need an account → instructor index before it is registered.
func knownAccount(d *Deps) webhook.KnownAccount {
	return func(ctx context.Context, accountID string, ev *stripe.Event) (bool, error) {
		var obj struct {
			Metadata map[string]string `json:"metadata"`
		}
		if ev.Data == nil || json.Unmarshal(ev.Data.Raw, &obj) != nil || obj.Metadata["userId"] == "" {
			return false, nil
		}
		prof, err := d.Books.Instructor(ctx, obj.Metadata["userId"])
		if err != nil {
			return false, err
		}
		return prof.ConnectAccountID != "" && prof.ConnectAccountID == accountID, nil
	}
}

// applyOrPark applies a refund or dispute event; one about a charge with no sale booked is parked,
// never dropped: booking the sale reads Stripe's refunds and disputes of the charge (SyncSale).
func applyOrPark(ctx context.Context, d *Deps, evType, chargeID, pi, eventID string, apply func() error) error {
	err := apply()
	if apperr.Is(err, apperr.NotFound) {
		return ParkCharge(ctx, d, evType, chargeID, pi, eventID)
	}
	return err
}

func idOf(pi *stripe.PaymentIntent) string {
	if pi == nil {
		return ""
	}
	return pi.ID
}
