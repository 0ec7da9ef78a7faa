package payments

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// Repo is payments' repository over the DynamoDB table: every interface of ports.go, each method a
// key lookup, a bounded Query or one TransactWriteItems (docs/data-model.md lists them). It is the
// only code that reads and writes payments' entities (entities.go); another area reads a payment
// through its exported methods.
type Repo struct{ S *store.Store }

var (
	_ PaymentReader = Repo{}
	_ RecordRepo    = Repo{}
	_ RefundLedger  = Repo{}
	_ DisputeLedger = Repo{}
	_ ReceiptSource = Repo{}
)

// GetPayment implements PaymentFinder: one of a user's payments, read strongly consistently.
// Another user's id is simply absent from this user's partition: NotFound, never Forbidden.
func (r Repo) GetPayment(ctx context.Context, userID, paymentID string) (Payment, error) {
	var p Payment
	err := r.S.GetConsistent(ctx, store.PaymentKey(userID, paymentID), &p)
	return p, err
}

// ListPayments implements PaymentReader: a page of a user's payments, newest first. The cursor is
// bound to the user.
func (r Repo) ListPayments(ctx context.Context, userID string, limit int32, cursor string) (store.Page[Payment], error) {
	pk := store.PaymentKey(userID, "").PK
	return store.QueryPage[Payment](ctx, r.S, "payments#"+userID, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :pre)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(pk), ":pre": store.S(store.PaymentPrefix),
		},
		ScanIndexForward: aws.Bool(false),
	}, limit, cursor)
}

// PaymentByID implements PaymentFinder: a payment by our id alone (admin refunds) through GSI1,
// then the item itself read consistently. GSI1 is eventually consistent, so a payment recorded a
// moment ago may be NotFound briefly.
func (r Repo) PaymentByID(ctx context.Context, paymentID string) (Payment, error) {
	pk, sk := store.PaymentByIDGSI1(paymentID)
	return r.paymentByIndex(ctx, manifest.GSI1, pk, sk)
}

// PaymentByStripe implements PaymentFinder: by charge id (GSI2), else by the PaymentIntent pointer.
func (r Repo) PaymentByStripe(ctx context.Context, chargeID, paymentIntentID string) (Payment, error) {
	p, err := r.paymentByCharge(ctx, chargeID)
	if err == nil || !apperr.Is(err, apperr.NotFound) || paymentIntentID == "" {
		return p, err
	}
	return r.paymentByLookup(ctx, store.PaymentIntentKey(paymentIntentID))
}

// paymentByCharge finds a payment by Stripe charge id through GSI2.
func (r Repo) paymentByCharge(ctx context.Context, chargeID string) (Payment, error) {
	if chargeID == "" {
		return Payment{}, apperr.New(apperr.NotFound, "no charge id")
	}
	pk, sk := store.ChargeGSI2(chargeID)
	return r.paymentByIndex(ctx, manifest.GSI2, pk, sk)
}

// paymentByLookup follows a lookup item (PaymentSourceKey, PaymentIntentKey) to its payment.
func (r Repo) paymentByLookup(ctx context.Context, k store.Key) (Payment, error) {
	var l PaymentLookup
	if err := r.S.GetConsistent(ctx, k, &l); err != nil {
		return Payment{}, err
	}
	return r.GetPayment(ctx, l.UserID, l.PaymentID)
}

// paymentByIndex finds a payment through an index, then reads the item itself consistently.
func (r Repo) paymentByIndex(ctx context.Context, ix manifest.Index, pk, sk string) (Payment, error) {
	p, err := store.QueryIndexOne[Payment](ctx, r.S, ix, pk, sk, "payment not found")
	if err != nil {
		return Payment{}, err
	}
	return r.GetPayment(ctx, p.UserID, p.ID)
}

