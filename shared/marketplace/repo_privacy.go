package marketplace

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/store"
)

// erasureRepo holds the DynamoDB inputs of the marketplace's erasure (privacy_erase.go): each
// method is one record's change, one write (a single conditional item write, or one transaction
// with its audit record), conditioned so that a concurrent change is never lost and a record
// already erased is never changed again (a failed condition: the caller reads again).
type erasureRepo struct{ s *store.Store }

// tag marks a kept record with the pseudonym (attribute erasedAs). A versioned record (read >= 1)
// is written only over the version read, and its version moves on, so that a whole-item write
// computed from the earlier read fails and reads again (keeping erasedAs, a field of the item's
// Go type). An unversioned one (balance, ledger entry) changes only by ADD or never, so it needs
// no more than to exist and not be tagged yet.
func (r erasureRepo) tag(ctx context.Context, k store.Key, pseudonym string, read int64) error {
	in := &dynamodb.UpdateItemInput{
		Key:                       k.Item(),
		UpdateExpression:          aws.String("SET erasedAs = :p"),
		ConditionExpression:       aws.String("attribute_exists(PK) AND attribute_not_exists(erasedAs)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": store.S(pseudonym)},
	}
	if read > 0 {
		in.UpdateExpression = aws.String("SET erasedAs = :p, version = :next")
		in.ConditionExpression = aws.String("version = :read AND attribute_not_exists(erasedAs)")
		in.ExpressionAttributeValues[":read"] = store.N(read)
		in.ExpressionAttributeValues[":next"] = store.N(read + 1)
	}
	return r.s.Update(ctx, in, nil)
}

// eraseReview replaces a review's author name by the pseudonym and its text (when it has one) by
// text, over the version read. The rating, the status and the update time (the list's order) stay,
// so the course's rating aggregate and its review list are what they were.
func (r erasureRepo) eraseReview(ctx context.Context, k store.Key, pseudonym, text string, read int64) error {
	set := "SET authorName = :p, erasedAs = :p, version = :next"
	vals := map[string]types.AttributeValue{":p": store.S(pseudonym), ":read": store.N(read), ":next": store.N(read + 1)}
	if text != "" {
		set += ", #text = :text"
		vals[":text"] = store.S(text)
	}
	in := &dynamodb.UpdateItemInput{
		Key:                       k.Item(),
		UpdateExpression:          aws.String(set),
		ConditionExpression:       aws.String("version = :read AND attribute_not_exists(erasedAs)"),
		ExpressionAttributeValues: vals,
	}
	if text != "" {
		in.ExpressionAttributeNames = map[string]string{"#text": "text"}
	}
	return r.s.Update(ctx, in, nil)
}

// deleteCheckout deletes a learner's open Checkout Session record while it is the session read.
func (r erasureRepo) deleteCheckout(ctx context.Context, k store.Key, sessionID string) error {
	return r.s.Transact(ctx, []types.TransactWriteItem{{Delete: &types.Delete{Key: k.Item(),
		ConditionExpression:       aws.String("sessionId = :s"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": store.S(sessionID)}}}})
}

// profileErasure is the change of an instructor's profile: attributes set to a pseudonym value,
// attributes removed, and the value of each attribute as read (absent: "") that it is written over.
type profileErasure struct {
	Set    map[string]string
	Remove []string
	Read   map[string]string
	At     time.Time
	Audit  audit.Entry
}

// eraseProfile writes the profile's erasure with its audit record, in one transaction, only over
// the values read (an e-mail written meanwhile by a course creation fails it: read again).
func (r erasureRepo) eraseProfile(ctx context.Context, k store.Key, pe profileErasure) error {
	names := map[string]string{}
	vals := map[string]types.AttributeValue{":at": store.S(pe.At.UTC().Format(time.RFC3339Nano))}
	set := []string{"updatedAt = :at"}
	cond := "attribute_exists(PK) AND attribute_not_exists(erasedAs)"
	attrs := make([]string, 0, len(pe.Set))
	for a := range pe.Set {
		attrs = append(attrs, a)
	}
	sort.Strings(attrs)
	for i, a := range attrs {
		n, v := "#s"+strconv.Itoa(i), ":s"+strconv.Itoa(i)
		names[n], vals[v] = a, store.S(pe.Set[a])
		set = append(set, n+" = "+v)
	}
	var remove []string
	for i, a := range pe.Remove {
		n := "#r" + strconv.Itoa(i)
		names[n] = a
		remove = append(remove, n)
	}
	reads := make([]string, 0, len(pe.Read))
	for a := range pe.Read {
		reads = append(reads, a)
	}
	sort.Strings(reads)
	for i, a := range reads {
		n, v := "#c"+strconv.Itoa(i), ":c"+strconv.Itoa(i)
		names[n] = a
		if pe.Read[a] == "" {
			cond += " AND attribute_not_exists(" + n + ")"
			continue
		}
		vals[v] = store.S(pe.Read[a])
		cond += " AND " + n + " = " + v
	}
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	au, err := audit.Item(pe.Audit, pe.At)
	if err != nil {
		return err
	}
	upd := types.TransactWriteItem{Update: &types.Update{Key: k.Item(), UpdateExpression: aws.String(expr),
		ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals}}
	if len(names) > 0 {
		upd.Update.ExpressionAttributeNames = names
	}
	return r.s.Transact(ctx, []types.TransactWriteItem{upd, au})
}

// disputedSales lists an instructor's sales with a dispute still open (status disputed), every
// page: the legal hold on the instructor's profile (privacy_erase.go).
func (r erasureRepo) disputedSales(ctx context.Context, instructorID string) ([]Sale, error) {
	in := &dynamodb.QueryInput{
		TableName:                &r.s.Table,
		KeyConditionExpression:   aws.String("PK = :pk AND begins_with(SK, :p)"),
		FilterExpression:         aws.String("#st = :disputed"),
		ExpressionAttributeNames: map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.InstructorPK(instructorID)),
			":p": store.S(store.SalePrefix), ":disputed": store.S(SaleDisputed)},
		ConsistentRead: aws.Bool(true),
	}
	var out []Sale
	for {
		res, err := r.s.DB.Query(ctx, in)
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Unavailable, "query failed")
		}
		var page []Sale
		if err := unmarshalList(res.Items, &page); err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
