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
)

// The marketplace under Stripe's asynchronous events, through the local gateway with signed events
// (issue 13): each flow once, as a new user of `make dev` would meet it.

// A refund whose charge.refunded arrives before the purchase's checkout.session.completed (its
// first delivery failed) is answered and remembered; the sale is then booked refunded, and the
// learner never gets the course.
func TestRefundBeforeTheSaleIsBooked(t *testing.T) {
	m := startMarket(t)
	itok := m.Token(t, m.id("instr"), "", "instructor")
	c, _ := m.publishedCourse(t, itok, "Early refund", 999)
	learner := m.id("learner")
	ltok := m.Token(t, learner, "")
	s, paid := m.purchase(learner, c.ID, 999, time.Now().Add(-time.Hour))

	m.refund(t, s, 999) // charge.refunded first: 200, parked
	post(t, m.Harness, paid)
	post(t, m.Harness, paid) // Stripe's redelivery changes nothing

	m.Call(t, "GET", "/courses/"+c.ID+"/content", ltok, nil, 403, nil)
	sales := m.sales(t, itok)
	if len(sales) != 1 || sales[0].Status != marketplace.SaleRefunded || sales[0].InstructorNetCents != 0 || sales[0].PlatformNetCents != 0 {
		t.Fatalf("sales after an early refund: %+v", sales)
	}
	if e := m.earnings(t, itok); e.BalanceCents != 0 || e.PendingCents != 0 {
		t.Fatalf("earnings after an early refund: %+v", e)
	}
	m.ledgerMatchesBalance(t, m.id("instr"))
}

// A learner who pays two Checkout Sessions for one course keeps the course; the second payment is
// refunded at Stripe when it is booked, and once that refund lands only the first sale counts. Two
// purchase requests get the same open session.
func TestSecondPaymentForACourseIsRefunded(t *testing.T) {
	m := startMarket(t)
	itok := m.Token(t, m.id("instr"), "", "instructor")
	c, _ := m.publishedCourse(t, itok, "Bought twice", 1999)
	learner := m.id("learner")
	ltok := m.Token(t, learner, "")
	urls := map[string]string{"successUrl": "http://localhost:5173/ok", "cancelUrl": "http://localhost:5173/no"}
	var first, again marketplace.PurchaseResponse
	m.Call(t, http.MethodPost, "/courses/"+c.ID+"/purchase", ltok, urls, http.StatusCreated, &first)
	m.Call(t, http.MethodPost, "/courses/"+c.ID+"/purchase", ltok, urls, http.StatusCreated, &again)
	if again.SessionID != first.SessionID || len(m.fake.Checkouts()) != 1 {
		t.Fatalf("two purchase requests made %d Checkout Sessions (%s, %s)", len(m.fake.Checkouts()), first.SessionID, again.SessionID)
	}

	// Paid anyway from two tabs (two sessions, two charges).
	s1, paid1 := m.purchase(learner, c.ID, 1999, time.Now().Add(-2*time.Hour))
	post(t, m.Harness, paid1)
	o := stripeevents.CoursePurchase(learner, c.ID, 1999)
	s2 := sale{learner: learner, course: c.ID, amount: 1999, session: s1.session + "_2", intent: s1.intent + "_2", charge: s1.charge + "_2"}
	o.SessionID, o.PaymentIntentID, o.ChargeID, o.Created, o.EventID = s2.session, s2.intent, s2.charge, time.Now().Add(-time.Hour), "evt_"+s2.session
	m.fake.SetIntent(s2.intent, s2.charge)
	post(t, m.Harness, stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, o))

	asked := 0
	for _, f := range m.fake.RefundRequests() {
		if f.Get("payment_intent") == s2.intent || f.Get("charge") == s2.charge {
			asked++
			if f.Get("metadata[reason]") != "duplicate_purchase" {
				t.Errorf("refund of the second payment: %v", f)
			}
		}
	}
	if asked != 1 {
		t.Fatalf("the second payment's refund was asked %d times: %v", asked, m.fake.RefundRequests())
	}
	m.refund(t, s2, 1999) // Stripe's charge.refunded for it
	m.Call(t, "GET", "/courses/"+c.ID+"/content", ltok, nil, 200, nil)
	var mine marketplace.EnrollmentList
	m.Call(t, "GET", "/me/courses", ltok, nil, 200, &mine)
	if len(mine.Courses) != 1 {
		t.Fatalf("my courses: %+v", mine)
	}
	if e := m.earnings(t, itok); e.PendingCents != 1399 {
		t.Fatalf("earnings: %+v, want one sale's 1399 pending", e)
	}
	var detail marketplace.CourseDetail
	m.Call(t, "GET", "/courses/"+c.ID, "", nil, 200, &detail)
	if detail.EnrollmentCount != 1 {
		t.Fatalf("enrolment count %d", detail.EnrollmentCount)
	}
}

