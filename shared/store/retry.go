package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// IsTxConflict reports a transaction refused because another transaction was using one of its items
// (DynamoDB's TransactionConflict): worth retrying at once. (billing keeps its own copy.)
func IsTxConflict(err error) bool {
	if err == nil {
		return false
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

// LostRace reports a write that lost a race: a condition on data read before it, or another
// transaction holding an item. Read again, recompute, retry.
func LostRace(err error) bool { return IsConditionFailed(err) || IsTxConflict(err) }

// Backoff waits a little before retry number attempt (jittered, growing), or until ctx ends.
func Backoff(ctx context.Context, attempt int) error {
	d := time.Duration(5+rand.IntN(20*(attempt+1))) * time.Millisecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
