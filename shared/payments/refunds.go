package payments

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// Errors the webhook may branch on. Both are wrapped in apperr.Unavailable: the event should be
// answered with a 5xx so that Stripe delivers it again later.
var (
	// ErrPaymentNotRecorded: the charge's payment is not in the table (yet) — its invoice.paid or
	// checkout.session.completed has not been applied, or the charge is not one of ours.
	ErrPaymentNotRecorded = errors.New("payment not recorded")
	// ErrRefundInFlight: Stripe reports refunded cents we cannot attribute while one of our own
	// refunds is between its Stripe call and its bookkeeping.
	ErrRefundInFlight = errors.New("refund in flight")
)

// Refund reasons an admin may give (Stripe's own set).
var refundReasons = map[string]bool{"duplicate": true, "fraudulent": true, "requested_by_customer": true}

func countsAsRefunded(status string) bool {
	return status == store.RefundSucceeded || status == store.RefundPending || status == "requires_action"
}

// findPayment locates the payment of a Stripe charge: by charge id (GSI2), else by PaymentIntent.
func findPayment(ctx context.Context, d *Deps, chargeID, paymentIntentID string) (store.Payment, error) {
	p, err := d.Store.PaymentByCharge(ctx, chargeID)
	if err == nil || !apperr.Is(err, apperr.NotFound) {
		return p, err
	}
	if paymentIntentID != "" {
		p, err = d.Store.PaymentByLookup(ctx, store.PaymentIntentKey(paymentIntentID))
		if err == nil || !apperr.Is(err, apperr.NotFound) {
			return p, err
		}
	}
	return store.Payment{}, apperr.Wrap(ErrPaymentNotRecorded, apperr.Unavailable,
		"the payment of charge %s is not recorded yet", chargeID)
}

// ApplyChargeRefunded syncs the charge's refunds (from our admin route or the Stripe Dashboard):
// one Refund item per Stripe refund id, the payment's refundedCents raised to what Stripe reports
// (never lowered), the refunded-cents counter moved by exactly the increase, an audit record, and a
// refund notice queued per refund. Refunds already recorded by the admin route are not counted again.
//
// In API version 2023-10-16 a charge in an event does not include its refunds list; the increase
// in amount_refunded is then recorded as one "sync_<charge>_<total>" refund (deterministic, so a
// redelivery converges). While one of our refunds is mid-flight that increase could be it, so the
// event is refused with ErrRefundInFlight and Stripe redelivers it after our bookkeeping is done.
func ApplyChargeRefunded(ctx context.Context, d *Deps, ch *stripe.Charge, eventID string) error {
	if ch == nil || ch.ID == "" {
		return apperr.New(apperr.Invalid, "charge is required")
	}
	piID := ""
	if ch.PaymentIntent != nil {
		piID = ch.PaymentIntent.ID
	}
	found, err := findPayment(ctx, d, ch.ID, piID)
	if err != nil {
		return err
	}
	var notify []string
	err = retryConflicts(ctx, "sync refunds", func() error {
		p, err := d.Store.GetPayment(ctx, found.UserID, found.ID)
		if err != nil {
			return err
		}
		existing, err := d.Store.ListRefunds(ctx, p.UserID, p.ID)
		if err != nil {
			return err
		}
		known := map[string]bool{}
		notify = notify[:0]
		for _, r := range existing {
			known[r.ID] = true
			if countsAsRefunded(r.Status) {
				notify = append(notify, r.ID)
			}
		}
		now := d.Clock.Now()
		before := p.RefundedCents
		changed := false
		if p.ChargeID == "" {
			p.ChargeID, changed = ch.ID, true
		}
		if p.PaymentMethod == "" && methodSummary(ch) != "" {
			p.PaymentMethod, changed = methodSummary(ch), true
		}
		var fresh []store.Refund
		add := func(r store.Refund) {
			r.PaymentID, r.UserID, r.ChargeID, r.CreatedAt = p.ID, p.UserID, ch.ID, now
			if r.Currency == "" {
				r.Currency = p.Currency
			}
			r.SetKeys()
			fresh = append(fresh, r)
			known[r.ID] = true
			if countsAsRefunded(r.Status) {
				p.RefundedCents += r.AmountCents
				notify = append(notify, r.ID)
			}
		}
		if ch.Refunds != nil {
			for _, r := range ch.Refunds.Data {
				if r == nil || r.ID == "" {
					continue
				}
				op := r.Metadata["operationId"]
				if amt, ok := p.PendingRefunds[op]; ok && op != "" {
					// Our route's refund: its bookkeeping happens here if the route never finished.
					delete(p.PendingRefunds, op)
					p.PendingRefundCents -= amt
					changed = true
				}
				if known[r.ID] {
					continue
				}
				src := store.RefundSourceStripe
				if op != "" {
					src = store.RefundSourceAdmin
				}
				add(store.Refund{ID: r.ID, AmountCents: r.Amount, Currency: strings.ToLower(string(r.Currency)),
					Status: string(r.Status), Reason: string(r.Reason), Source: src,
					RequestedBy: r.Metadata["requestedBy"], OperationID: op})
			}
		}
		if diff := ch.AmountRefunded - p.RefundedCents; diff > 0 {
			if p.PendingRefundCents > 0 {
				return apperr.Wrap(ErrRefundInFlight, apperr.Unavailable,
					"charge %s reports refunds while one of ours is being recorded", ch.ID)
			}
			id := "sync_" + ch.ID + "_" + strconv.FormatInt(ch.AmountRefunded, 10)
			if !known[id] {
				add(store.Refund{ID: id, AmountCents: diff, Status: store.RefundSucceeded, Source: store.RefundSourceSync})
			}
		}
		if len(fresh) == 0 && !changed {
			return nil
		}
		if p.RefundedCents > p.AmountCents {
			logging.From(ctx).Warn("refunds exceed the payment amount", "paymentId", p.ID,
				"refundedCents", p.RefundedCents, "amountCents", p.AmountCents)
		}
		p.SettleStatus()
		payItem, err := store.PutPaymentItem(&p)
		if err != nil {
			return err
		}
		items := []types.TransactWriteItem{payItem}
		ids := make([]string, 0, len(fresh))
		for _, r := range fresh {
			it, err := store.PutNewItem(r)
			if err != nil {
				return err
			}
			items = append(items, it)
			ids = append(ids, r.ID)
		}
		delta := p.RefundedCents - before
		items = store.Append(items, store.AddDayCounters(now, map[string]int64{store.CtrRefundedCents: delta}))
		au, err := audit.Item(audit.Entry{Actor: audit.ActorStripe, Action: "refund.sync", Target: "payment:" + p.ID,
			RequestID: eventID, Details: map[string]string{"userId": p.UserID, "chargeId": ch.ID,
				"refundIds": strings.Join(ids, ","), "refundedCents": strconv.FormatInt(p.RefundedCents, 10),
				"deltaCents": strconv.FormatInt(delta, 10)}}, now)
		if err != nil {
			return err
		}
		return d.Store.Transact(ctx, append(items, au))
	})
	if err != nil {
		return err
	}
	for _, id := range notify {
		if err := enqueueReceipt(ctx, d, ReceiptJob{UserID: found.UserID, PaymentID: found.ID, RefundID: id}); err != nil {
			return err
		}
	}
	return nil
}

