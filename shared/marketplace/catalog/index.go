package catalog

import (
	"sort"
	"strings"
)

// Sort orders of GET /courses.
const (
	SortRelevance = "relevance" // default with q
	SortNewest    = "newest"    // default without q
	SortRating    = "rating"
	SortPopular   = "popular"
	SortPriceAsc  = "price_asc"
	SortPriceDesc = "price_desc"
)

// Sorts lists the sort orders.
var Sorts = []string{SortRelevance, SortRating, SortNewest, SortPopular, SortPriceAsc, SortPriceDesc}

// Field weights of a matching word: a title match outranks a tag, a subtitle, then a description.
const (
	weightTitle       = 30
	weightTag         = 20
	weightSubtitle    = 15
	weightDescription = 5
)

type posting struct {
	doc    int32
	weight int32
}

// Index is a snapshot prepared for search: an inverted index from words to documents (with the
// best field weight of the word in each), the words sorted for prefix lookups, and every document
// pre-sorted in each browse order.
type Index struct {
	docs     []Doc
	avg      []int64 // rating average ×100 per document
	words    []string
	postings map[string][]posting
	orders   map[string][]int32
}

// NewIndex builds the index of a snapshot.
func NewIndex(s Snapshot) *Index {
	ix := &Index{docs: s.Docs, avg: make([]int64, len(s.Docs)), postings: make(map[string][]posting, 8*len(s.Docs)),
		orders: map[string][]int32{}}
	best := map[string]int32{} // a document's words and their best field weight, reused
	for i := range s.Docs {
		d := &s.Docs[i]
		ix.avg[i] = RatingAverageX100(d.RatingSum, d.RatingCount)
		clear(best)
		add := func(words []string, w int32) {
			for _, t := range words {
				if best[t] < w {
					best[t] = w
				}
			}
		}
		add(Tokens(d.Title), weightTitle)
		for _, tag := range d.Tags {
			add(Tokens(tag), weightTag)
		}
		add(Tokens(d.Subtitle), weightSubtitle)
		add(strings.Fields(d.Terms), weightDescription) // already tokens (DescriptionTerms)
		for t, w := range best {
			ix.postings[t] = append(ix.postings[t], posting{int32(i), w})
		}
	}
	// Postings were appended in document order, except that a map iteration above does not
	// change it: each document appends at most once per word.
	ix.words = make([]string, 0, len(ix.postings))
	for t := range ix.postings {
		ix.words = append(ix.words, t)
	}
	sort.Strings(ix.words)
	for _, o := range Sorts {
		if o == SortRelevance {
			continue
		}
		order := make([]int32, len(ix.docs))
		for i := range order {
			order[i] = int32(i)
		}
		sort.Slice(order, func(a, b int) bool { return ix.key(o, order[a], 0).Less(ix.key(o, order[b], 0)) })
		ix.orders[o] = order
	}
	return ix
}

// Len is the number of documents.
func (ix *Index) Len() int { return len(ix.docs) }

// Key is a document's position in a sort order: compared field by field, ascending (descending
// orders store negated values), the course id breaking ties. Cursors carry keys, not offsets, so a
// page boundary stays put when the snapshot is rebuilt between two pages.
type Key struct {
	A, B int64
	ID   string
}

// Less orders keys.
func (k Key) Less(o Key) bool {
	if k.A != o.A {
		return k.A < o.A
	}
	if k.B != o.B {
		return k.B < o.B
	}
	return k.ID < o.ID
}

func (ix *Index) key(order string, doc int32, score int64) Key {
	d := &ix.docs[doc]
	switch order {
	case SortRelevance:
		return Key{-score, -d.Enrollments, d.ID}
	case SortRating:
		return Key{-ix.avg[doc], -d.RatingCount, d.ID}
	case SortPopular:
		return Key{-d.Enrollments, 0, d.ID}
	case SortPriceAsc:
		return Key{d.PriceCents, 0, d.ID}
	case SortPriceDesc:
		return Key{-d.PriceCents, 0, d.ID}
	}
	return Key{-d.PublishedAt, 0, d.ID} // newest
}

// Query is a parsed GET /courses request.
type Query struct {
	Words         []string // tokens of q; the last one matches as a prefix
	Category      string
	Level         string
	Language      string
	MinPrice      *int64
	MaxPrice      *int64
	Free          *bool
	MinRatingX100 *int64
	Sort          string
	Limit         int
	After         *Key
}

// Hit is one result.
type Hit struct {
	Doc           *Doc
	RatingAverage float64
	Score         int64
}

// Result is one page.
type Result struct {
	Hits  []Hit
	Total int  // matches of the query and filters (all pages)
	Next  *Key // nil on the last page
}

