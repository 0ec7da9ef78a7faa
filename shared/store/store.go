// Package store is the DynamoDB single-table layer: the table's one key map (keys.go) and its
// mechanics — reads, conditional and versioned writes, transactions, counters, batch reads, cursor
// pagination, retries and idempotency records. It knows no business entity: each area's entities
// and the code that reads and writes them live in the area's package. It never scans.
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/manifest"
)

// DynamoAPI is the subset of the DynamoDB client the store uses.
type DynamoAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ DynamoAPI = (*dynamodb.Client)(nil)

// Store is the table plus the things every repository function needs.
type Store struct {
	DB     DynamoAPI
	Table  string
	Clock  clock.Clock
	Cursor *CursorCodec
}

// New returns a Store.
func New(db DynamoAPI, table string, clk clock.Clock, cursorSecret []byte) *Store {
	if clk == nil {
		clk = clock.System{}
	}
	return &Store{DB: db, Table: table, Clock: clk, Cursor: NewCursorCodec(cursorSecret)}
}

// ErrConditionFailed is returned (wrapped in an apperr.Conflict) when a condition expression fails.
var ErrConditionFailed = errors.New("condition failed")

// Key returns the DynamoDB attribute map of a key.
func (k Key) Item() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		manifest.AttrPK: &types.AttributeValueMemberS{Value: k.PK},
		manifest.AttrSK: &types.AttributeValueMemberS{Value: k.SK},
	}
}

// Get reads one item into out. A missing item is an apperr.NotFound (never nil, nil).
func (s *Store) Get(ctx context.Context, k Key, out any) error {
	res, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: k.Item()})
	if err != nil {
		return apperr.Wrap(err, apperr.Unavailable, "read failed")
	}
	if res.Item == nil {
		return apperr.New(apperr.NotFound, "not found")
	}
	if err := attributevalue.UnmarshalMap(res.Item, out); err != nil {
		return apperr.Wrap(err, apperr.Internal, "decode %s", k)
	}
	return nil
}

// GetConsistent reads one item with a strongly consistent read (NotFound when absent).
func (s *Store) GetConsistent(ctx context.Context, k Key, out any) error {
	return s.getConsistent(ctx, k, out)
}

// Marshal turns a record (with PK/SK fields tagged `dynamodbav`) into an item.
func Marshal(v any) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, "encode item")
	}
	return item, nil
}

// Put writes an item; cond (may be "") is a condition expression, e.g. "attribute_not_exists(PK)".
// A failed condition is an apperr.Conflict wrapping ErrConditionFailed.
func (s *Store) Put(ctx context.Context, v any, cond string, names map[string]string, values map[string]types.AttributeValue) error {
	item, err := Marshal(v)
	if err != nil {
		return err
	}
	in := &dynamodb.PutItemInput{TableName: &s.Table, Item: item}
	if cond != "" {
		in.ConditionExpression = aws.String(cond)
		if len(names) > 0 {
			in.ExpressionAttributeNames = names
		}
		if len(values) > 0 {
			in.ExpressionAttributeValues = values
		}
	}
	if hasAudit([]types.TransactWriteItem{{Put: &types.Put{Item: item}}}) {
		return s.putChained(ctx, in) // an audit record joins its hash chain (auditchain.go)
	}
	_, err = s.DB.PutItem(ctx, in)
	return mapWriteErr(err)
}

// Update runs an UpdateItem and returns the new item when out is non-nil.
func (s *Store) Update(ctx context.Context, in *dynamodb.UpdateItemInput, out any) error {
	in.TableName = &s.Table
	if out != nil {
		in.ReturnValues = types.ReturnValueAllNew
	}
	res, err := s.DB.UpdateItem(ctx, in)
	if err != nil {
		return mapWriteErr(err)
	}
	if out != nil {
		if err := attributevalue.UnmarshalMap(res.Attributes, out); err != nil {
			return apperr.Wrap(err, apperr.Internal, "decode update result")
		}
	}
	return nil
}

// Transact writes items atomically. If any condition fails the whole write is refused with an
// apperr.Conflict wrapping ErrConditionFailed; CancelledIndexes tells which items failed.
func (s *Store) Transact(ctx context.Context, items []types.TransactWriteItem) error {
	if len(items) == 0 {
		return nil
	}
	for i := range items {
		switch {
		case items[i].Put != nil:
			items[i].Put.TableName = &s.Table
		case items[i].Update != nil:
			items[i].Update.TableName = &s.Table
		case items[i].Delete != nil:
			items[i].Delete.TableName = &s.Table
		case items[i].ConditionCheck != nil:
			items[i].ConditionCheck.TableName = &s.Table
		}
	}
	if hasAudit(items) {
		return finish(s.transactChained(ctx, items)) // audit records join their hash chain (auditchain.go)
	}
	_, err := s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return mapWriteErr(err)
}