// A refunded learner's 1-star review leaves the rating and the list (kept for moderation); when the
// refund fails at Stripe, access and the review come back.
func TestRefundedLearnersReviewStopsCounting(t *testing.T) {
	m := startMarket(t)
	itok := m.Token(t, m.id("instr"), "", "instructor")
	c, _ := m.publishedCourse(t, itok, "Reviewed then refunded", 999)
	learner := m.id("learner")
	ltok := m.Token(t, learner, "")
	s, paid := m.purchase(learner, c.ID, 999, time.Now().Add(-time.Hour))
	post(t, m.Harness, paid)
	m.Call(t, http.MethodPut, "/courses/"+c.ID+"/review", ltok, map[string]any{"rating": 1, "text": "no"}, http.StatusCreated, nil)
	rating := func() (marketplace.RatingSummary, int) {
		var detail marketplace.CourseDetail
		m.Call(t, "GET", "/courses/"+c.ID, "", nil, 200, &detail)
		var list marketplace.ReviewList
		m.Call(t, "GET", "/courses/"+c.ID+"/reviews", "", nil, 200, &list)
		return detail.Rating, len(list.Reviews)
	}
	if r, n := rating(); r.Count != 1 || n != 1 {
		t.Fatalf("after the review: %+v, %d listed", r, n)
	}

	m.stripeRefunds(s, "pending", 999)
	post(t, m.Harness, stripeevents.MustBuild(stripeevents.ChargeRefunded, stripeevents.Options{UserID: learner,
		ChargeID: s.charge, PaymentIntentID: s.intent, AmountCents: 999, AmountRefundedCents: 999, EventID: "evt_rf_" + s.charge}))
	if r, n := rating(); r.Count != 0 || r.Histogram[0] != 0 || n != 0 {
		t.Fatalf("a refunded learner's review still counts: %+v, %d listed", r, n)
	}
	m.Call(t, http.MethodPut, "/courses/"+c.ID+"/review", ltok, map[string]any{"rating": 1}, http.StatusForbidden, nil)

	m.stripeRefunds(s, "failed", 999)
	post(t, m.Harness, stripeevents.MustBuild(stripeevents.ChargeRefundUpdated, stripeevents.Options{UserID: learner,
		ChargeID: s.charge, PaymentIntentID: s.intent, RefundID: fmt.Sprintf("re_%s_0", s.charge), Status: "failed",
		AmountRefundedCents: 999, EventID: "evt_rf_failed_" + s.charge}))
	if r, n := rating(); r.Count != 1 || n != 1 {
		t.Fatalf("refund failed, review not back: %+v, %d listed", r, n)
	}
	m.Call(t, "GET", "/courses/"+c.ID+"/content", ltok, nil, 200, nil)
	if e := m.earnings(t, itok); e.PendingCents != 699 {
		t.Fatalf("earnings after the failed refund: %+v", e)
	}
	m.ledgerMatchesBalance(t, m.id("instr"))
}

// A full refund that Stripe later fails gives the learner the course back and the instructor their
// share (charge.refund.updated), as payments does for the same charge.
func TestFailedRefundGivesTheCourseBack(t *testing.T) {
	m := startMarket(t)
	itok := m.Token(t, m.id("instr"), "", "instructor")
	c, _ := m.publishedCourse(t, itok, "Refund that failed", 1999)
	learner := m.id("learner")
	ltok := m.Token(t, learner, "")
	s, paid := m.purchase(learner, c.ID, 1999, time.Now().Add(-time.Hour))
	post(t, m.Harness, paid)
	m.refund(t, s, 1999)
	m.Call(t, "GET", "/courses/"+c.ID+"/content", ltok, nil, 403, nil)

	m.stripeRefunds(s, "failed", 1999)
	post(t, m.Harness, stripeevents.MustBuild(stripeevents.ChargeRefundUpdated, stripeevents.Options{UserID: learner,
		ChargeID: s.charge, PaymentIntentID: s.intent, RefundID: fmt.Sprintf("re_%s_0", s.charge), Status: "failed",
		AmountRefundedCents: 1999, EventID: "evt_failed_" + s.charge}))
	m.Call(t, "GET", "/courses/"+c.ID+"/content", ltok, nil, 200, nil)
	sales := m.sales(t, itok)
	if len(sales) != 1 || sales[0].RefundedCents != 0 || sales[0].InstructorNetCents != 1399 || sales[0].Status != marketplace.SalePending {
		t.Fatalf("sale after the refund failed: %+v", sales)
	}
	if e := m.earnings(t, itok); e.PendingCents != 1399 {
		t.Fatalf("earnings after the refund failed: %+v", e)
	}
	m.ledgerMatchesBalance(t, m.id("instr"))
}

