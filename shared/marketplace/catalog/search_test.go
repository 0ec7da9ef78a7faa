package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// searchWorld is GET /courses on the fakes: the builder writes snapshots into memory, the reader
// answers from them.
type searchWorld struct {
	*buildWorld
	rd *Reader
	h  func(query map[string]string) (int, []byte)
}

func newSearchWorld(t *testing.T) *searchWorld {
	w := &searchWorld{buildWorld: newBuildWorld()}
	w.rd = &Reader{Store: &store.Store{Cursor: store.NewCursorCodec([]byte("catalog-unit-test-cursor-secret!"))},
		Blobs: w.blobs, stamps: w.table}
	h := HandleSearchCourses(manifest.Function{Name: "search-courses", Auth: manifest.Public}, w.rd)
	w.h = func(query map[string]string) (int, []byte) {
		res, err := h(context.Background(), events.APIGatewayV2HTTPRequest{QueryStringParameters: query,
			RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req"}})
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, []byte(res.Body)
	}
	return w
}

func decodeSearch(t *testing.T, body []byte) SearchResponse {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var out SearchResponse
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return out
}

// GET /courses answers from the snapshot the stamp names: every published course with its rating
// and enrolments, filtered, sorted and paginated by a cursor bound to the query.
func TestSearchCourses(t *testing.T) {
	ctx := context.Background()
	w := newSearchWorld(t)

	// Nothing built yet: an empty catalog, not an error.
	code, body := w.h(nil)
	if res := decodeSearch(t, body); code != 200 || len(res.Courses) != 0 || res.Total != 0 || res.NextCursor != "" {
		t.Fatalf("before any build: %d %s", code, body)
	}

	for i := 0; i < 5; i++ {
		at := w.clk.Now().Add(time.Duration(i) * time.Hour)
		if err := w.table.create(listing(fmt.Sprintf("crs_%d", i), fmt.Sprintf("Golang part %d", i), func(l *Listing) {
			l.PublishedAt, l.Subtitle, l.PriceCents = &at, "sub", int64(1000+i)
			l.RatingSum, l.RatingCount, l.Enrollments = 9, 2, int64(10*i)
		})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.b.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	code, body = w.h(map[string]string{"q": "golang", "sort": "newest", "limit": "2"})
	first := decodeSearch(t, body)
	if code != 200 || first.Total != 5 || len(first.Courses) != 2 || first.NextCursor == "" {
		t.Fatalf("first page: %d %s", code, body)
	}
	c := first.Courses[0]
	if c.ID != "crs_4" || c.Title != "Golang part 4" || c.Subtitle != "sub" || c.InstructorName != "Ada" || c.PriceCents != 1004 ||
		c.Currency != Currency || c.RatingAverage != 4.5 || c.RatingCount != 2 || c.EnrollmentCount != 40 ||
		c.Category != "development" || c.Level != "beginner" || c.Language != "en" ||
		c.PublishedAt != w.clk.Now().Add(4*time.Hour).Format(time.RFC3339) {
		t.Fatalf("a course: %+v", c)
	}
	var seen []string
	for _, c := range first.Courses {
		seen = append(seen, c.ID)
	}
	cursor := first.NextCursor
	for pages := 0; cursor != ""; pages++ {
		code, body := w.h(map[string]string{"q": "golang", "sort": "newest", "limit": "2", "cursor": cursor})
		page := decodeSearch(t, body)
		if code != 200 || pages > 3 {
			t.Fatalf("page %d: %d %s", pages, code, body)
		}
		for _, c := range page.Courses {
			seen = append(seen, c.ID)
		}
		cursor = page.NextCursor
	}
	if fmt.Sprint(seen) != "[crs_4 crs_3 crs_2 crs_1 crs_0]" {
		t.Fatalf("pages: %v", seen)
	}

	// A cursor is bound to its query and filters; a forged or malformed one is a 400.
	for name, q := range map[string]map[string]string{
		"OtherFilters": {"q": "golang", "sort": "price_asc", "limit": "2", "cursor": first.NextCursor},
		"Forged":       {"cursor": "forged"},
		"BadQuery":     {"level": "expert"},
	} {
		if code, body := w.h(q); code != 400 {
			t.Errorf("%s: %d %s", name, code, body)
		}
	}
	scope := func(q map[string]string) string {
		_, s, err := ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for name, lek := range map[string]map[string]string{"NoID": {"a": "1", "b": "2"}, "NotANumber": {"a": "x", "b": "2", "id": "c"}} {
		av := map[string]types.AttributeValue{}
		for k, v := range lek {
			av[k] = store.S(v)
		}
		enc, err := w.rd.Store.Cursor.Encode(ctx, scope(nil), av)
		if err != nil {
			t.Fatal(err)
		}
		if code, body := w.h(map[string]string{"cursor": enc}); code != 400 {
			t.Errorf("a signed cursor with %s: %d %s", name, code, body)
		}
	}
}

// The snapshot is loaded from S3 once per stamp key: every search reads the stamp, and only a new
// build's key reads the object again. A stamp that cannot be read, or names an unreadable object,
// is an error, never an empty catalog.
func TestReaderLoadsEachSnapshotOnce(t *testing.T) {
	ctx := context.Background()
	w := newSearchWorld(t)
	w.publish(t, "crs_a", "Go")
	rep, err := w.b.Rebuild(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		ix, err := w.rd.Index(ctx)
		if err != nil || ix.Len() != 1 {
			t.Fatalf("index: %v %v", ix, err)
		}
	}
	if w.blobs.gets[rep.Key] != 1 || w.table.stampReads != 3 {
		t.Fatalf("%d object reads, %d stamp reads", w.blobs.gets[rep.Key], w.table.stampReads)
	}
	w.publish(t, "crs_b", "Rust")
	w.clk.Advance(time.Minute)
	next, err := w.b.Rebuild(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ix, err := w.rd.Index(ctx); err != nil || ix.Len() != 2 || w.blobs.gets[next.Key] != 1 {
		t.Fatalf("after a new build: %v %v, %d reads", ix, err, w.blobs.gets[next.Key])
	}

	w.table.fail["Stamp"] = apperr.New(apperr.Unavailable, "throttled")
	if code, _ := w.h(nil); code != 503 {
		t.Fatalf("an unreadable stamp: %d", code)
	}
	delete(w.table.fail, "Stamp")
	if _, err := w.table.MoveStamp(ctx, Stamp{Key: "catalog/garbage.json.gz", Hash: "x", SourceAt: w.clk.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := w.blobs.Put(ctx, blob.Object{Key: "catalog/garbage.json.gz"}, []byte("not gzip")); err != nil {
		t.Fatal(err)
	}
	if code, _ := w.h(nil); code != 500 {
		t.Fatalf("an unreadable snapshot: %d", code)
	}
	if _, err := w.table.MoveStamp(ctx, Stamp{Key: "catalog/missing.json.gz", Hash: "y", SourceAt: w.clk.Now().Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.rd.Index(ctx); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a stamp naming no object: %v", err)
	}
}
