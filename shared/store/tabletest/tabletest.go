// Package tabletest gives repository unit tests the single table in process: minidyn, a DynamoDB
// emulator library, behind the same SDK calls the repositories make against moto and AWS. It lets
// `go test ./...` run every repository without a service started; moto stays the authority the
// integration build checks the same contract cases against (decision 0073).
package tabletest

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	minidyn "github.com/truora/minidyn/aws-v2/client"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// Table is the name the in-process table has.
const Table = "unit"

// New returns a Store over a fresh, empty in-process table; clk may be nil (system clock).
func New(t testing.TB, clk clock.Clock) *store.Store {
	t.Helper()
	db, err := newTable()
	if err != nil {
		t.Fatalf("create in-process table: %v", err)
	}
	return store.New(&client{db: db}, Table, clk, []byte("unit-test-cursor-secret-32-bytes!"))
}

func newTable() (*minidyn.Client, error) {
	db := minidyn.NewClient()
	_, err := db.CreateTable(context.Background(), store.TableDefinition(Table))
	return db, err
}

// client is the table as DynamoDB behaves for the calls the repositories make. minidyn v0.8.2
// evaluates key conditions, filters, condition and update expressions faithfully for one item, but
// its writes differ from DynamoDB in four ways that would let a wrong repository pass:
//   - REMOVE in an update expression removes nothing;
//   - an update or overwrite that gives an item its first index key, or takes its last one away,
//     leaves the index wrong (the item is missing from the index, or another item's entry is
//     replaced, or a removed entry stays);
//   - a cancelled transaction names only the first failed condition, where DynamoDB names each;
//   - an absent item, and the last page of a Query, come back as empty maps where DynamoDB leaves
//     them out (the SDK's paginator would loop forever);
//   - a Query finds where to go on by the start key's item, so it returns nothing once that item
//     has left the index (a released earning, a paid payout), where DynamoDB goes on by the key.
//
// So every write is decided on a scratch table holding only the item's current version (condition,
// new image, the caller's ReturnValues, errors exactly as minidyn shapes them), REMOVE is applied to
// the new image, and the main table only ever sees a delete and a fresh put of the result — the
// paths on which its indexes are right. A mutex makes each write, and each transaction, atomic.
type client struct {
	mu sync.Mutex
	db *minidyn.Client
}

var (
	_ store.DynamoAPI   = (*client)(nil)
	_ store.BatchGetAPI = (*client)(nil)
	_ store.ScanAPI     = (*client)(nil)
)

// Scan walks the table (the backfill's and migrations' call), leaving LastEvaluatedKey out on the
// last page as DynamoDB does.
func (c *client) Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, err := c.db.Scan(ctx, in, opts...)
	if err == nil && len(out.LastEvaluatedKey) == 0 {
		out.LastEvaluatedKey = nil
	}
	return out, err
}

// GetItem leaves Item out when no item has the key.
func (c *client) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, err := c.db.GetItem(ctx, in, opts...)
	if err == nil && len(out.Item) == 0 {
		out.Item = nil
	}
	return out, err
}

// Query leaves LastEvaluatedKey out on the last page, and goes on after a start key whose item has
// left the index (or the table) meanwhile.
func (c *client) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out *dynamodb.QueryOutput
	var err error
	if len(in.ExclusiveStartKey) > 0 && !c.stillAt(ctx, in) {
		out, err = c.queryAfterGone(ctx, in, opts...)
	} else {
		out, err = c.db.Query(ctx, in, opts...)
	}
	if err == nil && len(out.LastEvaluatedKey) == 0 {
		out.LastEvaluatedKey = nil
	}
	return out, err
}

// stillAt says whether the item a start key names is still where the key says: minidyn finds its
// place in a query by that item, so it only pages correctly while the item is there.
func (c *client) stillAt(ctx context.Context, in *dynamodb.QueryInput) bool {
	cur, err := c.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(Table), Key: keyOf(in.ExclusiveStartKey), ConsistentRead: aws.Bool(true)})
	if err != nil || len(cur.Item) == 0 {
		return false
	}
	for name, v := range in.ExclusiveStartKey {
		if av(cur.Item[name]) != av(v) {
			return false
		}
	}
	return true
}

