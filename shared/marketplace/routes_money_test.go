package marketplace

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace/catalog"
)

const purchaseOK = `{"successUrl":"` + appURL + `/ok","cancelUrl":"` + appURL + `/no"}`

func TestPurchaseRoute(t *testing.T) {
	w, _ := routeWorld(t)
	paid := newID(prefixCourse, t0)
	w.course(paid, "ins", 1999)
	free := newID(prefixCourse, t0.Add(time.Second))
	w.course(free, "ins", 0)
	draft := newID(prefixCourse, t0.Add(2*time.Second))
	c := w.course(draft, "ins", 999)
	c.Status = catalog.StatusDraft
	w.books.courses[draft] = c
	w.stripe.coupons = map[string]Coupon{
		"LIB20-AAAAAAAAAA": {ID: "LIB20-AAAAAAAAAA", Valid: true, UserID: "ana", PercentOff: 20},
		"LIB20-BBBBBBBBBB": {ID: "LIB20-BBBBBBBBBB", Valid: true, UserID: "bob", PercentOff: 20},
	}
	buy := HandlePurchaseCourse(fnOf(manifest.User), w.d)
	with := func(coupon string) string {
		return `{"successUrl":"` + appURL + `/ok","cancelUrl":"` + appURL + `/no","couponCode":"` + coupon + `"}`
	}
	for _, tc := range []struct {
		name   string
		as     caller
		course string
		body   string
		code   int
		err    string
		check  func(t *testing.T, body map[string]any)
	}{
		{"Paid", learner, paid, purchaseOK, 201, "", func(t *testing.T, b map[string]any) {
			if b["sessionId"] == nil || b["url"] == nil {
				t.Fatalf("no session: %v", b)
			}
		}},
		{"PaidAgainReusesTheSession", learner, paid, purchaseOK, 201, "", func(t *testing.T, b map[string]any) {
			if b["sessionId"] != "cs_0001" {
				t.Fatalf("a second session: %v", b)
			}
		}},
		{"Coupon", learner, paid, with("LIB20-AAAAAAAAAA"), 201, "", func(t *testing.T, b map[string]any) {
			if b["sessionId"] == "cs_0001" {
				t.Fatalf("the coupon's session is the old one: %v", b)
			}
		}},
		{"SomeoneElsesCoupon", learner, paid, with("LIB20-BBBBBBBBBB"), 422, "unprocessable", nil},
		{"UnknownCoupon", learner, paid, with("LIB20-CCCCCCCCCC"), 422, "unprocessable", nil},
		{"MalformedCoupon", learner, paid, with("SAVE20"), 400, "invalid", nil},
		{"CouponOnFree", learner, free, with("LIB20-AAAAAAAAAA"), 422, "unprocessable", nil},
		{"Free", learner, free, purchaseOK, 201, "", func(t *testing.T, b map[string]any) {
			if e, _ := b["enrollment"].(map[string]any); e["courseId"] != free {
				t.Fatalf("no enrolment: %v", b)
			}
		}},
		{"FreeTwice", learner, free, purchaseOK, 409, "conflict", nil},
		{"OwnCourse", instructor, paid, purchaseOK, 409, "conflict", nil},
		{"Draft", learner, draft, purchaseOK, 404, "not_found", nil},
		{"OffOrigin", learner, paid, `{"successUrl":"https://evil.example/ok","cancelUrl":"` + appURL + `/no"}`, 400, "invalid", nil},
		{"BadID", learner, "x", purchaseOK, 400, "invalid", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := invoke(t, buy, call{as: tc.as, path: map[string]string{"courseId": tc.course}, body: tc.body})
			if code != tc.code || errCode(body) != tc.err {
				t.Fatalf("%d %v", code, body)
			}
			if tc.check != nil {
				tc.check(t, body)
			}
		})
	}
	if w.stripe.sessions["cs_0001"] != "expired" {
		t.Fatalf("the replaced session is still open: %v", w.stripe.sessions)
	}

	// My courses: the free enrolment and a paid one, newest first.
	w.clk.Advance(time.Hour)
	w.mustBook(w.paid("cs_x", "ana", paid, 1999))
	mine := HandleListMyCourses(fnOf(manifest.User), w.d)
	code, body := invoke(t, mine, call{as: learner})
	cs, _ := body["courses"].([]any)
	if code != 200 || len(cs) != 2 || cs[0].(map[string]any)["courseId"] != paid {
		t.Fatalf("my courses: %d %v", code, body)
	}
	if code, body := invoke(t, mine, call{as: learner, query: map[string]string{"limit": "0"}}); code != 400 {
		t.Fatalf("limit 0: %d %v", code, body)
	}
}

