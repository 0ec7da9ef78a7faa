package payments

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/store"
)

// Repo is payments' repository over the DynamoDB table: every interface of ports.go, each method a
// key lookup, a bounded Query or one TransactWriteItems (docs/data-model.md lists them).
type Repo struct{ S *store.Store }

var (
	_ PaymentReader = Repo{}
	_ RecordRepo    = Repo{}
	_ RefundLedger  = Repo{}
	_ DisputeLedger = Repo{}
	_ ReceiptSource = Repo{}
)

// GetPayment implements PaymentFinder.
func (r Repo) GetPayment(ctx context.Context, userID, paymentID string) (store.Payment, error) {
	return r.S.GetPayment(ctx, userID, paymentID)
}

// ListPayments implements PaymentReader.
func (r Repo) ListPayments(ctx context.Context, userID string, limit int32, cursor string) (store.Page[store.Payment], error) {
	return r.S.ListPayments(ctx, userID, limit, cursor)
}

// PaymentByID implements PaymentFinder.
func (r Repo) PaymentByID(ctx context.Context, paymentID string) (store.Payment, error) {
	return r.S.PaymentByID(ctx, paymentID)
}

// PaymentByStripe implements PaymentFinder: by charge id (GSI2), else by the PaymentIntent pointer.
func (r Repo) PaymentByStripe(ctx context.Context, chargeID, paymentIntentID string) (store.Payment, error) {
	p, err := r.S.PaymentByCharge(ctx, chargeID)
	if err == nil || !apperr.Is(err, apperr.NotFound) || paymentIntentID == "" {
		return p, err
	}
	return r.S.PaymentByLookup(ctx, store.PaymentIntentKey(paymentIntentID))
}

// Refunds implements RefundLedger.
func (r Repo) Refunds(ctx context.Context, userID, paymentID string) ([]store.Refund, error) {
	return r.S.ListRefunds(ctx, userID, paymentID)
}

// Refund implements ReceiptSource.
func (r Repo) Refund(ctx context.Context, userID, paymentID, refundID string) (store.Refund, error) {
	var ref store.Refund
	err := r.S.GetConsistent(ctx, store.RefundKey(userID, paymentID, refundID), &ref)
	return ref, err
}

// RefundOp implements RefundLedger.
func (r Repo) RefundOp(ctx context.Context, opID string) (store.RefundOp, error) {
	return r.S.GetRefundOp(ctx, opID)
}

// PendingRefundOps implements RefundLedger.
func (r Repo) PendingRefundOps(ctx context.Context, cutoff time.Time, max int) ([]store.RefundOp, bool, error) {
	return r.S.PendingRefundOps(ctx, cutoff, max)
}

// Dispute implements DisputeLedger.
func (r Repo) Dispute(ctx context.Context, userID, disputeID string) (store.Dispute, error) {
	var d store.Dispute
	err := r.S.GetConsistent(ctx, store.DisputeKey(userID, disputeID), &d)
	return d, err
}

// UserEmail implements ReceiptSource ("" when the user has no profile).
func (r Repo) UserEmail(ctx context.Context, userID string) (string, error) {
	u, err := r.S.GetUser(ctx, userID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return "", err
	}
	return u.Email, nil
}

// SetReceiptKey implements ReceiptSource.
func (r Repo) SetReceiptKey(ctx context.Context, userID, paymentID, key string) error {
	return r.S.SetReceiptKey(ctx, userID, paymentID, key)
}

// ResolveStripeUser implements RecordRepo.
func (r Repo) ResolveStripeUser(ctx context.Context, customerID, subscriptionID string, candidates ...string) (string, error) {
	return r.S.ResolveStripeUser(ctx, customerID, subscriptionID, candidates...)
}

// Apply implements RefundLedger and DisputeLedger: one TransactWriteItems — the payment over its
// version, created items with attribute_not_exists, replaced items, the day counters, the audit.
func (r Repo) Apply(ctx context.Context, c Change) error {
	p := c.Payment
	pay, err := store.PutPaymentItem(&p)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{pay}
	add := func(v any, create bool) error {
		var it types.TransactWriteItem
		var err error
		if create {
			it, err = store.PutNewItem(v)
		} else {
			it, err = store.PutItem(v)
		}
		items = append(items, it)
		return err
	}
	for i := range c.NewRefunds {
		c.NewRefunds[i].SetKeys()
		if err := add(c.NewRefunds[i], true); err != nil {
			return err
		}
	}
	for i := range c.Refunds {
		c.Refunds[i].SetKeys()
		if err := add(c.Refunds[i], false); err != nil {
			return err
		}
	}
	for i := range c.NewOps {
		c.NewOps[i].SetKeys()
		if err := add(c.NewOps[i], true); err != nil {
			return err
		}
	}
	for i := range c.Ops {
		c.Ops[i].SetKeys()
		if err := add(c.Ops[i], false); err != nil {
			return err
		}
	}
	if d := c.NewDispute; d != nil {
		d.SetKeys()
		if err := add(*d, true); err != nil {
			return err
		}
	}
	if d := c.Dispute; d != nil {
		d.SetKeys()
		if err := add(*d, false); err != nil {
			return err
		}
	}
	items = store.Append(items, store.AddDayCounters(c.At, c.Counters))
	if c.Audit.Action != "" {
		au, err := audit.Item(c.Audit, c.At)
		if err != nil {
			return err
		}
		items = append(items, au)
	}
	return r.S.Transact(ctx, items)
}

