package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

type item struct {
	PK    string `dynamodbav:"PK"`
	SK    string `dynamodbav:"SK"`
	Value int64  `dynamodbav:"value"`
}

func TestGetMissingIsNotFound(t *testing.T) {
	s := newStore(t, nil)
	var out item
	err := s.Get(context.Background(), store.Key{PK: "X", SK: "Y"}, &out)
	if !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("want NotFound, got %v", err)
	}
}

func TestConditionalPutConflicts(t *testing.T) {
	s := newStore(t, nil)
	ctx := context.Background()
	it := item{PK: "A", SK: "1", Value: 5}
	if err := s.Put(ctx, it, "attribute_not_exists(PK)", nil, nil); err != nil {
		t.Fatal(err)
	}
	err := s.Put(ctx, it, "attribute_not_exists(PK)", nil, nil)
	if !apperr.Is(err, apperr.Conflict) || !store.IsConditionFailed(err) {
		t.Fatalf("second put: want conflict, got %v", err)
	}
}

func TestTransactionIsAllOrNothing(t *testing.T) {
	s := newStore(t, nil)
	ctx := context.Background()
	if err := s.Put(ctx, item{PK: "B", SK: "1", Value: 1}, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	newItem, _ := store.Marshal(item{PK: "B", SK: "2", Value: 2})
	err := s.Transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{Item: newItem}},
		{ConditionCheck: &types.ConditionCheck{Key: store.Key{PK: "B", SK: "1"}.Item(),
			ConditionExpression:       aws.String("#v > :min"),
			ExpressionAttributeNames:  map[string]string{"#v": "value"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":min": &types.AttributeValueMemberN{Value: "10"}}}},
	})
	if !store.IsConditionFailed(err) {
		t.Fatalf("want condition failure, got %v", err)
	}
	if got := store.FailedItems(err); len(got) != 1 || got[0] != 1 {
		t.Fatalf("failed items = %v, want [1]", got)
	}
	var out item
	if err := s.Get(ctx, store.Key{PK: "B", SK: "2"}, &out); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("put inside a failed transaction must not land; got %v", err)
	}
}

func TestQueryPageCursor(t *testing.T) {
	s := newStore(t, nil)
	ctx := context.Background()
	for i := int64(0); i < 5; i++ {
		if err := s.Put(ctx, item{PK: "C", SK: string(rune('a' + i)), Value: i}, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	q := func() *dynamodb.QueryInput {
		return &dynamodb.QueryInput{
			KeyConditionExpression:    aws.String("PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "C"}},
		}
	}
	var got []int64
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("too many pages")
		}
		page, err := store.QueryPage[item](ctx, s, "scope-1", q(), 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			got = append(got, it.Value)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
		if _, err := store.QueryPage[item](ctx, s, "scope-2", q(), 2, cursor); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("cursor replayed in another scope: want invalid, got %v", err)
		}
		if _, err := store.QueryPage[item](ctx, s, "scope-1", q(), 2, cursor+"x"); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("tampered cursor: want invalid, got %v", err)
		}
	}
	if len(got) != 5 || got[0] != 0 || got[4] != 4 {
		t.Fatalf("paged values = %v", got)
	}
}

func TestIdempotencyLifecycle(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := newStore(t, clk)
	ctx := context.Background()
	h := idempotency.Hash([]byte("body"))

	prior, err := s.BeginIdempotent(ctx, "fn#u1", "k1", h, 30*time.Second, time.Hour)
	if err != nil || prior != nil {
		t.Fatalf("first begin: %v %v", prior, err)
	}
	if _, err := s.BeginIdempotent(ctx, "fn#u1", "k1", h, 30*time.Second, time.Hour); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("concurrent begin: want conflict, got %v", err)
	}
	if _, err := s.BeginIdempotent(ctx, "fn#u1", "k1", idempotency.Hash([]byte("other")), 30*time.Second, time.Hour); !apperr.Is(err, apperr.Unprocessable) {
		t.Fatalf("other payload: want unprocessable, got %v", err)
	}
	if err := s.CompleteIdempotent(ctx, "fn#u1", "k1", 201, `{"ok":true}`); err != nil {
		t.Fatal(err)
	}
	prior, err = s.BeginIdempotent(ctx, "fn#u1", "k1", h, 30*time.Second, time.Hour)
	if err != nil || prior == nil || prior.StatusCode != 201 || prior.Result != `{"ok":true}` {
		t.Fatalf("replay: %+v %v", prior, err)
	}
	// A claim that outlives its in-progress window can be taken over by a retry.
	if _, err := s.BeginIdempotent(ctx, "fn#u1", "k2", h, 30*time.Second, time.Hour); err != nil {
		t.Fatal(err)
	}
	clk.Advance(31 * time.Second)
	if prior, err := s.BeginIdempotent(ctx, "fn#u1", "k2", h, 30*time.Second, time.Hour); err != nil || prior != nil {
		t.Fatalf("takeover after timeout: %v %v", prior, err)
	}
	// Released claims can be retried at once.
	if err := s.ReleaseIdempotent(ctx, "fn#u1", "k2"); err != nil {
		t.Fatal(err)
	}
	if prior, err := s.BeginIdempotent(ctx, "fn#u1", "k2", h, 30*time.Second, time.Hour); err != nil || prior != nil {
		t.Fatalf("after release: %v %v", prior, err)
	}
}