func (ix *Index) match(q Query, i int32) bool {
	d := &ix.docs[i]
	switch {
	case q.Category != "" && d.Category != q.Category,
		q.Level != "" && d.Level != q.Level,
		q.Language != "" && d.Language != q.Language,
		q.MinPrice != nil && d.PriceCents < *q.MinPrice,
		q.MaxPrice != nil && d.PriceCents > *q.MaxPrice,
		q.Free != nil && (d.PriceCents == 0) != *q.Free,
		q.MinRatingX100 != nil && ix.avg[i] < *q.MinRatingX100:
		return false
	}
	return true
}

// Search answers one page of q.
func (ix *Index) Search(q Query) Result {
	if q.Limit <= 0 {
		q.Limit = 20
	}
	var res Result
	var page []int32
	var scores []int64 // per document, with words only
	keyOf := func(doc int32) Key {
		var score int64
		if scores != nil {
			score = scores[doc]
		}
		return ix.key(q.Sort, doc, score)
	}
	var in func(doc int32) bool // the words' matches (nil: every document)
	if len(q.Words) > 0 {
		scores, in = ix.candidates(q.Words)
	}
	if q.Sort != SortRelevance {
		// A browse order is pre-sorted: walk it, filter, and start after the cursor's position.
		order := ix.orders[q.Sort]
		if order == nil {
			order = ix.orders[SortNewest]
		}
		start := 0
		if q.After != nil {
			start = sort.Search(len(order), func(i int) bool { return q.After.Less(keyOf(order[i])) })
		}
		for i, doc := range order {
			if in != nil && !in(doc) || !ix.match(q, doc) {
				continue
			}
			res.Total++
			if i >= start && len(page) <= q.Limit {
				page = append(page, doc)
			}
		}
	} else {
		// Relevance depends on the query: keep only the best limit+1 after the cursor (a bounded
		// insertion into a sorted slice), not a sort of every match.
		type hit struct {
			key Key
			doc int32
		}
		best := make([]hit, 0, q.Limit+1)
		for doc := range ix.docs {
			d := int32(doc)
			if !in(d) || !ix.match(q, d) {
				continue
			}
			res.Total++
			k := keyOf(d)
			if q.After != nil && !q.After.Less(k) {
				continue
			}
			if len(best) == cap(best) && !k.Less(best[len(best)-1].key) {
				continue
			}
			i := sort.Search(len(best), func(i int) bool { return k.Less(best[i].key) })
			if len(best) < cap(best) {
				best = append(best, hit{})
			}
			copy(best[i+1:], best[i:len(best)-1])
			best[i] = hit{k, d}
		}
		for _, h := range best {
			page = append(page, h.doc)
		}
	}
	if len(page) > q.Limit {
		k := keyOf(page[q.Limit-1])
		res.Next = &k
		page = page[:q.Limit]
	}
	for _, doc := range page {
		h := Hit{Doc: &ix.docs[doc], RatingAverage: float64(ix.avg[doc]) / 100}
		if scores != nil {
			h.Score = scores[doc]
		}
		res.Hits = append(res.Hits, h)
	}
	return res
}

// candidates scores the documents containing every word (the last as a prefix): the sum over words
// of the best field weight, a prefix-only match counting two thirds. Dense per-document arrays,
// not maps: a common prefix can touch every document.
func (ix *Index) candidates(words []string) ([]int64, func(int32) bool) {
	n := len(ix.docs)
	matched := make([]uint16, n) // words matched so far
	scores := make([]int64, n)
	cur := make([]int64, n) // this word's best weight per document
	var touched []int32
	for k, w := range words {
		touched = touched[:0]
		visit := func(ps []posting, exact bool) {
			for _, p := range ps {
				s := int64(p.weight)
				if !exact {
					s = s * 2 / 3
				}
				if cur[p.doc] == 0 {
					touched = append(touched, p.doc)
				}
				if s > cur[p.doc] {
					cur[p.doc] = s
				}
			}
		}
		if k < len(words)-1 {
			visit(ix.postings[w], true)
		} else {
			for i := sort.SearchStrings(ix.words, w); i < len(ix.words) && strings.HasPrefix(ix.words[i], w); i++ {
				visit(ix.postings[ix.words[i]], ix.words[i] == w)
			}
		}
		for _, doc := range touched {
			if int(matched[doc]) == k {
				matched[doc]++
				scores[doc] += cur[doc]
			}
			cur[doc] = 0
		}
	}
	all := uint16(len(words))
	return scores, func(doc int32) bool { return matched[doc] == all }
}
