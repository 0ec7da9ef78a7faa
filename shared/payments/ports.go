package payments

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/store"
)

// What payments' code needs from the outside, as small interfaces owned here. Production wires
// Repo (over store.Store), stripeRefunds (over stripeapi), and the platform's queue, blob and mail
// capabilities; unit tests wire in-memory fakes, so the rules run with nothing started.

// PaymentReader reads a user's payments (history routes).
type PaymentReader interface {
	GetPayment(ctx context.Context, userID, paymentID string) (Payment, error)
	ListPayments(ctx context.Context, userID string, limit int32, cursor string) (store.Page[Payment], error)
}

// Presigner hands out short-lived links to stored documents (blob.Store is one).
type Presigner interface {
	PresignGet(ctx context.Context, o blob.Object, ttl time.Duration) (string, error)
}

// Documents stores rendered PDFs (blob.Store is one).
type Documents interface {
	Put(ctx context.Context, o blob.Object, body []byte) error
	Exists(ctx context.Context, key string) (bool, error)
}

// RecordRepo records payments and failed attempts, each once per Stripe fact.
type RecordRepo interface {
	// ResolveStripeUser ties a Stripe object to our user ("" when none is known).
	ResolveStripeUser(ctx context.Context, customerID, subscriptionID string, candidates ...string) (string, error)
	// CreatePayment writes p (a new payment) with its source guard, PaymentIntent pointer, day
	// counters and audit record in one transaction. When the source was recorded before it writes
	// nothing and returns false with the lookup naming the payment already recorded.
	// extra are another area's items written in the same transaction (a course sale with its
	// payment); they must not touch the payment's items.
	CreatePayment(ctx context.Context, p Payment, sourceID string, au audit.Entry, extra []types.TransactWriteItem) (PaymentLookup, bool, error)
	// CountPaymentFailure counts one failed attempt of an invoice once (false: counted before).
	CountPaymentFailure(ctx context.Context, userID, invoiceID string, attempt int64, at time.Time, au audit.Entry) (bool, error)
}

// PaymentFinder finds a payment by our id or by what Stripe names (NotFound when unknown).
type PaymentFinder interface {
	GetPayment(ctx context.Context, userID, paymentID string) (Payment, error)
	PaymentByID(ctx context.Context, paymentID string) (Payment, error)
	// PaymentByStripe finds the payment of a charge, else of a PaymentIntent.
	PaymentByStripe(ctx context.Context, chargeID, paymentIntentID string) (Payment, error)
}

// RefundLedger is where refunds are reserved, booked and released.
type RefundLedger interface {
	PaymentFinder
	Refunds(ctx context.Context, userID, paymentID string) ([]Refund, error)
	RefundOp(ctx context.Context, opID string) (RefundOp, error)
	// PendingRefundOps lists pending operations reserved before cutoff, oldest first (at most max;
	// true when there are more). Eventually consistent: re-read an operation before acting on it.
	PendingRefundOps(ctx context.Context, cutoff time.Time, max int) ([]RefundOp, bool, error)
	// Apply writes a change atomically; a lost race on the payment's version is a failed condition.
	Apply(ctx context.Context, c Change) error
	// RecordUnmatchedRefund counts and audits a refunded charge we have no payment for, once per
	// charge (false: recorded before).
	RecordUnmatchedRefund(ctx context.Context, u UnmatchedRefund, au audit.Entry) (bool, error)
	// UnmatchedRefund reads the record of an unmatched refunded charge (NotFound when none).
	UnmatchedRefund(ctx context.Context, chargeID string) (UnmatchedRefund, error)
}

// DisputeLedger is where disputes are booked.
type DisputeLedger interface {
	PaymentFinder
	Dispute(ctx context.Context, userID, disputeID string) (Dispute, error)
	Apply(ctx context.Context, c Change) error
}

// ReceiptSource is what the receipts consumer reads and records.
type ReceiptSource interface {
	GetPayment(ctx context.Context, userID, paymentID string) (Payment, error)
	Refund(ctx context.Context, userID, paymentID, refundID string) (Refund, error)
	UserEmail(ctx context.Context, userID string) (string, error)
	SetReceiptKey(ctx context.Context, userID, paymentID, key string) error
}

// Change is one atomic change of a payment and what hangs under it. Payment is written over the
// version it was read at, and every refund, operation and dispute change travels with it, so the
// payment's optimistic lock orders them all: two writers computing from the same state cannot both
// win. Counters move by exactly the deltas, on the day of At, in the same write.
type Change struct {
	Payment    Payment          // as read, then changed (its Version is the one read)
	NewRefunds []Refund         // created; their keys must be free
	Refunds    []Refund         // replaced
	NewOps     []RefundOp       // created; their keys must be free
	Ops        []RefundOp       // replaced
	NewDispute *Dispute         // created; its key must be free
	Dispute    *Dispute         // replaced
	Counters   map[string]int64 // day counters (zero deltas are skipped)
	At         time.Time
	Audit      audit.Entry // written when Action is set
	// Entries are the change's journal entries (books_journal.go), written in the same transaction;
	// an entry posted before with the same content is the change's own and is left out.
	Entries []journal.Entry
}

// RefundGateway is the Stripe side of refunds.
type RefundGateway interface {
	// CreateRefund asks Stripe to refund. Errors are Stripe's, classified with stripeapi.Classify:
	// only a definite refusal means nothing happened.
	CreateRefund(ctx context.Context, o RefundOrder) (StripeRefund, error)
	// ListRefunds returns every refund Stripe has of the charge (or, without one, of the
	// PaymentIntent) — the complete list, or an error.
	ListRefunds(ctx context.Context, chargeID, paymentIntentID string) ([]StripeRefund, error)
}

// RefundOrder is one refund request to Stripe.
type RefundOrder struct {
	ChargeID        string // or, when empty, PaymentIntentID
	PaymentIntentID string
	AmountCents     int64
	Reason          string
	Metadata        map[string]string // userId, paymentId, requestedBy, operationId
	IdempotencyKey  string
}

// StripeRefund is a refund as Stripe reports it.
type StripeRefund struct {
	ID              string
	ChargeID        string
	PaymentIntentID string
	AmountCents     int64
	Currency        string
	Status          string
	Reason          string
	OperationID     string // metadata.operationId: ours when we made it
	RequestedBy     string // metadata.requestedBy
	Created         time.Time
}

// ErasureLedger is what an erasure reads and writes of a person's payments (privacy_erase.go,
// repo_erase.go): each record read consistently, then changed over what was read.
type ErasureLedger interface {
	GetPayment(ctx context.Context, userID, paymentID string) (Payment, error)
	Refund(ctx context.Context, userID, paymentID, refundID string) (Refund, error)
	Dispute(ctx context.Context, userID, disputeID string) (Dispute, error)
	ErasePayment(ctx context.Context, p Payment, e Erasure) error
	EraseRefund(ctx context.Context, r Refund, e Erasure) error
	EraseDispute(ctx context.Context, d Dispute, e Erasure) error
}

// ErasureDocuments is the versioned bucket as an erasure sees the documents: rendered again over
// their key, and their old versions and delete markers removed (blob.Store and its optional
// VersionPurger; s3blob.Bucket).
type ErasureDocuments interface {
	Documents
	blob.VersionPurger
}