// doublePut sends every PutItem twice and returns the second answer: what an SDK retry after a lost
// response looks like to the caller.
type doublePut struct{ store.DynamoAPI }

func (d doublePut) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if _, err := d.DynamoAPI.PutItem(ctx, in, opts...); err != nil {
		return nil, err
	}
	return d.DynamoAPI.PutItem(ctx, in, opts...)
}

func TestIdempotencyClaimSurvivesARetriedPut(t *testing.T) {
	base := newStore(t, nil)
	s := *base
	s.DB = doublePut{s.DB}
	prior, err := s.BeginIdempotent(context.Background(), "fn#u1", "k", idempotency.Hash([]byte("b")), 30*time.Second, time.Hour)
	if err != nil || prior != nil {
		t.Fatalf("our own retried claim must count as claimed: %+v %v", prior, err)
	}
	// Someone else's claim is still refused.
	if _, err := base.BeginIdempotent(context.Background(), "fn#u1", "k", idempotency.Hash([]byte("b")), 30*time.Second, time.Hour); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("another claimant: want conflict, got %v", err)
	}
}

// The transaction items every area's repository builds its writes from: a create needs a free
// key, a plain put replaces whatever is there, and GetConsistent reads the write back.
func TestPutNewItemAndPutItem(t *testing.T) {
	s := newStore(t, nil)
	ctx := context.Background()
	create, err := store.PutNewItem(item{PK: "E", SK: "1", Value: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Transact(ctx, []types.TransactWriteItem{create}); err != nil {
		t.Fatalf("a create on a free key: %v", err)
	}
	if err := s.Transact(ctx, []types.TransactWriteItem{create}); !store.IsConditionFailed(err) {
		t.Fatalf("a second create: %v, want a failed condition", err)
	}
	replace, err := store.PutItem(item{PK: "E", SK: "1", Value: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Transact(ctx, []types.TransactWriteItem{replace}); err != nil {
		t.Fatalf("a plain put over an item: %v", err)
	}
	var got item
	if err := s.GetConsistent(ctx, store.Key{PK: "E", SK: "1"}, &got); err != nil || got.Value != 2 {
		t.Fatalf("read back %+v %v", got, err)
	}
	if err := s.GetConsistent(ctx, store.Key{PK: "E", SK: "2"}, &got); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a missing item: %v", err)
	}
	for name, put := range map[string]func(any) (types.TransactWriteItem, error){"PutNewItem": store.PutNewItem, "PutItem": store.PutItem} {
		if _, err := put(unencodable{}); !apperr.Is(err, apperr.Internal) {
			t.Fatalf("%s of a value that is no item: %v", name, err)
		}
	}
}

// unencodable is a value attributevalue refuses to encode.
type unencodable struct{}

func (unencodable) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return nil, errors.New("not an item")
}

// indexed is an item with GSI1 keys: what the areas find by an external id.
type indexed struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI1PK string `dynamodbav:"GSI1PK"`
	GSI1SK string `dynamodbav:"GSI1SK"`
	Value  int64  `dynamodbav:"value"`
}

// QueryIndexOne finds the one item with the index keys (NotFound with the caller's message when
// none); QueryAll reads a partition to its end over as many pages as it takes. An item of another
// shape is Internal for both.
func TestQueryIndexOneAndQueryAll(t *testing.T) {
	s := newStore(t, nil)
	ctx := context.Background()
	for i := int64(1); i <= 5; i++ {
		if err := s.Put(ctx, indexed{PK: "F", SK: fmt.Sprint(i), GSI1PK: "EXT#" + fmt.Sprint(i), GSI1SK: "F", Value: i}, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, err := store.QueryIndexOne[indexed](ctx, s, manifest.GSI1, "EXT#3", "F", "no such thing")
	if err != nil || got.SK != "3" || got.Value != 3 {
		t.Fatalf("by its index keys: %+v %v", got, err)
	}
	if _, err := store.QueryIndexOne[indexed](ctx, s, manifest.GSI1, "EXT#9", "F", "no such thing"); !apperr.Is(err, apperr.NotFound) ||
		!strings.Contains(err.Error(), "no such thing") {
		t.Fatalf("no match: %v", err)
	}
	all, err := store.QueryAll[indexed](ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S("F")},
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(2), // three pages
	})
	if err != nil || len(all) != 5 || all[0].Value != 1 || all[4].Value != 5 {
		t.Fatalf("the whole partition: %+v %v", all, err)
	}

	// An item whose value is not a number cannot be read as indexed.
	if err := s.Put(ctx, map[string]any{"PK": "G", "SK": "1", "GSI1PK": "EXT#bad", "GSI1SK": "G", "value": "NaN"}, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := store.QueryIndexOne[indexed](ctx, s, manifest.GSI1, "EXT#bad", "G", "none"); !apperr.Is(err, apperr.Internal) {
		t.Fatalf("QueryIndexOne of another shape: %v", err)
	}
	if _, err := store.QueryAll[indexed](ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S("G")},
	}); !apperr.Is(err, apperr.Internal) {
		t.Fatalf("QueryAll of another shape: %v", err)
	}
	if _, err := store.PutVersioned(unencodable{}, 1); !apperr.Is(err, apperr.Internal) {
		t.Fatalf("PutVersioned of a value that is no item: %v", err)
	}
}
