//go:build integration

package e2e

// The marketplace's proof, end to end through the local gateway (API Gateway v2 events, JWT
// authorizer, function URL, SQS poller) against moto (DynamoDB, S3, SQS), stripe-mock (behind a
// stateful stand-in for refunds and transfers) and mailpit.

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/store"
)

// Create → lessons → upload with the presigned URL → publish → found by search → bought through
// checkout + signed webhook (delivered 3×) → one enrolment, one payment, one receipt e-mail, split
// 699/300 → content URLs for the buyer only → review counted in the aggregate.
func TestMarketplacePurchaseFlow(t *testing.T) {
	m := startMarket(t)
	instructor, learner, other := m.id("instr"), m.id("learner"), m.id("other")
	itok := m.Token(t, instructor, instructor+"@example.com", "instructor")
	ltok := m.Token(t, learner, learner+"@example.com")
	otok := m.Token(t, other, other+"@example.com")

	// 1. The instructor creates the course, adds a lesson, uploads its file through the presigned
	// URL and publishes. Another instructor cannot touch it; a learner cannot create one.
	word := "zyx" + m.run // a word only this course has
	c, file := m.publishedCourse(t, itok, "Concurrency in Go "+word, 999)
	m.Call(t, "PATCH", "/courses/"+c.ID, m.Token(t, other, "", "instructor"), map[string]any{"priceCents": 99}, 404, nil)
	m.Call(t, "POST", "/courses", ltok, map[string]any{"title": "x", "description": "y", "category": "development",
		"level": "beginner", "language": "en", "priceCents": 999}, 403, nil)

	// 2. Search finds it once the catalog consumer has rebuilt the snapshot (a queue message the
	// publish sent); the prefix of the last word is enough.
	deadline := time.Now().Add(30 * time.Second)
	var found catalog.SearchResponse
	for {
		m.Call(t, "GET", "/courses?q=concurrency+"+url.QueryEscape(word[:len(word)-2]), "", nil, 200, &found)
		if found.Total == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if found.Total != 1 || found.Courses[0].ID != c.ID || found.Courses[0].PriceCents != 999 || found.Courses[0].InstructorName == "" {
		t.Fatalf("search after publish: %+v", found)
	}

	// 3. The learner buys it: a Checkout Session (stripe-mock), then Stripe's event, three times.
	var checkout marketplace.PurchaseResponse
	m.Call(t, "POST", "/courses/"+c.ID+"/purchase", ltok, map[string]string{"successUrl": "https://app.example.com/ok", "cancelUrl": "https://app.example.com/no"}, 201, &checkout)
	if checkout.SessionID == "" || checkout.URL == "" {
		t.Fatalf("checkout: %+v", checkout)
	}
	m.Call(t, "POST", "/courses/"+c.ID+"/purchase", itok, map[string]string{"successUrl": "https://app.example.com/ok", "cancelUrl": "https://app.example.com/no"}, 409, nil)
	_, paid := m.purchase(learner, c.ID, 999, time.Now().Add(-time.Minute))
	for i := 0; i < 3; i++ {
		post(t, m.Harness, paid)
	}

	// 4. One enrolment, one payment, one receipt e-mail, one sale split 699 / 300.
	var mine marketplace.EnrollmentList
	m.Call(t, "GET", "/me/courses", ltok, nil, 200, &mine)
	if len(mine.Courses) != 1 || mine.Courses[0].CourseID != c.ID || mine.Courses[0].Status != "active" {
		t.Fatalf("enrolments: %+v", mine)
	}
	if n := m.count(t, store.EnrollmentKey(learner, c.ID).PK, "ENROL#"); n != 1 {
		t.Fatalf("%d enrolment items, want 1", n)
	}
	if pays := payments(t, m.Harness, ltok); len(pays) != 1 || pays[0].AmountCents != 999 {
		t.Fatalf("payments: %+v", pays)
	}
	m.Harness.Drain(t, manifest.ReceiptsQueue)
	m.Env.Mailpit.WaitFor(t, "to:"+learner+"@example.com", 1)
	if n := len(m.Env.Mailpit.Search(t, "to:"+learner+"@example.com")); n != 1 {
		t.Fatalf("%d receipt e-mails, want 1", n)
	}
	sales := m.sales(t, itok)
	if len(sales) != 1 || sales[0].AmountCents != 999 || sales[0].InstructorShareCents != 699 ||
		sales[0].PlatformShareCents != 300 || sales[0].Status != marketplace.SalePending {
		t.Fatalf("sales: %+v", sales)
	}
	if e := m.earnings(t, itok); e.PendingCents != 699 || e.AvailableCents != 0 || e.BalanceCents != 699 || e.NextReleaseAt == nil {
		t.Fatalf("earnings: %+v", e)
	}
	m.ledgerMatchesBalance(t, instructor)

	// 5. Content links for the buyer (and the owner); 403 for anyone else.
	var content marketplace.CourseContent
	m.Call(t, "GET", "/courses/"+c.ID+"/content", ltok, nil, 200, &content)
	if content.Access != "enrolled" || len(content.Lessons) != 1 || !bytes.Equal(fetch(t, content.Lessons[0].URL), file) {
		t.Fatalf("content for the buyer: %+v", content)
	}
	m.Call(t, "GET", "/courses/"+c.ID+"/content", otok, nil, 403, nil)
	m.Call(t, "GET", "/courses/"+c.ID+"/content", itok, nil, 200, nil)

	// 6. A review counts in the aggregate; one without enrolment is refused.
	m.Call(t, "PUT", "/courses/"+c.ID+"/review", otok, map[string]any{"rating": 1}, 403, nil)
	m.Call(t, "PUT", "/courses/"+c.ID+"/review", ltok, map[string]any{"rating": 4, "text": "Clear."}, 201, nil)
	var detail marketplace.CourseDetail
	m.Call(t, "GET", "/courses/"+c.ID, "", nil, 200, &detail)
	if detail.Rating.Count != 1 || detail.Rating.Average != 4 || detail.Rating.Histogram != [5]int64{0, 0, 0, 1, 0} ||
		detail.EnrollmentCount != 1 || len(detail.Lessons) != 1 {
		t.Fatalf("course after the review: %+v", detail)
	}

	// 7. Admin metrics count the sale and the published course.
	var mm mktmetrics.Metrics
	m.Call(t, "GET", "/admin/marketplace/metrics", m.Token(t, m.id("admin"), "", "admin"), nil, 200, &mm)
	if mm.Sales != 1 || mm.GMVCents != 999 || mm.PlatformRevenueCents != 300 || mm.InstructorEarningsCents != 699 ||
		mm.PublishedCourses != 1 || mm.Earnings.PendingCents != 699 {
		t.Fatalf("marketplace metrics: %+v", mm)
	}

	// 8. Unpublished: gone from search and the public page; the buyer keeps the content.
	m.Call(t, "POST", "/courses/"+c.ID+"/unpublish", itok, map[string]any{}, 200, nil)
	m.Drain(t, manifest.CatalogQueue)
	m.Call(t, "GET", "/courses?q="+word, "", nil, 200, &found)
	if found.Total != 0 {
		t.Fatalf("an unpublished course is still found: %+v", found)
	}
	m.Call(t, "GET", "/courses/"+c.ID, "", nil, 404, nil)
	m.Call(t, "GET", "/courses/"+c.ID+"/content", ltok, nil, 200, nil)
	if got, _ := mktmetrics.Read(context.Background(), m.Env.Store(), mm.Period); got.PublishedCourses != 0 {
		t.Fatalf("published courses after unpublish: %d", got.PublishedCourses)
	}
}

// A free course enrols at once; nothing is sold.
func TestFreeCourseEnrolsAtOnce(t *testing.T) {
	m := startMarket(t)
	itok := m.Token(t, m.id("instr"), "", "instructor")
	ltok := m.Token(t, m.id("learner"), "")
	c, _ := m.publishedCourse(t, itok, "Free intro", 0)
	var res marketplace.PurchaseResponse
	m.Call(t, "POST", "/courses/"+c.ID+"/purchase", ltok, map[string]string{"successUrl": "http://localhost:5173/ok", "cancelUrl": "http://localhost:5173/no"}, 201, &res)
	if res.Enrollment == nil || res.Enrollment.Source != "free" || res.SessionID != "" {
		t.Fatalf("free purchase: %+v", res)
	}
	m.Call(t, "POST", "/courses/"+c.ID+"/purchase", ltok, map[string]string{"successUrl": "http://localhost:5173/ok", "cancelUrl": "http://localhost:5173/no"}, 409, nil)
	if sales := m.sales(t, itok); len(sales) != 0 {
		t.Fatalf("a free enrolment made sales: %+v", sales)
	}
	status, _, _ := m.Do(t, http.MethodGet, "/courses/"+c.ID+"/content", ltok, nil)
	if status != http.StatusOK {
		t.Fatalf("content of a free course: %d", status)
	}
}
