package rewards

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
	"github.com/liberation/monetization/shared/store"
)

// TokenMetrics is GET /admin/tokens/metrics: what the programme issued and redeemed over the
// period, and what it owes now (the liability: tokens owned and not yet spent).
type TokenMetrics struct {
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

// metricsItem is a token counter item (absent counters read as zero).
type metricsItem struct {
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

// ReadTokenMetrics sums the counters of the days from..to and the gauges of every shard: two
// Queries of at most Shards × (days + 1) small items.
func (d *Deps) ReadTokenMetrics(ctx context.Context, days int) (TokenMetrics, error) {
	now := d.Clock.Now()
	from := now.AddDate(0, 0, -(days - 1))
	out := TokenMetrics{From: Day(from), To: Day(now)}
	daysItems, err := store.QueryAll[metricsItem](ctx, d.Store, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(store.TokenMetricsDayPartition), ":from": store.S(out.From), ":to": store.S(out.To + "~"),
		},
	})
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
	gauges, err := store.QueryAll[metricsItem](ctx, d.Store, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.TokenMetricsCurrentPartition)},
		ConsistentRead:            aws.Bool(true),
	})
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

// HandleGetTokenMetrics serves GET /admin/tokens/metrics?days=1..90 (default 30).
func HandleGetTokenMetrics(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		days := 30
		if s, present := r.Event.QueryStringParameters["days"]; present {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 90 {
				return httpapi.Response{}, apperr.New(apperr.Invalid, "days must be an integer from 1 to 90")
			}
			days = n
		}
		m, err := d.ReadTokenMetrics(ctx, days)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(m), nil
	})
}

func weekOf(t time.Time) string { return leaderboard.WeekID(t) }
