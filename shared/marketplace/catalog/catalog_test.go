package catalog

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func listing(id, title string, mod func(*Listing)) Listing {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := Listing{CourseID: id, Title: title, InstructorName: "Ada", Category: "development", Level: "beginner",
		Language: "en", PriceCents: 1999, Status: StatusPublished, PublishedAt: &at}
	if mod != nil {
		mod(&l)
	}
	return l
}

func ids(res Result) []string {
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.Doc.ID)
	}
	return out
}

func TestTokensAndTerms(t *testing.T) {
	if got := Tokens("Go, Golang & C++: 3 ways — Élan vital!"); !reflect.DeepEqual(got, []string{"go", "golang", "3", "ways", "élan", "vital"}) {
		t.Fatalf("Tokens = %q", got)
	}
	got := DescriptionTerms("Learn the Go language: goroutines, channels and the Go scheduler.", "Go in Practice")
	if got != "learn language goroutines channels scheduler" {
		t.Fatalf("DescriptionTerms = %q", got)
	}
	long := strings.Repeat("w ", 10) + func() string {
		var b strings.Builder
		for i := 0; i < 1000; i++ {
			fmt.Fprintf(&b, "term%d ", i)
		}
		return b.String()
	}()
	if n := len(strings.Fields(DescriptionTerms(long))); n != MaxDescriptionTerms {
		t.Fatalf("%d description terms kept, want %d", n, MaxDescriptionTerms)
	}
}

func testIndex() *Index {
	day := func(n int) *time.Time { t := time.Date(2026, 1, n, 0, 0, 0, 0, time.UTC); return &t }
	ls := []Listing{
		listing("c1", "Golang for Beginners", func(l *Listing) {
			l.PublishedAt, l.RatingSum, l.RatingCount, l.Enrollments, l.PriceCents = day(1), 9, 2, 50, 999
			l.Tags = []string{"go", "backend"}
		}),
		listing("c2", "Advanced Go Concurrency", func(l *Listing) {
			l.PublishedAt, l.RatingSum, l.RatingCount, l.Enrollments, l.Level, l.PriceCents = day(2), 5, 1, 10, "advanced", 4999
			l.Terms = DescriptionTerms("Channels, goroutines and the memory model.")
		}),
		listing("c3", "Watercolour Basics", func(l *Listing) {
			l.PublishedAt, l.RatingSum, l.RatingCount, l.Enrollments, l.Category, l.PriceCents = day(3), 12, 3, 80, "design", 0
			l.Terms = DescriptionTerms("Paint landscapes; no golang required.")
			l.Language = "fr"
		}),
		listing("c4", "Python Data Science", func(l *Listing) {
			l.PublishedAt, l.RatingSum, l.RatingCount, l.Enrollments, l.PriceCents = day(4), 0, 0, 5, 2995
			l.Subtitle = "pandas, numpy and a little go"
		}),
		listing("c5", "Draft course about go", func(l *Listing) { l.Status = StatusDraft }),
	}
	return NewIndex(NewSnapshot(ls, time.Now()))
}

func TestSearch(t *testing.T) {
	ix := testIndex()
	p := func(n int64) *int64 { return &n }
	yes, no := true, false
	for _, tc := range []struct {
		name string
		q    Query
		want []string
	}{
		{"NewestByDefault", Query{Sort: SortNewest}, []string{"c4", "c3", "c2", "c1"}},
		{"DraftsNeverListed", Query{Words: []string{"draft"}, Sort: SortRelevance}, nil},
		{"PrefixOnLastWord", Query{Words: []string{"gola"}, Sort: SortRelevance}, []string{"c1", "c3"}},
		{"AllWordsMustMatch", Query{Words: []string{"go", "concur"}, Sort: SortRelevance}, []string{"c2"}},
		{"EarlierWordsMatchExactly", Query{Words: []string{"gol", "beginners"}, Sort: SortRelevance}, nil},
		// An exact title word (c2: 30) beats a tag or a title prefix (c1: 20), a subtitle word (c4:
		// 15) and a description prefix (c3: "golang", 3).
		{"RelevanceTitleFirst", Query{Words: []string{"go"}, Sort: SortRelevance}, []string{"c2", "c1", "c4", "c3"}},
		{"DescriptionWords", Query{Words: []string{"goroutines"}, Sort: SortRelevance}, []string{"c2"}},
		{"Category", Query{Category: "design", Sort: SortNewest}, []string{"c3"}},
		{"Level", Query{Level: "advanced", Sort: SortNewest}, []string{"c2"}},
		{"Language", Query{Language: "fr", Sort: SortNewest}, []string{"c3"}},
		{"PriceRange", Query{MinPrice: p(999), MaxPrice: p(2995), Sort: SortPriceAsc}, []string{"c1", "c4"}},
		{"Free", Query{Free: &yes, Sort: SortNewest}, []string{"c3"}},
		{"NotFree", Query{Free: &no, Sort: SortPriceDesc}, []string{"c2", "c4", "c1"}},
		{"MinRating", Query{MinRatingX100: p(450), Sort: SortRating}, []string{"c2", "c1"}},
		{"Rating", Query{Sort: SortRating}, []string{"c2", "c1", "c3", "c4"}},
		{"Popular", Query{Sort: SortPopular}, []string{"c3", "c1", "c2", "c4"}},
		{"QueryWithOtherSort", Query{Words: []string{"go"}, Sort: SortPriceAsc}, []string{"c3", "c1", "c4", "c2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := ix.Search(tc.q)
			if got := ids(res); !reflect.DeepEqual(got, tc.want) || res.Total != len(tc.want) {
				t.Fatalf("got %v (total %d), want %v", got, res.Total, tc.want)
			}
		})
	}
}

