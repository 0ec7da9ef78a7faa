package localtest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/store"
)

// AuditCount counts the audit records of day with the given action (one Query on the day's
// partition), so tests can check that an action was audited exactly once.
func AuditCount(t testing.TB, s *store.Store, day time.Time, action string) int {
	t.Helper()
	items, err := store.QueryAll[audit.Record](context.Background(), s, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.AuditKey(day, "x").PK)},
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range items {
		if it.Action == action {
			n++
		}
	}
	return n
}