// RecordUnmatchedRefund implements RefundLedger: guard item, counter and audit in one transaction.
func (r Repo) RecordUnmatchedRefund(ctx context.Context, u store.UnmatchedRefund, au audit.Entry) (bool, error) {
	u.SetKeys()
	guard, err := store.PutNewItem(u)
	if err != nil {
		return false, err
	}
	a, err := audit.Item(au, u.At)
	if err != nil {
		return false, err
	}
	items := store.Append([]types.TransactWriteItem{guard, a},
		store.AddDayCounters(u.At, map[string]int64{store.CtrUnmatchedRefunds: 1}))
	err = r.S.Transact(ctx, items)
	if store.IsConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

// UnmatchedRefund implements RefundLedger.
func (r Repo) UnmatchedRefund(ctx context.Context, chargeID string) (store.UnmatchedRefund, error) {
	var u store.UnmatchedRefund
	err := r.S.GetConsistent(ctx, store.UnmatchedRefundKey(chargeID), &u)
	return u, err
}

// CreatePayment implements RecordRepo.
func (r Repo) CreatePayment(ctx context.Context, p store.Payment, sourceID string, au audit.Entry) (store.PaymentLookup, bool, error) {
	srcKey := store.PaymentSourceKey(sourceID)
	guard, err := store.PutNewItem(store.NewPaymentLookup(srcKey, &p))
	if err != nil {
		return store.PaymentLookup{}, false, err
	}
	p.Version = 0 // a create
	payItem, err := store.PutPaymentItem(&p)
	if err != nil {
		return store.PaymentLookup{}, false, err
	}
	items := []types.TransactWriteItem{guard, payItem}
	if p.PaymentIntentID != "" {
		pi, err := store.PutItem(store.NewPaymentLookup(store.PaymentIntentKey(p.PaymentIntentID), &p))
		if err != nil {
			return store.PaymentLookup{}, false, err
		}
		items = append(items, pi)
	}
	items = store.Append(items, store.AddDayCounters(p.PaidAt, map[string]int64{
		store.CtrPaymentsSucceeded: 1,
		store.CtrRevenueCents:      p.AmountCents,
	}))
	a, err := audit.Item(au, p.CreatedAt)
	if err != nil {
		return store.PaymentLookup{}, false, err
	}
	err = r.S.Transact(ctx, append(items, a))
	switch {
	case err == nil:
		return store.NewPaymentLookup(srcKey, &p), true, nil
	case store.IsConditionFailed(err) && containsInt(store.FailedItems(err), 0):
		var l store.PaymentLookup
		if gErr := r.S.GetConsistent(ctx, srcKey, &l); gErr != nil {
			return store.PaymentLookup{}, false, gErr
		}
		return l, false, nil
	}
	return store.PaymentLookup{}, false, err
}

// paymentFailure is the guard item of one failed attempt of an invoice.
type paymentFailure struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	UserID    string `dynamodbav:"userId"`
	InvoiceID string `dynamodbav:"invoiceId"`
	Attempt   int64  `dynamodbav:"attempt"`
	At        string `dynamodbav:"at"`
}

// CountPaymentFailure implements RecordRepo.
func (r Repo) CountPaymentFailure(ctx context.Context, userID, invoiceID string, attempt int64, at time.Time, au audit.Entry) (bool, error) {
	k := store.PaymentFailureKey(invoiceID, attempt)
	g, err := store.PutNewItem(paymentFailure{PK: k.PK, SK: k.SK, Type: "payment-failure", UserID: userID,
		InvoiceID: invoiceID, Attempt: attempt, At: at.Format(time.RFC3339)})
	if err != nil {
		return false, err
	}
	a, err := audit.Item(au, at)
	if err != nil {
		return false, err
	}
	items := store.Append([]types.TransactWriteItem{g, a}, store.AddDayCounters(at, map[string]int64{store.CtrPaymentsFailed: 1}))
	err = r.S.Transact(ctx, items)
	if store.IsConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
