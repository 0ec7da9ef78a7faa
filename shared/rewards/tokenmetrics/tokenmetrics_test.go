package tokenmetrics

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
)

// askedSource answers fixed items and records the day range it was asked for.
type askedSource struct {
	days, gauges      []Counters
	daysErr, gaugeErr error
	from, to          string
}

func (s *askedSource) DayCounters(_ context.Context, from, to string) ([]Counters, error) {
	s.from, s.to = from, to
	return s.days, s.daysErr
}

func (s *askedSource) Gauges(context.Context) ([]Counters, error) { return s.gauges, s.gaugeErr }

func TestReadFromSumsTheDaysAndTheGauges(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 23, 30, 0, 0, time.FixedZone("UTC-5", -5*3600)) // 2026-03-11 04:30 UTC
	src := &askedSource{
		days: []Counters{{Issued: 10, Redeemed: 3, Deducted: 1, PendingEarned: 50, PendingCancelled: 5, HeldNew: 7},
			{Issued: 2, HeldNew: 1, Outstanding: 999 /* not a day counter */}},
		gauges: []Counters{{Outstanding: 40, Held: 8, Pending: 45}, {Outstanding: 2, Held: 2}},
	}
	m, err := ReadFrom(ctx, src, now, 7)
	if err != nil {
		t.Fatal(err)
	}
	want := Metrics{From: "2026-03-05", To: "2026-03-11", Issued: 12, Redeemed: 3, Deducted: 1, PendingEarned: 50,
		PendingCancelled: 5, Held: 8, Outstanding: 42, OutstandingHeld: 10, OutstandingAvail: 32, PendingNow: 45}
	if m != want {
		t.Fatalf("metrics %+v\nwant    %+v", m, want)
	}
	if src.from != "2026-03-05" || src.to != "2026-03-11" {
		t.Fatalf("asked for %s..%s", src.from, src.to)
	}
	if m, _ := ReadFrom(ctx, &askedSource{}, now, 1); m.From != "2026-03-11" || m.To != "2026-03-11" || m != (Metrics{From: m.From, To: m.To}) {
		t.Fatalf("one day, nothing counted: %+v", m)
	}
}

func TestReadFromRefusesWhatItCannotSum(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)
	down := apperr.New(apperr.Unavailable, "down")
	if _, err := ReadFrom(ctx, &askedSource{daysErr: down}, now, 30); !errors.Is(err, down) {
		t.Fatalf("days unreadable: %v", err)
	}
	if _, err := ReadFrom(ctx, &askedSource{gaugeErr: down}, now, 30); !errors.Is(err, down) {
		t.Fatalf("gauges unreadable: %v", err)
	}
	// More gauge items than shards: something else is under the gauges' key.
	many := make([]Counters, leaderboard.Shards+1)
	if _, err := ReadFrom(ctx, &askedSource{gauges: many}, now, 30); !apperr.Is(err, apperr.Internal) {
		t.Fatalf("%d gauge items: %v", len(many), err)
	}
	if _, err := ReadFrom(ctx, &askedSource{gauges: many[:leaderboard.Shards]}, now, 30); err != nil {
		t.Fatalf("one item per shard: %v", err)
	}
}
