package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/store"
)

// The per-user window counter (decision 0077): limit requests per window, then refused until the
// window ends; a refusal writes nothing; users, functions and windows count apart; the item expires
// by TTL after its window.
func TestTakeRequest(t *testing.T) {
	s := newStore(t, nil)
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 10, 30, 15, 0, time.UTC)
	take := func(fn, user string, at time.Time) (bool, time.Time) {
		t.Helper()
		ok, resets, err := s.TakeRequest(ctx, fn, user, time.Minute, 3, at)
		if err != nil {
			t.Fatal(err)
		}
		return ok, resets
	}
	for i := range 3 {
		if ok, resets := take("join-class", "ana", now.Add(time.Duration(i)*time.Second)); !ok || !resets.Equal(now.Truncate(time.Minute).Add(time.Minute)) {
			t.Fatalf("request %d: ok=%v resets %v", i+1, ok, resets)
		}
	}
	for i := range 5 {
		if ok, resets := take("join-class", "ana", now.Add(30*time.Second)); ok || !resets.Equal(time.Date(2026, 12, 6, 10, 31, 0, 0, time.UTC)) {
			t.Fatalf("request %d over the limit: ok=%v resets %v", 4+i, ok, resets)
		}
	}
	var item struct {
		N         int64 `dynamodbav:"n"`
		ExpiresAt int64 `dynamodbav:"expiresAt"`
	}
	if err := s.GetConsistent(ctx, store.RateLimitKey("join-class", "ana", time.Minute, now.Truncate(time.Minute)), &item); err != nil {
		t.Fatal(err)
	}
	if item.N != 3 || item.ExpiresAt != time.Date(2026, 12, 6, 10, 32, 0, 0, time.UTC).Unix() {
		t.Fatalf("window item %+v: want n=3 (refusals write nothing), TTL a minute after the window", item)
	}
	if ok, _ := take("join-class", "bob", now); !ok {
		t.Fatal("another user shares ana's window")
	}
	if ok, _ := take("join-license", "ana", now); !ok {
		t.Fatal("another function shares join-class's window")
	}
	if ok, _ := take("join-class", "ana", now.Add(44*time.Second)); ok { // 10:30:59
		t.Fatal("the full window let a request through before it ended")
	}
	if ok, _ := take("join-class", "ana", now.Add(45*time.Second)); !ok { // 10:31:00
		t.Fatal("the next window refused the first request")
	}
}
