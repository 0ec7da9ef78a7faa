// Package idemtest is an in-memory idempotency.Store for unit tests of code that claims operations
// (the webhook frame, Idempotency-Key routes, e-mail sends). It keeps the semantics store.Store
// implements in DynamoDB — first claim wins, same hash replays a completed record, another hash is a
// mismatch, a live claim is in progress, release frees a claim — and is checked against them in
// idemtest_test.go. Integration tests use the real store.
package idemtest

import (
	"context"
	"sync"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/idempotency"
)

// Store is the in-memory store. The zero value is not usable; call New.
type Store struct {
	mu    sync.Mutex
	clock clock.Clock
	recs  map[string]idempotency.Record
	// Fail, when set, is returned by the next Begin (fault injection), then cleared.
	Fail error
}

var _ idempotency.Store = (*Store)(nil)

// New returns an empty store on clk (the system clock when nil).
func New(clk clock.Clock) *Store {
	if clk == nil {
		clk = clock.System{}
	}
	return &Store{clock: clk, recs: map[string]idempotency.Record{}}
}

func id(scope, key string) string { return scope + "\x00" + key }

// BeginIdempotent implements idempotency.Store.
func (s *Store) BeginIdempotent(_ context.Context, scope, key, hash string, inProgressFor, ttl time.Duration) (*idempotency.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.Fail; err != nil {
		s.Fail = nil
		return nil, err
	}
	now := s.clock.Now()
	r, ok := s.recs[id(scope, key)]
	expired := ok && (r.ExpiresAt < now.Unix() || r.Status == idempotency.InProgress && r.InProgressUntil < now.UnixMilli())
	if !ok || expired {
		s.recs[id(scope, key)] = idempotency.Record{Status: idempotency.InProgress, PayloadHash: hash,
			InProgressUntil: now.Add(inProgressFor).UnixMilli(), ExpiresAt: now.Add(ttl).Unix()}
		return nil, nil
	}
	if r.PayloadHash != hash {
		return nil, apperr.Wrap(idempotency.ErrMismatch, apperr.Unprocessable, "idempotency key was already used with a different request")
	}
	if r.Status == idempotency.Completed {
		return &r, nil
	}
	return nil, apperr.Wrap(idempotency.ErrInProgress, apperr.Conflict, "a request with this idempotency key is in progress")
}

// CompleteIdempotent implements idempotency.Store.
func (s *Store) CompleteIdempotent(_ context.Context, scope, key string, statusCode int, result string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[id(scope, key)]
	if !ok {
		return apperr.New(apperr.Conflict, "the record changed or already exists")
	}
	r.Status, r.StatusCode, r.Result = idempotency.Completed, statusCode, result
	s.recs[id(scope, key)] = r
	return nil
}

// ReleaseIdempotent implements idempotency.Store.
func (s *Store) ReleaseIdempotent(_ context.Context, scope, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.recs[id(scope, key)]; ok && r.Status == idempotency.InProgress {
		delete(s.recs, id(scope, key))
	}
	return nil
}

// Status returns the state of (scope, key): "" when absent.
func (s *Store) Status(scope, key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recs[id(scope, key)].Status
}
