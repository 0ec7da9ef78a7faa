package mktmetrics

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/store"
)

// dynamoCounters reads the marketplace's counters on the single table: the only file of the
// package that builds DynamoDB inputs. The counters are written by the marketplace's transactions
// (store.AddCounters on the keys below); keys come from shared/store/keys.go, no index.
type dynamoCounters struct{ s *store.Store }

var _ counters = dynamoCounters{}

func (r dynamoCounters) Gauges(ctx context.Context) (map[string]int64, error) {
	cur, err := r.s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &r.s.Table, Key: store.MarketplaceMetricsCurrentKey().Item()})
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "read failed")
	}
	return store.Numbers(cur.Item), nil
}

func (r dynamoCounters) Days(ctx context.Context, from, to time.Time) ([]map[string]int64, error) {
	in := &dynamodb.QueryInput{
		TableName:              &r.s.Table,
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   store.S(store.MarketplaceMetricsCurrentKey().PK),
			":from": store.S(store.MarketplaceMetricsDayKey(from).SK), ":to": store.S(store.MarketplaceMetricsDayKey(to).SK),
		},
	}
	var days []map[string]int64
	p := dynamodb.NewQueryPaginator(r.s.DB, in)
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Unavailable, "query failed")
		}
		for _, it := range res.Items {
			days = append(days, store.Numbers(it))
		}
	}
	return days, nil
}
