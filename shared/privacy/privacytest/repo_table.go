package privacytest

// The one DynamoDB input of the test helpers (a repository file: docs/decisions/0075).

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

// Items reads every item of the table as stored, by "PK|SK": a consistent Scan, which the
// in-process table's and the SDK's clients have; tests only (snapshots, copies, invariants).
func Items(t testing.TB, s *store.Store) map[string]map[string]types.AttributeValue {
	t.Helper()
	db, ok := s.DB.(interface {
		Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	})
	if !ok {
		t.Fatalf("the table client %T cannot scan", s.DB)
	}
	out := map[string]map[string]types.AttributeValue{}
	in := &dynamodb.ScanInput{TableName: &s.Table, ConsistentRead: aws.Bool(true)}
	for {
		res, err := db.Scan(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			row := privacy.Row(it)
			out[privacy.Str(row, "PK")+"|"+privacy.Str(row, "SK")] = it
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// Table reads every item of the table as JSON (privacy.Row: numbers exact), by "PK|SK".
func Table(t testing.TB, s *store.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, it := range Items(t, s) {
		raw, err := json.Marshal(privacy.Row(it))
		if err != nil {
			t.Fatal(err)
		}
		out[k] = string(raw)
	}
	return out
}
