package catalog

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
)

// Limits of GET /courses.
const (
	DefaultLimit = 20
	MaxLimit     = 50
	maxQueryLen  = 200
	maxWords     = 10
	// Currency of every course price.
	Currency = "usd"
)

// Stamp names the current snapshot (store.CatalogStampKey). A search reads it — the only DynamoDB
// read of a search — and loads the snapshot from S3 only when its key changed.
type Stamp struct {
	PK       string    `dynamodbav:"PK"`
	SK       string    `dynamodbav:"SK"`
	Type     string    `dynamodbav:"type"`
	Key      string    `dynamodbav:"key"`   // S3 key of the snapshot
	Hash     string    `dynamodbav:"hash"`  // content hash
	Count    int       `dynamodbav:"count"` // published courses
	Bytes    int       `dynamodbav:"bytes"` // gzipped size
	Version  int64     `dynamodbav:"version"`
	SourceAt time.Time `dynamodbav:"sourceAt"` // when the builder read the listings
	BuiltAt  time.Time `dynamodbav:"builtAt"`
}

// Reader is what search needs: the stamp (one GetItem), the snapshot object and the cursor codec
// (Store.Cursor).
type Reader struct {
	Store *store.Store
	Blobs blob.Store

	stamps stampReader // nil: the DynamoDB repository over Store (unit tests set a fake)

	mu  sync.Mutex
	key string
	ix  *Index
}

func (r *Reader) repo() stampReader {
	if r.stamps != nil {
		return r.stamps
	}
	return dynamoCatalog{r.Store}
}

// Index returns the index of the current snapshot: one GetItem of the stamp, and an S3 read only
// when the stamp names a snapshot this process has not loaded yet.
func (r *Reader) Index(ctx context.Context) (*Index, error) {
	st, err := r.repo().Stamp(ctx)
	if apperr.Is(err, apperr.NotFound) {
		return NewIndex(Snapshot{}), nil // nothing published yet
	}
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ix != nil && r.key == st.Key {
		return r.ix, nil
	}
	raw, err := r.Blobs.Get(ctx, st.Key)
	if err != nil {
		return nil, err
	}
	snap, err := DecodeSnapshot(raw)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, "catalog snapshot unreadable")
	}
	r.ix, r.key = NewIndex(snap), st.Key
	return r.ix, nil
}

// CourseItem is one course in a search result.
type CourseItem struct {
	ID              string  `json:"id"`
	Title           string  `json:"title"`
	Subtitle        string  `json:"subtitle,omitempty"`
	InstructorName  string  `json:"instructorName"`
	PriceCents      int64   `json:"priceCents"`
	Currency        string  `json:"currency"`
	RatingAverage   float64 `json:"ratingAverage"`
	RatingCount     int64   `json:"ratingCount"`
	EnrollmentCount int64   `json:"enrollmentCount"`
	Category        string  `json:"category"`
	Level           string  `json:"level"`
	Language        string  `json:"language"`
	PublishedAt     string  `json:"publishedAt"`
}

// SearchResponse is the body of GET /courses.
type SearchResponse struct {
	Courses    []CourseItem `json:"courses"`
	Total      int          `json:"total"`
	NextCursor string       `json:"nextCursor,omitempty"`
}

func wireSearchCourses(rt *platform.Runtime) (httpapi.Lambda, error) {
	blobs, err := blob.From(rt)
	if err != nil {
		return nil, err
	}
	return HandleSearchCourses(rt.Fn, &Reader{Store: store.Open(rt), Blobs: blobs}), nil
}

// HandleSearchCourses serves GET /courses (public).
func HandleSearchCourses(fn manifest.Function, rd *Reader) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		q, scope, err := ParseQuery(r.Event.QueryStringParameters)
		if err != nil {
			return httpapi.Response{}, err
		}
		if c := r.Query("cursor"); c != "" {
			lek, err := rd.Store.Cursor.Decode(ctx, scope, c)
			if err != nil {
				return httpapi.Response{}, err
			}
			if q.After, err = keyOf(lek); err != nil {
				return httpapi.Response{}, err
			}
		}
		ix, err := rd.Index(ctx)
		if err != nil {
			return httpapi.Response{}, err
		}
		res := ix.Search(q)
		out := SearchResponse{Courses: make([]CourseItem, 0, len(res.Hits)), Total: res.Total}
		for _, h := range res.Hits {
			d := h.Doc
			out.Courses = append(out.Courses, CourseItem{ID: d.ID, Title: d.Title, Subtitle: d.Subtitle,
				InstructorName: d.InstructorName, PriceCents: d.PriceCents, Currency: Currency,
				RatingAverage: h.RatingAverage, RatingCount: d.RatingCount, EnrollmentCount: d.Enrollments,
				Category: d.Category, Level: d.Level, Language: d.Language,
				PublishedAt: time.Unix(d.PublishedAt, 0).UTC().Format(time.RFC3339)})
		}
		if res.Next != nil {
			lek := map[string]types.AttributeValue{"a": store.S(strconv.FormatInt(res.Next.A, 10)),
				"b": store.S(strconv.FormatInt(res.Next.B, 10)), "id": store.S(res.Next.ID)}
			if out.NextCursor, err = rd.Store.Cursor.Encode(ctx, scope, lek); err != nil {
				return httpapi.Response{}, err
			}
		}
		return httpapi.OK(out), nil
	})
}

