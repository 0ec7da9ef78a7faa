package payments

import (
	"context"
	"strings"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

// ChargeRef names the charge a refund event is about.
type ChargeRef struct {
	ChargeID            string
	PaymentIntentID     string
	AmountRefundedCents int64 // what the event says (audit of unmatched charges only)
	Currency            string
}

// ChargeRefunded is the webhook's work for charge.refunded and charge.refund.updated. Events on
// API 2023-10-16 carry no list of the charge's refunds, so the list is fetched from Stripe and the
// books converge on it: new refunds are booked under their real ids, refunds that failed are taken
// back out, and reservations of ours are booked or (when stale and absent) released. A charge we
// never recorded a payment for is answered 200 and counted once (UnmatchedRefunds) rather than
// refused forever; if its payment is recorded later, Recorder reconciles it then.
func (f *Refunder) ChargeRefunded(ctx context.Context, ref ChargeRef, src Source) error {
	if ref.ChargeID == "" && ref.PaymentIntentID == "" {
		return apperr.New(apperr.Invalid, "the event names no charge")
	}
	found, err := f.Ledger.PaymentByStripe(ctx, ref.ChargeID, ref.PaymentIntentID)
	if apperr.Is(err, apperr.NotFound) {
		return f.unmatched(ctx, ref, src)
	}
	if err != nil {
		return err
	}
	_, err = f.Sync(ctx, found, ref.ChargeID, audit.ActorStripe, "refund.sync", src.EventID)
	return err
}

func (f *Refunder) unmatched(ctx context.Context, ref ChargeRef, src Source) error {
	now := f.Clock.Now()
	u := UnmatchedRefund{ChargeID: ref.ChargeID, PaymentIntentID: ref.PaymentIntentID,
		AmountRefundedCents: ref.AmountRefundedCents, Currency: strings.ToLower(ref.Currency), EventID: src.EventID, At: now}
	if u.ChargeID == "" {
		u.ChargeID = "pi:" + ref.PaymentIntentID
	}
	first, err := f.Ledger.RecordUnmatchedRefund(ctx, u, audit.Entry{Actor: audit.ActorStripe, Action: "refund.unmatched",
		Target: "charge:" + u.ChargeID, RequestID: src.EventID, Details: map[string]string{
			"paymentIntentId": ref.PaymentIntentID, "amountRefundedCents": itoa(ref.AmountRefundedCents)}})
	if err != nil {
		return err
	}
	if first {
		logging.From(ctx).Warn("refund for a charge we have no payment for", "chargeId", ref.ChargeID,
			"paymentIntentId", ref.PaymentIntentID, "amountRefundedCents", ref.AmountRefundedCents)
		f.emit(ctx, metric.UnmatchedRefunds, 1)
	}
	return nil
}

// ReconcileUnmatched books the refunds of a payment recorded after Stripe reported its charge
// refunded (the unmatched record names the charge). Idempotent: it converges on Stripe's list.
func (f *Refunder) ReconcileUnmatched(ctx context.Context, p Payment) error {
	if p.ChargeID == "" {
		return nil
	}
	if _, err := f.Ledger.UnmatchedRefund(ctx, p.ChargeID); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return nil
		}
		return err
	}
	_, err := f.Sync(ctx, p, p.ChargeID, audit.ActorStripe, "refund.sync", "reconcile-unmatched")
	return err
}

// Sync converges a payment's refunds with Stripe's complete list of its charge's refunds (by
// PaymentIntent while the charge is unknown) and queues the notice of every counted refund (the
// consumer sends one per refund).
func (f *Refunder) Sync(ctx context.Context, found Payment, chargeID, actor, action, requestID string) (converged, error) {
	if chargeID == "" {
		chargeID = found.ChargeID
	}
	pi := ""
	if chargeID == "" {
		pi = found.PaymentIntentID
	}
	listed, err := f.Stripe.ListRefunds(ctx, chargeID, pi)
	if err != nil {
		return converged{}, stripeapi.Error(err, "listing the charge's refunds")
	}
	res, err := f.apply(ctx, found, listed, true, chargeID, actor, action, requestID)
	if err != nil {
		return res, err
	}
	for _, id := range res.Counted {
		if err := enqueueReceipt(ctx, f.Queue, ReceiptJob{UserID: found.UserID, PaymentID: found.ID, RefundID: id}); err != nil {
			return res, err
		}
	}
	return res, nil
}

// apply converges the payment's books with listed, retrying on a lost race with a fresh read.
func (f *Refunder) apply(ctx context.Context, found Payment, listed []StripeRefund, complete bool,
	chargeID, actor, action, requestID string) (converged, error) {
	var res converged
	err := store.RetryOnConflict(ctx, "book refunds", func() error {
		st, err := f.load(ctx, found, listed)
		if err != nil {
			return err
		}
		if chargeID == "" {
			chargeID = st.P.ChargeID
		}
		res, err = converge(st, convergeInput{Listed: listed, Complete: complete, ChargeID: chargeID, Now: f.Clock.Now(),
			Window: f.window(), Actor: actor, Action: action, Request: requestID})
		if err != nil || res.Change == nil {
			return err
		}
		return f.Ledger.Apply(ctx, *res.Change)
	})
	if err == nil && res.Change != nil {
		logging.From(ctx).Info("refunds converged", "paymentId", found.ID, "booked", joinKeys(res.Booked),
			"released", strings.Join(res.Released, ","), "refundedCents", res.Change.Payment.RefundedCents)
	}
	return res, err
}

// load reads the payment, its refunds and the operations its reservations and listed name.
func (f *Refunder) load(ctx context.Context, found Payment, listed []StripeRefund) (ledgerState, error) {
	p, err := f.Ledger.GetPayment(ctx, found.UserID, found.ID)
	if err != nil {
		return ledgerState{}, err
	}
	known, err := f.Ledger.Refunds(ctx, p.UserID, p.ID)
	if err != nil {
		return ledgerState{}, err
	}
	st := ledgerState{P: p, Known: known, Ops: map[string]RefundOp{}}
	want := sortedKeys(p.PendingRefunds)
	for _, r := range listed {
		if r.OperationID != "" {
			want = append(want, r.OperationID)
		}
	}
	for _, id := range want {
		if _, done := st.Ops[id]; done {
			continue
		}
		op, err := f.Ledger.RefundOp(ctx, id)
		switch {
		case err == nil:
			st.Ops[id] = op
		case !apperr.Is(err, apperr.NotFound):
			return ledgerState{}, err
		}
	}
	return st, nil
}

func (f *Refunder) emit(ctx context.Context, name string, v int64) {
	if f.Emit != nil {
		f.Emit(ctx, name, v)
	}
}