// A dispute won after a payout run carried the instructor at zero (everything held) makes them
// payable again: the next run pays the returned share.
func TestDisputeWonAfterACarriedPayoutIsPaid(t *testing.T) {
	m := startMarket(t)
	instr := m.id("instr")
	itok := m.Token(t, instr, instr+"@example.com", "instructor")
	admin := m.Token(t, m.id("admin"), "", "admin")
	c, _ := m.publishedCourse(t, itok, "Disputed then won", 9999)
	var conn marketplace.ConnectResponse
	m.Call(t, "POST", "/instructors/me/connect", itok, map[string]string{"returnUrl": "https://app.example.com/p", "refreshUrl": "https://app.example.com/r"}, 200, &conn)
	post(t, m.Harness, stripeevents.MustBuild(stripeevents.AccountUpdated, stripeevents.Options{UserID: instr, AccountID: conn.AccountID}))

	s, paid := m.purchase(m.id("learner"), c.ID, 9999, time.Now().Add(-40*24*time.Hour))
	post(t, m.Harness, paid)
	dispute := func(status string) {
		m.fake.SetDisputes(s.charge, stripefake.Dispute{ID: "dp_" + s.charge, Amount: 9999, Status: status})
		post(t, m.Harness, stripeevents.MustBuild(stripeevents.ChargeDisputeUpdated, stripeevents.Options{UserID: s.learner,
			ChargeID: s.charge, PaymentIntentID: s.intent, DisputeID: "dp_" + s.charge, AmountCents: 9999, Status: status,
			EventID: "evt_dp_" + status + s.charge}))
	}
	dispute("needs_response")
	m.RunJob(t, "release-earnings")
	period := map[string]string{"period": marketplace.Period(time.Now())}
	m.Call(t, "POST", "/admin/payouts/run", admin, period, 202, nil)
	m.Drain(t, manifest.PayoutsQueue)
	if e := m.earnings(t, itok); e.HeldCents != 6999 || e.AvailableCents != 0 || len(m.fake.Transfers()) != 0 {
		t.Fatalf("while disputed: %+v, transfers %v", e, m.fake.Transfers())
	}
	dispute("won")
	m.Call(t, "POST", "/admin/payouts/run", admin, period, 202, nil)
	m.Drain(t, manifest.PayoutsQueue)
	if trs := m.fake.Transfers(); len(trs) != 1 || trs[0].Amount != 6999 {
		t.Fatalf("the share returned by the won dispute was not paid: %+v", trs)
	}
	m.ledgerMatchesBalance(t, instr)
}

// Two account.updated events of the same second, delivered in reverse order: payouts end as
// Stripe's account is, not as the older event said.
func TestAccountUpdatesOfOneSecondInReverseOrder(t *testing.T) {
	m := startMarket(t)
	instr := m.id("instr")
	itok := m.Token(t, instr, "", "instructor")
	var conn marketplace.ConnectResponse
	m.Call(t, "POST", "/instructors/me/connect", itok, map[string]string{"returnUrl": "https://app.example.com/p", "refreshUrl": "https://app.example.com/r"}, 200, &conn)
	m.fake.SetAccount(conn.AccountID, true) // the account now: onboarding finished
	second := time.Now().Add(-time.Minute).Truncate(time.Second)
	for _, disabled := range []bool{false, true} { // the later event first, then the earlier one
		post(t, m.Harness, stripeevents.MustBuild(stripeevents.AccountUpdated, stripeevents.Options{UserID: instr,
			AccountID: conn.AccountID, PayoutsDisabled: disabled, Created: second,
			EventID: fmt.Sprintf("evt_acct_%v_%s", disabled, m.run)}))
	}
	if e := m.earnings(t, itok); !e.PayoutsEnabled {
		t.Fatalf("payouts disabled by the older event of the same second: %+v", e)
	}
}
