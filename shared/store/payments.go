package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/manifest"
)

// Payment kinds and statuses.
const (
	PaymentKindSubscription = "subscription"
	PaymentKindPurchase     = "purchase"

	PaymentSucceeded         = "succeeded"
	PaymentPartiallyRefunded = "partially_refunded"
	PaymentRefunded          = "refunded"
)

// Payment is one successful charge: a paid subscription invoice or a one-off purchase. It lives in
// the user's partition (USER#<id> / PAY#<paymentId>, ids time ordered so a reverse Query lists
// newest first), is found by our id through GSI1 and by Stripe charge id through GSI2.
//
// Every write of a payment after its creation is a whole-item Put conditioned on Version (optimistic
// concurrency), because refund bookkeeping needs arithmetic that condition expressions cannot do:
// refundedCents + pendingRefundCents ≤ amountCents holds after every write.
type Payment struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI1PK string `dynamodbav:"GSI1PK"`
	GSI1SK string `dynamodbav:"GSI1SK"`
	GSI2PK string `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK string `dynamodbav:"GSI2SK,omitempty"`
	Type   string `dynamodbav:"type"`

	ID          string `dynamodbav:"id"`
	UserID      string `dynamodbav:"userId"`
	Kind        string `dynamodbav:"kind"`
	Status      string `dynamodbav:"status"`
	AmountCents int64  `dynamodbav:"amountCents"`
	Currency    string `dynamodbav:"currency"`
	Description string `dynamodbav:"description"`

	RefundedCents      int64            `dynamodbav:"refundedCents"`
	PendingRefundCents int64            `dynamodbav:"pendingRefundCents"`
	PendingRefunds     map[string]int64 `dynamodbav:"pendingRefunds,omitempty"` // operation id → reserved cents

	Disputed      bool   `dynamodbav:"disputed,omitempty"`
	DisputeStatus string `dynamodbav:"disputeStatus,omitempty"`
	DisputedCents int64  `dynamodbav:"disputedCents,omitempty"`
	// DisputeLostCents is what lost disputes took back: no longer ours, so no longer refundable.
	DisputeLostCents int64 `dynamodbav:"disputeLostCents,omitempty"`

	InvoiceID         string     `dynamodbav:"invoiceId,omitempty"`
	InvoiceNumber     string     `dynamodbav:"invoiceNumber,omitempty"`
	SubscriptionID    string     `dynamodbav:"subscriptionId,omitempty"`
	CheckoutSessionID string     `dynamodbav:"checkoutSessionId,omitempty"`
	CourseID          string     `dynamodbav:"courseId,omitempty"`
	ChargeID          string     `dynamodbav:"chargeId,omitempty"`
	PaymentIntentID   string     `dynamodbav:"paymentIntentId,omitempty"`
	CustomerEmail     string     `dynamodbav:"customerEmail,omitempty"` // snapshot at payment time
	PaymentMethod     string     `dynamodbav:"paymentMethod,omitempty"` // e.g. "Visa •••• 4242"
	PeriodStart       *time.Time `dynamodbav:"periodStart,omitempty"`
	PeriodEnd         *time.Time `dynamodbav:"periodEnd,omitempty"`

	ReceiptKey string    `dynamodbav:"receiptKey,omitempty"` // S3 key of the rendered PDF
	PaidAt     time.Time `dynamodbav:"paidAt"`
	CreatedAt  time.Time `dynamodbav:"createdAt"`
	EventID    string    `dynamodbav:"eventId,omitempty"` // the Stripe event that recorded it
	Version    int64     `dynamodbav:"version"`
}

// SetKeys fills the primary and index keys from the payment's ids.
func (p *Payment) SetKeys() {
	k := PaymentKey(p.UserID, p.ID)
	p.PK, p.SK = k.PK, k.SK
	p.GSI1PK, p.GSI1SK = PaymentByIDGSI1(p.ID)
	p.GSI2PK, p.GSI2SK = "", ""
	if p.ChargeID != "" {
		p.GSI2PK, p.GSI2SK = ChargeGSI2(p.ChargeID)
	}
	p.Type = "payment"
}

// RefundableCents is what may still be reserved for a refund: the amount less what is refunded,
// reserved for refunds in flight, and taken back by lost disputes.
func (p *Payment) RefundableCents() int64 {
	return p.AmountCents - p.RefundedCents - p.PendingRefundCents - p.DisputeLostCents
}

// SettleStatus derives Status from the refunded amount.
func (p *Payment) SettleStatus() {
	switch {
	case p.RefundedCents >= p.AmountCents && p.AmountCents > 0:
		p.Status = PaymentRefunded
	case p.RefundedCents > 0:
		p.Status = PaymentPartiallyRefunded
	default:
		p.Status = PaymentSucceeded
	}
}

// PaymentLookup points an external id (Stripe source, PaymentIntent) at a payment.
type PaymentLookup struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	UserID    string `dynamodbav:"userId"`
	PaymentID string `dynamodbav:"paymentId"`
}

// NewPaymentLookup returns the lookup item at k for payment p.
func NewPaymentLookup(k Key, p *Payment) PaymentLookup {
	return PaymentLookup{PK: k.PK, SK: k.SK, Type: "payment-lookup", UserID: p.UserID, PaymentID: p.ID}
}

// Refund statuses: Stripe's (pending, requires_action and succeeded are money out or on its way;
// failed and canceled are not, and are final) and our superseded, for a placeholder replaced by the
// real refunds Stripe lists.
const (
	RefundSucceeded      = "succeeded"
	RefundPending        = "pending"
	RefundRequiresAction = "requires_action"
	RefundFailed         = "failed"
	RefundCanceled       = "canceled"
	RefundSuperseded     = "superseded"
)

// RefundCounts reports whether a refund in status counts as refunded money.
func RefundCounts(status string) bool {
	return status == RefundSucceeded || status == RefundPending || status == RefundRequiresAction
}

// RefundFinal reports whether a refund's status can no longer change (a stale event must not move it).
func RefundFinal(status string) bool {
	return status == RefundFailed || status == RefundCanceled || status == RefundSuperseded
}

// Refund sources.
const (
	RefundSourceAdmin  = "admin"  // our POST /admin/refunds
	RefundSourceStripe = "stripe" // seen first in a charge.refunded event (e.g. the Dashboard)
	RefundSourceSync   = "sync"   // legacy: an amount Stripe reported without the refund objects
)

// Refund is one Stripe refund of a payment, keyed by the Stripe refund id so the admin route and
// the charge.refunded webhook converge on one item.
type Refund struct {
	PK          string    `dynamodbav:"PK"`
	SK          string    `dynamodbav:"SK"`
	Type        string    `dynamodbav:"type"`
	ID          string    `dynamodbav:"id"` // Stripe refund id (legacy placeholders: "sync_…")
	PaymentID   string    `dynamodbav:"paymentId"`
	UserID      string    `dynamodbav:"userId"`
	AmountCents int64     `dynamodbav:"amountCents"`
	Currency    string    `dynamodbav:"currency"`
	Status      string    `dynamodbav:"status"`
	Reason      string    `dynamodbav:"reason,omitempty"`
	Source      string    `dynamodbav:"source"`
	RequestedBy string    `dynamodbav:"requestedBy,omitempty"`
	OperationID string    `dynamodbav:"operationId,omitempty"`
	ChargeID    string    `dynamodbav:"chargeId,omitempty"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
}

