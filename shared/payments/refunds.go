package payments

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

// ResolutionWindow is how long a reservation may go unexplained by Stripe's list before it is
// released. The admin route's Stripe call ends within its function's timeout (seconds), so a refund
// Stripe has not listed after 15 minutes was never made.
const ResolutionWindow = 15 * time.Minute

// Refunder reserves, books and releases refunds: the admin route, the charge.refunded and
// charge.refund.updated webhook works and the resolve-refunds job all go through it
// (docs/decisions/0030).
type Refunder struct {
	Ledger RefundLedger
	Stripe RefundGateway
	Queue  queue.Sender
	Clock  clock.Clock
	Window time.Duration // ResolutionWindow unless a test says otherwise
	// Emit reports a metric data point (metric.Emit in production).
	Emit func(ctx context.Context, name string, value int64)
}

func (f *Refunder) window() time.Duration {
	if f.Window > 0 {
		return f.Window
	}
	return ResolutionWindow
}

// ErrOutcomeUnknown: Stripe's answer to a refund is not known (timeout, connection error, 5xx).
// The reservation stays until Stripe's own record resolves it (apperr.Unavailable, 503).
var ErrOutcomeUnknown = errors.New("refund outcome unknown")

// Create runs one refund operation (POST /admin/refunds): opID names it — the same for every retry
// of the admin's request — and the operation record makes it happen at most once, also after
// Stripe has forgotten its idempotency key:
//
//   - booked before: the booked refund is returned, nothing is called;
//   - pending (an earlier attempt's answer was lost): Stripe's list of the charge's refunds decides
//     first; only when it has no refund of the operation is Stripe asked again, with the same key;
//   - new, or released (Stripe refused, or never made it): the amount is reserved, then refunded.
//
// Only a definite refusal from Stripe releases a reservation; an ambiguous failure keeps it for the
// list to resolve (here, the webhook or the resolve-refunds job).
func (f *Refunder) Create(ctx context.Context, req CreateRefundRequest, opID, actor, requestID string) (CreateRefundResponse, error) {
	found, err := f.Ledger.PaymentByID(ctx, req.PaymentID)
	if apperr.Is(err, apperr.NotFound) {
		return CreateRefundResponse{}, apperr.New(apperr.NotFound, "payment not found")
	}
	if err != nil {
		return CreateRefundResponse{}, err
	}
	op, err := f.Ledger.RefundOp(ctx, opID)
	switch {
	case apperr.Is(err, apperr.NotFound):
	case err != nil:
		return CreateRefundResponse{}, err
	default:
		if err := sameRequest(op, req); err != nil {
			return CreateRefundResponse{}, err
		}
		switch op.Status {
		case RefundOpBooked:
			return f.bookedResponse(ctx, op)
		case RefundOpPending:
			return f.resume(ctx, found, op, requestID)
		}
	}
	op, err = f.reserve(ctx, found, req, opID, actor, requestID)
	if err != nil {
		return CreateRefundResponse{}, err
	}
	if op.Status == RefundOpBooked {
		return f.bookedResponse(ctx, op)
	}
	return f.refund(ctx, found, op, requestID)
}

// sameRequest refuses an operation id reused for another payment, amount or reason (the Idempotency
// -Key frame does the same within its 24 h; the operation record remembers longer).
func sameRequest(op RefundOp, req CreateRefundRequest) error {
	if op.PaymentID != req.PaymentID || req.Reason != op.Reason ||
		req.AmountCents != nil && *req.AmountCents != op.AmountCents {
		return apperr.New(apperr.Unprocessable, "this Idempotency-Key was already used for a different refund")
	}
	return nil
}

// resume continues a pending operation: Stripe's own record first, then (only without a refund of
// the operation there) the same request again.
func (f *Refunder) resume(ctx context.Context, found Payment, op RefundOp, requestID string) (CreateRefundResponse, error) {
	if _, err := f.Sync(ctx, found, "", audit.ActorStripe, "refund.resolve", requestID); err != nil {
		return CreateRefundResponse{}, apperr.Wrap(err, apperr.Unavailable,
			"the refund's earlier attempt is not resolved yet; retry with the same Idempotency-Key")
	}
	op, err := f.Ledger.RefundOp(ctx, op.ID)
	if err != nil {
		return CreateRefundResponse{}, err
	}
	switch op.Status {
	case RefundOpBooked:
		return f.bookedResponse(ctx, op)
	case RefundOpReleased: // Stripe never made it: try again under a new attempt
		req := CreateRefundRequest{PaymentID: op.PaymentID, AmountCents: &op.AmountCents, Reason: op.Reason}
		if op, err = f.reserve(ctx, found, req, op.ID, op.RequestedBy, requestID); err != nil {
			return CreateRefundResponse{}, err
		}
		if op.Status == RefundOpBooked {
			return f.bookedResponse(ctx, op)
		}
	}
	return f.refund(ctx, found, op, requestID)
}

