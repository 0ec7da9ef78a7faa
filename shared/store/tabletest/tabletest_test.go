package tabletest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/tabletest"
)

// Each case is a place minidyn v0.8.2 answers differently from DynamoDB (and moto); the client
// must answer as DynamoDB does.

type row struct {
	PK     string            `dynamodbav:"PK"`
	SK     string            `dynamodbav:"SK"`
	GSI2PK string            `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK string            `dynamodbav:"GSI2SK,omitempty"`
	N      int64             `dynamodbav:"n"`
	Tags   map[string]string `dynamodbav:"tags"`
}

func open(t *testing.T, s *store.Store, pk string) []row {
	t.Helper()
	rows, err := store.QueryAll[row](context.Background(), s, &dynamodb.QueryInput{
		IndexName:                 aws.String(manifest.GSI2.Name),
		KeyConditionExpression:    aws.String("GSI2PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func update(t *testing.T, s *store.Store, key store.Key, expr string, values map[string]types.AttributeValue) {
	t.Helper()
	in := &dynamodb.UpdateItemInput{TableName: aws.String(s.Table), Key: key.Item(), UpdateExpression: aws.String(expr),
		ExpressionAttributeValues: values}
	if _, err := s.DB.UpdateItem(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func TestSparseIndexFollowsUpdates(t *testing.T) {
	s := tabletest.New(t, nil)
	ctx := context.Background()
	for _, r := range []row{{PK: "A", SK: "1", GSI2PK: "OPEN", GSI2SK: "1"}, {PK: "B", SK: "1"}, {PK: "C", SK: "1", GSI2PK: "OPEN", GSI2SK: "3"}} {
		if err := s.Put(ctx, r, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	// B enters the index by an update (its first index key), A leaves it by REMOVE.
	update(t, s, store.Key{PK: "B", SK: "1"}, "SET GSI2PK = :p, GSI2SK = :s", map[string]types.AttributeValue{":p": str("OPEN"), ":s": str("2")})
	update(t, s, store.Key{PK: "A", SK: "1"}, "SET n = :n REMOVE GSI2PK, GSI2SK", map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: "5"}})
	got := open(t, s, "OPEN")
	if len(got) != 2 || got[0].PK != "B" || got[1].PK != "C" {
		t.Fatalf("open list = %+v, want B then C", got)
	}
	var a row
	if err := s.Get(ctx, store.Key{PK: "A", SK: "1"}, &a); err != nil || a.GSI2PK != "" || a.N != 5 {
		t.Fatalf("A after SET … REMOVE: %+v %v", a, err)
	}
}

func TestCancelledTransactionNamesEveryFailedItemAndChangesNothing(t *testing.T) {
	s := tabletest.New(t, nil)
	ctx := context.Background()
	if err := s.Put(ctx, row{PK: "A", SK: "1", N: 1, Tags: map[string]string{}}, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	newItem, _ := store.Marshal(row{PK: "A", SK: "2"})
	again, _ := store.Marshal(row{PK: "A", SK: "1"})
	err := s.Transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{Item: newItem}},
		{Put: &types.Put{Item: again, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{ConditionCheck: &types.ConditionCheck{Key: store.Key{PK: "Z", SK: "1"}.Item(), ConditionExpression: aws.String("attribute_exists(PK)")}},
	})
	if got := store.FailedItems(err); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("failed items = %v (%v), want [1 2]", got, err)
	}
	var out row
	if err := s.Get(ctx, store.Key{PK: "A", SK: "2"}, &out); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("the put of a cancelled transaction landed: %v", err)
	}
	// The item holding an empty map is still readable after the cancellation.
	rows, err := store.QueryAll[row](ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("A")},
	})
	if err != nil || len(rows) != 1 || rows[0].N != 1 {
		t.Fatalf("partition after a cancelled transaction: %+v %v", rows, err)
	}
}

func TestTransactionAppliesUpdatesWithRemove(t *testing.T) {
	s := tabletest.New(t, nil)
	ctx := context.Background()
	if err := s.Put(ctx, row{PK: "A", SK: "1", GSI2PK: "OPEN", GSI2SK: "1"}, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	err := s.Transact(ctx, []types.TransactWriteItem{{Update: &types.Update{Key: store.Key{PK: "A", SK: "1"}.Item(),
		UpdateExpression: aws.String("ADD n :one REMOVE #p, GSI2SK"), ExpressionAttributeNames: map[string]string{"#p": "GSI2PK"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := open(t, s, "OPEN"); len(got) != 0 {
		t.Fatalf("a removed index key left the item in the index: %+v", got)
	}
	var a row
	if err := s.Get(ctx, store.Key{PK: "A", SK: "1"}, &a); err != nil || a.N != 1 {
		t.Fatalf("A: %+v %v", a, err)
	}
}

func TestConditionalWritesAnswerAsDynamoDB(t *testing.T) {
	s := tabletest.New(t, nil)
	ctx := context.Background()
	if err := s.Put(ctx, row{PK: "A", SK: "1"}, "attribute_not_exists(PK)", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, row{PK: "A", SK: "1", N: 9}, "attribute_not_exists(PK)", nil, nil); !store.IsConditionFailed(err) {
		t.Fatalf("second create: want a condition failure, got %v", err)
	}
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.Table), Key: store.Key{PK: "A", SK: "1"}.Item(),
		UpdateExpression: aws.String("SET n = :n"), ConditionExpression: aws.String("n > :n"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: "3"}}})
	var ccf *types.ConditionalCheckFailedException
	if !asCCF(err, &ccf) {
		t.Fatalf("a failed update condition: %v", err)
	}
	var a row
	if err := s.Get(ctx, store.Key{PK: "A", SK: "1"}, &a); err != nil || a.N != 0 {
		t.Fatalf("a refused write changed the item: %+v %v", a, err)
	}
	if err := s.Get(ctx, store.Key{PK: "nope", SK: "1"}, &a); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("an absent item: %v", err)
	}
}

func asCCF(err error, target **types.ConditionalCheckFailedException) bool {
	return err != nil && errors.As(err, target)
}

func TestPagesGoOnAfterTheStartItemLeft(t *testing.T) {
	s := tabletest.New(t, nil)
	ctx := context.Background()
	for _, id := range []string{"1", "2", "3", "4"} {
		if err := s.Put(ctx, row{PK: "U" + id, SK: "E", GSI2PK: "DUE", GSI2SK: "t" + id}, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	page := func(start map[string]types.AttributeValue, forward bool) *dynamodb.QueryOutput {
		out, err := s.DB.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(s.Table), IndexName: aws.String(manifest.GSI2.Name),
			KeyConditionExpression: aws.String("GSI2PK = :pk"), ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("DUE")},
			Limit: aws.Int32(1), ExclusiveStartKey: start, ScanIndexForward: aws.Bool(forward)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := page(nil, true)
	if len(first.Items) != 1 || first.LastEvaluatedKey == nil {
		t.Fatalf("first page: %+v", first)
	}
	// The first item leaves the index (released); the next page starts after where it was.
	update(t, s, store.Key{PK: "U1", SK: "E"}, "REMOVE GSI2PK, GSI2SK", nil)
	next := page(first.LastEvaluatedKey, true)
	if len(next.Items) != 1 || av(next.Items[0]["PK"]) != "U2" || next.LastEvaluatedKey == nil {
		t.Fatalf("page after a gone start item: %+v", next.Items)
	}
	// Backwards from U3, after U3 left: U2 comes next.
	update(t, s, store.Key{PK: "U3", SK: "E"}, "REMOVE GSI2PK, GSI2SK", nil)
	back := page(map[string]types.AttributeValue{"PK": str("U3"), "SK": str("E"), "GSI2PK": str("DUE"), "GSI2SK": str("t3")}, false)
	if len(back.Items) != 1 || av(back.Items[0]["PK"]) != "U2" {
		t.Fatalf("backwards after a gone start item: %+v", back.Items)
	}
}

func av(v types.AttributeValue) string {
	s, _ := v.(*types.AttributeValueMemberS)
	if s == nil {
		return ""
	}
	return s.Value
}