func TestReviewRoutes(t *testing.T) {
	w, _ := routeWorld(t)
	id := newID(prefixCourse, t0)
	w.course(id, "ins", 999)
	w.mustBook(w.paid("cs_a", "ana", id, 999))
	path := map[string]string{"courseId": id}
	put := HandlePutReview(fnOf(manifest.User), w.d)
	del := HandleDeleteReview(fnOf(manifest.User), w.d)
	list := HandleListReviews(fnOf(manifest.Public), w.d)
	for _, tc := range []struct {
		name string
		as   caller
		body string
		code int
		err  string
	}{
		{"Learner", learner, `{"rating":4,"text":"good"}`, 201, ""},
		{"Replace", learner, `{"rating":5,"text":"great"}`, 200, ""},
		{"Owner", instructor, `{"rating":5,"text":"mine"}`, 403, "forbidden"},
		{"NotEnrolled", caller{"bob", ""}, `{"rating":1,"text":"?"}`, 403, "forbidden"},
		{"BadRating", learner, `{"rating":6,"text":"x"}`, 400, "invalid"},
	} {
		t.Run("Put"+tc.name, func(t *testing.T) {
			code, body := invoke(t, put, call{as: tc.as, path: path, body: tc.body})
			if code != tc.code || errCode(body) != tc.err {
				t.Fatalf("%d %v", code, body)
			}
		})
	}
	code, body := invoke(t, list, call{path: path})
	rs, _ := body["reviews"].([]any)
	rating, _ := body["rating"].(map[string]any)
	if code != 200 || len(rs) != 1 || rs[0].(map[string]any)["rating"] != float64(5) || rating["count"] != float64(1) {
		t.Fatalf("reviews: %d %v", code, body)
	}
	if code, _ := invoke(t, list, call{path: map[string]string{"courseId": newID(prefixCourse, t0)}}); code != 404 {
		t.Fatalf("an unknown course's reviews: %d", code)
	}
	if code, body := invoke(t, del, call{as: learner, path: path}); code != http.StatusNoContent && code != 200 {
		t.Fatalf("delete: %d %v", code, body)
	}
	if _, body := invoke(t, list, call{path: path}); len(body["reviews"].([]any)) != 0 {
		t.Fatalf("a deleted review is listed: %v", body)
	}
}

