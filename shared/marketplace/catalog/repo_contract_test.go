package catalog

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// catalogHarness is what the contract needs beside the repository: the listing's writes as the
// marketplace's transactions make them (NewListingItem, UpdateFieldsItem, CountersItem).
type catalogHarness struct {
	repo interface {
		snapshotTable
		stampReader
	}
	create func(Listing) error
	update func(Listing) error
	count  func(courseID string, deltas map[string]int64) error
}

// testCatalogContract checks the semantics the builder and search rely on, on memCatalog and on
// dynamoCatalog (minidyn in `go test`, moto with the integration tag), so the fake cannot drift.
func testCatalogContract(t *testing.T, h catalogHarness) {
	ctx := context.Background()
	r := h.repo
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

	t.Run("NothingBuiltYet", func(t *testing.T) {
		if _, err := r.CurrentStamp(ctx); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("current stamp: %v", err)
		}
		if _, err := r.Stamp(ctx); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("stamp: %v", err)
		}
		if ls, err := r.PublishedListings(ctx); err != nil || len(ls) != 0 {
			t.Fatalf("listings: %+v %v", ls, err)
		}
	})

	t.Run("OnlyPublishedListings", func(t *testing.T) {
		mk := func(id, status string) Listing {
			l := Listing{CourseID: id, InstructorID: "ins", InstructorName: "Ada", Title: "Title " + id, Subtitle: "Sub " + id,
				Category: "development", Level: "beginner", Language: "en", Tags: []string{"go", "web"}, Terms: "channels",
				PriceCents: 1999, Status: status, UpdatedAt: at}
			if status == StatusPublished {
				l.PublishedAt = &at
			}
			return l
		}
		// Ids spread over the catalog's shards.
		ids := []string{"crs_a1", "crs_b2", "crs_c3", "crs_d4", "crs_e5", "crs_f6", "crs_g7", "crs_h8"}
		for i, id := range ids {
			status := StatusPublished
			if i%4 == 3 {
				status = StatusDraft
			}
			if err := h.create(mk(id, status)); err != nil {
				t.Fatal(err)
			}
		}
		if err := h.create(mk("crs_a1", StatusDraft)); !store.IsConditionFailed(err) {
			t.Fatalf("a second listing for one course: %v", err)
		}
		// The fields change without the counters; empty optional fields are removed.
		if err := h.count("crs_a1", map[string]int64{CtrRatingSum: 9, CtrRatingCount: 2, CtrStars(4): 1, CtrStars(5): 1, CtrEnrollments: 3}); err != nil {
			t.Fatal(err)
		}
		a := mk("crs_a1", StatusPublished)
		a.Title, a.Subtitle, a.Tags, a.Terms, a.PriceCents, a.UpdatedAt = "Renamed", "", nil, "", 2999, at.Add(time.Hour)
		if err := h.update(a); err != nil {
			t.Fatal(err)
		}
		if err := h.update(mk("crs_none", StatusPublished)); !store.IsConditionFailed(err) {
			t.Fatalf("fields of a listing that does not exist: %v", err)
		}
		// Unpublishing takes a listing out.
		if err := h.update(mk("crs_b2", StatusUnpublished)); err != nil {
			t.Fatal(err)
		}
		ls, err := r.PublishedListings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(ls, func(i, j int) bool { return ls[i].CourseID < ls[j].CourseID })
		var got []string
		for _, l := range ls {
			got = append(got, l.CourseID)
		}
		if want := []string{"crs_a1", "crs_c3", "crs_e5", "crs_f6", "crs_g7"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("published: %v, want %v", got, want)
		}
		l := ls[0]
		if l.Title != "Renamed" || l.Subtitle != "" || len(l.Tags) != 0 || l.Terms != "" || l.PriceCents != 2999 ||
			l.RatingSum != 9 || l.RatingCount != 2 || l.Histogram() != [5]int64{0, 0, 0, 1, 1} || l.Enrollments != 3 ||
			l.PublishedAt == nil || !l.PublishedAt.Equal(at) || !l.UpdatedAt.Equal(at.Add(time.Hour)) {
			t.Fatalf("after its fields and counters changed: %+v", l)
		}
		if c := ls[1]; c.Subtitle != "Sub crs_c3" || !reflect.DeepEqual(c.Tags, []string{"go", "web"}) || c.Terms != "channels" ||
			c.InstructorName != "Ada" || c.Level != "beginner" || c.Language != "en" || c.Category != "development" {
			t.Fatalf("an untouched listing: %+v", c)
		}
	})

	t.Run("StampMovesForward", func(t *testing.T) {
		st := Stamp{Key: "catalog/2026-11-02/a.json.gz", Hash: "h1", Count: 5, Bytes: 100, SourceAt: at, BuiltAt: at.Add(time.Second)}
		got, err := r.MoveStamp(ctx, st)
		if err != nil || got.Version != 1 || got.Key != st.Key || got.Hash != "h1" || got.Count != 5 || got.Bytes != 100 ||
			!got.SourceAt.Equal(at) || !got.BuiltAt.Equal(at.Add(time.Second)) {
			t.Fatalf("first stamp: %+v %v", got, err)
		}
		for _, read := range []func(context.Context) (Stamp, error){r.CurrentStamp, r.Stamp} {
			if cur, err := read(ctx); err != nil || cur.Version != 1 || cur.Key != st.Key || cur.Hash != "h1" || !cur.SourceAt.Equal(at) {
				t.Fatalf("read back: %+v %v", cur, err)
			}
		}
		// A build that read the listings later moves it; one that read them earlier does not.
		later := st
		later.Key, later.Hash, later.SourceAt = "catalog/2026-11-02/b.json.gz", "h2", at.Add(time.Minute)
		if got, err := r.MoveStamp(ctx, later); err != nil || got.Version != 2 || got.Key != later.Key {
			t.Fatalf("a later build: %+v %v", got, err)
		}
		earlier := st
		earlier.Hash, earlier.SourceAt = "h0", at.Add(30*time.Second)
		if _, err := r.MoveStamp(ctx, earlier); !store.IsConditionFailed(err) {
			t.Fatalf("an earlier build moved the stamp back: %v", err)
		}
		if cur, _ := r.CurrentStamp(ctx); cur.Hash != "h2" || cur.Version != 2 {
			t.Fatalf("after a refused move: %+v", cur)
		}
		// Builds of one second: fractions of any length order as times, not as strings.
		for i, d := range []time.Duration{time.Minute + 500*time.Millisecond, time.Minute + 520*time.Millisecond,
			time.Minute + 520*time.Millisecond + 3*time.Nanosecond, 2 * time.Minute} {
			next := st
			next.Hash, next.SourceAt = "h-frac", at.Add(d)
			if got, err := r.MoveStamp(ctx, next); err != nil || got.Version != int64(3+i) || !got.SourceAt.Equal(at.Add(d)) {
				t.Fatalf("a build at +%v: %+v %v", d, got, err)
			}
		}
		back := st
		back.SourceAt = at.Add(time.Minute + 999*time.Millisecond)
		if _, err := r.MoveStamp(ctx, back); !store.IsConditionFailed(err) {
			t.Fatalf("a build of the second before moved the stamp back: %v", err)
		}
	})
}

