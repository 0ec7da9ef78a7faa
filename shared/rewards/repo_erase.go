package rewards

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/rewards/leaderboard"
	"github.com/liberation/monetization/shared/store"
)

// The erasure's own writes (privacy_erase.go): DynamoDB inputs live in repository files only. Each
// is one transaction conditioned on what the eraser read, and reports changed false (nothing
// written) when its condition fails — the record was erased already, is gone, or changed under us
// (a re-run of the step reads it again).

var _ eraseWrites = (*dynamoRepo)(nil)

// TagEntry ties a ledger entry to the pseudonym. Entries are append-only (never rewritten), so
// "not tagged yet" is the whole condition.
func (r *dynamoRepo) TagEntry(ctx context.Context, userID string, seq int64, pseudonym string) (bool, error) {
	return changed(r.s.Transact(ctx, []types.TransactWriteItem{{Update: &types.Update{
		Key:                       store.TokenEntryKey(userID, seq).Item(),
		UpdateExpression:          aws.String("SET erasedAs = :p"),
		ConditionExpression:       aws.String("attribute_exists(PK) AND attribute_not_exists(erasedAs)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": store.S(pseudonym)},
	}}}))
}

// TagGuard ties an earning guard to the pseudonym over the version read (guards written before
// versions have none: they get version 1), so a concurrent guard write is never lost.
func (r *dynamoRepo) TagGuard(ctx context.Context, userID, rule, sourceID string, version int64, pseudonym string) (bool, error) {
	upd := &types.Update{
		Key:                       store.TokenEarnKey(userID, rule, sourceID).Item(),
		UpdateExpression:          aws.String("SET erasedAs = :p, version = :next"),
		ConditionExpression:       aws.String("attribute_exists(PK) AND attribute_not_exists(erasedAs) AND version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": store.S(pseudonym), ":v": store.N(version), ":next": store.N(version + 1)},
	}
	if version == 0 {
		upd.ConditionExpression = aws.String("attribute_exists(PK) AND attribute_not_exists(erasedAs) AND attribute_not_exists(version)")
		delete(upd.ExpressionAttributeValues, ":v")
	}
	return changed(r.s.Transact(ctx, []types.TransactWriteItem{{Update: upd}}))
}

// DropScore deletes a score item as read (score, and whether it was on the global board) and, when
// it was on the board, takes it out of its shard's histogram in the same transaction, so the
// percentiles of the others stay right.
func (r *dynamoRepo) DropScore(ctx context.Context, sc scoreRead) (bool, error) {
	del := &types.Delete{
		Key:                       store.LeaderboardScoreKey(sc.UserID, sc.Board).Item(),
		ConditionExpression:       aws.String("attribute_exists(PK) AND score = :s AND attribute_not_exists(GSI2PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": store.N(sc.Score)},
	}
	items := []types.TransactWriteItem{{Delete: del}}
	if sc.OnBoard {
		del.ConditionExpression = aws.String("attribute_exists(PK) AND score = :s AND GSI2PK = :g")
		del.ExpressionAttributeValues[":g"] = store.S(sc.GSI2PK)
		if b := leaderboard.Bucket(sc.Score); b >= 0 {
			items = store.Append(items, store.AddCounters(
				store.LeaderboardHistogramKey(GlobalScope, sc.Board, leaderboard.ShardOf(sc.UserID)),
				map[string]int64{leaderboard.BucketAttr(b): -1}))
		}
	}
	return changed(r.s.Transact(ctx, items))
}

// DropCap deletes a day's earnings counter as read.
func (r *dynamoRepo) DropCap(ctx context.Context, k store.Key, earned int64) (bool, error) {
	return changed(r.s.Transact(ctx, []types.TransactWriteItem{{Delete: &types.Delete{
		Key:                       k.Item(),
		ConditionExpression:       aws.String("attribute_exists(PK) AND earned = :e"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": store.N(earned)},
	}}}))
}

// DropFollowCount deletes the count of whom a user follows, if it is still what was read
// (present false: the item had no count).
func (r *dynamoRepo) DropFollowCount(ctx context.Context, userID string, following int64, present bool) (bool, error) {
	del := &types.Delete{
		Key:                 store.FollowCountKey(userID).Item(),
		ConditionExpression: aws.String("attribute_exists(PK) AND attribute_not_exists(following)"),
	}
	if present {
		del.ConditionExpression = aws.String("attribute_exists(PK) AND following = :n")
		del.ExpressionAttributeValues = map[string]types.AttributeValue{":n": store.N(following)}
	}
	return changed(r.s.Transact(ctx, []types.TransactWriteItem{{Delete: del}}))
}

// changed turns a transaction's result into (changed, err): a failed condition is no change.
func changed(err error) (bool, error) {
	if store.IsConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}
