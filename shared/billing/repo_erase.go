package billing

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/store"
)

// profileErasure is the erasure of a user's billing profile: the address it had and the Stripe
// customer it named when read (the write's condition), and what replaces the address.
type profileErasure struct {
	UserID         string
	ReadEmail      string // "" when the profile had none
	ReadCustomer   string // "" when the profile had none
	Pseudonym      string
	PseudonymEmail string
	Audit          audit.Entry
	At             time.Time
}

// EraseProfile replaces the profile's address with the pseudonym's and marks it erasedAs, with its
// audit record, in one transaction. The profile has no version: the condition is the profile as
// read (still there, not erased, the same address and Stripe customer), so a customer linked after
// the read (a checkout racing the erasure) fails the write, which reads again and deletes that
// customer too. A lost race is a failed condition (store.IsConditionFailed).
func (r dynamoRepo) EraseProfile(ctx context.Context, e profileErasure) error {
	names := map[string]string{"#e": "email", "#c": "stripeCustomerId"}
	vals := map[string]types.AttributeValue{":p": store.S(e.Pseudonym)}
	update := "SET erasedAs = :p"
	cond := "attribute_exists(PK) AND attribute_not_exists(erasedAs)"
	if e.ReadEmail == "" {
		cond += " AND attribute_not_exists(#e)"
	} else {
		update += ", #e = :pe"
		cond += " AND #e = :e"
		vals[":pe"], vals[":e"] = store.S(e.PseudonymEmail), store.S(e.ReadEmail)
	}
	if e.ReadCustomer == "" {
		cond += " AND attribute_not_exists(#c)"
	} else {
		cond += " AND #c = :c"
		vals[":c"] = store.S(e.ReadCustomer)
	}
	au, err := audit.Item(e.Audit, e.At)
	if err != nil {
		return err
	}
	return r.Transact(ctx, []types.TransactWriteItem{{Update: &types.Update{
		Key: store.UserKey(e.UserID).Item(), UpdateExpression: aws.String(update), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
	}}, au})
}
