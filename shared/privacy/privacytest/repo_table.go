package privacytest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

// The one DynamoDB input of the test helpers (a repository file: docs/decisions/0075).

// Table reads every item of the table as JSON (privacy.Row: numbers exact), by "PK|SK". A Scan:
// the in-process table's and the SDK's clients have one; tests only.
func Table(t testing.TB, s *store.Store) map[string]string {
	t.Helper()
	db, ok := s.DB.(interface {
		Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	})
	if !ok {
		t.Fatalf("the table client %T cannot scan", s.DB)
	}
	out := map[string]string{}
	in := &dynamodb.ScanInput{TableName: &s.Table}
	for {
		res, err := db.Scan(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			row := privacy.Row(it)
			raw, err := json.Marshal(row)
			if err != nil {
				t.Fatal(err)
			}
			out[privacy.Str(row, "PK")+"|"+privacy.Str(row, "SK")] = string(raw)
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