// reserve puts the amount aside on the payment (refunded + reserved ≤ amount, under its version)
// and records the operation as pending, in one write.
func (f *Refunder) reserve(ctx context.Context, found Payment, req CreateRefundRequest, opID, actor, requestID string) (RefundOp, error) {
	var op RefundOp
	err := store.RetryOnConflict(ctx, "reserve refund", func() error {
		p, err := f.Ledger.GetPayment(ctx, found.UserID, found.ID)
		if err != nil {
			return err
		}
		prior, err := f.Ledger.RefundOp(ctx, opID)
		exists := err == nil
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return err
		}
		if exists && prior.Status != RefundOpReleased {
			op = prior // a concurrent attempt got here first
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
		amount := remaining
		if req.AmountCents != nil {
			amount = *req.AmountCents
		}
		if amount > remaining {
			return apperr.New(apperr.Unprocessable, "amountCents %d exceeds the refundable remainder of %d", amount, remaining)
		}
		now := f.Clock.Now()
		op = RefundOp{ID: opID, UserID: p.UserID, PaymentID: p.ID, AmountCents: amount, Reason: req.Reason,
			RequestedBy: actor, Status: RefundOpPending, Attempt: prior.Attempt + 1, ReservedAt: now}
		if p.PendingRefunds == nil {
			p.PendingRefunds = map[string]int64{}
		}
		p.PendingRefunds[opID] = amount
		p.PendingRefundCents += amount
		c := Change{Payment: p, At: now, Audit: audit.Entry{Actor: actor, Action: "refund.reserve", Target: "payment:" + p.ID,
			RequestID: requestID, Details: map[string]string{"userId": p.UserID, "operationId": opID,
				"amountCents": itoa(amount), "reason": req.Reason, "attempt": strconv.Itoa(op.Attempt)}}}
		if exists {
			c.Ops = []RefundOp{op}
		} else {
			c.NewOps = []RefundOp{op}
		}
		return f.Ledger.Apply(ctx, c)
	})
	return op, err
}

// stripeKey is the operation's idempotency key at Stripe. A second attempt (after Stripe refused
// or never made the first) gets its own key, so Stripe cannot replay the first attempt's answer.
func stripeKey(op RefundOp) string {
	if op.Attempt <= 1 {
		return stripeapi.Key("refund", op.ID)
	}
	return stripeapi.Key("refund", op.ID, "attempt"+strconv.Itoa(op.Attempt))
}

// refund asks Stripe for the operation's refund and books the answer.
func (f *Refunder) refund(ctx context.Context, found Payment, op RefundOp, requestID string) (CreateRefundResponse, error) {
	log := logging.From(ctx)
	order := RefundOrder{ChargeID: found.ChargeID, PaymentIntentID: found.PaymentIntentID, AmountCents: op.AmountCents,
		Reason: op.Reason, IdempotencyKey: stripeKey(op),
		Metadata: map[string]string{"userId": found.UserID, "paymentId": found.ID, "requestedBy": op.RequestedBy, "operationId": op.ID}}
	rf, err := f.Stripe.CreateRefund(ctx, order)
	if err == nil {
		return f.book(ctx, found, op, rf, requestID)
	}
	fail := stripeapi.Classify(err)
	if nothingHappened(fail) {
		log.Warn("Stripe refused the refund; releasing the reservation", "paymentId", found.ID, "operationId", op.ID,
			"status", fail.Status, "code", fail.Code)
		if rErr := f.release(context.WithoutCancel(ctx), found, op.ID, "refused by Stripe: "+fail.Code, requestID); rErr != nil {
			log.Error("refund reservation not released", "paymentId", found.ID, "operationId", op.ID, "err", rErr.Error())
		}
		return CreateRefundResponse{}, stripeapi.Error(err, "the refund")
	}
	// Stripe may have refunded. Its list decides; if it cannot tell yet, the reservation stays.
	log.Warn("refund outcome unknown; resolving from Stripe's list", "paymentId", found.ID, "operationId", op.ID,
		"status", fail.Status, "code", fail.Code, "err", err.Error())
	if _, sErr := f.Sync(ctx, found, "", audit.ActorStripe, "refund.resolve", requestID); sErr == nil {
		if op, gErr := f.Ledger.RefundOp(ctx, op.ID); gErr == nil && op.Status == RefundOpBooked {
			return f.bookedResponse(ctx, op)
		}
	}
	return CreateRefundResponse{}, apperr.Wrap(errors.Join(ErrOutcomeUnknown, err), apperr.Unavailable,
		"the payment provider did not confirm the refund; the amount stays reserved until its records resolve it — retry with the same Idempotency-Key")
}