// SetKeys fills the refund's key.
func (r *Refund) SetKeys() {
	k := RefundKey(r.UserID, r.PaymentID, r.ID)
	r.PK, r.SK, r.Type = k.PK, k.SK, "refund"
}

// Dispute is a chargeback on a payment.
type Dispute struct {
	PK          string    `dynamodbav:"PK"`
	SK          string    `dynamodbav:"SK"`
	Type        string    `dynamodbav:"type"`
	ID          string    `dynamodbav:"id"` // Stripe dispute id
	PaymentID   string    `dynamodbav:"paymentId"`
	UserID      string    `dynamodbav:"userId"`
	ChargeID    string    `dynamodbav:"chargeId,omitempty"`
	AmountCents int64     `dynamodbav:"amountCents"`
	Currency    string    `dynamodbav:"currency"`
	Status      string    `dynamodbav:"status"`
	Reason      string    `dynamodbav:"reason,omitempty"`
	OpenedAt    time.Time `dynamodbav:"openedAt"`
	UpdatedAt   time.Time `dynamodbav:"updatedAt"`
	EventID     string    `dynamodbav:"eventId,omitempty"`
	// FundsWithdrawn / FundsReinstated: Stripe took the disputed amount from our balance / gave it back.
	FundsWithdrawn  bool `dynamodbav:"fundsWithdrawn,omitempty"`
	FundsReinstated bool `dynamodbav:"fundsReinstated,omitempty"`
}

// SetKeys fills the dispute's key.
func (d *Dispute) SetKeys() {
	k := DisputeKey(d.UserID, d.ID)
	d.PK, d.SK, d.Type = k.PK, k.SK, "dispute"
}

