package catalog

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/store"
)

// MsgRebuild is the catalog queue's message: something visible in the catalog changed.
const MsgRebuild = "catalog.rebuild"

// RebuildRequest is its payload (for logs: the builder always rebuilds everything).
type RebuildRequest struct {
	CourseID string `json:"courseId"`
	Reason   string `json:"reason"`
}

// SnapshotPrefix is where snapshots are written; the bucket expires them after a week, and the
// builder writes the current one again every day, so the stamp never names an expired object.
const SnapshotPrefix = manifest.CatalogSnapshotPrefix

// Builder writes the search snapshot from the listings.
type Builder struct {
	Store *store.Store
	Blobs blob.Store
	Clock clock.Clock
}

// BuildReport is what a rebuild did.
type BuildReport struct {
	Published int    `json:"published"`
	Listings  int    `json:"listings"`
	Changed   bool   `json:"changed"`
	Key       string `json:"key,omitempty"`
	Bytes     int    `json:"bytes,omitempty"`
	Version   int64  `json:"version,omitempty"`
}

// Rebuild reads every listing (CatalogShards consistent Queries, published ones only) and, when
// the content differs from the current snapshot's (or the current object is from an earlier day),
// writes a new snapshot object and points the stamp at it. The stamp only moves forward: a build
// that read the listings before the one already recorded does not replace it.
func (b *Builder) Rebuild(ctx context.Context) (BuildReport, error) {
	start := b.Clock.Now().UTC()
	var listings []Listing
	for n := 0; n < store.CatalogShards; n++ {
		part, err := store.QueryAll[Listing](ctx, b.Store, &dynamodb.QueryInput{
			KeyConditionExpression:    aws.String("PK = :pk"),
			FilterExpression:          aws.String("#st = :pub"),
			ExpressionAttributeNames:  map[string]string{"#st": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.CatalogShardPK(n)), ":pub": store.S(StatusPublished)},
			ConsistentRead:            aws.Bool(true),
		})
		if err != nil {
			return BuildReport{}, err
		}
		listings = append(listings, part...)
	}
	snap := NewSnapshot(listings, start)
	hash := snap.Hash()
	rep := BuildReport{Published: len(snap.Docs), Listings: len(listings)}
	var cur Stamp
	if err := b.Store.GetConsistent(ctx, store.CatalogStampKey(), &cur); err != nil && !apperr.Is(err, apperr.NotFound) {
		return rep, err
	}
	key := SnapshotPrefix + start.Format("2006-01-02") + "/" + hash[:32] + ".json.gz"
	if cur.Hash == hash && cur.Key == key {
		rep.Key, rep.Version = cur.Key, cur.Version
		return rep, nil
	}
	body, err := snap.Encode()
	if err != nil {
		return rep, apperr.Wrap(err, apperr.Internal, "encode catalog snapshot")
	}
	if err := b.Blobs.Put(ctx, blob.Object{Key: key, ContentType: "application/gzip"}, body); err != nil {
		return rep, err
	}
	var out Stamp
	err = b.Store.Update(ctx, &dynamodb.UpdateItemInput{
		Key: store.CatalogStampKey().Item(),
		UpdateExpression: aws.String("SET #t = :t, #k = :k, #h = :h, #c = :c, #b = :b, sourceAt = :src, builtAt = :now " +
			"ADD version :one"),
		ConditionExpression:      aws.String("attribute_not_exists(PK) OR sourceAt <= :src"),
		ExpressionAttributeNames: map[string]string{"#t": "type", "#k": "key", "#h": "hash", "#c": "count", "#b": "bytes"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": store.S("catalog-stamp"), ":k": store.S(key), ":h": store.S(hash), ":c": store.N(int64(len(snap.Docs))),
			":b": store.N(int64(len(body))), ":src": store.S(start.Format(time.RFC3339Nano)),
			":now": store.S(b.Clock.Now().UTC().Format(time.RFC3339Nano)), ":one": store.N(1),
		},
	}, &out)
	if store.IsConditionFailed(err) {
		logging.From(ctx).Info("catalog snapshot superseded by a newer build", "key", key)
		return rep, nil
	}
	if err != nil {
		return rep, err
	}
	rep.Changed, rep.Key, rep.Bytes, rep.Version = true, key, len(body), out.Version
	logging.From(ctx).Info("catalog snapshot written", "key", key, "published", rep.Published, "bytes", rep.Bytes)
	return rep, nil
}

// Consumer rebuilds once per batch of catalog messages (a burst of changes costs one rebuild); if
// the rebuild fails, every message of the batch is retried.
func (b *Builder) Consumer() queue.Consumer {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		var ids []string
		for _, rec := range ev.Records {
			var msg queue.Message
			if err := json.Unmarshal([]byte(rec.Body), &msg); err != nil || msg.Type != MsgRebuild {
				logging.From(ctx).Warn("dropping a message that is not a catalog rebuild", "messageId", rec.MessageId)
				continue
			}
			if rec.MessageId != "" {
				ids = append(ids, rec.MessageId)
			}
		}
		if len(ids) == 0 {
			return resp, nil
		}
		if _, err := b.Rebuild(ctx); err != nil {
			logging.From(ctx).Error("catalog rebuild failed; will retry", "code", apperr.CodeOf(err), "err", err.Error())
			for _, id := range ids {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
			}
		}
		return resp, nil
	}
}
