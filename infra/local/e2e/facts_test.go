//go:build integration

package e2e

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/rewards"
)

// The areas' facts from their real producers, end to end: a learner with an enterprise seat buys a
// course (Stripe's checkout.session.completed), reviews it, renews a subscription (invoice.paid of a
// new cycle) and is refunded (charge.refunded); each fact reaches rewards through the facts queue,
// and the license's usage counts the enrolment and the learning event's active learner.
func TestFactsFromTheirProducers(t *testing.T) {
	m := startMarket(t)
	now := time.Now().UTC()
	o := newOrg(t, m.Harness, 5, "block", "restrict", now)
	learner, ltok := o.member(t, m.Harness, o.invite(t, m.Harness, 1))
	itok := m.Token(t, m.id("instr"), "", "instructor")
	c, _ := m.publishedCourse(t, itok, "Facts course", 1999)

	// The purchase, delivered twice: one pending +50, one enrolment in the license's usage.
	s, paid := m.purchase(learner, c.ID, 1999, now.Add(-time.Second))
	post(t, m.Harness, paid)
	post(t, m.Harness, paid)
	m.Harness.Drain(t, manifest.FactsQueue)
	if b := rwBalance(t, m.Harness, ltok); b.Pending != 50 || b.Available != 0 {
		t.Fatalf("after the purchase: %+v", b)
	}

	// A review, written twice: +10 once.
	m.Call(t, http.MethodPut, "/courses/"+c.ID+"/review", ltok, map[string]any{"rating": 5}, http.StatusCreated, nil)
	m.Call(t, http.MethodPut, "/courses/"+c.ID+"/review", ltok, map[string]any{"rating": 4}, http.StatusOK, nil)
	m.Harness.Drain(t, manifest.FactsQueue)
	if b := rwBalance(t, m.Harness, ltok); b.Available != 10 || b.Pending != 50 {
		t.Fatalf("after the review: %+v", b)
	}

	// A renewal (a new cycle's invoice) earns +20 for Pro; the first invoice of a subscription does not.
	for _, reason := range []string{"subscription_create", "subscription_cycle", "subscription_cycle"} {
		post(t, m.Harness, stripeevents.MustBuild(stripeevents.InvoicePaid, stripeevents.Options{UserID: learner,
			InvoiceID: "in_" + reason + "_" + m.run, BillingReason: reason, Created: now.Add(-time.Minute)}))
	}
	m.Harness.Drain(t, manifest.FactsQueue)
	if b := rwBalance(t, m.Harness, ltok); b.Available != 30 {
		t.Fatalf("after the renewal: %+v", b)
	}

	// The refund inside the window cancels the pending purchase tokens.
	m.refund(t, s, 1999)
	m.Harness.Drain(t, manifest.FactsQueue)
	b := rwBalance(t, m.Harness, ltok)
	if b.Pending != 0 || b.Available != 30 || b.Balance != 30 {
		t.Fatalf("after the refund: %+v", b)
	}
	rules := map[string]int{}
	for _, tx := range rwTransactions(t, m.Harness, ltok) {
		rules[tx.Rule+"/"+string(tx.Kind)]++
	}
	want := map[string]int{"course.purchased/pending": 1, "course.purchased/cancel": 1, "review.published/earn": 1,
		"subscription.renewed/earn": 1}
	if !reflect.DeepEqual(rules, want) {
		t.Fatalf("ledger entries %v, want %v", rules, want)
	}

	// A learning event makes the seat holder an active learner of the license this month.
	rwLearning(t, m.Harness, rewards.EventLessonCompleted, "evt-facts-"+m.run, learner, c.ID, "les_1", now)
	m.Harness.Drain(t, manifest.LearningEventsQueue)
	var usage struct {
		MonthlyActiveLearners int64 `json:"monthlyActiveLearners"`
		CourseEnrolments      int64 `json:"courseEnrolments"`
	}
	m.Harness.Call(t, http.MethodGet, "/licenses/"+o.lic.ID+"/usage", o.admin, nil, http.StatusOK, &usage)
	if usage.CourseEnrolments != 1 || usage.MonthlyActiveLearners != 1 {
		t.Fatalf("license usage %+v", usage)
	}
}
