package marketplace

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/store"
)

func rfc3339(t time.Time) string     { return t.UTC().Format(time.RFC3339) }
func rfc3339Nano(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
func itoa(n int64) string            { return strconv.FormatInt(n, 10) }

// retryable reports a lost race: a failed condition (someone wrote the item we read), or a
// transaction DynamoDB cancelled because another one was working on the same item
// (TransactionConflict) — both are answered by reading again and recomputing.
func retryable(err error) bool {
	if err == nil {
		return false
	}
	if store.IsConditionFailed(err) {
		return true
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "TransactionConflict" {
				return true
			}
		}
	}
	var tc *types.TransactionConflictException
	return errors.As(err, &tc)
}

// maxAttempts bounds retryConflicts: enough for dozens of writers on one item (50 concurrent
// reviews of one course), each attempt a fresh read.
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
