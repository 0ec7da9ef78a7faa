package support

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/store"
)

// The erasure's own writes (privacy_erase.go): DynamoDB inputs live in repository files only. Each
// is one transaction conditioned on what the eraser read; a failed condition is no change (the
// record was erased already, is gone, or changed: the step reads it again when re-run).

var _ eraseWrites = (*dynamoRepo)(nil)

// EraseMessage replaces a message's body, if it is still the body read, by privacy.ErasedText.
func (r *dynamoRepo) EraseMessage(ctx context.Context, k store.Key, read, erased string) (bool, error) {
	return changed(r.Transact(ctx, []types.TransactWriteItem{{Update: &types.Update{
		Key:                       k.Item(),
		UpdateExpression:          aws.String("SET body = :erased"),
		ConditionExpression:       aws.String("attribute_exists(PK) AND body = :read"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":erased": store.S(erased), ":read": store.S(read)},
	}}}))
}

// DropAgent deletes an agent's profile, if its address is still the one read.
func (r *dynamoRepo) DropAgent(ctx context.Context, userID, email string) (bool, error) {
	return changed(r.Transact(ctx, []types.TransactWriteItem{{Delete: &types.Delete{
		Key:                       store.SupportAgentKey(userID).Item(),
		ConditionExpression:       aws.String("attribute_exists(PK) AND email = :e"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": store.S(email)},
	}}}))
}

// changed turns a transaction's result into (changed, err): a failed condition is no change.
func changed(err error) (bool, error) {
	if store.IsConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}