// Pages cover every match exactly once, in order, whatever the page size, with and without q.
func TestCursorPagination(t *testing.T) {
	var ls []Listing
	for i := 0; i < 57; i++ {
		i := i
		ls = append(ls, listing(fmt.Sprintf("c%02d", i), fmt.Sprintf("Course %d golang", i), func(l *Listing) {
			at := time.Date(2026, 1, 1+i%5, 0, 0, 0, 0, time.UTC) // ties: the id breaks them
			l.PublishedAt, l.Enrollments, l.PriceCents = &at, int64(i%7), int64(99+i%3)
			l.RatingSum, l.RatingCount = int64(i%5+1), 1
		}))
	}
	ix := NewIndex(NewSnapshot(ls, time.Now()))
	for _, sort := range Sorts {
		for _, words := range [][]string{nil, {"golang"}} {
			if sort == SortRelevance && words == nil {
				continue
			}
			for _, limit := range []int{1, 7, 50} {
				all := ix.Search(Query{Words: words, Sort: sort, Limit: 1000})
				var paged []string
				q := Query{Words: words, Sort: sort, Limit: limit}
				for pages := 0; ; pages++ {
					res := ix.Search(q)
					paged = append(paged, ids(res)...)
					if res.Next == nil {
						break
					}
					if pages > 100 {
						t.Fatal("pagination does not end")
					}
					q.After = res.Next
				}
				if !reflect.DeepEqual(paged, ids(all)) || len(paged) != 57 {
					t.Fatalf("sort %s words %v limit %d: pages %v, want %v", sort, words, limit, paged, ids(all))
				}
			}
		}
	}
}

// A cursor is a position, not an offset: a course published between two pages does not repeat or
// skip what the first page showed.
func TestCursorSurvivesRebuild(t *testing.T) {
	var ls []Listing
	for i := 0; i < 6; i++ {
		ls = append(ls, listing(fmt.Sprintf("c%d", i), "Course", func(l *Listing) { l.PriceCents = int64(100 * (i + 1)) }))
	}
	first := NewIndex(NewSnapshot(ls, time.Now())).Search(Query{Sort: SortPriceAsc, Limit: 3})
	ls = append(ls, listing("c9", "Course", func(l *Listing) { l.PriceCents = 150 })) // lands on page one
	second := NewIndex(NewSnapshot(ls, time.Now())).Search(Query{Sort: SortPriceAsc, Limit: 3, After: first.Next})
	if got := ids(second); !reflect.DeepEqual(got, []string{"c3", "c4", "c5"}) {
		t.Fatalf("second page after a rebuild: %v", got)
	}
}

func TestSnapshotRoundTripAndHash(t *testing.T) {
	a := NewSnapshot([]Listing{listing("b", "B", nil), listing("a", "A", nil)}, time.Unix(1, 0))
	b := NewSnapshot([]Listing{listing("a", "A", nil), listing("b", "B", nil)}, time.Unix(2, 0))
	if a.Hash() != b.Hash() {
		t.Fatal("the same listings in another order hash differently")
	}
	enc, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	dec, err := DecodeSnapshot(enc)
	if err != nil || !reflect.DeepEqual(dec.Docs, a.Docs) {
		t.Fatalf("round trip: %v %+v", err, dec)
	}
	c := NewSnapshot([]Listing{listing("a", "A", func(l *Listing) { l.RatingCount = 1 }), listing("b", "B", nil)}, time.Unix(1, 0))
	if c.Hash() == a.Hash() {
		t.Fatal("a changed rating count keeps the hash")
	}
}

func TestParseQuery(t *testing.T) {
	params := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	q, scope1, err := ParseQuery(params("q", "Go  Concurrency", "minRating", "4.5", "free", "false", "limit", "50"))
	if err != nil || q.Sort != SortRelevance || *q.MinRatingX100 != 450 || *q.Free || q.Limit != 50 ||
		!reflect.DeepEqual(q.Words, []string{"go", "concurrency"}) {
		t.Fatalf("%+v %v", q, err)
	}
	_, scope2, _ := ParseQuery(params("q", "Go  Concurrency", "minRating", "4.5", "free", "true", "limit", "50"))
	if scope1 == scope2 {
		t.Fatal("a cursor of one filter set would work for another")
	}
	if q, _, err := ParseQuery(params("q", "", "cursor", "")); err != nil || q.Sort != SortNewest || q.Limit != DefaultLimit {
		t.Fatalf("defaults: %+v", q)
	}
	for _, bad := range [][]string{
		{"limit", "51"}, {"limit", "0"}, {"sort", "cheapest"}, {"sort", "relevance"}, {"category", "cooking"},
		{"level", "expert"}, {"language", "english"}, {"minPrice", "-1"}, {"maxPrice", "1.5"},
		{"minPrice", "500", "maxPrice", "100"}, {"free", "yes"}, {"minRating", "5.5"}, {"minRating", "4.25"},
		{"minRating", "-1"}, {"q", strings.Repeat("a ", 101)}, {"q", "!!!"},
		{"q", "a1 b2 c3 d4 e5 f6 g7 h8 i9 j10 k11"}, {"level", ""}, {"sort", ""}, {"limit", ""}, {"minRating", ""},
	} {
		if _, _, err := ParseQuery(params(bad...)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