// queryAfterGone answers a page whose start item has gone as DynamoDB does — by the start key's
// values, not by the item: it reads the whole (filtered) result in order and keeps what sorts after
// the start key. Limit then counts the items kept after the filter (DynamoDB counts before it, so a
// page may hold more here; callers read on until no LastEvaluatedKey either way).
func (c *client) queryAfterGone(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if in.ProjectionExpression != nil || in.Select == types.SelectCount {
		panic("tabletest: paging on after a start item has gone is not modelled with a projection or a count")
	}
	all := *in
	all.ExclusiveStartKey, all.Limit = nil, nil
	var items []map[string]types.AttributeValue
	for {
		res, err := c.db.Query(ctx, &all, opts...)
		if err != nil {
			return nil, err
		}
		items = append(items, res.Items...)
		if len(res.LastEvaluatedKey) == 0 {
			break
		}
		all.ExclusiveStartKey = res.LastEvaluatedKey
	}
	order := positionOf(aws.ToString(in.IndexName))
	start := order(in.ExclusiveStartKey)
	forward := in.ScanIndexForward == nil || *in.ScanIndexForward
	out := &dynamodb.QueryOutput{}
	for _, it := range items {
		if after := order(it) > start; after != forward || order(it) == start {
			continue
		}
		if in.Limit != nil && int32(len(out.Items)) == *in.Limit {
			last := out.Items[len(out.Items)-1]
			out.LastEvaluatedKey = map[string]types.AttributeValue{}
			for name := range in.ExclusiveStartKey {
				out.LastEvaluatedKey[name] = last[name]
			}
			break
		}
		out.Items = append(out.Items, it)
	}
	out.Count = int32(len(out.Items))
	return out, nil
}

// positionOf orders the items of a query on the table (by sort key) or on an index (by its sort
// key, then the table's keys), as strings: every key of the single table is a string.
func positionOf(index string) func(map[string]types.AttributeValue) string {
	names := []string{manifest.AttrSK}
	for _, ix := range manifest.Indexes {
		if ix.Name == index {
			names = []string{ix.SK, manifest.AttrPK, manifest.AttrSK}
		}
	}
	return func(item map[string]types.AttributeValue) string {
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = av(item[n])
		}
		return strings.Join(parts, "\x00")
	}
}

func av(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return fmt.Sprint(v)
}

// BatchGetItem reads as minidyn does (no unprocessed keys: nothing throttles in process).
func (c *client) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, err := c.db.BatchGetItem(ctx, in, opts...)
	if err == nil && len(out.UnprocessedKeys) == 0 {
		out.UnprocessedKeys = nil
	}
	return out, err
}

// PutItem decides the write on a scratch table, then applies it.
func (c *client) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := keyOf(in.Item)
	scratch, err := c.scratchWith(ctx, key)
	if err != nil {
		return nil, err
	}
	out, err := scratch.PutItem(ctx, in, opts...)
	if err != nil {
		return nil, err
	}
	return out, c.apply(ctx, key, in.Item)
}

// UpdateItem decides the update on a scratch table, applies REMOVE to the new image, then applies it.
func (c *client) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	scratch, err := c.scratchWith(ctx, in.Key)
	if err != nil {
		return nil, err
	}
	out, err := scratch.UpdateItem(ctx, in, opts...)
	if err != nil {
		return nil, err
	}
	removed := removedNames(aws.ToString(in.UpdateExpression), in.ExpressionAttributeNames)
	for _, name := range removed {
		delete(out.Attributes, name)
	}
	image, err := imageOf(ctx, scratch, in.Key, removed)
	if err != nil {
		return nil, err
	}
	return out, c.apply(ctx, in.Key, image)
}