func keyOf(lek map[string]types.AttributeValue) (*Key, error) {
	var m map[string]string
	bad := apperr.New(apperr.Invalid, "cursor is invalid")
	if err := attributevalue.UnmarshalMap(lek, &m); err != nil {
		return nil, bad
	}
	a, errA := strconv.ParseInt(m["a"], 10, 64)
	b, errB := strconv.ParseInt(m["b"], 10, 64)
	if errA != nil || errB != nil || m["id"] == "" {
		return nil, bad
	}
	return &Key{A: a, B: b, ID: m["id"]}, nil
}

// ParseQuery validates GET /courses parameters. A parameter sent empty ("?level=") is invalid,
// except q and cursor (no words, first page). scope binds a cursor to the query and filters it was
// minted for (a cursor replayed with other filters is a 400).
func ParseQuery(params map[string]string) (Query, string, error) {
	get := func(k string) string { return params[k] }
	q := Query{Limit: DefaultLimit}
	invalid := func(format string, a ...any) (Query, string, error) {
		return Query{}, "", apperr.New(apperr.Invalid, format, a...)
	}
	for _, k := range []string{"category", "level", "language", "minPrice", "maxPrice", "free", "minRating", "sort", "limit"} {
		if v, sent := params[k]; sent && v == "" {
			return invalid("%s must not be empty", k)
		}
	}
	raw := get("q")
	if utf8.RuneCountInString(raw) > maxQueryLen {
		return invalid("q must be at most %d characters", maxQueryLen)
	}
	q.Words = Tokens(raw)
	if len(q.Words) > maxWords {
		return invalid("q must have at most %d words", maxWords)
	}
	if strings.TrimSpace(raw) != "" && len(q.Words) == 0 {
		return invalid("q has no searchable words")
	}
	q.Category, q.Level, q.Language = get("category"), get("level"), get("language")
	if q.Category != "" && !ValidCategory(q.Category) {
		return invalid("category must be one of %s", strings.Join(Categories, ", "))
	}
	if q.Level != "" && !ValidLevel(q.Level) {
		return invalid("level must be one of %s", strings.Join(Levels, ", "))
	}
	if q.Language != "" && !ValidLanguage(q.Language) {
		return invalid("language must be a language code such as en or pt-BR")
	}
	var err error
	if q.MinPrice, err = cents(get, "minPrice"); err != nil {
		return Query{}, "", err
	}
	if q.MaxPrice, err = cents(get, "maxPrice"); err != nil {
		return Query{}, "", err
	}
	if q.MinPrice != nil && q.MaxPrice != nil && *q.MinPrice > *q.MaxPrice {
		return invalid("minPrice must not exceed maxPrice")
	}
	switch v := get("free"); v {
	case "":
	case "true", "false":
		b := v == "true"
		q.Free = &b
	default:
		return invalid("free must be true or false")
	}
	if v := get("minRating"); v != "" {
		x, ok := tenths(v)
		if !ok || x < 0 || x > 50 {
			return invalid("minRating must be a number from 0 to 5 with at most one decimal")
		}
		x100 := x * 10
		q.MinRatingX100 = &x100
	}
	q.Sort = get("sort")
	switch {
	case q.Sort == "" && len(q.Words) > 0:
		q.Sort = SortRelevance
	case q.Sort == "":
		q.Sort = SortNewest
	case q.Sort == SortRelevance && len(q.Words) == 0:
		return invalid("sort=relevance needs q")
	case !contains(Sorts, q.Sort):
		return invalid("sort must be one of %s", strings.Join(Sorts, ", "))
	}
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			return invalid("limit must be an integer from 1 to %d", MaxLimit)
		}
		q.Limit = n
	}
	var b strings.Builder
	for _, p := range []string{strings.Join(q.Words, " "), q.Category, q.Level, q.Language, get("minPrice"),
		get("maxPrice"), get("free"), get("minRating"), q.Sort} {
		b.WriteString(p)
		b.WriteByte(0)
	}
	return q, "courses#" + idempotency.Hash([]byte(b.String()))[:24], nil
}

func cents(get func(string) string, name string) (*int64, error) {
	v := get(name)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > 99999 {
		return nil, apperr.New(apperr.Invalid, "%s must be a whole number of cents from 0 to 99999", name)
	}
	return &n, nil
}

// tenths parses "4", "4.5" into tenths (40, 45).
func tenths(s string) (int64, bool) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || whole == "" || strings.HasPrefix(whole, "+") || strings.HasPrefix(whole, "-") {
		return 0, false
	}
	if !hasFrac {
		return w * 10, true
	}
	if len(frac) != 1 || frac[0] < '0' || frac[0] > '9' {
		return 0, false
	}
	return w*10 + int64(frac[0]-'0'), true
}
