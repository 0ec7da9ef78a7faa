package marketplace

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/auth"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/store"
)

// testCoursesContract checks the semantics the course pages and lists rely on, on memBooks here
// and on dynamoCourses (with dynamoBooks) on minidyn, and on moto with the integration tag.
// actions lists the actions audited for an actor (what Courses writes but does not read back).
func testCoursesContract(t *testing.T, b Books, cs Courses, actions func(actor string) []string) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	run := ids.ULID(now)
	instr, buyer := "ins-c-"+run, "ana-c-"+run
	p := auth.Principal{UserID: instr, Email: instr + "@example.com"}
	mk := func(id string, at time.Time) Course {
		c := Course{ID: id, InstructorID: instr, Title: "Title " + id, Description: "d", PriceCents: 1500, Currency: Currency,
			Status: catalog.StatusDraft, CreatedAt: at, UpdatedAt: at, Version: 1, Tags: []string{}}
		c.SetKeys()
		return c
	}
	c1, c2 := mk("crs_a"+run, now.Add(-time.Minute)), mk("crs_b"+run, now)
	au := audit.Entry{Actor: instr, Action: "course.create", Target: "course"}

	t.Run("CreateOnce", func(t *testing.T) {
		for _, c := range []Course{c1, c2} {
			if err := cs.CreateCourse(ctx, c, p, au); err != nil {
				t.Fatal(err)
			}
		}
		if err := cs.CreateCourse(ctx, c1, p, au); !store.IsConditionFailed(err) {
			t.Fatalf("a second create: %v", err)
		}
		got, err := b.Course(ctx, c1.ID)
		if err != nil || got.Title != c1.Title || got.Version != 1 {
			t.Fatalf("course: %+v %v", got, err)
		}
		l, err := cs.Listing(ctx, c1.ID)
		if err != nil || l.Title != c1.Title || l.Status != catalog.StatusDraft || l.InstructorID != instr {
			t.Fatalf("listing: %+v %v", l, err)
		}
		in, err := b.Instructor(ctx, instr)
		if err != nil || in.Email != p.Email {
			t.Fatalf("profile: %+v %v", in, err)
		}
		if l, err := cs.Listing(ctx, "crs_none"+run); err != nil || l.CourseID != "crs_none"+run || l.Title != "" {
			t.Fatalf("no listing: %+v %v", l, err)
		}
	})

	t.Run("SaveOverVersion", func(t *testing.T) {
		c := c1
		c.Title, c.Version, c.UpdatedAt = "Renamed", 2, now
		if err := cs.SaveCourse(ctx, c, 5, 0, au); !store.IsConditionFailed(err) {
			t.Fatalf("a stale save: %v", err)
		}
		if err := cs.SaveCourse(ctx, c, 1, 0, au); err != nil {
			t.Fatal(err)
		}
		got, _ := b.Course(ctx, c1.ID)
		l, _ := cs.Listing(ctx, c1.ID)
		if got.Title != "Renamed" || got.Version != 2 || l.Title != "Renamed" {
			t.Fatalf("after save: %+v %+v", got, l)
		}
	})

	t.Run("Lessons", func(t *testing.T) {
		l := Lesson{ID: "les_1" + run, CourseID: c1.ID, Title: "One", Kind: KindDocument, ContentType: "application/pdf",
			SizeBytes: 10, ObjectKey: LessonObjectKey(c1.ID, "les_1"+run), CreatedAt: now}
		if err := cs.AddLesson(ctx, l); err != nil {
			t.Fatal(err)
		}
		if err := cs.AddLesson(ctx, Lesson{ID: "les_x", CourseID: "crs_none" + run, CreatedAt: now}); !store.IsConditionFailed(err) {
			t.Fatalf("a lesson of no course: %v", err)
		}
		got, _ := b.Course(ctx, c1.ID)
		if got.LessonCount != 1 || got.Version != 3 {
			t.Fatalf("course after a lesson: %+v", got)
		}
		if err := cs.SetUploaded(ctx, l, true); err != nil {
			t.Fatal(err)
		}
		if err := cs.SetUploaded(ctx, Lesson{ID: "les_none", CourseID: c1.ID}, true); !store.IsConditionFailed(err) {
			t.Fatalf("no such lesson: %v", err)
		}
		ls, err := cs.Lessons(ctx, c1.ID)
		if err != nil || len(ls) != 1 || !ls[0].Uploaded || ls[0].Title != "One" {
			t.Fatalf("lessons: %+v %v", ls, err)
		}
		if ls, err := cs.Lessons(ctx, c2.ID); err != nil || ls == nil || len(ls) != 0 {
			t.Fatalf("no lessons: %#v %v", ls, err)
		}
	})

	t.Run("PagesNewestFirst", func(t *testing.T) {
		first, err := cs.InstructorCourses(ctx, instr, 1, "")
		if err != nil || len(first.Items) != 1 || first.Items[0].ID != c2.ID || first.NextCursor == "" {
			t.Fatalf("first page: %+v %v", first, err)
		}
		second, err := cs.InstructorCourses(ctx, instr, 1, first.NextCursor)
		if err != nil || len(second.Items) != 1 || second.Items[0].ID != c1.ID {
			t.Fatalf("second page: %+v %v", second, err)
		}
		if _, err := cs.Sales(ctx, instr, 1, first.NextCursor); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("another list's cursor: %v", err)
		}
	})

	t.Run("PublishedGaugeAndAudit", func(t *testing.T) {
		period := Period(now)
		before, err := cs.Metrics(ctx, period)
		if err != nil || before.Period != period || before.Currency != "usd" {
			t.Fatalf("metrics: %+v %v", before, err)
		}
		c := c2
		c.Status, c.Version, c.UpdatedAt, c.PublishedAt = catalog.StatusPublished, 2, now, &now
		if err := cs.SaveCourse(ctx, c, 1, 1, audit.Entry{Actor: instr, Action: "course.publish", Target: "course:" + c.ID}); err != nil {
			t.Fatal(err)
		}
		after, err := cs.Metrics(ctx, period)
		if err != nil || after.PublishedCourses != before.PublishedCourses+1 {
			t.Fatalf("published gauge %d → %d (%v)", before.PublishedCourses, after.PublishedCourses, err)
		}
		if l, _ := cs.Listing(ctx, c.ID); l.Status != catalog.StatusPublished || l.PublishedAt == nil || !l.PublishedAt.Equal(now) {
			t.Fatalf("published listing: %+v", l)
		}
		if _, err := cs.Metrics(ctx, "2026-13"); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("a malformed period: %v", err)
		}
		if err := cs.WriteAudit(ctx, audit.Entry{Actor: instr, Action: "course.content_link", Target: "course:" + c.ID}); err != nil {
			t.Fatal(err)
		}
		got := actions(instr)
		slices.Sort(got)
		if want := []string{"course.content_link", "course.create", "course.create", "course.create", "course.publish"}; !slices.Equal(got, want) {
			t.Fatalf("audited %v, want %v", got, want)
		}
	})

	t.Run("SaleLists", func(t *testing.T) {
		c := c1
		c.Status = catalog.StatusPublished
		d := &Deps{Clock: fixedClock{now}, Books: b}
		pu := Purchase{SessionID: "cs_c" + run, PaymentIntentID: "pi_c" + run, BuyerID: buyer, CourseID: c.ID,
			AmountCents: 1500, Currency: Currency, PaidAt: now}
		ch, err := planSale(ctx, d, pu, c, "evt_c")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(ctx, ch); err != nil {
			t.Fatal(err)
		}
		sales, err := cs.Sales(ctx, instr, 10, "")
		if err != nil || len(sales.Items) != 1 || sales.Items[0].ID != ch.Sale.ID || sales.NextCursor != "" {
			t.Fatalf("sales: %+v %v", sales, err)
		}
		mine, err := cs.MyCourses(ctx, buyer, 10, "")
		if err != nil || len(mine.Items) != 1 || mine.Items[0].CourseID != c.ID {
			t.Fatalf("my courses: %+v %v", mine, err)
		}
		next, err := cs.NextRelease(ctx, instr, now.Add(-RefundWindow-48*time.Hour))
		if err != nil || next == nil || !next.Equal(ch.Sale.ReleaseAt) {
			t.Fatalf("next release: %v %v", next, err)
		}
		if next, err := cs.NextRelease(ctx, instr, now.Add(time.Hour)); err != nil || next != nil {
			t.Fatalf("no sale after the floor: %v %v", next, err)
		}
		es, err := cs.LedgerEntries(ctx, instr, now.Add(-time.Hour), now.Add(time.Hour), 10)
		if err != nil || len(es) != 1 || es[0].SaleID != ch.Sale.ID {
			t.Fatalf("ledger: %+v %v", es, err)
		}
		if es, err := cs.LedgerEntries(ctx, instr, now.Add(time.Hour), now.Add(2*time.Hour), 10); err != nil || len(es) != 0 {
			t.Fatalf("ledger outside the window: %+v %v", es, err)
		}
		for _, q := range []func() (int, error){
			func() (int, error) { p, err := cs.InstructorPayouts(ctx, instr, 10, ""); return len(p.Items), err },
			func() (int, error) { p, err := cs.PeriodPayouts(ctx, "1999-01", "", 10, ""); return len(p.Items), err },
			func() (int, error) {
				p, err := cs.PeriodPayouts(ctx, "1999-01", PayoutPaid, 10, "")
				return len(p.Items), err
			},
			func() (int, error) { p, err := cs.CourseReviews(ctx, c.ID, 10, ""); return len(p.Items), err },
		} {
			if n, err := q(); err != nil || n != 0 {
				t.Fatalf("an empty list: %d %v", n, err)
			}
		}
	})
}

func TestMemCoursesContract(t *testing.T) {
	m := newMemBooks()
	testCoursesContract(t, m, m, func(actor string) []string {
		m.mu.Lock()
		defer m.mu.Unlock()
		var out []string
		for _, e := range m.audits {
			if e.Actor == actor {
				out = append(out, e.Action)
			}
		}
		return out
	})
}

// The DynamoDB courses keep the contract the in-memory ones keep, on minidyn and on moto (newTestStore).
func TestDynamoCoursesContract(t *testing.T) {
	s := newTestStore(t, nil)
	testCoursesContract(t, NewBooks(s), NewCourses(s), func(actor string) []string {
		pk, _ := store.AuditByActorGSI1(actor, time.Time{}, "")
		recs, err := store.QueryAll[audit.Record](context.Background(), s, &dynamodb.QueryInput{
			IndexName:                 aws.String(manifest.GSI1.Name),
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": manifest.GSI1.PK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(pk)},
		})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range recs {
			out = append(out, r.Action)
		}
		return out
	})
}