// ----- POST /admin/refunds -----

// CreateRefundRequest is the body of POST /admin/refunds.
type CreateRefundRequest struct {
	PaymentID   string `json:"paymentId"`
	AmountCents *int64 `json:"amountCents,omitempty"` // omitted: refund everything still refundable
	Reason      string `json:"reason"`
}

// Validate checks the request's shape; amounts against the payment are checked later (422).
func (r *CreateRefundRequest) Validate() error {
	if !ValidPaymentID(r.PaymentID) {
		return apperr.New(apperr.Invalid, "paymentId is not a valid payment id")
	}
	if r.AmountCents != nil && *r.AmountCents < 1 {
		return apperr.New(apperr.Invalid, "amountCents must be a positive whole number of cents")
	}
	if !refundReasons[r.Reason] {
		return apperr.New(apperr.Invalid, "reason must be one of duplicate, fraudulent, requested_by_customer")
	}
	return nil
}

// RefundView is a refund as the API shows it.
type RefundView struct {
	ID          string `json:"id"`
	PaymentID   string `json:"paymentId"`
	AmountCents int64  `json:"amountCents"`
	Currency    string `json:"currency"`
	Status      string `json:"status"`
	Reason      string `json:"reason,omitempty"`
	CreatedAt   string `json:"createdAt"`
}

func refundView(r store.Refund) RefundView {
	return RefundView{ID: r.ID, PaymentID: r.PaymentID, AmountCents: r.AmountCents, Currency: r.Currency,
		Status: r.Status, Reason: r.Reason, CreatedAt: rfc3339(r.CreatedAt)}
}

// CreateRefundResponse is the 201 body.
type CreateRefundResponse struct {
	Refund  RefundView  `json:"refund"`
	Payment PaymentView `json:"payment"`
}

