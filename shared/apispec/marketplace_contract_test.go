//go:build integration

package apispec_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/marketplace"
	"github.com/liberation/monetization/shared/marketplace/catalog"
)

// marketplaceContract drives every marketplace route to a validated 2xx (and its main refusals)
// through the real handlers on moto and stripe-mock.
func marketplaceContract(t *testing.T, c *contract) {
	t.Helper()
	instructor := newCaller(false)
	instructor.groups = "[instructor]"
	other := newCaller(false)
	other.groups = "[instructor]"
	learner, stranger, admin := newCaller(false), newCaller(false), newCaller(true)

	// Instructors create, edit and fill a course.
	course := `{"title":"Go in Practice","subtitle":"Build a web service","description":"Types, goroutines, testing.",` +
		`"category":"development","level":"beginner","language":"en","priceCents":999,"tags":["Go","backend"]}`
	c.call(req{fn: "create-course", as: learner, body: course}, 403) // not an instructor
	c.call(req{fn: "create-course", as: instructor, body: `{"title":"x"}`, invalid: true}, 400)
	c.call(req{fn: "create-course", as: instructor, body: `{"title":"x","description":"y","category":"development",` +
		`"level":"beginner","language":"en","priceCents":50}`, invalid: true}, 400)
	var created marketplace.CourseView
	c.call(req{fn: "create-course", as: instructor, body: course}, 201).json(t, &created)
	id := map[string]string{"courseId": created.ID}
	c.call(req{fn: "update-course", as: instructor, path: id, body: `{"subtitle":"Second edition"}`}, 200)
	c.call(req{fn: "update-course", as: other, path: id, body: `{"subtitle":"mine now"}`}, 404) // another's course
	c.call(req{fn: "update-course", as: instructor, path: id, body: `{}`}, 200)                 // changes nothing
	c.call(req{fn: "update-course", as: instructor, path: id, body: `{"title":null}`}, 200)     // null = unchanged
	c.call(req{fn: "update-course", as: instructor, path: id, body: `{"title":" "}`, invalid: true}, 400)
	c.call(req{fn: "list-instructor-courses", as: instructor}, 200)
	c.call(req{fn: "list-instructor-courses", as: learner}, 403)
	c.call(req{fn: "publish-course", as: instructor, path: id, body: `{}`}, 422) // no lesson yet
	c.call(req{fn: "create-lesson", as: instructor, path: id,
		body: `{"title":"Intro","kind":"video","contentType":"application/x-msdownload","sizeBytes":10}`}, 422)
	c.call(req{fn: "create-lesson", as: instructor, path: id,
		body: `{"title":"Intro","kind":"document","contentType":"application/pdf","sizeBytes":52428801}`}, 422)
	var lesson marketplace.CreateLessonResponse
	file := []byte("%PDF-1.4 a lesson")
	c.call(req{fn: "create-lesson", as: instructor, path: id,
		body: `{"title":"Intro","kind":"document","contentType":"application/pdf","sizeBytes":17}`}, 201).json(t, &lesson)
	upload(t, lesson.Upload, file)
	c.call(req{fn: "publish-course", as: instructor, path: id, body: `{}`}, 200)
	c.call(req{fn: "get-course", path: id}, 200)
	c.call(req{fn: "get-course", path: map[string]string{"courseId": "crs_01JDZ8K3M4N5P6Q7R8S9T0VWXY"}}, 404)
	c.call(req{fn: "get-course", path: map[string]string{"courseId": "nope"}, invalid: true}, 400)

	// The catalog: rebuilt by its consumer, searched.
	c.consume("index-catalog", catalog.MsgRebuild, "catalog#"+created.ID, catalog.RebuildRequest{CourseID: created.ID})
	res := c.call(req{fn: "search-courses", query: map[string]string{"q": "go pract", "sort": "relevance", "limit": "5"}}, 200)
	var found catalog.SearchResponse
	res.json(t, &found)
	if found.Total != 1 || found.Courses[0].ID != created.ID || found.Courses[0].PriceCents != 999 {
		t.Fatalf("search: %s", res.body)
	}
	c.call(req{fn: "search-courses", query: map[string]string{"category": "design", "free": "true", "minRating": "4.5"}}, 200)
	c.call(req{fn: "search-courses", query: map[string]string{"sort": "cheapest"}, invalid: true}, 400)
	c.call(req{fn: "search-courses", query: map[string]string{"limit": "51"}, invalid: true}, 400)

	// A learner buys it: Checkout (stripe-mock), then Stripe's event.
	urls := `{"successUrl":"https://app.example.com/ok","cancelUrl":"https://app.example.com/no"}`
	c.call(req{fn: "purchase-course", as: instructor, path: id, body: urls}, 409) // own course
	c.call(req{fn: "purchase-course", as: learner, path: id, body: `{"successUrl":"https://evil.example/ok","cancelUrl":"https://app.example.com/no"}`}, 400)
	c.call(req{fn: "purchase-course", as: learner, path: id, body: urls}, 201)
	c.call(req{fn: "put-review", as: learner, path: id, body: `{"rating":5}`}, 403) // not enrolled yet
	c.call(req{fn: "get-course-content", as: learner, path: id}, 403)
	c.webhookCall(stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, stripeevents.Options{
		UserID: learner.sub, Email: learner.email, Mode: "payment", AmountCents: 999, Created: time.Now().Add(-time.Minute),
		Metadata: map[string]string{"courseId": created.ID, "recordedBy": "marketplace"},
	}), "", 200, "applied")
	c.call(req{fn: "purchase-course", as: learner, path: id, body: urls}, 409) // already enrolled
	c.call(req{fn: "list-my-courses", as: learner}, 200)
	c.call(req{fn: "get-course-content", as: learner, path: id}, 200)
	c.call(req{fn: "get-course-content", as: stranger, path: id}, 403)
	c.call(req{fn: "get-course-content", as: instructor, path: id}, 200)

	// Reviews.
	c.call(req{fn: "put-review", as: learner, path: id, body: `{"rating":6}`, invalid: true}, 400)
	c.call(req{fn: "put-review", as: instructor, path: id, body: `{"rating":5}`}, 403) // own course
	c.call(req{fn: "put-review", as: learner, path: id, body: `{"rating":4,"text":"Good."}`}, 201)
	c.call(req{fn: "put-review", as: learner, path: id, body: `{"rating":5,"text":"Better on a second read."}`}, 200)
	c.call(req{fn: "list-reviews", path: id}, 200)
	c.call(req{fn: "delete-review", as: learner, path: id}, 200)
	c.call(req{fn: "delete-review", as: learner, path: id}, 200) // idempotent: deleted=false

	// Instructor money.
	c.call(req{fn: "connect-instructor", as: instructor,
		body: `{"returnUrl":"https://app.example.com/payouts","refreshUrl":"https://app.example.com/payouts/retry"}`}, 200)
	c.call(req{fn: "connect-instructor", as: learner,
		body: `{"returnUrl":"https://app.example.com/payouts","refreshUrl":"https://app.example.com/payouts/retry"}`}, 403)
	var earnings marketplace.Earnings
	c.call(req{fn: "get-earnings", as: instructor}, 200).json(t, &earnings)
	if earnings.PendingCents != 699 || earnings.BalanceCents != 699 || earnings.NextReleaseAt == nil {
		t.Fatalf("earnings after one sale of 999: %+v", earnings)
	}
	var sales marketplace.SaleList
	c.call(req{fn: "list-sales", as: instructor}, 200).json(t, &sales)
	if len(sales.Sales) != 1 || sales.Sales[0].InstructorShareCents != 699 || sales.Sales[0].PlatformShareCents != 300 {
		t.Fatalf("sales: %+v", sales)
	}
	c.call(req{fn: "list-my-payouts", as: instructor}, 200)
	c.call(req{fn: "get-earnings", as: learner}, 403)

	// Admins.
	period := marketplace.Period(time.Now())
	c.call(req{fn: "run-payouts", as: admin, body: `{"period":"` + period + `"}`}, 202)
	c.call(req{fn: "run-payouts", as: admin, body: `{"period":"2099-01"}`}, 422)
	c.call(req{fn: "run-payouts", as: admin, body: `{"period":"2026-13"}`, invalid: true}, 400)
	c.call(req{fn: "run-payouts", as: learner, body: `{"period":"` + period + `"}`}, 403)
	c.call(req{fn: "list-payouts", as: admin, query: map[string]string{"period": period, "status": "paid"}}, 200)
	c.call(req{fn: "list-payouts", as: admin, query: map[string]string{"status": "lost"}, invalid: true}, 400)
	c.call(req{fn: "get-marketplace-metrics", as: admin, query: map[string]string{"period": period}}, 200)
	c.call(req{fn: "get-marketplace-metrics", as: learner}, 403)

	// Leaving the catalog.
	c.call(req{fn: "unpublish-course", as: instructor, path: id, body: `{}`}, 200)
	c.call(req{fn: "unpublish-course", as: instructor, path: id, body: `{}`}, 422)
	c.call(req{fn: "get-course", path: id}, 404)
}

