package marketplace

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/store"
)

func rfc3339(t time.Time) string     { return t.UTC().Format(time.RFC3339) }
func rfc3339Nano(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
func itoa(n int64) string            { return strconv.FormatInt(n, 10) }

// retryable reports a lost race: a failed condition (someone wrote the item we read), or a
// transaction DynamoDB cancelled because another one was working on the same item — both answered by
// reading again and recomputing. Unlike store.RetryOnConflict, a business Conflict (409 "already
// enrolled") is not retried: attempts here return those as answers.
func retryable(err error) bool {
	return store.IsConditionFailed(err) || store.IsTransactionConflict(err)
}

// maxAttempts bounds retryConflicts: more than store.MaxConflictAttempts, because dozens of
// writers may share one item here (50 concurrent reviews of one course's listing), each attempt a
// fresh read.
const maxAttempts = 40

// retryConflicts runs attempt until it succeeds, fails otherwise than by a lost race, or has lost
// maxAttempts times (then a Conflict the caller may retry).
func retryConflicts(ctx context.Context, what string, attempt func() error) error {
	var err error
	for i := 0; i < maxAttempts; i++ {
		if err = attempt(); !retryable(err) {
			return err
		}
		backoff := time.Duration(5*(i+1)) * time.Millisecond
		if backoff > 100*time.Millisecond {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return apperr.Wrap(ctx.Err(), apperr.Unavailable, "%s interrupted", what)
		case <-time.After(backoff):
		}
	}
	return apperr.Wrap(err, apperr.Conflict, "%s: too many concurrent changes; retry", what)
}

func unmarshalList[T any](items []map[string]types.AttributeValue, out *[]T) error {
	if err := attributevalue.UnmarshalListOfMaps(items, out); err != nil {
		return apperr.Wrap(err, apperr.Internal, "decode items")
	}
	return nil
}
