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
// re-read everything it computes from, so each retry starts from the current state. what names the
// operation in the errors it returns.
func RetryOnConflict(ctx context.Context, what string, attempt func() error) error {
	return Retry(ctx, what, MaxConflictAttempts, LostRace, attempt)
}

// Retry is the one retry loop of the code base: attempt runs until it succeeds, fails with an error
// retryable does not accept, or has failed attempts times (then an apperr.Conflict the client may
// retry). Between attempts it waits Backoff; it stops when ctx ends. Areas pick the predicate: LostRace
// (a business Conflict is retried too) or WriteRace (a business Conflict such as "already enrolled"
// is an answer, not a race), and the bound (more where dozens of writers share one item).
func Retry(ctx context.Context, what string, attempts int, retryable func(error) bool, attempt func() error) error {
	var err error
	for i := 0; i < attempts; i++ {
		if err = attempt(); err == nil || !retryable(err) {
			return err
		}
		if i == attempts-1 {
			break
		}
		if werr := Backoff(ctx, i); werr != nil {
			return apperr.Wrap(werr, apperr.Unavailable, "%s interrupted", what)
		}
	}
	return apperr.Wrap(err, apperr.Conflict, "%s: too many concurrent changes; retry", what)
}

// WriteRace reports a write that lost a race on the items themselves: a failed condition or another
// transaction holding an item. Unlike LostRace, a business apperr.Conflict is not one.
func WriteRace(err error) bool { return IsConditionFailed(err) || IsTransactionConflict(err) }

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

// Backoff waits a little before retry number attempt, or until ctx ends: 5 ms plus a jitter that grows
// with the attempt, capped at 100 ms (jitter spreads writers that lost the same race so they do not
// collide again). The one back-off formula; loops that decide per attempt whether to retry call it.
func Backoff(ctx context.Context, attempt int) error {
	d := min(time.Duration(5+rand.IntN(20*(attempt+1)))*time.Millisecond, 100*time.Millisecond)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
