package catalog

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/storetest"
)

// memCatalog is the catalog's table in memory, with the repository's semantics the builder and
// search rely on: only published listings are read, a listing's fields change without its
// counters, the stamp moves only forward (a failed condition otherwise) and counts its versions,
// and what is stored is a copy (storetest.RoundTrip), as DynamoDB keeps it.
type memCatalog struct {
	mu       sync.Mutex
	listings map[string]Listing
	stamp    *Stamp
	// fail makes the named method fail (PublishedListings, CurrentStamp, Stamp, MoveStamp).
	fail       map[string]error
	stampReads int
}

var (
	_ snapshotTable = (*memCatalog)(nil)
	_ stampReader   = (*memCatalog)(nil)
)

func newMemCatalog() *memCatalog {
	return &memCatalog{listings: map[string]Listing{}, fail: map[string]error{}}
}

func (m *memCatalog) PublishedListings(context.Context) ([]Listing, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail["PublishedListings"]; err != nil {
		return nil, err
	}
	var out []Listing
	for _, l := range m.listings {
		if l.Status == StatusPublished {
			out = append(out, storetest.RoundTrip(l))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CourseID < out[j].CourseID })
	return out, nil
}

func (m *memCatalog) read(method string) (Stamp, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail[method]; err != nil {
		return Stamp{}, err
	}
	if m.stamp == nil {
		return Stamp{}, apperr.New(apperr.NotFound, "not found")
	}
	return storetest.RoundTrip(*m.stamp), nil
}

func (m *memCatalog) CurrentStamp(context.Context) (Stamp, error) { return m.read("CurrentStamp") }

func (m *memCatalog) Stamp(context.Context) (Stamp, error) {
	m.mu.Lock()
	m.stampReads++
	m.mu.Unlock()
	return m.read("Stamp")
}

func (m *memCatalog) MoveStamp(_ context.Context, st Stamp) (Stamp, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail["MoveStamp"]; err != nil {
		return Stamp{}, err
	}
	if m.stamp != nil && m.stamp.SourceAt.After(st.SourceAt) {
		return Stamp{}, apperr.Wrap(store.ErrConditionFailed, apperr.Conflict, "a newer build moved the stamp")
	}
	next := Stamp{Type: "catalog-stamp", Key: st.Key, Hash: st.Hash, Count: st.Count, Bytes: st.Bytes,
		SourceAt: st.SourceAt.UTC(), BuiltAt: st.BuiltAt.UTC(), Version: 1}
	next.PK, next.SK = store.CatalogStampKey().PK, store.CatalogStampKey().SK
	if m.stamp != nil {
		next.Version = m.stamp.Version + 1
	}
	m.stamp = &next
	return storetest.RoundTrip(next), nil
}

// create, update and count are what the marketplace's transactions do to a listing
// (NewListingItem, UpdateFieldsItem, CountersItem).
func (m *memCatalog) create(l Listing) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.listings[l.CourseID]; ok {
		return apperr.Wrap(store.ErrConditionFailed, apperr.Conflict, "listing exists")
	}
	l.SetKeys()
	m.listings[l.CourseID] = storetest.RoundTrip(l)
	return nil
}

func (m *memCatalog) update(l Listing) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.listings[l.CourseID]
	if !ok {
		return apperr.Wrap(store.ErrConditionFailed, apperr.Conflict, "no listing")
	}
	cur.InstructorName, cur.Title, cur.Category, cur.Level, cur.Language = l.InstructorName, l.Title, l.Category, l.Level, l.Language
	cur.PriceCents, cur.Status, cur.UpdatedAt = l.PriceCents, l.Status, l.UpdatedAt
	cur.Subtitle, cur.Terms, cur.Tags = l.Subtitle, l.Terms, l.Tags
	if l.PublishedAt != nil {
		cur.PublishedAt = l.PublishedAt
	}
	m.listings[l.CourseID] = storetest.RoundTrip(cur)
	return nil
}

func (m *memCatalog) count(courseID string, deltas map[string]int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.listings[courseID]
	if l.CourseID == "" { // ADD creates a half item, as DynamoDB would
		l.CourseID = courseID
		l.SetKeys()
	}
	for k, v := range deltas {
		switch k {
		case CtrRatingSum:
			l.RatingSum += v
		case CtrRatingCount:
			l.RatingCount += v
		case CtrEnrollments:
			l.Enrollments += v
		case CtrStars(1):
			l.R1 += v
		case CtrStars(2):
			l.R2 += v
		case CtrStars(3):
			l.R3 += v
		case CtrStars(4):
			l.R4 += v
		case CtrStars(5):
			l.R5 += v
		default:
			return errors.New("unknown counter " + k)
		}
	}
	m.listings[courseID] = l
	return nil
}

// memBlobs is S3 in memory: objects by key, and how often each was read.
type memBlobs struct {
	mu      sync.Mutex
	objects map[string][]byte
	gets    map[string]int
	putErr  error
}

var _ blob.Store = (*memBlobs)(nil)

func newMemBlobs() *memBlobs { return &memBlobs{objects: map[string][]byte{}, gets: map[string]int{}} }

func (b *memBlobs) Put(_ context.Context, o blob.Object, body []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.putErr != nil {
		return b.putErr
	}
	b.objects[o.Key] = append([]byte(nil), body...)
	return nil
}

func (b *memBlobs) Get(_ context.Context, key string) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gets[key]++
	body, ok := b.objects[key]
	if !ok {
		return nil, apperr.New(apperr.NotFound, "no object %s", key)
	}
	return body, nil
}

func (b *memBlobs) Exists(_ context.Context, key string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.objects[key]
	return ok, nil
}

func (b *memBlobs) PresignGet(context.Context, blob.Object, time.Duration) (string, error) {
	return "", errors.New("not used")
}

func (b *memBlobs) PresignPut(context.Context, blob.Object, int64, time.Duration) (string, error) {
	return "", errors.New("not used")
}
