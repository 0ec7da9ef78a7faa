package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/store"
)

// BatchGet reads any number of keys, 100 per call; keys without an item are simply absent.
func TestBatchGet(t *testing.T) {
	s := newStore(t, nil)
	ctx := context.Background()
	var keys []store.Key
	var want []int64
	for i := int64(0); i < 230; i++ {
		k := store.Key{PK: fmt.Sprintf("BATCH#%03d", i), SK: "X"}
		keys = append(keys, k)
		if i%3 == 0 {
			continue // no item
		}
		if err := s.Put(ctx, item{PK: k.PK, SK: k.SK, Value: i}, "", nil, nil); err != nil {
			t.Fatal(err)
		}
		want = append(want, i)
	}
	calls := &countingBatch{DynamoAPI: s.DB, BatchGetAPI: s.DB.(store.BatchGetAPI)}
	s.DB = calls
	got, err := store.BatchGet[item](ctx, s, keys)
	if err != nil {
		t.Fatal(err)
	}
	var values []int64
	for _, it := range got {
		values = append(values, it.Value)
	}
	slices.Sort(values)
	if !slices.Equal(values, want) {
		t.Fatalf("read %d items, want %d: %v", len(values), len(want), values)
	}
	if calls.calls != 3 || calls.most > 100 {
		t.Fatalf("%d calls of at most %d keys, want 3 of at most 100", calls.calls, calls.most)
	}
	if none, err := store.BatchGet[item](ctx, s, nil); err != nil || len(none) != 0 {
		t.Fatalf("no keys: %v %v", none, err)
	}
}

// Keys DynamoDB leaves unprocessed (throttling) are asked again, a few times, then the read fails.
func TestBatchGetUnprocessedKeys(t *testing.T) {
	s := newStore(t, nil)
	ctx := context.Background()
	keys := []store.Key{{PK: "BATCH#a", SK: "X"}, {PK: "BATCH#b", SK: "X"}}
	for i, k := range keys {
		if err := s.Put(ctx, item{PK: k.PK, SK: k.SK, Value: int64(i + 1)}, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	base := s.DB
	s.DB = &throttling{DynamoAPI: base, api: base.(store.BatchGetAPI), left: 2}
	got, err := store.BatchGet[item](ctx, s, keys)
	if err != nil || len(got) != 2 {
		t.Fatalf("after two throttled answers: %+v %v", got, err)
	}
	s.DB = &throttling{DynamoAPI: base, api: base.(store.BatchGetAPI), left: 100, none: true}
	if _, err := store.BatchGet[item](ctx, s, keys); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("throttled for good: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := store.BatchGet[item](cancelled, s, keys); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("interrupted: %v", err)
	}
	s.DB = onlyDynamo{base}
	if _, err := store.BatchGet[item](ctx, s, keys); !apperr.Is(err, apperr.Internal) {
		t.Fatalf("a client without BatchGetItem: %v", err)
	}
}

type countingBatch struct {
	store.DynamoAPI
	store.BatchGetAPI
	calls, most int
}

func (c *countingBatch) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.calls++
	for _, ka := range in.RequestItems {
		c.most = max(c.most, len(ka.Keys))
	}
	return c.BatchGetAPI.BatchGetItem(ctx, in, opts...)
}

// throttling answers the first key of each call (none: no key) and leaves the others
// unprocessed, left times.
type throttling struct {
	store.DynamoAPI
	api  store.BatchGetAPI
	left int
	none bool
}

func (c *throttling) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	if c.left == 0 {
		return c.api.BatchGetItem(ctx, in, opts...)
	}
	c.left--
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{},
		UnprocessedKeys: map[string]types.KeysAndAttributes{}}
	for table, ka := range in.RequestItems {
		if c.none {
			out.UnprocessedKeys[table] = ka
			continue
		}
		first, err := c.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			table: {Keys: ka.Keys[:1]}}}, opts...)
		if err != nil {
			return nil, err
		}
		out.Responses[table] = first.Responses[table]
		if len(ka.Keys) > 1 {
			out.UnprocessedKeys[table] = types.KeysAndAttributes{Keys: ka.Keys[1:]}
		}
	}
	return out, nil
}

// onlyDynamo hides BatchGetItem.
type onlyDynamo struct{ store.DynamoAPI }