// TxError describes which items of a cancelled transaction failed their condition.
type TxError struct{ Failed []int }

func (e *TxError) Error() string {
	return fmt.Sprintf("transaction cancelled; failed items %v", e.Failed)
}

// Unwrap makes errors.Is(err, ErrConditionFailed) true.
func (e *TxError) Unwrap() error { return ErrConditionFailed }

// FailedItems returns the indexes of the transaction items whose condition failed, if err is one.
func FailedItems(err error) []int {
	var tx *TxError
	if errors.As(err, &tx) {
		return tx.Failed
	}
	return nil
}

func mapWriteErr(err error) error {
	if err == nil {
		return nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return apperr.Wrap(ErrConditionFailed, apperr.Conflict, "the record changed or already exists")
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		tx := &TxError{}
		conflictOnly := true
		for i, r := range tce.CancellationReasons {
			code := aws.ToString(r.Code)
			switch code {
			case "", "None":
			case "ConditionalCheckFailed":
				tx.Failed = append(tx.Failed, i)
			default:
				conflictOnly = false
			}
		}
		if conflictOnly && len(tx.Failed) > 0 {
			return apperr.Wrap(tx, apperr.Conflict, "the record changed or already exists")
		}
		return apperr.Wrap(err, apperr.Unavailable, "transaction cancelled")
	}
	var tcf *types.TransactionConflictException
	if errors.As(err, &tcf) {
		return apperr.Wrap(err, apperr.Conflict, "a concurrent change is in progress; retry")
	}
	return apperr.Wrap(err, apperr.Unavailable, "write failed")
}

// IsConditionFailed reports whether err is a failed condition (single write or transaction).
func IsConditionFailed(err error) bool { return errors.Is(err, ErrConditionFailed) }

// DecodeItem decodes a raw item (a table walk's, shared/books/backfill) into out.
func DecodeItem(item map[string]types.AttributeValue, out any) error { return decode(item, out) }

func decode(item map[string]types.AttributeValue, out any) error {
	if err := attributevalue.UnmarshalMap(item, out); err != nil {
		return apperr.Wrap(err, apperr.Internal, "decode item")
	}
	return nil
}

// QueryIndexOne reads the single item whose index keys equal (pk, sk) — the lookup of one of our
// items by an external id. Index reads are eventually consistent: callers that must see their own
// latest write re-read the base item. notFound is the message of the apperr.NotFound returned when
// no item matches.
func QueryIndexOne[T any](ctx context.Context, s *Store, ix manifest.Index, pk, sk, notFound string) (T, error) {
	var out T
	res, err := s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                &s.Table,
		IndexName:                aws.String(ix.Name),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk = :sk"),
		ExpressionAttributeNames: map[string]string{"#pk": ix.PK, "#sk": ix.SK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk}, ":sk": &types.AttributeValueMemberS{Value: sk},
		},
		Limit: aws.Int32(1),
	})
	if err != nil {
		return out, apperr.Wrap(err, apperr.Unavailable, "query failed")
	}
	if len(res.Items) == 0 {
		return out, apperr.New(apperr.NotFound, "%s", notFound)
	}
	err = decode(res.Items[0], &out)
	return out, err
}

// PutOver is the transaction item that writes item over the version read: a create when
// readVersion is 0 (the item must not exist), else a replace conditioned on version = readVersion.
// The item already carries its next version. Every versioned write of every area goes through it,
// so a lost race is always the same failed condition.
func PutOver(item map[string]types.AttributeValue, readVersion int64) types.TransactWriteItem {
	put := &types.Put{Item: item}
	if readVersion == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		put.ConditionExpression = aws.String("version = :v")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": N(readVersion)}
	}
	return types.TransactWriteItem{Put: put}
}

// PutVersioned is PutOver of v (an item struct with a "version" attribute).
func PutVersioned(v any, readVersion int64) (types.TransactWriteItem, error) {
	item, err := Marshal(v)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return PutOver(item, readVersion), nil
}

// PutNewItem returns a transaction item that creates v only if its key is free.
func PutNewItem(v any) (types.TransactWriteItem, error) {
	item, err := Marshal(v)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}}, nil
}

// PutItem returns a transaction item that writes v unconditionally.
func PutItem(v any) (types.TransactWriteItem, error) {
	item, err := Marshal(v)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{Item: item}}, nil
}

// S is a string attribute value (for expression values built outside this package).
func S(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// N is a number attribute value.
func N(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: itoa(n)}
}
