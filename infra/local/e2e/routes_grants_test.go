//go:build integration

package e2e

// Route paths the rest of the suite never took, each through the local gateway on real state, so
// the grant-vs-use check (grants_test.go, docs/decisions/0076) sees the calls their grants exist
// for: update-course on a published course (sqs:SendMessage to the catalog queue), delete-review
// deleting (the tombstone put and the aggregate's update), create-class with an Idempotency-Key
// (the claim's completion and a replay's read), update-support-ticket solving a ticket (the SLA
// statistics' update), and a seat holder's first GET /features or GET /subscription of the month
// (the license usage counter's update).

import (
	"net/http"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/rewards"
)

// Renaming a published course asks the catalog builder for a rebuild: search finds the new title.
func TestUpdatePublishedCourseRequestsACatalogRebuild(t *testing.T) {
	m := startMarket(t)
	itok := m.Token(t, m.id("instr"), "", "instructor")
	before, after := "qbefore"+m.run, "qafter"+m.run
	c, _ := m.publishedCourse(t, itok, "Renamed "+before, 999)
	waitSearch(t, m.Harness, before, func(r catalog.SearchResponse) bool { return r.Total == 1 })
	m.Drain(t, manifest.CatalogQueue)

	var v marketplace.CourseView
	m.Call(t, http.MethodPatch, "/courses/"+c.ID, itok, map[string]any{"title": "Renamed " + after}, http.StatusOK, &v)
	if v.Title != "Renamed "+after {
		t.Fatalf("patched course: %+v", v)
	}
	m.Drain(t, manifest.CatalogQueue) // the update's message, consumed by index-catalog
	if r := waitSearch(t, m.Harness, after, func(r catalog.SearchResponse) bool { return r.Total == 1 }); r.Total != 1 ||
		r.Courses[0].ID != c.ID || r.Courses[0].Title != "Renamed "+after {
		t.Fatalf("search for the new title: %+v", r)
	}
	// (The old word stays findable: the description, "All about Renamed <old>", was not edited.)
}

// Deleting one's review takes it out of the aggregate and the list; deleting again changes nothing.
func TestDeleteReviewLeavesAggregateAndList(t *testing.T) {
	m := startMarket(t)
	itok := m.Token(t, m.id("instr"), "", "instructor")
	c, _ := m.publishedCourse(t, itok, "Reviewed then unreviewed", 999)
	learner := m.id("learner")
	ltok := m.Token(t, learner, "")
	_, paid := m.purchase(learner, c.ID, 999, time.Now().Add(-time.Hour))
	post(t, m.Harness, paid)
	m.Call(t, http.MethodPut, "/courses/"+c.ID+"/review", ltok, map[string]any{"rating": 2, "text": "Meh."}, http.StatusCreated, nil)
	state := func() (marketplace.RatingSummary, int) {
		var detail marketplace.CourseDetail
		m.Call(t, http.MethodGet, "/courses/"+c.ID, "", nil, http.StatusOK, &detail)
		var list marketplace.ReviewList
		m.Call(t, http.MethodGet, "/courses/"+c.ID+"/reviews", "", nil, http.StatusOK, &list)
		return detail.Rating, len(list.Reviews)
	}
	if r, n := state(); r.Count != 1 || r.Histogram[1] != 1 || n != 1 {
		t.Fatalf("after the review: %+v, %d listed", r, n)
	}

	var del marketplace.DeleteReviewResponse
	m.Call(t, http.MethodDelete, "/courses/"+c.ID+"/review", ltok, nil, http.StatusOK, &del)
	if !del.Deleted || del.Rating.Count != 0 || del.Rating.Histogram != [5]int64{} {
		t.Fatalf("delete: %+v", del)
	}
	if r, n := state(); r.Count != 0 || r.Histogram != [5]int64{} || n != 0 {
		t.Fatalf("after the delete: %+v, %d listed", r, n)
	}
	m.Call(t, http.MethodDelete, "/courses/"+c.ID+"/review", ltok, nil, http.StatusOK, &del)
	if del.Deleted || del.Rating.Count != 0 {
		t.Fatalf("second delete: %+v", del)
	}
	// Written again after the delete, it counts once more.
	m.Call(t, http.MethodPut, "/courses/"+c.ID+"/review", ltok, map[string]any{"rating": 5}, http.StatusCreated, nil)
	if r, n := state(); r.Count != 1 || r.Histogram[4] != 1 || n != 1 {
		t.Fatalf("after writing it again: %+v, %d listed", r, n)
	}
}

// POST /classes with an Idempotency-Key creates one class: the retry replays the first answer,
// the same key with another body is refused.
func TestCreateClassWithIdempotencyKeyReplays(t *testing.T) {
	h := Start(t)
	owner := "teacher-" + suffix()
	tok := h.Token(t, owner, owner+"@example.com", manifest.GroupInstructor)
	key := map[string]string{"Idempotency-Key": "class-" + suffix()}
	body := map[string]string{"name": "Algebra " + suffix()}

	status, first, hdr := h.DoWithHeaders(t, http.MethodPost, "/classes", tok, body, key)
	c1 := decode[rewards.ClassView](t, first)
	if status != http.StatusCreated || c1.ID == "" || hdr.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first create: %d %s %v", status, first, hdr)
	}
	status, again, hdr := h.DoWithHeaders(t, http.MethodPost, "/classes", tok, body, key)
	c2 := decode[rewards.ClassView](t, again)
	if status != http.StatusCreated || hdr.Get("Idempotent-Replayed") != "true" || c2.ID != c1.ID || c2.JoinCode != c1.JoinCode {
		t.Fatalf("retry: %d %s %v (first %+v)", status, again, hdr, c1)
	}
	status, other, _ := h.DoWithHeaders(t, http.MethodPost, "/classes", tok, map[string]string{"name": "Another"}, key)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("same key, another body: %d %s", status, other)
	}
	var got rewards.ClassView
	h.Call(t, http.MethodGet, "/classes/"+c1.ID, tok, nil, http.StatusOK, &got)
	if got.ID != c1.ID || got.Name != body["name"] || !got.Owner {
		t.Fatalf("the class: %+v", got)
	}
	// Exactly one class holds the join code: a learner joining with it joins c1.
	learner := "pupil-" + suffix()
	var joined rewards.ClassView
	h.Call(t, http.MethodPost, "/classes/join", h.Token(t, learner, learner+"@example.com"), map[string]string{"code": c1.JoinCode}, http.StatusOK, &joined)
	if joined.ID != c1.ID || joined.MemberCount != 1 {
		t.Fatalf("joined %+v", joined)
	}
}

