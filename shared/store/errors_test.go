package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/tabletest"
)

func cancelled(codes ...string) error {
	e := &types.TransactionCanceledException{}
	for _, c := range codes {
		e.CancellationReasons = append(e.CancellationReasons, types.CancellationReason{Code: aws.String(c)})
	}
	return e
}

// What a failed write means to the caller: a lost race (Conflict, a failed condition, with the
// transaction's failed items), a race to retry (Conflict), or the table being unavailable.
func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		code      apperr.Code
		condition bool
		failed    []int
	}{
		{"ConditionalCheckFailed", &types.ConditionalCheckFailedException{}, apperr.Conflict, true, nil},
		{"TransactionConditionFailed", cancelled("None", "ConditionalCheckFailed", "", "ConditionalCheckFailed"), apperr.Conflict, true, []int{1, 3}},
		{"TransactionThrottled", cancelled("ConditionalCheckFailed", "ThrottlingError"), apperr.Unavailable, false, nil},
		{"TransactionConflictReason", cancelled("None", "TransactionConflict"), apperr.Unavailable, false, nil},
		{"TransactionCancelledForNothing", cancelled("None"), apperr.Unavailable, false, nil},
		{"TransactionConflict", &types.TransactionConflictException{}, apperr.Conflict, false, nil},
		{"Throttled", &types.ProvisionedThroughputExceededException{}, apperr.Unavailable, false, nil},
		{"Network", errors.New("connection reset"), apperr.Unavailable, false, nil},
	}
	item := store.Key{PK: "A", SK: "1"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tabletest.Down(tt.err)
			ctx := context.Background()
			for call, err := range map[string]error{
				"Put":      s.Put(ctx, item, "attribute_not_exists(PK)", nil, nil),
				"Update":   s.Update(ctx, &dynamodb.UpdateItemInput{Key: item.Item(), UpdateExpression: aws.String("SET v = :v")}, nil),
				"Transact": s.Transact(ctx, []types.TransactWriteItem{{ConditionCheck: &types.ConditionCheck{Key: item.Item()}}}),
			} {
				if apperr.CodeOf(err) != tt.code || store.IsConditionFailed(err) != tt.condition {
					t.Errorf("%s: %v (code %s, condition %v), want %s, %v", call, err, apperr.CodeOf(err), store.IsConditionFailed(err), tt.code, tt.condition)
				}
				if got := store.FailedItems(err); len(got) != len(tt.failed) || len(got) > 0 && (got[0] != tt.failed[0] || got[1] != tt.failed[1]) {
					t.Errorf("%s: failed items %v, want %v", call, got, tt.failed)
				}
			}
		})
	}
	var tx *store.TxError
	err := tabletest.Down(cancelled("ConditionalCheckFailed")).Transact(context.Background(),
		[]types.TransactWriteItem{{Delete: &types.Delete{Key: item.Item()}}})
	if !errors.As(err, &tx) || !strings.Contains(tx.Error(), "failed items [0]") {
		t.Fatalf("transaction error %v", err)
	}
}

// Reads fail as Unavailable when DynamoDB does, and as Internal when an item cannot be decoded.
func TestReadErrors(t *testing.T) {
	ctx := context.Background()
	down := tabletest.Down(errors.New("timeout"))
	var out item
	if err := down.Get(ctx, store.Key{PK: "A", SK: "1"}, &out); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("Get: %v", err)
	}
	if err := down.GetConsistent(ctx, store.Key{PK: "A", SK: "1"}, &out); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("GetConsistent: %v", err)
	}
	if _, err := store.QueryIndexOne[item](ctx, down, manifest.GSI1, "X", "Y", "none"); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("QueryIndexOne: %v", err)
	}
	if _, err := store.QueryPage[item](ctx, down, "s", &dynamodb.QueryInput{}, 10, ""); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("QueryPage: %v", err)
	}
	if _, err := store.QueryAll[item](ctx, down, &dynamodb.QueryInput{}); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("QueryAll: %v", err)
	}

	s := newStore(t, nil)
	if err := s.Put(ctx, map[string]any{"PK": "B", "SK": "1", "value": "not a number"}, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Get(ctx, store.Key{PK: "B", SK: "1"}, &out); !apperr.Is(err, apperr.Internal) {
		t.Fatalf("an item of another shape: %v", err)
	}
}

// Update returns the item as written when asked; every kind of transaction item lands on the table.
func TestUpdateAndTransactItems(t *testing.T) {
	s := newStore(t, nil)
	ctx := context.Background()
	var got item
	if err := s.Update(ctx, &dynamodb.UpdateItemInput{Key: store.Key{PK: "C", SK: "1"}.Item(),
		UpdateExpression: aws.String("ADD #v :d"), ExpressionAttributeNames: map[string]string{"#v": "value"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": store.N(7)}}, &got); err != nil || got.Value != 7 || got.PK != "C" {
		t.Fatalf("update: %+v %v", got, err)
	}
	for _, sk := range []string{"2", "3"} {
		if err := s.Put(ctx, item{PK: "C", SK: sk, Value: 1}, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	err := s.Transact(ctx, []types.TransactWriteItem{
		{Update: &types.Update{Key: store.Key{PK: "C", SK: "1"}.Item(), UpdateExpression: aws.String("ADD #v :d"),
			ExpressionAttributeNames: map[string]string{"#v": "value"}, ExpressionAttributeValues: map[string]types.AttributeValue{":d": store.N(1)}}},
		{Delete: &types.Delete{Key: store.Key{PK: "C", SK: "2"}.Item()}},
		{ConditionCheck: &types.ConditionCheck{Key: store.Key{PK: "C", SK: "3"}.Item(), ConditionExpression: aws.String("attribute_exists(PK)")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Get(ctx, store.Key{PK: "C", SK: "1"}, &got); err != nil || got.Value != 8 {
		t.Fatalf("after the transaction: %+v %v", got, err)
	}
	if err := s.Get(ctx, store.Key{PK: "C", SK: "2"}, &got); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("deleted item: %v", err)
	}
	if err := s.Transact(ctx, nil); err != nil {
		t.Fatalf("an empty transaction: %v", err)
	}
	// A versioned write: a create needs a free key, a replace the version read.
	v1, _ := store.PutVersioned(versioned{PK: "D", SK: "1", Version: 1}, 0)
	v2, _ := store.PutVersioned(versioned{PK: "D", SK: "1", Version: 2}, 1)
	for i, step := range []struct {
		it   types.TransactWriteItem
		lost bool
	}{{v1, false}, {v1, true}, {v2, false}, {v2, true}} {
		if err := s.Transact(ctx, []types.TransactWriteItem{step.it}); store.IsConditionFailed(err) != step.lost || (!step.lost && err != nil) {
			t.Fatalf("step %d: %v, want lost=%v", i, err, step.lost)
		}
	}
}

type versioned struct {
	PK      string `dynamodbav:"PK"`
	SK      string `dynamodbav:"SK"`
	Version int64  `dynamodbav:"version"`
}
