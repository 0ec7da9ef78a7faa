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
	k := RefundOpKey(o.ID)
	o.PK, o.SK, o.Type = k.PK, k.SK, "refund-op"
	o.GSI2PK, o.GSI2SK = "", ""
	if o.Status == RefundOpPending {
		o.GSI2PK, o.GSI2SK = RefundOpsPendingGSI2(o.ReservedAt, o.ID)
	}
}

// GetRefundOp reads an operation consistently (NotFound when the operation never reserved).
func (s *Store) GetRefundOp(ctx context.Context, opID string) (RefundOp, error) {
	var o RefundOp
	err := s.getConsistent(ctx, RefundOpKey(opID), &o)
	return o, err
}

// pendingOpsPage is how many index entries one Query page reads.
const pendingOpsPage = 100

// PendingRefundOps lists operations still pending that were reserved before cutoff, oldest first,
// at most max of them (more reports true). The index is eventually consistent: an operation resolved
// a moment ago may still be listed, so callers re-read it before acting.
func (s *Store) PendingRefundOps(ctx context.Context, cutoff time.Time, max int) ([]RefundOp, bool, error) {
	pk, _ := RefundOpsPendingGSI2(cutoff, "")
	in := &dynamodb.QueryInput{
		TableName:              &s.Table,
		IndexName:              aws.String(manifest.GSI2.Name),
		KeyConditionExpression: aws.String("GSI2PK = :pk AND GSI2SK < :cut"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": av(pk), ":cut": av(SortTime(cutoff)),
		},
		Limit: aws.Int32(pendingOpsPage),
	}
	var out []RefundOp
	for {
		res, err := s.DB.Query(ctx, in)
		if err != nil {
			return out, false, apperr.Wrap(err, apperr.Unavailable, "query failed")
		}
		for _, item := range res.Items {
			if len(out) == max {
				return out, true, nil
			}
			var o RefundOp
			if err := decode(item, &o); err != nil {
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
	k := UnmatchedRefundKey(u.ChargeID)
	u.PK, u.SK, u.Type = k.PK, k.SK, "unmatched-refund"
}