// upload PUTs a lesson's file with the presigned URL, as a browser would.
func upload(t *testing.T, u marketplace.Upload, body []byte) {
	t.Helper()
	r, err := http.NewRequest(u.Method, u.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("content-type", u.Headers["content-type"])
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("upload with the presigned URL: %d", res.StatusCode)
	}
}

// marketplaceProbes are the idempotency probes of the marketplace's non-GET routes: requests each
// handler answers without side effects (the path's course id is missing, or the body invalid).
func marketplaceProbes(user, admin *caller) map[string]req {
	instructor := *user
	instructor.groups = "[instructor]"
	return map[string]req{
		"create-course":      {as: &instructor, body: `{"title":"x"}`, invalid: true},
		"update-course":      {as: &instructor, body: `{"title":"x"}`, invalid: true},
		"create-lesson":      {as: &instructor, body: `{"title":"x"}`, invalid: true},
		"publish-course":     {as: &instructor, body: `{}`, invalid: true},
		"unpublish-course":   {as: &instructor, body: `{}`, invalid: true},
		"purchase-course":    {as: user, body: `{"successUrl":"nope"}`, invalid: true},
		"put-review":         {as: user, body: `{"rating":0}`, invalid: true},
		"delete-review":      {as: user, invalid: true, probeStatus: http.StatusBadRequest},
		"connect-instructor": {as: &instructor, body: `{"returnUrl":"nope"}`, invalid: true},
		"run-payouts":        {as: admin, body: `{"period":"soon"}`, invalid: true},
	}
}
