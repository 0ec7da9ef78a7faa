//go:build integration

package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/infra/local/stripefake"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace"
	"github.com/liberation/monetization/shared/marketplace/catalog"
)

// 50 learners review one course at once — each twice, concurrently, so writers race on the course's
// aggregate and on their own review — and the count, sum and histogram are exactly those of the
// reviews that exist.
func TestConcurrentReviewsGiveAnExactAggregate(t *testing.T) {
	m := startMarket(t)
	itok := m.Token(t, m.id("instr"), "", "instructor")
	c, _ := m.publishedCourse(t, itok, "Reviewed course", 0)
	const n = 50
	toks := make([]string, n)
	for i := range toks {
		toks[i] = m.Token(t, m.id(fmt.Sprintf("learner-%02d", i)), "")
	}
	errs := make(chan string, 3*n)
	check := func(what string, want ...int) func(int, []byte, error) {
		return func(status int, body []byte, err error) {
			for _, w := range want {
				if err == nil && status == w {
					return
				}
			}
			errs <- fmt.Sprintf("%s: %d %s %v", what, status, body, err)
		}
	}
	urls := map[string]string{"successUrl": "http://localhost:5173/ok", "cancelUrl": "http://localhost:5173/no"}
	all(n, func(i int) { // enrolments race on the listing's enrolment count
		check("enrol", http.StatusCreated)(untilSettled(m.Harness, http.MethodPost, "/courses/"+c.ID+"/purchase", toks[i], urls, nil))
	})
	all(2*n, func(i int) { // two reviews per learner at once: they race on the aggregate and on the review
		rating := 1 + (i/2)%5
		if i%2 == 1 {
			rating = 1 + (i/2*3)%5
		}
		check("review", http.StatusOK, http.StatusCreated)(untilSettled(m.Harness, http.MethodPut, "/courses/"+c.ID+"/review",
			toks[i/2], map[string]any{"rating": rating}, nil))
	})
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	// Expected: the reviews that exist, read one by one.
	var want marketplace.RatingSummary
	var sum int64
	cursor := ""
	for {
		var page marketplace.ReviewList
		path := "/courses/" + c.ID + "/reviews?limit=50"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		m.Call(t, "GET", path, "", nil, 200, &page)
		for _, r := range page.Reviews {
			want.Count++
			sum += int64(r.Rating)
			want.Histogram[r.Rating-1]++
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	want.Average = catalog.RatingAverage(sum, want.Count)
	var detail marketplace.CourseDetail
	m.Call(t, "GET", "/courses/"+c.ID, "", nil, 200, &detail)
	if want.Count != n || detail.Rating != want || detail.EnrollmentCount != n {
		t.Fatalf("aggregate %+v (enrolments %d); the %d reviews give %+v (sum %d)", detail.Rating, detail.EnrollmentCount, want.Count, want, sum)
	}
}

// A full refund inside the window reverses both shares and ends access; a sale refunded in two parts
// ends at exactly 0/0, and keeps access until the last part.
func TestRefundInWindowReversesSharesAndAccess(t *testing.T) {
	m := startMarket(t)
	instructor := m.id("instr")
	itok := m.Token(t, instructor, "", "instructor")
	c, _ := m.publishedCourse(t, itok, "Refunded course", 999)
	learner, second := m.id("learner"), m.id("second")
	ltok, stok := m.Token(t, learner, ""), m.Token(t, second, "")

	s1, paid := m.purchase(learner, c.ID, 999, time.Now().Add(-2*time.Hour))
	post(t, m.Harness, paid)
	s2, paid2 := m.purchase(second, c.ID, 999, time.Now().Add(-time.Hour))
	post(t, m.Harness, paid2)
	if e := m.earnings(t, itok); e.PendingCents != 1398 {
		t.Fatalf("earnings after two sales: %+v", e)
	}

	// Full refund of the first sale.
	m.refund(t, s1, 999)
	m.refund(t, s1, 999) // redelivered (another event id, same refund): nothing more
	m.Call(t, "GET", "/courses/"+c.ID+"/content", ltok, nil, 403, nil)
	var mine marketplace.EnrollmentList
	m.Call(t, "GET", "/me/courses", ltok, nil, 200, &mine)
	if len(mine.Courses) != 0 {
		t.Fatalf("a fully refunded learner still lists the course: %+v", mine)
	}

	// The second sale refunded in two parts: access until the last part.
	m.refund(t, s2, 333)
	m.Call(t, "GET", "/courses/"+c.ID+"/content", stok, nil, 200, nil)
	m.refund(t, s2, 333, 666)
	m.Call(t, "GET", "/courses/"+c.ID+"/content", stok, nil, 403, nil)

	for _, s := range m.sales(t, itok) {
		if s.Status != marketplace.SaleRefunded || s.RefundedCents != 999 || s.InstructorNetCents != 0 || s.PlatformNetCents != 0 {
			t.Fatalf("refunded sale: %+v", s)
		}
	}
	if e := m.earnings(t, itok); e.PendingCents != 0 || e.BalanceCents != 0 || e.AvailableCents != 0 {
		t.Fatalf("earnings after full refunds: %+v", e)
	}
	if got := m.ledgerMatchesBalance(t, instructor); got.Balance() != 0 {
		t.Fatalf("ledger: %+v", got)
	}
	var detail marketplace.CourseDetail
	m.Call(t, "GET", "/courses/"+c.ID, "", nil, 200, &detail)
	if detail.EnrollmentCount != 0 {
		t.Fatalf("enrolment count after refunds: %d", detail.EnrollmentCount)
	}
}

// Payouts: the monthly job run twice pays once (even when the first transfer's answer is lost and
// the retry must find it in Stripe's records); a balance below the minimum is carried; a refund after
// the payout leaves a negative balance, which the next sale pays back before anything is paid again.
func TestPayoutsAndClawback(t *testing.T) {
	m := startMarket(t)
	big, small := m.id("big"), m.id("small")
	btok, stok := m.Token(t, big, big+"@example.com", "instructor"), m.Token(t, small, small+"@example.com", "instructor")
	admin := m.Token(t, m.id("admin"), "", "admin")
	bc, _ := m.publishedCourse(t, btok, "Expensive course", 9999)
	sc, _ := m.publishedCourse(t, stok, "Cheap course", 999)

	// Both connect; Stripe reports their accounts ready.
	for _, in := range []struct{ id, tok string }{{big, btok}, {small, stok}} {
		var conn marketplace.ConnectResponse
		m.Call(t, "POST", "/instructors/me/connect", in.tok, map[string]string{"returnUrl": "https://app.example.com/p", "refreshUrl": "https://app.example.com/r"}, 200, &conn)
		post(t, m.Harness, stripeevents.MustBuild(stripeevents.AccountUpdated,
			stripeevents.Options{UserID: in.id, AccountID: conn.AccountID}))
		if e := m.earnings(t, in.tok); !e.PayoutsEnabled {
			t.Fatalf("%s: payouts not enabled after account.updated", in.id)
		}
	}

	// Sales 40 days old: their window has passed; the release job makes them available, once.
	old := time.Now().Add(-40 * 24 * time.Hour)
	s1, p1 := m.purchase(m.id("l1"), bc.ID, 9999, old)
	post(t, m.Harness, p1)
	_, p2 := m.purchase(m.id("l2"), sc.ID, 999, old)
	post(t, m.Harness, p2)
	m.RunJob(t, "release-earnings")
	m.RunJob(t, "release-earnings")
	if e := m.earnings(t, btok); e.AvailableCents != 6999 || e.PendingCents != 0 {
		t.Fatalf("after release: %+v", e)
	}

	// The payout run, twice; the first transfer reaches Stripe but its answer is lost.
	m.fake.FailTransfers(stripefake.FailAfterCreate, 1)
	m.RunJob(t, "payouts")
	m.Drain(t, manifest.PayoutsQueue)
	m.RunJob(t, "payouts")
	m.Drain(t, manifest.PayoutsQueue)
	trs := m.fake.Transfers()
	if len(trs) != 1 || trs[0].Amount != 6999 || trs[0].Group != marketplace.PayoutID(big, marketplace.Period(time.Now())) {
		t.Fatalf("transfers: %+v", trs)
	}
	var mine marketplace.PayoutList
	m.Call(t, "GET", "/instructors/me/payouts", btok, nil, 200, &mine)
	if len(mine.Payouts) != 1 || mine.Payouts[0].Status != marketplace.PayoutPaid || mine.Payouts[0].TransferID != trs[0].ID {
		t.Fatalf("big's payouts: %+v", mine)
	}
	m.Call(t, "GET", "/instructors/me/payouts", stok, nil, 200, &mine)
	if len(mine.Payouts) != 1 || mine.Payouts[0].Status != marketplace.PayoutCarried || mine.Payouts[0].CarryReason != "below_minimum" ||
		mine.Payouts[0].AvailableCents != 699 {
		t.Fatalf("small's payouts: %+v", mine)
	}
	if e := m.earnings(t, stok); e.AvailableCents != 699 {
		t.Fatalf("a carried balance must stay available: %+v", e)
	}
	if e := m.earnings(t, btok); e.AvailableCents != 0 || e.PaidCents != 6999 {
		t.Fatalf("after the payout: %+v", e)
	}
	m.Env.Mailpit.WaitFor(t, "to:"+big+"@example.com", 1)
	if n := len(m.Env.Mailpit.Search(t, "to:"+big+"@example.com")); n != 1 {
		t.Fatalf("%d statements, want 1", n)
	}
	var all marketplace.PayoutList
	m.Call(t, "GET", "/admin/payouts?status=paid", admin, nil, 200, &all)
	if len(all.Payouts) != 1 || all.Payouts[0].InstructorID != big {
		t.Fatalf("admin's paid payouts: %+v", all)
	}

	// The buyer is refunded after the payout: the balance goes negative, and no payout is made from it.
	m.refund(t, s1, 9999)
	if e := m.earnings(t, btok); e.AvailableCents != -6999 || e.BalanceCents != -6999 || e.PaidCents != 6999 {
		t.Fatalf("after a refund of a paid sale: %+v", e)
	}
	m.Call(t, "POST", "/admin/payouts/run", admin, map[string]string{"period": marketplace.Period(time.Now().AddDate(0, -1, 0))}, 202, nil)
	m.Drain(t, manifest.PayoutsQueue)
	if len(m.fake.Transfers()) != 1 {
		t.Fatalf("a payout was made from a negative balance: %+v", m.fake.Transfers())
	}

	// The next sale pays the debt back first.
	_, p3 := m.purchase(m.id("l3"), bc.ID, 9999, old.Add(time.Hour))
	post(t, m.Harness, p3)
	if e := m.earnings(t, btok); e.BalanceCents != 0 || e.PendingCents != 6999 || e.AvailableCents != -6999 {
		t.Fatalf("after the next sale: %+v", e)
	}
	m.RunJob(t, "release-earnings")
	if e := m.earnings(t, btok); e.BalanceCents != 0 || e.AvailableCents != 0 {
		t.Fatalf("after its release: %+v", e)
	}
	for _, id := range []string{big, small} {
		m.ledgerMatchesBalance(t, id)
	}
	if reqs := m.fake.TransferRequests(); reqs != 1 {
		t.Fatalf("%d transfer requests; the ambiguous one must be resolved from Stripe's records, not repeated", reqs)
	}
}