// GetPayment reads one of a user's payments with a strongly consistent read. Another user's id is
// simply absent from this user's partition: NotFound, never Forbidden.
func (s *Store) GetPayment(ctx context.Context, userID, paymentID string) (Payment, error) {
	var p Payment
	err := s.getConsistent(ctx, PaymentKey(userID, paymentID), &p)
	return p, err
}

// GetConsistent reads one item with a strongly consistent read (NotFound when absent).
func (s *Store) GetConsistent(ctx context.Context, k Key, out any) error {
	return s.getConsistent(ctx, k, out)
}

// PaymentByID finds a payment by our id alone (admin refunds) through GSI1, then reads the item
// itself consistently. GSI1 is eventually consistent, so a payment recorded a moment ago may be
// NotFound briefly.
func (s *Store) PaymentByID(ctx context.Context, paymentID string) (Payment, error) {
	pk, sk := PaymentByIDGSI1(paymentID)
	return s.paymentByIndex(ctx, manifest.GSI1, pk, sk)
}

// PaymentByCharge finds a payment by Stripe charge id through GSI2.
func (s *Store) PaymentByCharge(ctx context.Context, chargeID string) (Payment, error) {
	if chargeID == "" {
		return Payment{}, apperr.New(apperr.NotFound, "no charge id")
	}
	pk, sk := ChargeGSI2(chargeID)
	return s.paymentByIndex(ctx, manifest.GSI2, pk, sk)
}

// PaymentByLookup follows a lookup item (PaymentSourceKey, PaymentIntentKey) to its payment.
func (s *Store) PaymentByLookup(ctx context.Context, k Key) (Payment, error) {
	var l PaymentLookup
	if err := s.getConsistent(ctx, k, &l); err != nil {
		return Payment{}, err
	}
	return s.GetPayment(ctx, l.UserID, l.PaymentID)
}

// paymentByIndex finds a payment through an index, then reads the item itself consistently.
func (s *Store) paymentByIndex(ctx context.Context, ix manifest.Index, pk, sk string) (Payment, error) {
	p, err := QueryIndexOne[Payment](ctx, s, ix, pk, sk, "payment not found")
	if err != nil {
		return Payment{}, err
	}
	return s.GetPayment(ctx, p.UserID, p.ID)
}

// ListPayments returns a page of a user's payments, newest first. The cursor is bound to the user.
func (s *Store) ListPayments(ctx context.Context, userID string, limit int32, cursor string) (Page[Payment], error) {
	pk := PaymentKey(userID, "").PK
	return QueryPage[Payment](ctx, s, "payments#"+userID, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :pre)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": av(pk), ":pre": av(PaymentPrefix),
		},
		ScanIndexForward: aws.Bool(false),
	}, limit, cursor)
}

// ListRefunds returns every refund of a payment (a bounded partition slice), consistently read.
func (s *Store) ListRefunds(ctx context.Context, userID, paymentID string) ([]Refund, error) {
	return QueryAll[Refund](ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :pre)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": av(PaymentKey(userID, "").PK), ":pre": av(RefundPrefix(paymentID)),
		},
		ConsistentRead: aws.Bool(true),
	})
}

// PutPaymentItem returns the transaction item that writes p: a create when p.Version is 0 (the
// item must not exist; p.Version becomes 1), otherwise an update conditioned on the version read
// (p.Version is incremented). SetKeys is applied.
func PutPaymentItem(p *Payment) (types.TransactWriteItem, error) {
	p.SetKeys()
	read := p.Version
	p.Version++
	return PutVersioned(p, read)
}

// PutNewItem returns a transaction item that creates v only if its key is free.
func PutNewItem(v any) (types.TransactWriteItem, error) {
	item, err := Marshal(v)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}}, nil
}

// PutItem returns a transaction item that writes v unconditionally.
func PutItem(v any) (types.TransactWriteItem, error) {
	item, err := Marshal(v)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{Item: item}}, nil
}

// SetReceiptKey records where a payment's receipt PDF is. It bumps the version so that a concurrent
// versioned Put (refund bookkeeping) retries instead of overwriting the key.
func (s *Store) SetReceiptKey(ctx context.Context, userID, paymentID, key string) error {
	return s.Update(ctx, &dynamodb.UpdateItemInput{
		Key:                      PaymentKey(userID, paymentID).Item(),
		UpdateExpression:         aws.String("SET receiptKey = :k ADD #v :one"),
		ConditionExpression:      aws.String("attribute_exists(PK)"),
		ExpressionAttributeNames: map[string]string{"#v": "version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":k": av(key), ":one": N(1),
		},
	}, nil)
}
