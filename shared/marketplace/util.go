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

// maxAttempts bounds retryConflicts: more than store.MaxConflictAttempts, because dozens of
// writers may share one item here (50 concurrent reviews of one course's listing), each attempt a
// fresh read.
const maxAttempts = 40

// retryConflicts is store.Retry on write races: a failed condition (someone wrote the item we read)
// or a transaction that held one of the items is answered by reading again and recomputing; a
// business Conflict (409 "already enrolled") is an answer, not a race.
func retryConflicts(ctx context.Context, what string, attempt func() error) error {
	return store.Retry(ctx, what, maxAttempts, store.WriteRace, attempt)
}

func unmarshalList[T any](items []map[string]types.AttributeValue, out *[]T) error {
	if err := attributevalue.UnmarshalListOfMaps(items, out); err != nil {
		return apperr.Wrap(err, apperr.Internal, "decode items")
	}
	return nil
}
