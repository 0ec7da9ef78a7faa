package store

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/liberation/monetization/shared/apperr"
)

// MaxConflictAttempts bounds RetryOnConflict: past it the caller gets a Conflict (409) to retry.
const MaxConflictAttempts = 6

// RetryOnConflict runs attempt — read, compute, write conditionally — until it succeeds, fails with
// something other than a lost race, or has lost MaxConflictAttempts races. A lost race is a failed
// condition (another writer changed the item since attempt read it) or an apperr.Conflict (a
// concurrent transaction held an item); attempt must re-read everything it computes from, so each
// retry starts from the current state. Between attempts it waits a short jittered back-off, and it
// stops when ctx ends. what names the operation in the errors it returns.
func RetryOnConflict(ctx context.Context, what string, attempt func() error) error {
	var err error
	for i := 0; i < MaxConflictAttempts; i++ {
		if err = attempt(); err == nil || !IsConditionFailed(err) && !apperr.Is(err, apperr.Conflict) {
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
