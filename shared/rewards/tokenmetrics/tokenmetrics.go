// Package tokenmetrics reads the token programme's metrics: what was issued and redeemed over a
// period, and what the programme owes now (the liability). A small package with no Stripe
// dependency, so GET /admin/metrics (billing) can include a tokens section by importing it, as it
// does the marketplace's (docs/decisions/0061). The counters are written by shared/rewards, in the
// transaction of each ledger entry (store.TokenMetricsDayKey, store.TokenMetricsCurrentKey).
package tokenmetrics

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
	"github.com/liberation/monetization/shared/store"
)

// Metrics is what the programme issued and redeemed over a period, and what it owes now (the
// liability: tokens owned and not yet spent).
type Metrics struct {
	From             string `json:"from"` // first UTC day counted
	To               string `json:"to"`   // last UTC day counted (today)
	Issued           int64  `json:"issued"`
	Redeemed         int64  `json:"redeemed"`
	Deducted         int64  `json:"deducted"`
	PendingEarned    int64  `json:"pendingEarned"`
	PendingCancelled int64  `json:"pendingCancelled"`
	Held             int64  `json:"heldForNewRedemptions"`
	Outstanding      int64  `json:"outstanding"` // Σ balances now
	OutstandingHeld  int64  `json:"outstandingHeld"`
	OutstandingAvail int64  `json:"outstandingAvailable"`
	PendingNow       int64  `json:"pendingNow"`
}

// Counters is a token counter item as read (absent counters read as zero): a day's counters or a
// shard's gauges. Its attributes are the counter names shared/rewards writes.
type Counters struct {
	Issued           int64 `dynamodbav:"issued"`
	Redeemed         int64 `dynamodbav:"redeemed"`
	Deducted         int64 `dynamodbav:"deducted"`
	PendingEarned    int64 `dynamodbav:"pendingEarned"`
	PendingCancelled int64 `dynamodbav:"pendingCancelled"`
	HeldNew          int64 `dynamodbav:"heldNew"`
	Outstanding      int64 `dynamodbav:"outstanding"`
	Held             int64 `dynamodbav:"held"`
	Pending          int64 `dynamodbav:"pending"`
}

// Read sums the counters of the last days UTC days up to now (today included) and the gauges of
// every shard, from the table: two Queries of at most Shards × (days + 1) small items.
func Read(ctx context.Context, st *store.Store, now time.Time, days int) (Metrics, error) {
	return ReadFrom(ctx, NewSource(st), now, days)
}

// ReadFrom is Read on any Source.
func ReadFrom(ctx context.Context, src Source, now time.Time, days int) (Metrics, error) {
	from := now.AddDate(0, 0, -(days - 1))
	out := Metrics{From: day(from), To: day(now)}
	daysItems, err := src.DayCounters(ctx, out.From, out.To)
	if err != nil {
		return out, err
	}
	for _, it := range daysItems {
		out.Issued += it.Issued
		out.Redeemed += it.Redeemed
		out.Deducted += it.Deducted
		out.PendingEarned += it.PendingEarned
		out.PendingCancelled += it.PendingCancelled
		out.Held += it.HeldNew
	}
	gauges, err := src.Gauges(ctx)
	if err != nil {
		return out, err
	}
	if len(gauges) > leaderboard.Shards {
		return out, apperr.New(apperr.Internal, "%d gauge items for %d shards", len(gauges), leaderboard.Shards)
	}
	for _, it := range gauges {
		out.Outstanding += it.Outstanding
		out.OutstandingHeld += it.Held
		out.PendingNow += it.Pending
	}
	out.OutstandingAvail = out.Outstanding - out.OutstandingHeld
	return out, nil
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }
