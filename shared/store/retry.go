package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
)

// MaxConflictAttempts bounds RetryOnConflict: enough to ride out a burst of writers on one item
// (each retry re-reads), few enough to answer well inside a function's timeout.
const MaxConflictAttempts = 8

// RetryOnConflict runs attempt until it succeeds, fails with something other than a lost race, or
// MaxConflictAttempts are used. A lost race is a failed condition (another writer changed the item
// attempt read: it must re-read and recompute) or a TransactionConflict (a concurrent transaction
// held one of the items, e.g. a shared counter). Between attempts it waits a small jittered delay,
// returning early with ctx's error. When the attempts run out it returns an apperr.Conflict naming
// what was changing.
func RetryOnConflict(ctx context.Context, what string, attempt func() error) error {
	var err error
	for i := 0; i < MaxConflictAttempts; i++ {
		if err = attempt(); err == nil || !(IsConditionFailed(err) || IsTransactionConflict(err)) {
			return err
		}
		d := time.Duration(5+rand.IntN(20*(i+1))) * time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
	return apperr.Wrap(err, apperr.Conflict, "%s is changing concurrently; retry", what)
}

// IsTransactionConflict reports a write refused because another transaction was using one of its
// items (DynamoDB's TransactionConflict), which is worth retrying at once.
func IsTransactionConflict(err error) bool {
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
