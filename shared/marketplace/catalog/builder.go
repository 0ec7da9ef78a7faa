package catalog

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
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

	table snapshotTable // nil: the DynamoDB repository over Store (unit tests set a fake)
}

func (b *Builder) repo() snapshotTable {
	if b.table != nil {
		return b.table
	}
	return dynamoCatalog{b.Store}
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

// wireRefreshCatalog: ratings and enrolment counts change without a catalog message; the 5-minute
// refresh keeps the snapshot's within five minutes of them.
func wireRefreshCatalog(rt *platform.Runtime) (job.Handler[BuildReport], error) {
	b, err := builder(rt)
	if err != nil {
		return nil, err
	}
	return job.Handle(rt.Log, b.Rebuild), nil
}

// Rebuild reads every listing (CatalogShards consistent Queries, published ones only) and, when
// the content differs from the current snapshot's (or the current object is from an earlier day),
// writes a new snapshot object and points the stamp at it. The stamp only moves forward: a build
// that read the listings before the one already recorded does not replace it.
func (b *Builder) Rebuild(ctx context.Context) (BuildReport, error) {
	start := b.Clock.Now().UTC()
	table := b.repo()
	listings, err := table.PublishedListings(ctx)
	if err != nil {
		return BuildReport{}, err
	}
	snap := NewSnapshot(listings, start)
	hash := snap.Hash()
	rep := BuildReport{Published: len(snap.Docs), Listings: len(listings)}
	cur, err := table.CurrentStamp(ctx)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
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
	out, err := table.MoveStamp(ctx, Stamp{Key: key, Hash: hash, Count: len(snap.Docs), Bytes: len(body),
		SourceAt: start, BuiltAt: b.Clock.Now().UTC()})
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

func wireIndexCatalog(rt *platform.Runtime) (queue.Consumer, error) {
	b, err := builder(rt)
	if err != nil {
		return nil, err
	}
	c := b.Consumer()
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return c(logging.With(ctx, rt.Log), ev)
	}, nil
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