func TestMemCatalogContract(t *testing.T) {
	m := newMemCatalog()
	testCatalogContract(t, catalogHarness{repo: m, create: m.create, update: m.update, count: m.count})
}

// The DynamoDB catalog keeps the contract the in-memory one keeps: on minidyn in `go test`, on
// moto with the integration tag (newTestStore, backend_*_test.go).
func TestDynamoCatalogContract(t *testing.T) {
	s := newTestStore(t, nil)
	ctx := context.Background()
	testCatalogContract(t, catalogHarness{repo: dynamoCatalog{s},
		create: func(l Listing) error {
			it, err := NewListingItem(l)
			if err != nil {
				return err
			}
			return s.Transact(ctx, []types.TransactWriteItem{it})
		},
		update: func(l Listing) error { return s.Transact(ctx, []types.TransactWriteItem{UpdateFieldsItem(l)}) },
		count: func(id string, deltas map[string]int64) error {
			return s.Transact(ctx, store.Append(nil, CountersItem(id, deltas)))
		},
	})
	if CountersItem("crs_a1", nil) != nil || CountersItem("crs_a1", map[string]int64{CtrEnrollments: 0}) != nil {
		t.Fatal("a counters item that changes nothing")
	}
}

// The builder and search as production wires them (no fakes: the DynamoDB repository over the
// store), on the table newTestStore gives: a published listing is found, a draft is not.
func TestBuildAndSearchOnTheTable(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	s := newTestStore(t, clk)
	blobs := newMemBlobs()
	for _, l := range []Listing{listing("crs_pub", "Golang on tables", nil), listing("crs_draft", "Golang drafts", func(l *Listing) { l.Status = StatusDraft })} {
		it, err := NewListingItem(l)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Transact(ctx, []types.TransactWriteItem{it}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := (&Builder{Store: s, Blobs: blobs, Clock: clk}).Rebuild(ctx)
	if err != nil || !rep.Changed || rep.Published != 1 || rep.Version != 1 {
		t.Fatalf("rebuild: %+v %v", rep, err)
	}
	h := HandleSearchCourses(manifest.Function{Name: "search-courses", Auth: manifest.Public}, &Reader{Store: s, Blobs: blobs})
	res, err := h(ctx, events.APIGatewayV2HTTPRequest{QueryStringParameters: map[string]string{"q": "golang"}})
	if err != nil {
		t.Fatal(err)
	}
	var out SearchResponse
	if err := json.Unmarshal([]byte(res.Body), &out); err != nil || res.StatusCode != 200 || out.Total != 1 || out.Courses[0].ID != "crs_pub" {
		t.Fatalf("search: %d %s", res.StatusCode, res.Body)
	}
}
