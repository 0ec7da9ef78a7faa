package marketplace

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/auth"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/store"
)

// memBooks is also Courses in memory: the course pages' writes keep DynamoDB's conditions (a new
// course only if absent, a save over the version read, the lesson cap), the lists answer newest
// first with cursors bound to their list.

var _ Courses = (*memBooks)(nil)

func (b *memBooks) CreateCourse(_ context.Context, c Course, p auth.Principal, e audit.Entry) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.courses[c.ID]; ok {
		return conflict("course exists")
	}
	if _, ok := b.listings[c.ID]; ok {
		return conflict("listing exists")
	}
	c.SetKeys()
	b.courses[c.ID] = clone(c)
	b.listings[c.ID] = clone(c.Listing())
	in, ok := b.instructors[p.UserID]
	if !ok {
		in = Instructor{ID: p.UserID, CreatedAt: c.CreatedAt}
	}
	if p.Email != "" {
		in.Email = p.Email
	}
	in.UpdatedAt = c.CreatedAt
	b.instructors[p.UserID] = in
	b.audits = append(b.audits, e)
	return nil
}

func (b *memBooks) SaveCourse(_ context.Context, c Course, read, delta int64, e audit.Entry) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur, ok := b.courses[c.ID]
	if !ok || cur.Version != read {
		return conflict("course version")
	}
	c.SetKeys()
	b.courses[c.ID] = clone(c)
	b.listings[c.ID] = clone(c.Listing())
	b.counters[mktmetrics.GaugePublishedCourses] += delta
	b.audits = append(b.audits, e)
	return nil
}

func (b *memBooks) AddLesson(_ context.Context, l Lesson) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.courses[l.CourseID]
	if !ok || c.LessonCount >= MaxLessons {
		return conflict("lesson cap")
	}
	for _, x := range b.lessons[l.CourseID] {
		if x.ID == l.ID { // the lesson's own put (item 1) fails, not the course's count
			return apperr.Wrap(&store.TxError{Failed: []int{1}}, apperr.Conflict, "condition failed: lesson exists")
		}
	}
	c.LessonCount++
	c.Version++
	c.UpdatedAt = l.CreatedAt.UTC()
	b.courses[l.CourseID] = c
	b.lessons[l.CourseID] = append(b.lessons[l.CourseID], clone(l))
	return nil
}

func (b *memBooks) Lessons(_ context.Context, courseID string) ([]Lesson, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []Lesson{}
	for _, l := range b.lessons[courseID] {
		out = append(out, clone(l))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (b *memBooks) SetUploaded(_ context.Context, l Lesson, ok bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, x := range b.lessons[l.CourseID] {
		if x.ID == l.ID {
			b.lessons[l.CourseID][i].Uploaded = ok
			return nil
		}
	}
	return conflict("no lesson")
}

func (b *memBooks) Listing(_ context.Context, courseID string) (catalog.Listing, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.listings[courseID]
	if !ok {
		l = catalog.Listing{CourseID: courseID}
	}
	l = clone(l)
	for k, v := range b.listing[courseID] {
		switch k {
		case catalog.CtrRatingSum:
			l.RatingSum += v
		case catalog.CtrRatingCount:
			l.RatingCount += v
		case catalog.CtrEnrollments:
			l.Enrollments += v
		case catalog.CtrStars(1):
			l.R1 += v
		case catalog.CtrStars(2):
			l.R2 += v
		case catalog.CtrStars(3):
			l.R3 += v
		case catalog.CtrStars(4):
			l.R4 += v
		case catalog.CtrStars(5):
			l.R5 += v
		}
	}
	return l, nil
}

// memPage is one page of items (already in the list's order) after cursor, which names its list.
func memPage[T any](scope string, items []T, limit int32, cursor string) (store.Page[T], error) {
	from := 0
	if cursor != "" {
		rest, ok := strings.CutPrefix(cursor, "mem:"+scope+"@")
		n, err := strconv.Atoi(rest)
		if !ok || err != nil || n < 0 || n > len(items) {
			return store.Page[T]{}, apperr.New(apperr.Invalid, "invalid cursor")
		}
		from = n
	}
	to := min(from+int(limit), len(items))
	page := store.Page[T]{Items: append([]T{}, items[from:to]...)}
	if to < len(items) {
		page.NextCursor = "mem:" + scope + "@" + strconv.Itoa(to)
	}
	return page, nil
}

func (b *memBooks) InstructorCourses(_ context.Context, id string, limit int32, cursor string) (store.Page[Course], error) {
	b.mu.Lock()
	var out []Course
	for _, c := range b.courses {
		if c.InstructorID == id {
			c.SetKeys()
			out = append(out, clone(c))
		}
	}
	b.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].GSI1SK > out[j].GSI1SK })
	return memPage("instructor-courses#"+id, out, limit, cursor)
}

