package billing

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/support/slametrics"
)

// The daily snapshots' reads (GET /admin/metrics/history) and support's SLA counters (the metrics'
// support section), over the table.

var _ snapshotHistory = dynamoRepo{}

// Snapshots implements snapshotHistory: one Query of the SNAPSHOT partition with SK between the two
// days, oldest first. The cursor's scope names the range, so a cursor is refused (400) for any
// other range — DynamoDB would refuse a start key outside the key condition anyway.
func (r dynamoRepo) Snapshots(ctx context.Context, from, to string, limit int32, cursor string) (store.Page[Snapshot], error) {
	return store.QueryPage[Snapshot](ctx, r.Store, "metrics-history#"+from+"#"+to, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(store.SnapshotKey(time.Time{}).PK), ":from": store.S(from), ":to": store.S(to),
		},
		ScanIndexForward: aws.Bool(true),
	}, limit, cursor)
}

// SLA implements metricsReader: support's own reader of its SLA day items (one bounded Query) and
// its totals (slametrics: the rows of GET /admin/support/sla added up).
func (r dynamoRepo) SLA(ctx context.Context, from, to time.Time) (slametrics.Counts, error) {
	return slametrics.ReadTotals(ctx, r.Store, from, to)
}

// WriteSnapshot writes a day's snapshot unless that day has one (the first write wins, as the
// billing-cycle job's): the seed's demo history and the end-to-end tests write past days with it.
func WriteSnapshot(ctx context.Context, s *store.Store, snap Snapshot) (written bool, err error) {
	return dynamoRepo{s}.PutSnapshot(ctx, snap)
}
