package marketplace

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
)

// rawInvoke is invoke's status and the body as sent.
func rawInvoke(t *testing.T, h httpapi.Lambda, c call) (int, []byte) {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1"},
		PathParameters: c.path, QueryStringParameters: c.query, Headers: map[string]string{}}
	if c.as.user != "" {
		claims := map[string]string{"sub": c.as.user, "email": c.as.user + "@example.com"}
		if c.as.groups != "" {
			claims["cognito:groups"] = c.as.groups
		}
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}
	}
	res, err := h(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, []byte(res.Body)
}

// strict decodes body into v refusing any field v does not declare: the list bodies keep exactly
// the shape their documented types (and docs/openapi.yaml) give them.
func strict(t *testing.T, body []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
}

// Every list route answers through httpapi.ListPage with the body it always had: its items under
// their name (an empty array, never null), nextCursor only while there is more, the limit checked
// (1..50, 20 by default) before anything is read, and a cursor usable only on its own list.
func TestListRoutesKeepTheirShape(t *testing.T) {
	w, _ := routeWorld(t)
	id, draft := newID(prefixCourse, t0), newID(prefixCourse, t0.Add(time.Second))
	w.course(id, "ins", 10000)
	w.connect("ins", true)
	for i, s := range []string{"cs_a", "cs_b", "cs_c"} {
		w.clk.Advance(time.Duration(i+1) * time.Minute)
		w.mustBook(w.paid(s, "ana", id, 10000))
	}
	w.clk.Advance(time.Minute)
	w.mustBook(w.paid("cs_bob", "bob", id, 10000))
	c := w.books.courses[id]
	d := c
	d.ID, d.Status = draft, "draft"
	w.books.courses[draft] = d
	if code, _ := invoke(t, HandlePutReview(fnOf(manifest.User), w.d), call{as: learner, path: map[string]string{"courseId": id},
		body: `{"rating":4,"text":"good"}`}); code != 201 {
		t.Fatalf("review: %d", code)
	}
	w.clk.Advance(32 * 24 * time.Hour)
	if _, err := RunRelease(context.Background(), w.d); err != nil {
		t.Fatal(err)
	}
	period := Period(w.clk.Now())
	if err := ProcessPayout(context.Background(), w.d, "ins", period); err != nil {
		t.Fatal(err)
	}
	path := map[string]string{"courseId": id}

	t.Run("Sales", func(t *testing.T) {
		h := HandleListSales(fnOf(manifest.User), w.d)
		code, body := rawInvoke(t, h, call{as: instructor, query: map[string]string{"limit": "3"}})
		var first SaleList
		strict(t, body, &first)
		if code != 200 || len(first.Sales) != 3 || first.NextCursor == "" || first.Sales[0].InstructorShareCents != 7000 ||
			first.Sales[0].SoldAt <= first.Sales[1].SoldAt {
			t.Fatalf("first page: %d %s", code, body)
		}
		code, body = rawInvoke(t, h, call{as: instructor, query: map[string]string{"limit": "3", "cursor": first.NextCursor}})
		var second SaleList
		strict(t, body, &second)
		if code != 200 || len(second.Sales) != 1 || second.NextCursor != "" || bytes.Contains(body, []byte("nextCursor")) {
			t.Fatalf("last page: %d %s", code, body)
		}
		if second.Sales[0].ID == first.Sales[2].ID {
			t.Fatal("the second page repeats the first")
		}
		// Another instructor's (empty) list: [] and no cursor.
		code, body = rawInvoke(t, h, call{as: other})
		if code != 200 || string(body) != `{"sales":[]}` {
			t.Fatalf("an empty list: %d %s", code, body)
		}
		// A cursor of this list does not read another's.
		if code, _ := rawInvoke(t, HandleListMyPayouts(fnOf(manifest.User), w.d), call{as: instructor,
			query: map[string]string{"cursor": first.NextCursor}}); code != 400 {
			t.Fatalf("a sales cursor on the payouts list: %d", code)
		}
	})

	t.Run("Limits", func(t *testing.T) {
		for _, lim := range []string{"0", "51", "x", ""} {
			code, body := rawInvoke(t, HandleListSales(fnOf(manifest.User), w.d), call{as: instructor, query: map[string]string{"limit": lim}})
			if code != 400 || !bytes.Contains(body, []byte("limit must be an integer from 1 to 50")) {
				t.Fatalf("limit %q: %d %s", lim, code, body)
			}
		}
		// 20 by default: 21 enrolments of one learner list 20 and a cursor.
		for i := 0; i < 21; i++ {
			cid := newID(prefixCourse, t0.Add(time.Duration(i+10)*time.Second))
			w.course(cid, "ins", 0)
			w.mustBook(w.paid("cs_many"+cid, "many", cid, 500))
		}
		code, body := rawInvoke(t, HandleListMyCourses(fnOf(manifest.User), w.d), call{as: caller{"many", ""}})
		var l EnrollmentList
		strict(t, body, &l)
		if code != 200 || len(l.Courses) != 20 || l.NextCursor == "" {
			t.Fatalf("default limit: %d %d %q", code, len(l.Courses), l.NextCursor)
		}
	})

	t.Run("InstructorCourses", func(t *testing.T) {
		w.books.courses[draft] = d
		code, body := rawInvoke(t, HandleListInstructorCourses(fnOf(manifest.User), w.d), call{as: caller{"ins3", "[instructor]"}})
		var l CourseList
		strict(t, body, &l)
		if code != 200 || len(l.Courses) != 0 || string(body) != `{"courses":[]}` {
			t.Fatalf("no courses: %d %s", code, body)
		}
		if code, _ := rawInvoke(t, HandleListInstructorCourses(fnOf(manifest.User), w.d), call{as: learner}); code != 403 {
			t.Fatalf("a learner: %d", code)
		}
	})

	t.Run("MyCourses", func(t *testing.T) {
		code, body := rawInvoke(t, HandleListMyCourses(fnOf(manifest.User), w.d), call{as: learner})
		var l EnrollmentList
		strict(t, body, &l)
		if code != 200 || len(l.Courses) != 1 || l.Courses[0].CourseID != id || l.Courses[0].Status != EnrollActive || l.NextCursor != "" {
			t.Fatalf("my courses: %d %s", code, body)
		}
	})

	t.Run("Reviews", func(t *testing.T) {
		h := HandleListReviews(fnOf(manifest.Public), w.d)
		code, body := rawInvoke(t, h, call{path: path})
		var l ReviewList
		strict(t, body, &l)
		if code != 200 || len(l.Reviews) != 1 || l.Reviews[0].Rating != 4 || l.Rating.Count != 1 || l.Rating.Average != 4 ||
			l.NextCursor != "" {
			t.Fatalf("reviews: %d %s", code, body)
		}
		// The limit is checked first, as before: a bad one is a 400 even for an unknown course.
		unknown := map[string]string{"courseId": newID(prefixCourse, t0.Add(time.Hour))}
		if code, _ := rawInvoke(t, h, call{path: unknown, query: map[string]string{"limit": "0"}}); code != 400 {
			t.Fatalf("a bad limit on an unknown course: %d", code)
		}
		if code, _ := rawInvoke(t, h, call{path: unknown}); code != 404 {
			t.Fatalf("an unknown course: %d", code)
		}
		if code, _ := rawInvoke(t, h, call{path: map[string]string{"courseId": draft}}); code != 404 {
			t.Fatalf("a draft's reviews: %d", code)
		}
		if code, _ := rawInvoke(t, h, call{path: map[string]string{"courseId": "nope"}}); code != 400 {
			t.Fatalf("a malformed id: %d", code)
		}
	})

	t.Run("Payouts", func(t *testing.T) {
		code, body := rawInvoke(t, HandleListMyPayouts(fnOf(manifest.User), w.d), call{as: instructor})
		var mine PayoutList
		strict(t, body, &mine)
		if code != 200 || len(mine.Payouts) != 1 || mine.Payouts[0].AmountCents != 28000 || mine.Payouts[0].Status != PayoutPaid {
			t.Fatalf("my payouts: %d %s", code, body)
		}
		all := HandleListPayouts(fnOf(manifest.Admin), w.d)
		code, body = rawInvoke(t, all, call{as: admin, query: map[string]string{"period": period, "status": PayoutPaid, "limit": "1"}})
		var l PayoutList
		strict(t, body, &l)
		if code != 200 || len(l.Payouts) != 1 || l.Payouts[0].InstructorID != "ins" || l.NextCursor != "" {
			t.Fatalf("the period's payouts: %d %s", code, body)
		}
		// The status is checked before the limit, as before.
		if code, body := rawInvoke(t, all, call{as: admin, query: map[string]string{"status": "gone", "limit": "0"}}); code != 400 ||
			!bytes.Contains(body, []byte("status must be one of")) {
			t.Fatalf("a bad status and limit: %d %s", code, body)
		}
	})
}
