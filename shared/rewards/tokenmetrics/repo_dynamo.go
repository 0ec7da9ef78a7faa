package tokenmetrics

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/store"
)

// dynamoSource reads the counters from the single table: two Queries of the base table (no
// index), keys from shared/store/keys.go (store.TokenMetricsDayKey, store.TokenMetricsCurrentKey).
type dynamoSource struct{ s *store.Store }

var _ Source = dynamoSource{}

// NewSource is the Source over the table.
func NewSource(s *store.Store) Source { return dynamoSource{s: s} }

func (r dynamoSource) DayCounters(ctx context.Context, from, to string) ([]Counters, error) {
	// SK is "<day>#<shard>": "~" sorts after every shard of the last day.
	return store.QueryAll[Counters](ctx, r.s, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(store.TokenMetricsDayPartition), ":from": store.S(from), ":to": store.S(to + "~"),
		},
	})
}

func (r dynamoSource) Gauges(ctx context.Context) ([]Counters, error) {
	return store.QueryAll[Counters](ctx, r.s, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.TokenMetricsCurrentPartition)},
		ConsistentRead:            aws.Bool(true),
	})
}
