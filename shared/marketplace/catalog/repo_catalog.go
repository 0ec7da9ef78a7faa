package catalog

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/store"
)

// dynamoCatalog is the catalog on the single table: the only file of the package that builds
// DynamoDB inputs — the builder's reads and the stamp (snapshotTable), search's stamp read
// (stampReader), and the listing's items that the marketplace's repositories put in their own
// transactions (NewListingItem, UpdateFieldsItem, CountersItem). Keys come from
// shared/store/keys.go; the listings are read by partition (store.CatalogShardPK), no index.
type dynamoCatalog struct{ s *store.Store }

var (
	_ snapshotTable = dynamoCatalog{}
	_ stampReader   = dynamoCatalog{}
)

func (r dynamoCatalog) PublishedListings(ctx context.Context) ([]Listing, error) {
	var listings []Listing
	for n := 0; n < store.CatalogShards; n++ {
		part, err := store.QueryAll[Listing](ctx, r.s, &dynamodb.QueryInput{
			KeyConditionExpression:    aws.String("PK = :pk"),
			FilterExpression:          aws.String("#st = :pub"),
			ExpressionAttributeNames:  map[string]string{"#st": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.CatalogShardPK(n)), ":pub": store.S(StatusPublished)},
			ConsistentRead:            aws.Bool(true),
		})
		if err != nil {
			return nil, err
		}
		listings = append(listings, part...)
	}
	return listings, nil
}

func (r dynamoCatalog) CurrentStamp(ctx context.Context) (Stamp, error) {
	var st Stamp
	err := r.s.GetConsistent(ctx, store.CatalogStampKey(), &st)
	return st, err
}

func (r dynamoCatalog) Stamp(ctx context.Context) (Stamp, error) {
	var st Stamp
	err := r.s.Get(ctx, store.CatalogStampKey(), &st)
	return st, err
}

// sourceAtLayout is how the stamp's sourceAt is stored: fixed width (all nine fraction digits), so
// the condition's string comparison orders builds as times. RFC3339Nano drops trailing zeros, and
// as strings "…09:01:00Z" sorts after "…09:01:00.5Z" and "…00.5Z" after "…00.52Z": a build read
// later in the same second as the recorded one was refused as superseded. (A stamp written before
// in the old layout still compares correctly with any build of a later second.)
const sourceAtLayout = "2006-01-02T15:04:05.000000000Z07:00"

func (r dynamoCatalog) MoveStamp(ctx context.Context, st Stamp) (Stamp, error) {
	var out Stamp
	err := r.s.Update(ctx, &dynamodb.UpdateItemInput{
		Key: store.CatalogStampKey().Item(),
		UpdateExpression: aws.String("SET #t = :t, #k = :k, #h = :h, #c = :c, #b = :b, sourceAt = :src, builtAt = :now " +
			"ADD version :one"),
		ConditionExpression:      aws.String("attribute_not_exists(PK) OR sourceAt <= :src"),
		ExpressionAttributeNames: map[string]string{"#t": "type", "#k": "key", "#h": "hash", "#c": "count", "#b": "bytes"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": store.S("catalog-stamp"), ":k": store.S(st.Key), ":h": store.S(st.Hash), ":c": store.N(int64(st.Count)),
			":b": store.N(int64(st.Bytes)), ":src": store.S(st.SourceAt.UTC().Format(sourceAtLayout)),
			":now": store.S(st.BuiltAt.UTC().Format(time.RFC3339Nano)), ":one": store.N(1),
		},
	}, &out)
	return out, err
}

// ----- the listing as items of the marketplace's transactions -----

// NewListingItem creates a course's listing (with zero counters) once.
func NewListingItem(l Listing) (types.TransactWriteItem, error) {
	l.SetKeys()
	return store.PutNewItem(l)
}

// UpdateFieldsItem sets a listing's searchable fields and status without touching its counters.
// The listing must exist (created with its course).
func UpdateFieldsItem(l Listing) types.TransactWriteItem {
	set := []string{"instructorName = :in", "title = :t", "category = :c", "#lvl = :lv", "#lang = :lg",
		"priceCents = :p", "#st = :st", "updatedAt = :u"}
	remove := []string{}
	vals := map[string]types.AttributeValue{
		":in": store.S(l.InstructorName), ":t": store.S(l.Title), ":c": store.S(l.Category), ":lv": store.S(l.Level),
		":lg": store.S(l.Language), ":p": store.N(l.PriceCents), ":st": store.S(l.Status),
		":u": store.S(l.UpdatedAt.UTC().Format(time.RFC3339Nano)),
	}
	opt := func(attr, ph, v string) {
		if v == "" {
			remove = append(remove, attr)
			return
		}
		set = append(set, attr+" = "+ph)
		vals[ph] = store.S(v)
	}
	opt("subtitle", ":sub", l.Subtitle)
	opt("terms", ":terms", l.Terms)
	if len(l.Tags) > 0 {
		list := make([]types.AttributeValue, len(l.Tags))
		for i, t := range l.Tags {
			list[i] = store.S(t)
		}
		set = append(set, "tags = :tags")
		vals[":tags"] = &types.AttributeValueMemberL{Value: list}
	} else {
		remove = append(remove, "tags")
	}
	if l.PublishedAt != nil {
		set = append(set, "publishedAt = :pa")
		vals[":pa"] = store.S(l.PublishedAt.UTC().Format(time.RFC3339Nano))
	}
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	return types.TransactWriteItem{Update: &types.Update{
		Key:                       store.ListingKey(l.CourseID).Item(),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeNames:  map[string]string{"#lvl": "level", "#lang": "language", "#st": "status"},
		ExpressionAttributeValues: vals,
	}}
}

// CountersItem adds deltas to a listing's counters (ratings, enrolments); nil when none change.
func CountersItem(courseID string, deltas map[string]int64) *types.TransactWriteItem {
	return store.AddCounters(store.ListingKey(courseID), deltas)
}
