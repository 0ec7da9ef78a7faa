package payments

import (
	"time"

	"github.com/liberation/monetization/shared/store"
)

// Payments' entities: the items this area owns on the single table (their keys are built in
// shared/store/keys.go, the table's one key map). Repo (repo.go) is the only code that reads and
// writes them; another area reaches them through Repo's exported methods.

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

	// CreditAppliedCents is the customer-balance credit (token redemptions) the invoice used on top
	// of AmountCents: the invoice was worth AmountCents + CreditAppliedCents (journal revenue).
	CreditAppliedCents int64 `dynamodbav:"creditAppliedCents,omitempty"`

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
	// ErasedAs is the pseudonym naming the payer after an erasure (privacy_erase.go): a field, so
	// that later whole-item writes of the payment (a refund, a dispute) keep it.
	ErasedAs string `dynamodbav:"erasedAs,omitempty"`
	Version  int64  `dynamodbav:"version"`
}

// SetKeys fills the primary and index keys from the payment's ids.
func (p *Payment) SetKeys() {
	k := store.PaymentKey(p.UserID, p.ID)
	p.PK, p.SK = k.PK, k.SK
	p.GSI1PK, p.GSI1SK = store.PaymentByIDGSI1(p.ID)
	p.GSI2PK, p.GSI2SK = "", ""
	if p.ChargeID != "" {
		p.GSI2PK, p.GSI2SK = store.ChargeGSI2(p.ChargeID)
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
func NewPaymentLookup(k store.Key, p *Payment) PaymentLookup {
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
	ErasedAs    string    `dynamodbav:"erasedAs,omitempty"` // the pseudonym, after an erasure
}

// SetKeys fills the refund's key.
func (r *Refund) SetKeys() {
	k := store.RefundKey(r.UserID, r.PaymentID, r.ID)
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
	// Chargeback: the dispute has been a chargeback (a status other than warning_*), so Stripe
	// withdrew its amount — sticky, so that a stale inquiry event delivered late cannot make the
	// journal post the withdrawal twice (books_journal.go).
	Chargeback bool `dynamodbav:"chargeback,omitempty"`
	// ErasedAs is the pseudonym, after an erasure (privacy_erase.go).
	ErasedAs string `dynamodbav:"erasedAs,omitempty"`
}

// Withheld reports whether Stripe holds the dispute's amount back: withdrawn and not reinstated.
func (d Dispute) Withheld() bool {
	return (d.Chargeback || disputeWithdrawn(d.Status)) && d.Status != "won"
}

// SetKeys fills the dispute's key.
func (d *Dispute) SetKeys() {
	k := store.DisputeKey(d.UserID, d.ID)
	d.PK, d.SK, d.Type = k.PK, k.SK, "dispute"
}

// Refund operation states.
const (
	RefundOpPending  = "pending"  // amount reserved on the payment; Stripe's answer not booked yet
	RefundOpBooked   = "booked"   // Stripe refunded (RefundID); booked on the payment
	RefundOpReleased = "released" // Stripe refused, or has no refund of it: reservation freed
)

// RefundOp is one refund operation of ours — an admin's request and every retry of it (its id is
// derived from the Idempotency-Key) — and how it ended. It outlives Stripe's 24-hour idempotency
// window, so a late retry of a booked operation is answered from here instead of refunding again.
//
// While pending it carries GSI2 keys (RefundOpsPendingGSI2), so the resolve-refunds job finds stale
// reservations with one Query on a sparse index: resolving the operation rewrites it without them.
// An operation changes only in a transaction that also writes its payment over the payment's version,
// so the payment's optimistic lock orders every change of its operations too.
type RefundOp struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI2PK string `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK string `dynamodbav:"GSI2SK,omitempty"`
	Type   string `dynamodbav:"type"`

	ID          string     `dynamodbav:"id"` // rop_…; Stripe metadata.operationId
	UserID      string     `dynamodbav:"userId"`
	PaymentID   string     `dynamodbav:"paymentId"`
	AmountCents int64      `dynamodbav:"amountCents"`
	Reason      string     `dynamodbav:"reason"`
	RequestedBy string     `dynamodbav:"requestedBy"`
	Status      string     `dynamodbav:"status"`
	Attempt     int        `dynamodbav:"attempt"` // reservations made (a released operation may be retried)
	RefundID    string     `dynamodbav:"refundId,omitempty"`
	Outcome     string     `dynamodbav:"outcome,omitempty"` // why it was released
	ReservedAt  time.Time  `dynamodbav:"reservedAt"`
	ResolvedAt  *time.Time `dynamodbav:"resolvedAt,omitempty"`
}

// SetKeys fills the operation's key, and the sparse index keys while it is pending.
func (o *RefundOp) SetKeys() {
	k := store.RefundOpKey(o.ID)
	o.PK, o.SK, o.Type = k.PK, k.SK, "refund-op"
	o.GSI2PK, o.GSI2SK = "", ""
	if o.Status == RefundOpPending {
		o.GSI2PK, o.GSI2SK = store.RefundOpsPendingGSI2(o.ReservedAt, o.ID)
	}
}

// UnmatchedRefund remembers a charge Stripe reported refunded that we never recorded a payment
// for, so it is counted and audited once however often Stripe delivers its events.
type UnmatchedRefund struct {
	PK                  string    `dynamodbav:"PK"`
	SK                  string    `dynamodbav:"SK"`
	Type                string    `dynamodbav:"type"`
	ChargeID            string    `dynamodbav:"chargeId"`
	PaymentIntentID     string    `dynamodbav:"paymentIntentId,omitempty"`
	AmountRefundedCents int64     `dynamodbav:"amountRefundedCents"`
	Currency            string    `dynamodbav:"currency"`
	EventID             string    `dynamodbav:"eventId"`
	At                  time.Time `dynamodbav:"at"`
}

// SetKeys fills the item's key.
func (u *UnmatchedRefund) SetKeys() {
	k := store.UnmatchedRefundKey(u.ChargeID)
	u.PK, u.SK, u.Type = k.PK, k.SK, "unmatched-refund"
}
