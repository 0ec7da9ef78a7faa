package privacy

// Every DynamoDB input of the privacy frame: the exporters' reads (Reader, used by the areas'
// exporters with their own keys from shared/store/keys.go) and the export item's writes (Repo).

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// Reader reads a person's items for the areas' exporters: raw rows (numbers kept exact as
// json.Number), paged by the last key read.
type Reader struct{ S *store.Store }

// Partition is the source of the items of partition pk whose sort key starts with prefix ("" for
// every item of the partition: used only for partitions that hold nothing but the person's items).
func (r Reader) Partition(typ, pk, prefix string) Source {
	return Source{Type: typ, Fetch: func(ctx context.Context, cursor string, limit int) ([]map[string]any, string, error) {
		in := &dynamodb.QueryInput{
			KeyConditionExpression:    aws.String("PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(pk)},
			ConsistentRead:            aws.Bool(true),
		}
		if prefix != "" {
			in.KeyConditionExpression = aws.String("PK = :pk AND begins_with(SK, :p)")
			in.ExpressionAttributeValues[":p"] = store.S(prefix)
		}
		return r.page(ctx, "privacy#"+typ+"#"+pk+"#"+prefix, in, cursor, limit)
	}}
}

// Index is the source of the items of GSI1 partition pk, oldest first.
func (r Reader) Index(typ, pk string) Source {
	return Source{Type: typ, Fetch: func(ctx context.Context, cursor string, limit int) ([]map[string]any, string, error) {
		return r.page(ctx, "privacy#"+typ+"#gsi1#"+pk, &dynamodb.QueryInput{
			IndexName:                 aws.String(manifest.GSI1.Name),
			KeyConditionExpression:    aws.String("GSI1PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(pk)},
		}, cursor, limit)
	}}
}

// One is the source of a single item (none when it does not exist).
func (r Reader) One(typ string, k store.Key) Source {
	return Source{Type: typ, Fetch: func(ctx context.Context, _ string, _ int) ([]map[string]any, string, error) {
		row, ok, err := r.Get(ctx, k)
		if err != nil || !ok {
			return nil, "", err
		}
		return []map[string]any{row}, "", nil
	}}
}

// Get reads one item, consistently.
func (r Reader) Get(ctx context.Context, k store.Key) (map[string]any, bool, error) {
	res, err := r.S.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &r.S.Table, Key: k.Item(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, false, apperr.Wrap(err, apperr.Unavailable, "read failed")
	}
	if res.Item == nil {
		return nil, false, nil
	}
	return Row(res.Item), true, nil
}

// All reads every item of partition pk under prefix (bounded partitions only: a ticket's ≤ 200
// messages).
func (r Reader) All(ctx context.Context, pk, prefix string) ([]map[string]any, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &r.S.Table,
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(pk), ":p": store.S(prefix)},
		ConsistentRead:            aws.Bool(true),
	}
	var out []map[string]any
	for {
		res, err := r.S.DB.Query(ctx, in)
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Unavailable, "query failed")
		}
		for _, it := range res.Items {
			out = append(out, Row(it))
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

func (r Reader) page(ctx context.Context, scope string, in *dynamodb.QueryInput, cursor string, limit int) ([]map[string]any, string, error) {
	start, err := decodeCursor(scope, cursor)
	if err != nil {
		return nil, "", err
	}
	in.TableName = &r.S.Table
	in.Limit = aws.Int32(int32(max(1, min(limit, 1000))))
	in.ExclusiveStartKey = start
	res, err := r.S.DB.Query(ctx, in)
	if err != nil {
		return nil, "", apperr.Wrap(err, apperr.Unavailable, "query failed")
	}
	rows := make([]map[string]any, 0, len(res.Items))
	for _, it := range res.Items {
		rows = append(rows, Row(it))
	}
	next, err := encodeCursor(scope, res.LastEvaluatedKey)
	return rows, next, err
}

// A Reader's cursor is the last key read and the scope it belongs to, base64 JSON. It is never
// shown to anyone: it lives on the export item as its checkpoint, written only by the export host,
// so it needs no signature (and the host no cursor secret).
type readerCursor struct {
	Scope string            `json:"s"`
	Key   map[string]string `json:"k"`
}

func encodeCursor(scope string, lek map[string]types.AttributeValue) (string, error) {
	if len(lek) == 0 {
		return "", nil
	}
	c := readerCursor{Scope: scope, Key: map[string]string{}}
	for k, v := range lek {
		s, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return "", apperr.New(apperr.Internal, "key attribute %s is not a string", k)
		}
		c.Key[k] = s.Value
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return "", apperr.Wrap(err, apperr.Internal, "encode cursor")
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

func decodeCursor(scope, cursor string) (map[string]types.AttributeValue, error) {
	if cursor == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	var c readerCursor
	if err == nil {
		err = json.Unmarshal(raw, &c)
	}
	if err != nil || c.Scope != scope || len(c.Key) == 0 {
		return nil, apperr.New(apperr.Internal, "export checkpoint cursor does not belong to %s", scope)
	}
	out := make(map[string]types.AttributeValue, len(c.Key))
	for k, v := range c.Key {
		out[k] = store.S(v)
	}
	return out, nil
}

// Row turns an item into plain values: strings, json.Number (exact: money stays integer cents),
// booleans, nil, lists, maps, sets as lists and binary as base64.
func Row(item map[string]types.AttributeValue) map[string]any {
	out := make(map[string]any, len(item))
	for k, v := range item {
		out[k] = value(v)
	}
	return out
}

func value(v types.AttributeValue) any {
	switch t := v.(type) {
	case *types.AttributeValueMemberS:
		return t.Value
	case *types.AttributeValueMemberN:
		return json.Number(t.Value)
	case *types.AttributeValueMemberBOOL:
		return t.Value
	case *types.AttributeValueMemberNULL:
		return nil
	case *types.AttributeValueMemberB:
		return base64.StdEncoding.EncodeToString(t.Value)
	case *types.AttributeValueMemberSS:
		return append([]string(nil), t.Value...)
	case *types.AttributeValueMemberNS:
		out := make([]json.Number, len(t.Value))
		for i, n := range t.Value {
			out[i] = json.Number(n)
		}
		return out
	case *types.AttributeValueMemberBS:
		out := make([]string, len(t.Value))
		for i, b := range t.Value {
			out[i] = base64.StdEncoding.EncodeToString(b)
		}
		return out
	case *types.AttributeValueMemberL:
		out := make([]any, len(t.Value))
		for i, e := range t.Value {
			out[i] = value(e)
		}
		return out
	case *types.AttributeValueMemberM:
		return Row(t.Value)
	}
	return nil
}

// Repo is the export items (docs/data-model.md "Privacy").
type Repo struct{ S *store.Store }

// Create stores a new export with the user's running-export pointer, in one transaction. When the
// user already has an export running, nothing is written and that export is returned with
// created = false.
func (r Repo) Create(ctx context.Context, e Export) (Export, bool, error) {
	e.PK, e.SK = store.ExportKey(e.UserID, e.ID).PK, store.ExportKey(e.UserID, e.ID).SK
	e.Type, e.Version = "personal-export", 1
	e.GSI1PK, e.GSI1SK = store.PrivacyRequestsGSI1(e.CreatedAt, e.ID)
	k := store.RunningExportKey(e.UserID)
	run := running{PK: k.PK, SK: k.SK, Type: "personal-export-running", ExportID: e.ID, At: e.CreatedAt}
	for attempt := 0; attempt < 3; attempt++ {
		putExport, err := store.PutNewItem(e)
		if err != nil {
			return Export{}, false, err
		}
		putRun, err := store.PutNewItem(run)
		if err != nil {
			return Export{}, false, err
		}
		err = r.S.Transact(ctx, []types.TransactWriteItem{putExport, putRun})
		if err == nil {
			return e, true, nil
		}
		if !store.IsConditionFailed(err) {
			return Export{}, false, err
		}
		var cur running
		switch err := r.S.GetConsistent(ctx, k, &cur); {
		case apperr.Is(err, apperr.NotFound):
			continue // that export finished meanwhile: try again
		case err != nil:
			return Export{}, false, err
		}
		prev, err := r.Get(ctx, e.UserID, cur.ExportID)
		if err != nil {
			return Export{}, false, err
		}
		return prev, false, nil
	}
	return Export{}, false, apperr.New(apperr.Conflict, "exports are changing; try again")
}

// Get reads one of the user's exports (NotFound when the user has none with that id).
func (r Repo) Get(ctx context.Context, userID, exportID string) (Export, error) {
	var e Export
	err := r.S.GetConsistent(ctx, store.ExportKey(userID, exportID), &e)
	return e, err
}

// Save writes e over the version it was read at (e.Version); a lost race is a condition failure.
func (r Repo) Save(ctx context.Context, e Export) (Export, error) {
	read := e.Version
	e.Version++
	put, err := store.PutVersioned(e, read)
	if err != nil {
		return Export{}, err
	}
	if err := r.S.Transact(ctx, []types.TransactWriteItem{put}); err != nil {
		return Export{}, err
	}
	return e, nil
}

// Finish writes the finished export (ready or failed) over its version and removes the user's
// running-export pointer if it still names it, in one transaction.
func (r Repo) Finish(ctx context.Context, e Export) (Export, error) {
	read := e.Version
	e.Version++
	put, err := store.PutVersioned(e, read)
	if err != nil {
		return Export{}, err
	}
	k := store.RunningExportKey(e.UserID)
	del := types.TransactWriteItem{Delete: &types.Delete{Key: k.Item(),
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR exportId = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": store.S(e.ID)}}}
	if err := r.S.Transact(ctx, []types.TransactWriteItem{put, del}); err != nil {
		return Export{}, err
	}
	return e, nil
}

// IsLostRace reports a write refused because another run moved the export first.
func IsLostRace(err error) bool { return errors.Is(err, store.ErrConditionFailed) }

type running struct {
	PK       string    `dynamodbav:"PK"`
	SK       string    `dynamodbav:"SK"`
	Type     string    `dynamodbav:"type"`
	ExportID string    `dynamodbav:"exportId"`
	At       time.Time `dynamodbav:"at"`
}
