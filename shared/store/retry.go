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

// MaxConflictAttempts bounds RetryOnConflict: past it the caller gets a Conflict (409) to retry.
const MaxConflictAttempts = 6

// RetryOnConflict runs attempt — read, compute, write conditionally — until it succeeds, fails with
// something other than a lost race, or has lost MaxConflictAttempts races. A lost race is a failed
// condition (another writer changed the item since attempt read it), a TransactionConflict (a
// concurrent transaction held one of the items, e.g. a shared metrics counter; DynamoDB reports it
// as a cancellation reason, which the store maps to Unavailable) or an apperr.Conflict; attempt must
// re-read everything it computes from, so each retry starts from the current state. Between attempts
// it waits a short jittered back-off, and it stops when ctx ends. what names the operation in the
// errors it returns.
func RetryOnConflict(ctx context.Context, what string, attempt func() error) error {
	var err error
	for i := 0; i < MaxConflictAttempts; i++ {
		if err = attempt(); err == nil || !LostRace(err) {
			return err
		}
		if i == MaxConflictAttempts-1 {
			break
		}
		// Jitter spreads writers that lost the same race so they do not collide again.
		wait := time.Duration(5+rand.IntN(10*(i+1))) * time.Millisecond
		select {
		case <-ctx.Done():
			return apperr.Wrap(ctx.Err(), apperr.Unavailable, "%s interrupted", what)
		case <-time.After(wait):
		}
	}
	return apperr.Wrap(err, apperr.Conflict, "%s: too many concurrent changes; retry", what)
}

// LostRace reports a write that lost a race: a failed condition on data read before it, another
// transaction holding an item, or an apperr.Conflict. Read again, recompute, retry.
func LostRace(err error) bool {
	return IsConditionFailed(err) || IsTransactionConflict(err) || apperr.Is(err, apperr.Conflict)
}

// IsTransactionConflict reports a write refused because another transaction was using one of its
// items (DynamoDB's TransactionConflict, as an exception or as a cancellation reason).
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

// Backoff waits a little before retry number attempt (jittered, growing), or until ctx ends: for
// loops that cannot use RetryOnConflict (they decide per attempt whether to retry).
func Backoff(ctx context.Context, attempt int) error {
	d := time.Duration(5+rand.IntN(20*(attempt+1))) * time.Millisecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
