package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/manifest"
)

// CursorCodec turns a DynamoDB LastEvaluatedKey into an opaque, signed cursor and back. The cursor
// is bound to the query's scope (e.g. the user and list), so a cursor minted for one user's list
// cannot be replayed against another's, and a tampered cursor is a 400.
//
// The secret is resolved on first use (in AWS it is an SSM SecureString), so building a Store makes
// no network call at cold start.
type CursorCodec struct {
	resolve func(context.Context) ([]byte, error)
	mu      sync.Mutex
	secret  []byte
}

// NewCursorCodec returns a codec with a fixed HMAC secret.
func NewCursorCodec(secret []byte) *CursorCodec { return &CursorCodec{secret: secret} }

// NewLazyCursorCodec returns a codec that asks resolve for its secret at every use. resolve is
// platform.Secrets.Get, which caches what it reads from SSM for the container's life; asking it each
// time (rather than caching here) lets the local stack check, per invocation, that the function
// reading the secret is granted its parameter (the process-wide store is shared by every function
// there; docs/decisions/0076).
func NewLazyCursorCodec(resolve func(context.Context) ([]byte, error)) *CursorCodec {
	return &CursorCodec{resolve: resolve}
}

func (c *CursorCodec) key(ctx context.Context) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.secret) > 0 {
		return c.secret, nil
	}
	if c.resolve == nil {
		return nil, apperr.New(apperr.Internal, "cursor secret is not configured")
	}
	s, err := c.resolve(ctx)
	if err != nil {
		return nil, err
	}
	if len(s) < 16 {
		return nil, apperr.New(apperr.Internal, "cursor secret is shorter than 16 bytes")
	}
	return s, nil
}

type cursorBody struct {
	Scope string            `json:"s"`
	Key   map[string]string `json:"k"`
}

// Encode returns "" for a nil key (no more pages).
func (c *CursorCodec) Encode(ctx context.Context, scope string, lek map[string]types.AttributeValue) (string, error) {
	if len(lek) == 0 {
		return "", nil
	}
	key := map[string]string{}
	if err := attributevalue.UnmarshalMap(lek, &key); err != nil {
		return "", apperr.Wrap(err, apperr.Internal, "encode cursor")
	}
	secret, err := c.key(ctx)
	if err != nil {
		return "", err
	}
	raw, _ := json.Marshal(cursorBody{Scope: scope, Key: key})
	mac := sign(secret, raw)
	return base64.RawURLEncoding.EncodeToString(raw) + "." + base64.RawURLEncoding.EncodeToString(mac), nil
}

// Decode validates a cursor for scope; "" decodes to nil (first page).
func (c *CursorCodec) Decode(ctx context.Context, scope, cursor string) (map[string]types.AttributeValue, error) {
	if cursor == "" {
		return nil, nil
	}
	secret, err := c.key(ctx)
	if err != nil {
		return nil, err
	}
	bad := apperr.New(apperr.Invalid, "cursor is invalid")
	body, sig, ok := strings.Cut(cursor, ".")
	if !ok || len(cursor) > 2048 {
		return nil, bad
	}
	raw, err1 := base64.RawURLEncoding.DecodeString(body)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, sign(secret, raw)) {
		return nil, bad
	}
	var cb cursorBody
	if err := json.Unmarshal(raw, &cb); err != nil || cb.Scope != scope {
		return nil, bad
	}
	out, err := attributevalue.MarshalMap(cb.Key)
	if err != nil {
		return nil, bad
	}
	return out, nil
}

func sign(secret, b []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write(b)
	return h.Sum(nil)
}

// Page is one page of a list.
type Page[T any] struct {
	Items      []T
	NextCursor string
}

// QueryPage runs a Query with a limit and an opaque cursor; scope binds the cursor to this list.
// The caller sets KeyConditionExpression and friends on in; TableName, Limit and
// ExclusiveStartKey are set here.
func QueryPage[T any](ctx context.Context, s *Store, scope string, in *dynamodb.QueryInput, limit int32, cursor string) (Page[T], error) {
	start, err := s.Cursor.Decode(ctx, scope, cursor)
	if err != nil {
		return Page[T]{}, err
	}
	in.TableName = &s.Table
	in.Limit = aws.Int32(limit)
	in.ExclusiveStartKey = start
	res, err := s.DB.Query(ctx, in)
	if err != nil {
		return Page[T]{}, apperr.Wrap(err, apperr.Unavailable, "query failed")
	}
	var page Page[T]
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &page.Items); err != nil {
		return Page[T]{}, apperr.Wrap(err, apperr.Internal, "decode page")
	}
	if page.Items == nil {
		page.Items = []T{}
	}
	page.NextCursor, err = s.Cursor.Encode(ctx, scope, res.LastEvaluatedKey)
	return page, err
}

// NewestPage is one page of the GSI1 partition pk, newest (highest GSI1SK) first: the shape of most
// of our lists (an instructor's courses, a learner's enrolments, a course's reviews, one's tickets,
// the licenses).
func NewestPage[T any](ctx context.Context, s *Store, scope, pk string, limit int32, cursor string) (Page[T], error) {
	return QueryPage[T](ctx, s, scope, &dynamodb.QueryInput{
		IndexName:                 aws.String(manifest.GSI1.Name),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": S(pk)},
		ScanIndexForward:          aws.Bool(false),
	}, limit, cursor)
}

// QueryAll runs a Query to the end (for bounded partitions only, e.g. a payment's refunds).
func QueryAll[T any](ctx context.Context, s *Store, in *dynamodb.QueryInput) ([]T, error) {
	in.TableName = &s.Table
	var out []T
	p := dynamodb.NewQueryPaginator(s.DB, in)
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Unavailable, "query failed")
		}
		var items []T
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
			return nil, apperr.Wrap(err, apperr.Internal, "decode items")
		}
		out = append(out, items...)
	}
	return out, nil
}

// SumNumbersBetween adds up the numeric attributes (Numbers) of the items of partition pk whose
// sort keys lie between fromSK and toSK inclusive: one Query to the end, for bounded ranges of
// small counter items (a window's day counters).
func SumNumbersBetween(ctx context.Context, s *Store, pk, fromSK, toSK string) (map[string]int64, error) {
	sum := map[string]int64{}
	p := dynamodb.NewQueryPaginator(s.DB, &dynamodb.QueryInput{
		TableName:                 &s.Table,
		KeyConditionExpression:    aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": S(pk), ":from": S(fromSK), ":to": S(toSK)},
	})
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Unavailable, "query failed")
		}
		for _, it := range res.Items {
			for k, v := range Numbers(it) {
				sum[k] += v
			}
		}
	}
	return sum, nil
}