// TransactWriteItems decides every item on its own scratch table — so a cancellation names each
// failed condition, as DynamoDB does — and applies all of them only when none failed.
func (c *client) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	type write struct {
		key   map[string]types.AttributeValue
		image map[string]types.AttributeValue // nil: deleted
		keep  bool                            // a condition check: nothing to apply
	}
	writes := make([]write, len(in.TransactItems))
	reasons := make([]types.CancellationReason, len(in.TransactItems))
	failed := false
	seen := map[string]bool{}
	for i, item := range in.TransactItems {
		key, removed := itemKey(item)
		if id := fmt.Sprint(keyOf(key)); seen[id] {
			return nil, fmt.Errorf("ValidationException: Transaction request cannot include multiple operations on one item (%v)", id)
		} else {
			seen[id] = true
		}
		scratch, err := c.scratchWith(ctx, key)
		if err != nil {
			return nil, err
		}
		_, err = scratch.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{item}}, opts...)
		reasons[i] = types.CancellationReason{Code: aws.String("None")}
		if err != nil {
			tce, ok := err.(*types.TransactionCanceledException)
			if !ok || len(tce.CancellationReasons) != 1 {
				return nil, err
			}
			reasons[i] = tce.CancellationReasons[0]
			failed = true
			continue
		}
		w := write{key: key, keep: item.ConditionCheck != nil}
		if item.Delete == nil && !w.keep {
			if w.image, err = imageOf(ctx, scratch, key, removed); err != nil {
				return nil, err
			}
		}
		writes[i] = w
	}
	if failed {
		codes := make([]string, len(reasons))
		for i, r := range reasons {
			codes[i] = aws.ToString(r.Code)
		}
		return nil, &types.TransactionCanceledException{
			Message:             aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]"),
			CancellationReasons: reasons,
		}
	}
	for _, w := range writes {
		if !w.keep {
			if err := c.apply(ctx, w.key, w.image); err != nil {
				return nil, err
			}
		}
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

// scratchWith returns a fresh table holding only the current version of the item with key, if any.
func (c *client) scratchWith(ctx context.Context, key map[string]types.AttributeValue) (*minidyn.Client, error) {
	scratch, err := newTable()
	if err != nil {
		return nil, err
	}
	cur, err := c.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(Table), Key: keyOf(key), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	if len(cur.Item) > 0 {
		if _, err := scratch.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(Table), Item: cur.Item}); err != nil {
			return nil, err
		}
	}
	return scratch, nil
}

// apply makes the main table hold image under key (nil: no item), through a delete and a fresh put.
func (c *client) apply(ctx context.Context, key, image map[string]types.AttributeValue) error {
	if _, err := c.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(Table), Key: keyOf(key)}); err != nil {
		return err
	}
	if len(image) == 0 {
		return nil
	}
	_, err := c.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(Table), Item: image})
	return err
}

// imageOf reads the item's new version from the scratch table, without the attributes REMOVE names.
func imageOf(ctx context.Context, scratch *minidyn.Client, key map[string]types.AttributeValue, removed []string) (map[string]types.AttributeValue, error) {
	out, err := scratch.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(Table), Key: keyOf(key), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	for _, name := range removed {
		delete(out.Item, name)
	}
	return out.Item, nil
}

// itemKey is a transaction item's key, and the attributes its update expression removes.
func itemKey(item types.TransactWriteItem) (map[string]types.AttributeValue, []string) {
	switch {
	case item.Put != nil:
		return keyOf(item.Put.Item), nil
	case item.Update != nil:
		return item.Update.Key, removedNames(aws.ToString(item.Update.UpdateExpression), item.Update.ExpressionAttributeNames)
	case item.Delete != nil:
		return item.Delete.Key, nil
	case item.ConditionCheck != nil:
		return item.ConditionCheck.Key, nil
	}
	panic("tabletest: a transaction item with no operation")
}

func keyOf(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{manifest.AttrPK: item[manifest.AttrPK], manifest.AttrSK: item[manifest.AttrSK]}
}

var clause = regexp.MustCompile(`(?i)\b(SET|REMOVE|ADD|DELETE)\b`)

// removedNames lists the top-level attributes the REMOVE clause of an update expression names.
// The repositories remove whole attributes only; a nested path (a.b, l[0]) is refused loudly rather
// than modelled.
func removedNames(expr string, names map[string]string) []string {
	locs := clause.FindAllStringIndex(expr, -1)
	var out []string
	for i, loc := range locs {
		if !strings.EqualFold(expr[loc[0]:loc[1]], "REMOVE") {
			continue
		}
		end := len(expr)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		for _, p := range strings.Split(expr[loc[1]:end], ",") {
			p = strings.TrimSpace(p)
			if strings.ContainsAny(p, ".[") {
				panic("tabletest: REMOVE of a nested path is not modelled: " + p)
			}
			if n, ok := names[p]; ok {
				p = n
			}
			out = append(out, p)
		}
	}
	return out
}

// Down returns a Store whose every call fails with err — DynamoDB refusing or away — for the
// cases that check a repository answers Unavailable and changes nothing.
func Down(err error) *store.Store {
	return store.New(down{err}, Table, nil, []byte("unit-test-cursor-secret-32-bytes!"))
}

type down struct{ err error }

func (d down) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, d.err
}

func (d down) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, d.err
}

func (d down) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, d.err
}

func (d down) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, d.err
}

func (d down) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return nil, d.err
}

func (d down) BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return nil, d.err
}