func (b *memBooks) MyCourses(_ context.Context, userID string, limit int32, cursor string) (store.Page[Enrollment], error) {
	b.mu.Lock()
	var out []Enrollment
	for _, e := range b.enrolments {
		e = clone(e)
		e.SetKeys()
		if e.UserID == userID && e.GSI1PK != "" {
			out = append(out, e)
		}
	}
	b.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].GSI1SK > out[j].GSI1SK })
	return memPage("my-courses#"+userID, out, limit, cursor)
}

func (b *memBooks) CourseReviews(_ context.Context, courseID string, limit int32, cursor string) (store.Page[Review], error) {
	b.mu.Lock()
	var out []Review
	for _, r := range b.reviews {
		r = clone(r)
		r.SetKeys()
		if r.CourseID == courseID && r.GSI1PK != "" {
			out = append(out, r)
		}
	}
	b.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].GSI1SK > out[j].GSI1SK })
	return memPage("reviews#"+courseID, out, limit, cursor)
}

func (b *memBooks) instructorSales(id string) []Sale {
	var out []Sale
	for _, s := range b.sales {
		if s.InstructorID == id {
			out = append(out, clone(s))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (b *memBooks) Sales(_ context.Context, id string, limit int32, cursor string) (store.Page[Sale], error) {
	b.mu.Lock()
	out := b.instructorSales(id)
	b.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return memPage("sales#"+id, out, limit, cursor)
}

func (b *memBooks) InstructorPayouts(_ context.Context, id string, limit int32, cursor string) (store.Page[Payout], error) {
	b.mu.Lock()
	var out []Payout
	for _, p := range b.payouts {
		if p.InstructorID == id {
			out = append(out, clone(p))
		}
	}
	b.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Period > out[j].Period })
	return memPage("payouts#"+id, out, limit, cursor)
}

func (b *memBooks) PeriodPayouts(_ context.Context, period, status string, limit int32, cursor string) (store.Page[Payout], error) {
	b.mu.Lock()
	var out []Payout
	for _, p := range b.payouts {
		if p.Period == period && (status == "" || p.Status == status) {
			out = append(out, clone(p))
		}
	}
	b.mu.Unlock()
	key := func(p Payout) string { _, sk := store.PayoutsGSI2(p.Period, p.Status, p.InstructorID); return sk }
	sort.Slice(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return memPage("admin-payouts#"+period+"#"+status, out, limit, cursor)
}

func (b *memBooks) NextRelease(_ context.Context, id string, since time.Time) (*time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	floor := prefixSale + idFloor(since)
	for _, s := range b.instructorSales(id) {
		if s.ID >= floor && !s.Released {
			t := s.ReleaseAt
			return &t, nil
		}
	}
	return nil, nil
}

func (b *memBooks) LedgerEntries(_ context.Context, id string, from, to time.Time, max int32) ([]LedgerEntry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	lo := store.LedgerPrefix + from.UTC().Format(time.RFC3339Nano)
	hi := store.LedgerPrefix + to.UTC().Format(time.RFC3339Nano) + "~"
	sk := func(e LedgerEntry) string { return store.LedgerKey(id, e.At, e.ID).SK }
	var out []LedgerEntry
	for _, e := range b.entries[id] {
		if k := sk(e); k >= lo && k <= hi {
			out = append(out, clone(e))
		}
	}
	sort.Slice(out, func(i, j int) bool { return sk(out[i]) < sk(out[j]) })
	if len(out) > int(max) {
		out = out[:max]
	}
	return out, nil
}

func (b *memBooks) Metrics(_ context.Context, period string) (mktmetrics.Metrics, error) {
	from, to, err := mktmetrics.PeriodBounds(period)
	if err != nil {
		return mktmetrics.Metrics{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return mktmetrics.Metrics{Period: period, From: from.Format("2006-01-02"), To: to.Format("2006-01-02"), Currency: "usd",
		PublishedCourses: b.counters[mktmetrics.GaugePublishedCourses]}, nil
}

func (b *memBooks) WriteAudit(_ context.Context, e audit.Entry) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.audits = append(b.audits, e)
	return nil
}
