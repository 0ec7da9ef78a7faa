package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/queue"
)

// buildWorld is the builder on the fakes: the catalog's table and S3 in memory.
type buildWorld struct {
	table *memCatalog
	blobs *memBlobs
	clk   *clock.Fake
	b     *Builder
}

func newBuildWorld() *buildWorld {
	w := &buildWorld{table: newMemCatalog(), blobs: newMemBlobs(), clk: clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))}
	w.b = &Builder{Blobs: w.blobs, Clock: w.clk, table: w.table}
	return w
}

func (w *buildWorld) publish(t *testing.T, id, title string) {
	t.Helper()
	at := w.clk.Now()
	if err := w.table.create(listing(id, title, func(l *Listing) { l.PublishedAt = &at })); err != nil {
		t.Fatal(err)
	}
}

// snapshot reads the snapshot the stamp names.
func (w *buildWorld) snapshot(t *testing.T) Snapshot {
	t.Helper()
	st, err := w.table.Stamp(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s, err := DecodeSnapshot(w.blobs.objects[st.Key])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A rebuild writes a snapshot of the published listings and points the stamp at it; one that finds
// the same catalog on the same day writes nothing; a changed catalog, or a new day, is a new object
// and a new version; a build that read the listings before the recorded one leaves the stamp.
func TestRebuild(t *testing.T) {
	ctx := context.Background()
	w := newBuildWorld()

	rep, err := w.b.Rebuild(ctx)
	if err != nil || !rep.Changed || rep.Published != 0 || rep.Version != 1 || !strings.HasPrefix(rep.Key, SnapshotPrefix+"2026-11-02/") {
		t.Fatalf("an empty catalog: %+v %v", rep, err)
	}
	if s := w.snapshot(t); len(s.Docs) != 0 {
		t.Fatalf("empty snapshot: %+v", s)
	}

	w.publish(t, "c1", "Go")
	w.publish(t, "c2", "Rust")
	if err := w.table.create(listing("c3", "Draft", func(l *Listing) { l.Status = StatusDraft })); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(time.Minute)
	rep, err = w.b.Rebuild(ctx)
	if err != nil || !rep.Changed || rep.Published != 2 || rep.Listings != 2 || rep.Version != 2 || rep.Bytes != len(w.blobs.objects[rep.Key]) {
		t.Fatalf("two published: %+v %v", rep, err)
	}
	st, _ := w.table.Stamp(ctx)
	if st.Key != rep.Key || st.Count != 2 || st.Bytes != rep.Bytes || !st.SourceAt.Equal(w.clk.Now()) || st.Hash == "" ||
		!strings.Contains(rep.Key, st.Hash[:32]) {
		t.Fatalf("stamp %+v, report %+v", st, rep)
	}
	if s := w.snapshot(t); len(s.Docs) != 2 || s.Docs[0].ID != "c1" || s.Docs[1].Title != "Rust" || !s.BuiltAt.Equal(w.clk.Now()) {
		t.Fatalf("snapshot: %+v", s)
	}

	// Nothing new the same day: no object, no version.
	objects := len(w.blobs.objects)
	w.clk.Advance(time.Hour)
	again, err := w.b.Rebuild(ctx)
	if err != nil || again.Changed || again.Key != rep.Key || again.Version != 2 || len(w.blobs.objects) != objects {
		t.Fatalf("an unchanged catalog: %+v %v (%d objects)", again, err, len(w.blobs.objects))
	}
	// A rating changes the content.
	if err := w.table.count("c1", map[string]int64{CtrRatingSum: 5, CtrRatingCount: 1}); err != nil {
		t.Fatal(err)
	}
	rated, err := w.b.Rebuild(ctx)
	if err != nil || !rated.Changed || rated.Key == rep.Key || rated.Version != 3 {
		t.Fatalf("a rated course: %+v %v", rated, err)
	}
	// The same content the next day is written again under the day's prefix (the bucket expires
	// old objects after a week).
	w.clk.Advance(24 * time.Hour)
	daily, err := w.b.Rebuild(ctx)
	if err != nil || !daily.Changed || !strings.HasPrefix(daily.Key, SnapshotPrefix+"2026-11-03/") || daily.Version != 4 {
		t.Fatalf("the next day: %+v %v", daily, err)
	}

	// A build that read the listings before the recorded build: its object is written, the stamp
	// stays.
	w.table.mu.Lock()
	w.table.stamp.SourceAt = w.clk.Now().Add(time.Hour)
	w.table.stamp.Hash = "newer"
	w.table.mu.Unlock()
	late, err := w.b.Rebuild(ctx)
	if err != nil || late.Changed || late.Version != 0 {
		t.Fatalf("a superseded build: %+v %v", late, err)
	}
	if st, _ := w.table.Stamp(ctx); st.Hash != "newer" || st.Version != 4 {
		t.Fatalf("the stamp moved back: %+v", st)
	}
}

func TestRebuildFailures(t *testing.T) {
	ctx := context.Background()
	boom := apperr.New(apperr.Unavailable, "boom")
	for _, tc := range []struct {
		name    string
		breakIt func(w *buildWorld)
	}{
		{"Listings", func(w *buildWorld) { w.table.fail["PublishedListings"] = boom }},
		{"Stamp", func(w *buildWorld) { w.table.fail["CurrentStamp"] = boom }},
		{"Object", func(w *buildWorld) { w.blobs.putErr = boom }},
		{"MoveStamp", func(w *buildWorld) { w.table.fail["MoveStamp"] = boom }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newBuildWorld()
			w.publish(t, "c1", "Go")
			tc.breakIt(w)
			if rep, err := w.b.Rebuild(ctx); !errors.Is(err, boom) || rep.Changed {
				t.Fatalf("%+v %v", rep, err)
			}
			if _, err := w.table.read("x"); !apperr.Is(err, apperr.NotFound) {
				t.Fatalf("a stamp was written: %v", err)
			}
		})
	}
}

func sqsMessage(t *testing.T, id, typ string) events.SQSMessage {
	t.Helper()
	body, err := json.Marshal(queue.Message{Type: typ, Payload: json.RawMessage(`{"courseId":"c1","reason":"published"}`)})
	if err != nil {
		t.Fatal(err)
	}
	return events.SQSMessage{MessageId: id, Body: string(body)}
}

// The catalog queue's consumer rebuilds once per batch; a failed rebuild retries every message of
// the batch; a message that is not a rebuild is dropped and never retried.
func TestConsumer(t *testing.T) {
	ctx := context.Background()
	w := newBuildWorld()
	w.publish(t, "c1", "Go")
	c := w.b.Consumer()

	res, err := c(ctx, events.SQSEvent{Records: []events.SQSMessage{sqsMessage(t, "m1", MsgRebuild), sqsMessage(t, "m2", MsgRebuild),
		sqsMessage(t, "m3", "something.else"), {MessageId: "m4", Body: "not json"}}})
	if err != nil || len(res.BatchItemFailures) != 0 {
		t.Fatalf("a batch: %+v %v", res, err)
	}
	st, err := w.table.Stamp(ctx)
	if err != nil || st.Version != 1 || st.Count != 1 {
		t.Fatalf("one rebuild for the batch: %+v %v", st, err)
	}

	w.publish(t, "c2", "Rust")
	w.table.fail["PublishedListings"] = apperr.New(apperr.Unavailable, "throttled")
	res, err = c(ctx, events.SQSEvent{Records: []events.SQSMessage{sqsMessage(t, "m5", MsgRebuild), sqsMessage(t, "m6", "other"),
		sqsMessage(t, "m7", MsgRebuild)}})
	if err != nil || len(res.BatchItemFailures) != 2 || res.BatchItemFailures[0].ItemIdentifier != "m5" ||
		res.BatchItemFailures[1].ItemIdentifier != "m7" {
		t.Fatalf("a failed rebuild: %+v %v", res, err)
	}

	delete(w.table.fail, "PublishedListings")
	res, err = c(ctx, events.SQSEvent{Records: []events.SQSMessage{sqsMessage(t, "m8", "other")}})
	if st, _ := w.table.Stamp(ctx); err != nil || len(res.BatchItemFailures) != 0 || st.Version != 1 {
		t.Fatalf("a batch with no rebuild message rebuilt: %+v %v %+v", res, err, st)
	}
}