func TestEarningsAndPayoutRoutes(t *testing.T) {
	w, _ := routeWorld(t)
	id := newID(prefixCourse, t0)
	w.course(id, "ins", 10000)
	w.connect("ins", true)
	for i, s := range []string{"cs_a", "cs_b", "cs_c"} {
		w.clk.Advance(time.Duration(i+1) * time.Minute)
		w.mustBook(w.paid(s, "ana"+s, id, 10000))
	}
	earn := HandleGetEarnings(fnOf(manifest.User), w.d)
	code, body := invoke(t, earn, call{as: instructor})
	if code != 200 || body["pendingCents"] != float64(21000) || body["nextReleaseAt"] == nil || body["payoutsEnabled"] != true {
		t.Fatalf("earnings: %d %v", code, body)
	}
	if code, _ := invoke(t, earn, call{as: learner}); code != 403 {
		t.Fatalf("a learner's earnings: %d", code)
	}
	sales := HandleListSales(fnOf(manifest.User), w.d)
	code, body = invoke(t, sales, call{as: instructor, query: map[string]string{"limit": "2"}})
	ss, _ := body["sales"].([]any)
	if code != 200 || len(ss) != 2 || body["nextCursor"] == nil || ss[0].(map[string]any)["instructorShareCents"] != float64(7000) {
		t.Fatalf("sales: %d %v", code, body)
	}
	code, body = invoke(t, sales, call{as: instructor, query: map[string]string{"limit": "2", "cursor": body["nextCursor"].(string)}})
	if code != 200 || len(body["sales"].([]any)) != 1 {
		t.Fatalf("sales page 2: %d %v", code, body)
	}

	// Thirty-one days on, the shares are available; the admin runs the month's payouts.
	w.clk.Advance(32 * 24 * time.Hour)
	if _, err := RunRelease(context.Background(), w.d); err != nil {
		t.Fatal(err)
	}
	period := Period(w.clk.Now())
	run := HandleRunPayouts(fnOf(manifest.Admin), w.d)
	for _, tc := range []struct {
		name string
		as   caller
		body string
		code int
		err  string
	}{
		{"Future", admin, `{"period":"` + Period(w.clk.Now().AddDate(0, 2, 0)) + `"}`, 422, "unprocessable"},
		{"Malformed", admin, `{"period":"2026-13"}`, 400, "invalid"},
		{"NotAdmin", instructor, `{"period":"` + period + `"}`, 403, "forbidden"},
		{"Run", admin, `{"period":"` + period + `"}`, 202, ""},
	} {
		t.Run("Run"+tc.name, func(t *testing.T) {
			code, body := invoke(t, run, call{as: tc.as, body: tc.body})
			if code != tc.code || errCode(body) != tc.err {
				t.Fatalf("%d %v", code, body)
			}
		})
	}
	if w.sent.count(MsgPayout) != 1 {
		t.Fatalf("payouts queued: %d", w.sent.count(MsgPayout))
	}
	if err := ProcessPayout(context.Background(), w.d, "ins", period); err != nil {
		t.Fatal(err)
	}
	mine := HandleListMyPayouts(fnOf(manifest.User), w.d)
	code, body = invoke(t, mine, call{as: instructor})
	ps, _ := body["payouts"].([]any)
	if code != 200 || len(ps) != 1 || ps[0].(map[string]any)["amountCents"] != float64(21000) {
		t.Fatalf("my payouts: %d %v", code, body)
	}
	all := HandleListPayouts(fnOf(manifest.Admin), w.d)
	for _, tc := range []struct {
		name  string
		query map[string]string
		code  int
		n     int
	}{
		{"ThisMonth", nil, 200, 1},
		{"Paid", map[string]string{"period": period, "status": PayoutPaid}, 200, 1},
		{"Failed", map[string]string{"period": period, "status": PayoutFailed}, 200, 0},
		{"OtherPeriod", map[string]string{"period": "2020-01"}, 200, 0},
		{"BadStatus", map[string]string{"status": "gone"}, 400, 0},
		{"BadPeriod", map[string]string{"period": ""}, 400, 0},
	} {
		t.Run("List"+tc.name, func(t *testing.T) {
			code, body := invoke(t, all, call{as: admin, query: tc.query})
			if code != tc.code || code == 200 && len(body["payouts"].([]any)) != tc.n {
				t.Fatalf("%d %v", code, body)
			}
		})
	}
	metrics := HandleGetMarketplaceMetrics(fnOf(manifest.Admin), w.d)
	if code, body := invoke(t, metrics, call{as: admin, query: map[string]string{"period": "2026-11"}}); code != 200 || body["period"] != "2026-11" {
		t.Fatalf("metrics: %d %v", code, body)
	}
	if code, _ := invoke(t, metrics, call{as: admin, query: map[string]string{"period": "11-2026"}}); code != 400 {
		t.Fatalf("a malformed period: %d", code)
	}
	if code, _ := invoke(t, metrics, call{as: learner}); code != 403 {
		t.Fatalf("a learner's metrics: %d", code)
	}
}

func TestConnectRoute(t *testing.T) {
	w, _ := routeWorld(t)
	h := HandleConnectInstructor(fnOf(manifest.User), w.d)
	ok := `{"returnUrl":"` + appURL + `/back","refreshUrl":"` + appURL + `/again"}`
	for _, tc := range []struct {
		name string
		as   caller
		body string
		code int
		err  string
	}{
		{"First", instructor, ok, 200, ""},
		{"Again", instructor, ok, 200, ""},
		{"Learner", learner, ok, 403, "forbidden"},
		{"OffOrigin", instructor, `{"returnUrl":"https://evil.example/x","refreshUrl":"` + appURL + `/again"}`, 400, "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := invoke(t, h, call{as: tc.as, body: tc.body})
			if code != tc.code || errCode(body) != tc.err || code == 200 && body["accountId"] != "acct_ins" {
				t.Fatalf("%d %v", code, body)
			}
		})
	}
}
