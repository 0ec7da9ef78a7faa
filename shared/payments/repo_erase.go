package payments

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/store"
)

// Erasure is what an erasure writes on a kept record (privacy_erase.go): the pseudonym that names
// the person from now on, the address that replaces theirs, and the audit record of the change.
type Erasure struct {
	Pseudonym      string
	PseudonymEmail string
	Audit          audit.Entry
	At             time.Time
}

var _ ErasureLedger = Repo{}

// ErasePayment marks p (as read) with the pseudonym, replaces the address it was paid with by the
// pseudonym's and removes the card it was paid with, in one transaction with the audit record, over
// p's version (the receipt keeps its key: it was rendered again). Amounts, ids, dates and the refund and
// dispute bookkeeping stay. A lost race is a failed condition (store.IsConditionFailed).
func (r Repo) ErasePayment(ctx context.Context, p Payment, e Erasure) error {
	update := "SET erasedAs = :p, #v = :next"
	vals := map[string]types.AttributeValue{":p": store.S(e.Pseudonym), ":read": store.N(p.Version), ":next": store.N(p.Version + 1)}
	if p.CustomerEmail != "" {
		update += ", customerEmail = :pe"
		vals[":pe"] = store.S(e.PseudonymEmail)
	}
	update += " REMOVE paymentMethod"
	return r.erase(ctx, store.PaymentKey(p.UserID, p.ID), update, "#v = :read AND attribute_not_exists(erasedAs)",
		map[string]string{"#v": "version"}, vals, e)
}

// EraseRefund marks a refund (as read) with the pseudonym, with its audit record, in one
// transaction. A refund has no version: the condition is its status and amount as read (what its
// writes change), so a refund booked meanwhile is read again first.
func (r Repo) EraseRefund(ctx context.Context, ref Refund, e Erasure) error {
	return r.erase(ctx, store.RefundKey(ref.UserID, ref.PaymentID, ref.ID), "SET erasedAs = :p",
		"attribute_exists(PK) AND attribute_not_exists(erasedAs) AND #st = :st AND amountCents = :amt",
		map[string]string{"#st": "status"},
		map[string]types.AttributeValue{":p": store.S(e.Pseudonym), ":st": store.S(ref.Status), ":amt": store.N(ref.AmountCents)}, e)
}

// EraseDispute marks a dispute (as read) with the pseudonym, with its audit record, in one
// transaction, conditioned on its status and the Stripe event that last wrote it.
func (r Repo) EraseDispute(ctx context.Context, d Dispute, e Erasure) error {
	cond := "attribute_exists(PK) AND attribute_not_exists(erasedAs) AND #st = :st AND "
	vals := map[string]types.AttributeValue{":p": store.S(e.Pseudonym), ":st": store.S(d.Status)}
	if d.EventID == "" {
		cond += "attribute_not_exists(eventId)"
	} else {
		cond += "eventId = :ev"
		vals[":ev"] = store.S(d.EventID)
	}
	return r.erase(ctx, store.DisputeKey(d.UserID, d.ID), "SET erasedAs = :p", cond, map[string]string{"#st": "status"}, vals, e)
}

func (r Repo) erase(ctx context.Context, k store.Key, update, cond string, names map[string]string,
	vals map[string]types.AttributeValue, e Erasure) error {
	au, err := audit.Item(e.Audit, e.At)
	if err != nil {
		return err
	}
	return r.S.Transact(ctx, []types.TransactWriteItem{{Update: &types.Update{Key: k.Item(), UpdateExpression: aws.String(update),
		ConditionExpression: aws.String(cond), ExpressionAttributeNames: names, ExpressionAttributeValues: vals}}, au})
}