// An agent solving a ticket within its resolution target counts a met target in the SLA report.
func TestSolvingATicketCountsTheResolutionTarget(t *testing.T) {
	h := Start(t)
	o := newOrg(t, h, 5, "block", "restrict", time.Now())
	_, learner := o.member(t, h, o.invite(t, h, 1))
	agent := h.Token(t, "agent-"+suffix(), "agent-"+suffix()+"@support.liberation.example", manifest.GroupSupport)
	platform := h.Token(t, "ops-"+suffix(), "ops@liberation.example", "admin")

	var tk ticketView
	h.Call(t, http.MethodPost, "/support/tickets", learner, map[string]string{"subject": "Invoice address",
		"body": "Please change our invoice address.", "priority": "normal"}, http.StatusCreated, &tk)
	h.Call(t, http.MethodPost, "/support/tickets/"+tk.ID+"/replies", agent, map[string]string{"body": "Done."}, http.StatusCreated, nil)
	var solved ticketView
	h.Call(t, http.MethodPatch, "/support/tickets/"+tk.ID, agent, map[string]string{"status": "solved"}, http.StatusOK, &solved)
	if solved.Status != "solved" || solved.SLA.Resolution.Status != "met" {
		t.Fatalf("solved ticket %+v %+v", solved.Status, solved.SLA.Resolution)
	}
	type counts struct{ Met, Breached int64 }
	var report struct {
		Rows []struct {
			Tier, Priority         string
			FirstReply, Resolution counts
		} `json:"rows"`
	}
	h.Call(t, http.MethodGet, "/admin/support/sla?days=1", platform, nil, http.StatusOK, &report)
	found := false
	for _, r := range report.Rows {
		if r.Tier == "enterprise" && r.Priority == "normal" {
			found = true
			if r.Resolution != (counts{Met: 1}) || r.FirstReply != (counts{Met: 1}) {
				t.Fatalf("report row %+v", r)
			}
		}
	}
	if !found {
		t.Fatalf("no enterprise/normal row in %+v", report)
	}
	// Solving a solved ticket again changes nothing: the target is counted once.
	h.Call(t, http.MethodPatch, "/support/tickets/"+tk.ID, agent, map[string]string{"status": "solved"}, http.StatusOK, nil)
	h.Call(t, http.MethodGet, "/admin/support/sla?days=1", platform, nil, http.StatusOK, &report)
	for _, r := range report.Rows {
		if r.Tier == "enterprise" && r.Priority == "normal" && r.Resolution.Met != 1 {
			t.Fatalf("report after solving twice %+v", r)
		}
	}
}

// A seat holder's first feature check, or first subscription read, of a month counts them once
// among their license's monthly active learners for that month. (The join counts them for the
// month they join, so the reads are made in the next one.)
func TestSeatHoldersReadsCountThemActive(t *testing.T) {
	h := Start(t, WithFakeClock())
	h.Clock.Set(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	o := newOrg(t, h, 5, "block", "restrict", h.Clock.Now())
	code := o.invite(t, h, 2)
	_, first := o.member(t, h, code)
	_, second := o.member(t, h, code)
	if n := o.usage(t, h, "2026-11").MonthlyActiveLearners; n != 2 {
		t.Fatalf("%d active learners in the month of the joins, want the two who joined", n)
	}
	h.Clock.Set(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	active := func() int64 { t.Helper(); return o.usage(t, h, "2026-12").MonthlyActiveLearners }
	if n := active(); n != 0 {
		t.Fatalf("%d active learners in December before any read", n)
	}

	var dec struct {
		Allowed bool   `json:"allowed"`
		Source  string `json:"source"`
	}
	h.Call(t, http.MethodGet, "/features/sso", first, nil, http.StatusOK, &dec)
	if !dec.Allowed || dec.Source != "license" {
		t.Fatalf("feature check %+v", dec)
	}
	if n := active(); n != 1 {
		t.Fatalf("%d active learners after the first seat holder's feature check", n)
	}
	var sub struct {
		Tier   string `json:"tier"`
		Source string `json:"source"`
	}
	h.Call(t, http.MethodGet, "/subscription", second, nil, http.StatusOK, &sub)
	if sub.Tier != "enterprise" || sub.Source != "license" {
		t.Fatalf("subscription %+v", sub)
	}
	if n := active(); n != 2 {
		t.Fatalf("%d active learners after the second seat holder's subscription read", n)
	}
	// Each counts once a month, whichever route they use next.
	h.Call(t, http.MethodGet, "/subscription", first, nil, http.StatusOK, nil)
	h.Call(t, http.MethodGet, "/features/sso", second, nil, http.StatusOK, nil)
	if n := active(); n != 2 {
		t.Fatalf("%d active learners after repeated reads", n)
	}
}