// Refunds implements RefundLedger: every refund of a payment (a bounded partition slice), read
// consistently.
func (r Repo) Refunds(ctx context.Context, userID, paymentID string) ([]Refund, error) {
	return store.QueryAll[Refund](ctx, r.S, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :pre)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(store.PaymentKey(userID, "").PK), ":pre": store.S(store.RefundPrefix(paymentID)),
		},
		ConsistentRead: aws.Bool(true),
	})
}

// Refund implements ReceiptSource.
func (r Repo) Refund(ctx context.Context, userID, paymentID, refundID string) (Refund, error) {
	var ref Refund
	err := r.S.GetConsistent(ctx, store.RefundKey(userID, paymentID, refundID), &ref)
	return ref, err
}

// RefundOp implements RefundLedger: an operation read consistently (NotFound when the operation
// never reserved).
func (r Repo) RefundOp(ctx context.Context, opID string) (RefundOp, error) {
	var o RefundOp
	err := r.S.GetConsistent(ctx, store.RefundOpKey(opID), &o)
	return o, err
}

// pendingOpsPage is how many index entries one Query page reads.
const pendingOpsPage = 100

// PendingRefundOps implements RefundLedger: operations still pending that were reserved before
// cutoff, oldest first, at most max of them (more reports true). The index is eventually
// consistent: an operation resolved a moment ago may still be listed, so callers re-read it before
// acting.
func (r Repo) PendingRefundOps(ctx context.Context, cutoff time.Time, max int) ([]RefundOp, bool, error) {
	pk, _ := store.RefundOpsPendingGSI2(cutoff, "")
	in := &dynamodb.QueryInput{
		TableName:              &r.S.Table,
		IndexName:              aws.String(manifest.GSI2.Name),
		KeyConditionExpression: aws.String("GSI2PK = :pk AND GSI2SK < :cut"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(pk), ":cut": store.S(store.SortTime(cutoff)),
		},
		Limit: aws.Int32(pendingOpsPage),
	}
	var out []RefundOp
	for {
		res, err := r.S.DB.Query(ctx, in)
		if err != nil {
			return out, false, apperr.Wrap(err, apperr.Unavailable, "query failed")
		}
		for _, item := range res.Items {
			if len(out) == max {
				return out, true, nil
			}
			var o RefundOp
			if err := decodeItem(item, &o); err != nil {
				return out, false, err
			}
			out = append(out, o)
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, false, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// decodeItem reads an item into out (Internal when it has another shape).
func decodeItem(item map[string]types.AttributeValue, out any) error {
	if err := attributevalue.UnmarshalMap(item, out); err != nil {
		return apperr.Wrap(err, apperr.Internal, "decode item")
	}
	return nil
}

// Dispute implements DisputeLedger.
func (r Repo) Dispute(ctx context.Context, userID, disputeID string) (Dispute, error) {
	var d Dispute
	err := r.S.GetConsistent(ctx, store.DisputeKey(userID, disputeID), &d)
	return d, err
}

// UserEmail implements ReceiptSource ("" when the user has no profile): the address on billing's
// user profile, read through billing's exported Records.
func (r Repo) UserEmail(ctx context.Context, userID string) (string, error) {
	u, err := records.Records{S: r.S}.GetUser(ctx, userID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return "", err
	}
	return u.Email, nil
}

// SetReceiptKey implements ReceiptSource: where a payment's receipt PDF is. It bumps the version so
// that a concurrent versioned Put (refund bookkeeping) retries instead of overwriting the key.
func (r Repo) SetReceiptKey(ctx context.Context, userID, paymentID, key string) error {
	return r.S.Update(ctx, &dynamodb.UpdateItemInput{
		Key:                      store.PaymentKey(userID, paymentID).Item(),
		UpdateExpression:         aws.String("SET receiptKey = :k ADD #v :one"),
		ConditionExpression:      aws.String("attribute_exists(PK)"),
		ExpressionAttributeNames: map[string]string{"#v": "version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":k": store.S(key), ":one": store.N(1),
		},
	}, nil)
}

// ResolveStripeUser implements RecordRepo: billing's rule (its Records) ties a Stripe object to our
// user — metadata first, then the user linked to the customer, then the subscription's owner.
func (r Repo) ResolveStripeUser(ctx context.Context, customerID, subscriptionID string, candidates ...string) (string, error) {
	return records.Records{S: r.S}.ResolveStripeUser(ctx, customerID, subscriptionID, candidates...)
}

// putPaymentItem returns the transaction item that writes p: a create when p.Version is 0 (the
// item must not exist; p.Version becomes 1), otherwise a replace conditioned on the version read
// (p.Version is incremented). SetKeys is applied.
func putPaymentItem(p *Payment) (types.TransactWriteItem, error) {
	p.SetKeys()
	read := p.Version
	p.Version++
	return store.PutVersioned(p, read)
}

// Apply implements RefundLedger and DisputeLedger: one TransactWriteItems — the payment over its
// version, created items with attribute_not_exists, replaced items, the day counters, the audit.
func (r Repo) Apply(ctx context.Context, c Change) error {
	p := c.Payment
	pay, err := putPaymentItem(&p)
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
	return journal.Repo{S: r.S}.TransactPosting(ctx, "a payments change", items, c.Entries)
}

// RecordUnmatchedRefund implements RefundLedger: guard item, counter and audit in one transaction.
func (r Repo) RecordUnmatchedRefund(ctx context.Context, u UnmatchedRefund, au audit.Entry) (bool, error) {
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
func (r Repo) UnmatchedRefund(ctx context.Context, chargeID string) (UnmatchedRefund, error) {
	var u UnmatchedRefund
	err := r.S.GetConsistent(ctx, store.UnmatchedRefundKey(chargeID), &u)
	return u, err
}

// CreatePayment implements RecordRepo. A subscription payment's journal entry (invoiceEntry) is
// written in the same transaction; a purchase posts nothing here (the marketplace's extra items
// carry the sale's entry).
func (r Repo) CreatePayment(ctx context.Context, p Payment, sourceID string, au audit.Entry, extra []types.TransactWriteItem) (PaymentLookup, bool, error) {
	srcKey := store.PaymentSourceKey(sourceID)
	guard, err := store.PutNewItem(NewPaymentLookup(srcKey, &p))
	if err != nil {
		return PaymentLookup{}, false, err
	}
	p.Version = 0 // a create
	payItem, err := putPaymentItem(&p)
	if err != nil {
		return PaymentLookup{}, false, err
	}
	items := []types.TransactWriteItem{guard, payItem}
	if p.PaymentIntentID != "" {
		pi, err := store.PutItem(NewPaymentLookup(store.PaymentIntentKey(p.PaymentIntentID), &p))
		if err != nil {
			return PaymentLookup{}, false, err
		}
		items = append(items, pi)
	}
	items = store.Append(items, store.AddDayCounters(p.PaidAt, map[string]int64{
		store.CtrPaymentsSucceeded: 1,
		store.CtrRevenueCents:      p.AmountCents,
	}))
	a, err := audit.Item(au, p.CreatedAt)
	if err != nil {
		return PaymentLookup{}, false, err
	}
	entry, err := invoiceEntry(p, sourceID)
	if err != nil {
		return PaymentLookup{}, false, err
	}
	var entries []journal.Entry
	if entry != nil {
		entries = append(entries, *entry)
	}
	err = journal.Repo{S: r.S}.TransactPosting(ctx, "a payments change", append(append(items, a), extra...), entries)
	switch {
	case err == nil:
		return NewPaymentLookup(srcKey, &p), true, nil
	case store.IsConditionFailed(err) && containsInt(store.FailedItems(err), 0):
		var l PaymentLookup
		if gErr := r.S.GetConsistent(ctx, srcKey, &l); gErr != nil {
			return PaymentLookup{}, false, gErr
		}
		return l, false, nil
	}
	return PaymentLookup{}, false, err
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
