package idemtest

import (
	"context"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/idempotency"
)

// The fake keeps the semantics of store.Store's DynamoDB implementation (its integration tests in
// shared/store check the same sequence against moto).
func TestSemantics(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := New(clk)
	h := idempotency.Hash([]byte("body"))
	if prior, err := s.BeginIdempotent(ctx, "fn#u1", "k1", h, 30*time.Second, time.Hour); prior != nil || err != nil {
		t.Fatalf("first claim: %v %v", prior, err)
	}
	if _, err := s.BeginIdempotent(ctx, "fn#u1", "k1", h, 30*time.Second, time.Hour); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("live claim: want conflict, got %v", err)
	}
	if _, err := s.BeginIdempotent(ctx, "fn#u1", "k1", idempotency.Hash([]byte("other")), 30*time.Second, time.Hour); !apperr.Is(err, apperr.Unprocessable) {
		t.Fatalf("other payload: want unprocessable, got %v", err)
	}
	if err := s.CompleteIdempotent(ctx, "fn#u1", "k1", 201, `{"ok":true}`); err != nil {
		t.Fatal(err)
	}
	prior, err := s.BeginIdempotent(ctx, "fn#u1", "k1", h, 30*time.Second, time.Hour)
	if err != nil || prior == nil || prior.StatusCode != 201 || prior.Result != `{"ok":true}` {
		t.Fatalf("replay: %+v %v", prior, err)
	}
	if err := s.ReleaseIdempotent(ctx, "fn#u1", "k1"); err != nil || s.Status("fn#u1", "k1") != idempotency.Completed {
		t.Fatalf("a completed record is never released: %v %q", err, s.Status("fn#u1", "k1"))
	}
	// A claim that outlived its in-progress window may be taken over; released claims at once.
	if prior, err := s.BeginIdempotent(ctx, "fn#u1", "k2", h, 30*time.Second, time.Hour); prior != nil || err != nil {
		t.Fatal(err)
	}
	clk.Advance(31 * time.Second)
	if prior, err := s.BeginIdempotent(ctx, "fn#u1", "k2", h, 30*time.Second, time.Hour); prior != nil || err != nil {
		t.Fatalf("takeover after in-progress window: %v %v", prior, err)
	}
	_ = s.ReleaseIdempotent(ctx, "fn#u1", "k2")
	if prior, err := s.BeginIdempotent(ctx, "fn#u1", "k2", h, 30*time.Second, time.Hour); prior != nil || err != nil {
		t.Fatalf("claim after release: %v %v", prior, err)
	}
	// Completed records expire after their TTL.
	_ = s.CompleteIdempotent(ctx, "fn#u1", "k2", 200, `{}`)
	clk.Advance(2 * time.Hour)
	if prior, err := s.BeginIdempotent(ctx, "fn#u1", "k2", h, 30*time.Second, time.Hour); prior != nil || err != nil {
		t.Fatalf("claim after TTL: %v %v", prior, err)
	}
}