// HandleCreateRefund serves POST /admin/refunds (admin only; Idempotency-Key honoured).
//
// Two racing refunds cannot exceed the payment: the amount is first reserved on the payment item
// (a versioned write keeping refunded + pending ≤ amount), then refunded at Stripe with an
// idempotency key derived from our operation id, then moved from pending to refunded in one
// transaction with the Refund item (keyed by the Stripe refund id), counters and audit. A Stripe
// error releases the reservation.
func HandleCreateRefund(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.Idempotent(d.Store, fn.Name, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req CreateRefundRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		opID := operationID(fn.Name, r.Principal.UserID, r.Header(httpapi.IdempotencyHeader))
		res, err := createRefund(ctx, d, req, opID, r.Principal.UserID, r.ID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusCreated, res), nil
	}))
}

// operationID names one refund operation. With an Idempotency-Key it is derived from it, so a
// retry after a lost response reuses the same Stripe idempotency key and cannot refund twice.
func operationID(function, actor, idemKey string) string {
	if idemKey != "" {
		return "rop_" + idempotency.Hash([]byte(function), []byte(actor), []byte(idemKey))[:32]
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "rop_" + hex.EncodeToString(b)
}

func createRefund(ctx context.Context, d *Deps, req CreateRefundRequest, opID, actor, requestID string) (CreateRefundResponse, error) {
	log := logging.From(ctx)
	found, err := d.Store.PaymentByID(ctx, req.PaymentID)
	if apperr.Is(err, apperr.NotFound) {
		return CreateRefundResponse{}, apperr.New(apperr.NotFound, "payment not found")
	}
	if err != nil {
		return CreateRefundResponse{}, err
	}
	// 1. Reserve.
	var p store.Payment
	var amount int64
	err = retryConflicts(ctx, "reserve refund", func() error {
		var err error
		if p, err = d.Store.GetPayment(ctx, found.UserID, found.ID); err != nil {
			return err
		}
		if amt, ok := p.PendingRefunds[opID]; ok { // a retry of this very operation resumes it
			amount = amt
			return nil
		}
		if p.Disputed && !disputeClosed(p.DisputeStatus) {
			return apperr.New(apperr.Unprocessable, "the payment is disputed; it cannot be refunded while the dispute is open")
		}
		if p.ChargeID == "" && p.PaymentIntentID == "" {
			return apperr.New(apperr.Unprocessable, "the payment has no Stripe charge to refund")
		}
		remaining := p.RefundableCents()
		if remaining <= 0 {
			return apperr.New(apperr.Unprocessable, "nothing is left to refund on this payment")
		}
		amount = remaining
		if req.AmountCents != nil {
			amount = *req.AmountCents
		}
		if amount > remaining {
			return apperr.New(apperr.Unprocessable, "amountCents %d exceeds the refundable remainder of %d", amount, remaining)
		}
		if p.PendingRefunds == nil {
			p.PendingRefunds = map[string]int64{}
		}
		p.PendingRefunds[opID] = amount
		p.PendingRefundCents += amount
		it, err := store.PutPaymentItem(&p)
		if err != nil {
			return err
		}
		return d.Store.Transact(ctx, []types.TransactWriteItem{it})
	})
	if err != nil {
		return CreateRefundResponse{}, err
	}
	// 2. Refund at Stripe.
	rf, err := stripeRefund(ctx, d, p, amount, req.Reason, opID, actor)
	if err != nil {
		if rErr := releaseReservation(context.WithoutCancel(ctx), d, p.UserID, p.ID, opID); rErr != nil {
			log.Error("refund reservation not released", "paymentId", p.ID, "operationId", opID, "err", rErr.Error())
		}
		return CreateRefundResponse{}, err
	}
	// 3. Book it.
	var out CreateRefundResponse
	err = retryConflicts(ctx, "record refund", func() error {
		p, err := d.Store.GetPayment(ctx, found.UserID, found.ID)
		if err != nil {
			return err
		}
		now := d.Clock.Now()
		var ref store.Refund
		gErr := d.Store.GetConsistent(ctx, store.RefundKey(p.UserID, p.ID, rf.ID), &ref)
		exists := gErr == nil
		if gErr != nil && !apperr.Is(gErr, apperr.NotFound) {
			return gErr
		}
		before := p.RefundedCents
		if amt, ok := p.PendingRefunds[opID]; ok {
			delete(p.PendingRefunds, opID)
			p.PendingRefundCents -= amt
		}
		var items []types.TransactWriteItem
		if !exists { // else: the charge.refunded webhook got here first and counted it
			ref = store.Refund{ID: rf.ID, PaymentID: p.ID, UserID: p.UserID, AmountCents: rf.Amount,
				Currency: p.Currency, Status: string(rf.Status), Reason: req.Reason, Source: store.RefundSourceAdmin,
				RequestedBy: actor, OperationID: opID, ChargeID: p.ChargeID, CreatedAt: now}
			ref.SetKeys()
			if countsAsRefunded(ref.Status) {
				p.RefundedCents += ref.AmountCents
			}
			it, err := store.PutNewItem(ref)
			if err != nil {
				return err
			}
			items = append(items, it)
		}
		p.SettleStatus()
		payItem, err := store.PutPaymentItem(&p)
		if err != nil {
			return err
		}
		items = append([]types.TransactWriteItem{payItem}, items...)
		items = store.Append(items, store.AddDayCounters(now, map[string]int64{store.CtrRefundedCents: p.RefundedCents - before}))
		au, err := audit.Item(audit.Entry{Actor: actor, Action: "refund.create", Target: "payment:" + p.ID, RequestID: requestID,
			Details: map[string]string{"userId": p.UserID, "refundId": rf.ID, "amountCents": strconv.FormatInt(rf.Amount, 10),
				"reason": req.Reason, "operationId": opID, "status": string(rf.Status)}}, now)
		if err != nil {
			return err
		}
		if err := d.Store.Transact(ctx, append(items, au)); err != nil {
			return err
		}
		out = CreateRefundResponse{Refund: refundView(ref), Payment: paymentView(p)}
		return nil
	})
	if err != nil {
		// Stripe has refunded; the charge.refunded webhook will record it. The caller may retry with
		// the same Idempotency-Key: Stripe returns the same refund and the booking resumes.
		log.Error("refund made at Stripe but not recorded", "paymentId", found.ID, "refundId", rf.ID, "err", err.Error())
		return CreateRefundResponse{}, apperr.Wrap(err, apperr.Unavailable, "the refund was made but not yet recorded; retry with the same Idempotency-Key")
	}
	if err := enqueueReceipt(ctx, d, ReceiptJob{UserID: found.UserID, PaymentID: found.ID, RefundID: rf.ID}); err != nil {
		// The charge.refunded webhook queues the notice too.
		log.Warn("refund notice not queued", "refundId", rf.ID, "err", err.Error())
	}
	return out, nil
}

func stripeRefund(ctx context.Context, d *Deps, p store.Payment, amount int64, reason, opID, actor string) (*stripe.Refund, error) {
	sc, err := d.Stripe.API(ctx)
	if err != nil {
		return nil, err
	}
	params := &stripe.RefundParams{
		Amount: stripe.Int64(amount),
		Reason: stripe.String(reason),
		Metadata: map[string]string{
			"userId": p.UserID, "paymentId": p.ID, "requestedBy": actor, "operationId": opID,
		},
	}
	if p.ChargeID != "" {
		params.Charge = stripe.String(p.ChargeID)
	} else {
		params.PaymentIntent = stripe.String(p.PaymentIntentID)
	}
	params.Context = ctx
	params.SetIdempotencyKey("refund-" + opID)
	rf, err := sc.Refunds.New(params)
	if err != nil {
		var se *stripe.Error
		if errors.As(err, &se) && se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500 &&
			se.HTTPStatusCode != http.StatusTooManyRequests && se.HTTPStatusCode != http.StatusConflict {
			return nil, apperr.Wrap(err, apperr.Unprocessable, "Stripe refused the refund (%s)", refusal(se))
		}
		return nil, apperr.Wrap(err, apperr.Unavailable, "Stripe refund failed")
	}
	if rf == nil || rf.ID == "" {
		return nil, apperr.New(apperr.Unavailable, "Stripe returned no refund")
	}
	return rf, nil
}

func refusal(se *stripe.Error) string {
	if se.Code != "" {
		return string(se.Code)
	}
	if se.Type != "" {
		return string(se.Type)
	}
	return fmt.Sprintf("status %d", se.HTTPStatusCode)
}

func releaseReservation(ctx context.Context, d *Deps, userID, paymentID, opID string) error {
	return retryConflicts(ctx, "release refund reservation", func() error {
		p, err := d.Store.GetPayment(ctx, userID, paymentID)
		if err != nil {
			return err
		}
		amt, ok := p.PendingRefunds[opID]
		if !ok {
			return nil
		}
		delete(p.PendingRefunds, opID)
		p.PendingRefundCents -= amt
		it, err := store.PutPaymentItem(&p)
		if err != nil {
			return err
		}
		return d.Store.Transact(ctx, []types.TransactWriteItem{it})
	})
}