// nothingHappened reports a Stripe failure after which no refund can exist: Stripe answered and
// refused (4xx), other than an idempotency error (the key is in use by another request, which may
// have refunded).
func nothingHappened(f *stripeapi.Failure) bool {
	switch f.Kind {
	case stripeapi.Definite, stripeapi.Declined, stripeapi.RateLimited:
		return f.Code != "idempotency_error"
	}
	return false
}

// book records Stripe's answer to the operation (the same bookkeeping as the webhook's), then
// queues the refund notice.
func (f *Refunder) book(ctx context.Context, found Payment, op RefundOp, rf StripeRefund, requestID string) (CreateRefundResponse, error) {
	// We sent these; stripe-go's answer carries them, but a stand-in may not.
	if rf.OperationID == "" {
		rf.OperationID = op.ID
	}
	if rf.RequestedBy == "" {
		rf.RequestedBy = op.RequestedBy
	}
	if rf.ChargeID == "" {
		rf.ChargeID = found.ChargeID
	}
	if _, err := f.apply(ctx, found, []StripeRefund{rf}, false, found.ChargeID, op.RequestedBy, "refund.create", requestID); err != nil {
		logging.From(ctx).Error("refund made at Stripe but not recorded", "paymentId", found.ID, "refundId", rf.ID, "err", err.Error())
		return CreateRefundResponse{}, apperr.Wrap(err, apperr.Unavailable,
			"the refund was made but not yet recorded; retry with the same Idempotency-Key")
	}
	op, err := f.Ledger.RefundOp(ctx, op.ID)
	if err != nil {
		return CreateRefundResponse{}, err
	}
	return f.bookedResponse(ctx, op)
}

// release frees an operation's reservation after a definite refusal.
func (f *Refunder) release(ctx context.Context, found Payment, opID, outcome, requestID string) error {
	return store.RetryOnConflict(ctx, "release refund reservation", func() error {
		p, err := f.Ledger.GetPayment(ctx, found.UserID, found.ID)
		if err != nil {
			return err
		}
		op, err := f.Ledger.RefundOp(ctx, opID)
		if err != nil {
			return err
		}
		amt, reserved := p.PendingRefunds[opID]
		if op.Status != RefundOpPending || !reserved {
			return nil
		}
		now := f.Clock.Now()
		p.PendingRefunds = copyMap(p.PendingRefunds)
		delete(p.PendingRefunds, opID)
		p.PendingRefundCents -= amt
		op.Status, op.Outcome, op.ResolvedAt = RefundOpReleased, outcome, timePtr(now)
		return f.Ledger.Apply(ctx, Change{Payment: p, Ops: []RefundOp{op}, At: now,
			Audit: audit.Entry{Actor: op.RequestedBy, Action: "refund.release", Target: "payment:" + p.ID, RequestID: requestID,
				Details: map[string]string{"userId": p.UserID, "operationId": opID, "amountCents": itoa(amt), "outcome": outcome}}})
	})
}

// bookedResponse answers for a booked operation from our books (a replay, however late).
func (f *Refunder) bookedResponse(ctx context.Context, op RefundOp) (CreateRefundResponse, error) {
	p, err := f.Ledger.GetPayment(ctx, op.UserID, op.PaymentID)
	if err != nil {
		return CreateRefundResponse{}, err
	}
	refunds, err := f.Ledger.Refunds(ctx, op.UserID, op.PaymentID)
	if err != nil {
		return CreateRefundResponse{}, err
	}
	for _, r := range refunds {
		if r.ID == op.RefundID {
			if err := enqueueNotice(ctx, f.Queue, r); err != nil {
				logging.From(ctx).Warn("refund notice not queued", "refundId", r.ID, "err", err.Error())
			}
			return CreateRefundResponse{Refund: refundView(r), Payment: paymentView(p)}, nil
		}
	}
	return CreateRefundResponse{}, apperr.New(apperr.Internal, "operation %s is booked but refund %s is missing", op.ID, op.RefundID)
}

// enqueueNotice queues a refund's notice (the consumer sends one per refund id) when it counts.
func enqueueNotice(ctx context.Context, q queue.Sender, r Refund) error {
	if !RefundCounts(r.Status) {
		return nil
	}
	return enqueueReceipt(ctx, q, ReceiptJob{UserID: r.UserID, PaymentID: r.PaymentID, RefundID: r.ID})
}
