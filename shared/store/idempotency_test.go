package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/tabletest"
)

// A completed operation is never released (its result is replayed, the work is not redone), an
// absent one is no error, and a completed record is claimable again only once it expired.
func TestIdempotencyReleaseAndExpiry(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := newStore(t, clk)
	ctx := context.Background()
	h := idempotency.Hash([]byte("body"))
	if err := s.ReleaseIdempotent(ctx, "fn#u1", "never"); err != nil {
		t.Fatalf("releasing an absent claim: %v", err)
	}
	if _, err := s.BeginIdempotent(ctx, "fn#u1", "k", h, 30*time.Second, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteIdempotent(ctx, "fn#u1", "k", 201, `{"id":1}`); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseIdempotent(ctx, "fn#u1", "k"); err != nil {
		t.Fatalf("releasing a completed record: %v", err)
	}
	if prior, err := s.BeginIdempotent(ctx, "fn#u1", "k", h, 30*time.Second, time.Hour); err != nil || prior == nil || prior.StatusCode != 201 {
		t.Fatalf("after a release of a completed record: %+v %v, want the replay", prior, err)
	}
	if err := s.CompleteIdempotent(ctx, "fn#u1", "never", 200, "{}"); !store.IsConditionFailed(err) {
		t.Fatalf("completing a claim never made: %v", err)
	}
	clk.Advance(time.Hour + time.Second)
	if prior, err := s.BeginIdempotent(ctx, "fn#u1", "k", idempotency.Hash([]byte("other")), 30*time.Second, time.Hour); err != nil || prior != nil {
		t.Fatalf("after the record expired: %+v %v, want a new claim", prior, err)
	}
}

func TestIdempotencyOnADownTable(t *testing.T) {
	down := tabletest.Down(errors.New("timeout"))
	ctx := context.Background()
	if _, err := down.BeginIdempotent(ctx, "s", "k", "h", time.Second, time.Hour); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("begin: %v", err)
	}
	if err := down.ReleaseIdempotent(ctx, "s", "k"); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("release: %v", err)
	}
}
