package trail

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// Query is what GET /admin/audit asks for: records at or after From and before To (whole seconds),
// by actor and/or target and/or action.
type Query struct {
	Actor, Target, Action string
	From, To              time.Time
}

// scope binds a cursor to the query, so a cursor cannot be replayed against another one.
func (q Query) scope() string {
	return strings.Join([]string{"audit", q.Actor, q.Target, q.Action, q.From.Format(time.RFC3339), q.To.Format(time.RFC3339)}, "|")
}

// sortBound is the sort-key bound of a time: RFC 3339 to the second, without the zone, so every
// key in that second sorts after it (keys are "<RFC 3339 nano>#<id>").
func sortBound(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }

// Records reads one page (oldest first). Access patterns (docs/data-model.md): by actor, GSI1
// (ACTOR#<actor>); else by target, GSI2 (AUDITTARGET#<target>); else the day partitions
// AUDIT#<day> from From to To, one after the other. The time range is the key condition; the
// other fields are filters.
func Records(ctx context.Context, s *store.Store, q Query, limit int32, cursor string) ([]audit.Record, string, error) {
	start, err := s.Cursor.Decode(ctx, q.scope(), cursor)
	if err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{TableName: &s.Table,
		ExpressionAttributeNames:  map[string]string{},
		ExpressionAttributeValues: map[string]types.AttributeValue{":from": store.S(sortBound(q.From)), ":to": store.S(sortBound(q.To))}}
	var filters []string
	filter := func(attr, v string) {
		if v == "" {
			return
		}
		in.ExpressionAttributeNames["#f_"+attr] = attr
		in.ExpressionAttributeValues[":f_"+attr] = store.S(v)
		filters = append(filters, "#f_"+attr+" = :f_"+attr)
	}
	switch {
	case q.Actor != "":
		pk, _ := store.AuditByActorGSI1(q.Actor, q.From, "")
		in.IndexName = aws.String(manifest.GSI1.Name)
		in.KeyConditionExpression = aws.String("#pk = :pk AND #sk BETWEEN :from AND :to")
		in.ExpressionAttributeNames["#pk"], in.ExpressionAttributeNames["#sk"] = manifest.GSI1.PK, manifest.GSI1.SK
		in.ExpressionAttributeValues[":pk"] = store.S(pk)
		filter("target", q.Target)
	case q.Target != "":
		pk, _ := store.AuditByTargetGSI2(q.Target, q.From, "")
		in.IndexName = aws.String(manifest.GSI2.Name)
		in.KeyConditionExpression = aws.String("#pk = :pk AND #sk BETWEEN :from AND :to")
		in.ExpressionAttributeNames["#pk"], in.ExpressionAttributeNames["#sk"] = manifest.GSI2.PK, manifest.GSI2.SK
		in.ExpressionAttributeValues[":pk"] = store.S(pk)
	default:
		in.KeyConditionExpression = aws.String("#pk = :pk AND #sk BETWEEN :from AND :to")
		in.ExpressionAttributeNames["#pk"], in.ExpressionAttributeNames["#sk"] = manifest.AttrPK, manifest.AttrSK
	}
	filter("action", q.Action)
	// BETWEEN is inclusive, but no key equals the bounds: a key of To's second is longer than the
	// bound it starts with, so it sorts after it and is out, as the range's end is exclusive.
	if len(filters) > 0 {
		in.FilterExpression = aws.String(strings.Join(filters, " AND "))
	}
	if in.IndexName != nil {
		return page(ctx, s, q, in, limit, start)
	}
	return dayPages(ctx, s, q, in, limit, start)
}

func page(ctx context.Context, s *store.Store, q Query, in *dynamodb.QueryInput, limit int32, start map[string]types.AttributeValue) ([]audit.Record, string, error) {
	in.Limit, in.ExclusiveStartKey = aws.Int32(limit), start
	res, err := s.DB.Query(ctx, in)
	if err != nil {
		return nil, "", apperr.Wrap(err, apperr.Unavailable, "query failed")
	}
	out, err := decode(res.Items)
	if err != nil {
		return nil, "", err
	}
	next, err := s.Cursor.Encode(ctx, q.scope(), res.LastEvaluatedKey)
	return out, next, err
}

// dayPages fills a page from the day partitions, going on to the next day while the page has room.
// The cursor is the last key read; between days it is the next day's partition before its first
// key (SK "0" sorts before every time).
func dayPages(ctx context.Context, s *store.Store, q Query, in *dynamodb.QueryInput, limit int32, start map[string]types.AttributeValue) ([]audit.Record, string, error) {
	day := q.From.UTC().Truncate(24 * time.Hour)
	if pk, ok := start[manifest.AttrPK].(*types.AttributeValueMemberS); ok {
		d, err := time.Parse(time.DateOnly, strings.TrimPrefix(pk.Value, store.AuditDayPK("")))
		if err != nil || d.Before(day) || !d.Before(q.To) {
			return nil, "", apperr.New(apperr.Invalid, "cursor is invalid")
		}
		day = d
		if sk, _ := start[manifest.AttrSK].(*types.AttributeValueMemberS); sk != nil && sk.Value == "0" {
			start = nil
		}
	}
	out := []audit.Record{}
	for ; day.Before(q.To); day = day.AddDate(0, 0, 1) {
		pk := store.AuditDayPK(day.Format(time.DateOnly))
		in.ExpressionAttributeValues[":pk"] = store.S(pk)
		in.Limit, in.ExclusiveStartKey = aws.Int32(limit-int32(len(out))), start
		start = nil
		res, err := queryDay(ctx, s, in, pk)
		if err != nil {
			return nil, "", err
		}
		recs, err := decode(res.Items)
		if err != nil {
			return nil, "", err
		}
		out = append(out, recs...)
		if len(res.LastEvaluatedKey) > 0 {
			next, err := s.Cursor.Encode(ctx, q.scope(), res.LastEvaluatedKey)
			return out, next, err
		}
		if int32(len(out)) >= limit {
			nextDay := day.AddDate(0, 0, 1)
			if !nextDay.Before(q.To) {
				return out, "", nil
			}
			next, err := s.Cursor.Encode(ctx, q.scope(), map[string]types.AttributeValue{
				manifest.AttrPK: store.S(store.AuditDayPK(nextDay.Format(time.DateOnly))), manifest.AttrSK: store.S("0")})
			return out, next, err
		}
	}
	return out, "", nil
}

// queryDay runs one page of a day's partition. DynamoDB's last key is always in the partition
// queried; the in-process table (minidyn) counts Limit over the items it walks outside the
// partition too and can answer a key of another partition: that key is followed until the answer
// is the partition's (bounded), and a last key still outside it means the day was read to its end.
func queryDay(ctx context.Context, s *store.Store, in *dynamodb.QueryInput, pk string) (*dynamodb.QueryOutput, error) {
	for i := 0; ; i++ {
		res, err := s.DB.Query(ctx, in)
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Unavailable, "query failed")
		}
		lk, _ := res.LastEvaluatedKey[manifest.AttrPK].(*types.AttributeValueMemberS)
		if lk == nil || lk.Value == pk {
			return res, nil
		}
		if len(res.Items) > 0 || i >= 1000 {
			res.LastEvaluatedKey = nil
			return res, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

func decode(items []map[string]types.AttributeValue) ([]audit.Record, error) {
	out := make([]audit.Record, 0, len(items))
	for _, it := range items {
		var r audit.Record
		if err := store.DecodeItem(it, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
