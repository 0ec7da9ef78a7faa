//go:build integration

package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace"
)

// Three list routes sign and verify their pagination cursors with the cursor secret, but no other
// end-to-end test follows one of their cursors, so their read of that secret was never exercised
// (issue 16, docs/decisions/0076): list-license-seats, list-reviews and list-support-queue. Each
// test here creates two items, pages them with limit=1, and checks that the pages are disjoint and
// together exactly the items created; that a cursor with one character of its signature changed
// is a 400 "invalid"; and that the function's recorded uses leave none of its grants unused.

// cursorPages follows a list route's cursors from the first page (path already carries ?limit=)
// and returns each page's item ids (id reads one item's id from its JSON) and the first page's
// nextCursor. list is the answer's field holding the items. It stops at an empty or absent
// nextCursor, failing after ten pages (a cursor that does not advance).
func cursorPages(t *testing.T, h *Harness, path, token, list string, id func(json.RawMessage) string) ([][]string, string) {
	t.Helper()
	var pages [][]string
	first, cursor := "", ""
	for {
		p := path
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		var body map[string]json.RawMessage
		h.Call(t, http.MethodGet, p, token, nil, http.StatusOK, &body)
		var items []json.RawMessage
		if err := json.Unmarshal(body[list], &items); err != nil {
			t.Fatalf("GET %s: %q is not a list: %s", p, list, body[list])
		}
		ids := []string{}
		for _, it := range items {
			ids = append(ids, id(it))
		}
		pages = append(pages, ids)
		cursor = ""
		if raw, ok := body["nextCursor"]; ok {
			if err := json.Unmarshal(raw, &cursor); err != nil {
				t.Fatalf("GET %s: nextCursor %s", p, raw)
			}
		}
		if len(pages) == 1 {
			first = cursor
		}
		if cursor == "" {
			return pages, first
		}
		if len(pages) == 10 {
			t.Fatalf("GET %s: still a nextCursor after ten pages: %v", path, pages)
		}
	}
}

// checkPages asserts that limit-1 pages hold at most one item each, that the first two pages hold
// one each (two pages, not one), that no id is on two pages, and that all ids are exactly want.
func checkPages(t *testing.T, pages [][]string, want []string) {
	t.Helper()
	if len(pages) < 2 || len(pages[0]) != 1 || len(pages[1]) != 1 {
		t.Fatalf("pages with limit=1: %v, want one item on each of the first two", pages)
	}
	var all []string
	for i, p := range pages {
		if len(p) > 1 {
			t.Fatalf("page %d holds %d items with limit=1: %v", i, len(p), pages)
		}
		all = append(all, p...)
	}
	seen := map[string]bool{}
	for _, id := range all {
		if seen[id] {
			t.Fatalf("%s is on two pages: %v", id, pages)
		}
		seen[id] = true
	}
	got := slices.Clone(all)
	sort.Strings(got)
	want = slices.Clone(want)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("the pages hold %v, want exactly %v", got, want)
	}
}

// tamperCursor changes the first character of a cursor's signature (the part after the dot) to
// another base64url character: the first character's six bits are all signature bits, unlike the
// last one's padding bits, which a lenient decoder ignores.
func tamperCursor(t *testing.T, cursor string) string {
	t.Helper()
	body, sig, ok := strings.Cut(cursor, ".")
	if !ok || sig == "" {
		t.Fatalf("cursor %q has no signature part", cursor)
	}
	c := byte('A')
	if sig[0] == 'A' {
		c = 'B'
	}
	return body + "." + string(c) + sig[1:]
}

// refusedCursor asserts that path with cursor is a 400 whose code is "invalid".
func refusedCursor(t *testing.T, h *Harness, path, token, cursor string) {
	t.Helper()
	var e apiError
	h.Call(t, http.MethodGet, path+"&cursor="+url.QueryEscape(cursor), token, nil, http.StatusBadRequest, &e)
	if e.Error.Code != "invalid" || !strings.Contains(e.Error.Message, "cursor") {
		t.Fatalf("GET %s with a bad cursor: %+v", path, e)
	}
}

// The seats of a license, one per page: two members joined with an invite.
func TestLicenseSeatsPageWithSignedCursors(t *testing.T) {
	h := Start(t)
	o := newOrg(t, h, 5, "block", "restrict", time.Now())
	code := o.invite(t, h, 2)
	a, _ := o.member(t, h, code)
	b, _ := o.member(t, h, code)

	path := "/licenses/" + o.lic.ID + "/seats?limit=1"
	seatUser := func(raw json.RawMessage) string {
		var s seatView
		if err := json.Unmarshal(raw, &s); err != nil || s.LicenseID != o.lic.ID {
			t.Fatalf("seat %s of license %s: %v", raw, o.lic.ID, err)
		}
		return s.UserID
	}
	pages, first := cursorPages(t, h, path, o.admin, "seats", seatUser)
	checkPages(t, pages, []string{a, b})

	refusedCursor(t, h, path, o.admin, tamperCursor(t, first))
	// The untampered cursor still reads page 2: the refusal was the signature's, not the route's.
	var again struct {
		Seats []seatView `json:"seats"`
	}
	h.Call(t, http.MethodGet, path+"&cursor="+url.QueryEscape(first), o.admin, nil, http.StatusOK, &again)
	if len(again.Seats) != 1 || again.Seats[0].UserID != pages[1][0] {
		t.Fatalf("page 2 read again: %+v, first time %v", again.Seats, pages[1])
	}
	// A cursor is bound to its license: another org's admin cannot page this one's seats with it,
	// and this one's cursor is no cursor on the other license.
	other := newOrg(t, h, 5, "block", "restrict", time.Now())
	refusedCursor(t, h, "/licenses/"+other.lic.ID+"/seats?limit=1", other.admin, first)
	usesCoverGrants(t, "list-license-seats", "ssm:") // the cursor secret
}

// A course's reviews, one per page: two enrolled learners each write one.
func TestCourseReviewsPageWithSignedCursors(t *testing.T) {
	m := startMarket(t)
	itok := m.Token(t, m.id("instr"), "", "instructor")
	c, _ := m.publishedCourse(t, itok, "Paged reviews", 999)
	var texts []string
	for i, name := range []string{"ana", "ben"} {
		learner := m.id(name)
		_, paid := m.purchase(learner, c.ID, 999, time.Now().Add(-time.Hour))
		post(t, m.Harness, paid)
		text := "Review by " + learner
		m.Call(t, http.MethodPut, "/courses/"+c.ID+"/review", m.Token(t, learner, ""), map[string]any{"rating": 4 + i, "text": text},
			http.StatusCreated, nil)
		texts = append(texts, text)
	}

	path := "/courses/" + c.ID + "/reviews?limit=1"
	reviewText := func(raw json.RawMessage) string {
		var r marketplace.ReviewView
		if err := json.Unmarshal(raw, &r); err != nil || r.CourseID != c.ID {
			t.Fatalf("review %s of course %s: %v", raw, c.ID, err)
		}
		return r.Text
	}
	// Public: no token.
	pages, first := cursorPages(t, m.Harness, path, "", "reviews", reviewText)
	checkPages(t, pages, texts)
	// Newest first: the second review is on page 1.
	if pages[0][0] != texts[1] {
		t.Fatalf("page 1 holds %v, want the newest review %q", pages[0], texts[1])
	}

	refusedCursor(t, m.Harness, path, "", tamperCursor(t, first))
	// Bound to its course: the cursor is no cursor on another course's reviews.
	other, _ := m.publishedCourse(t, itok, "Other reviews", 999)
	refusedCursor(t, m.Harness, "/courses/"+other.ID+"/reviews?limit=1", "", first)
	usesCoverGrants(t, "list-reviews", "ssm:") // the cursor secret
}

// The agents' queue of open tickets, one per page: two learners each open one.
func TestSupportQueuePagesWithSignedCursors(t *testing.T) {
	h := Start(t)
	var ids []string
	for _, name := range []string{"cho", "dev"} {
		user := rwUser(name)
		var tk ticketView
		h.Call(t, http.MethodPost, "/support/tickets", h.Token(t, user, user+"@example.com"), map[string]string{
			"subject": "Question from " + name, "body": "How do I export my notes?", "priority": "normal"}, http.StatusCreated, &tk)
		if tk.Status != "open" {
			t.Fatalf("new ticket: %+v", tk)
		}
		ids = append(ids, tk.ID)
	}
	agent := h.Token(t, "agent-"+suffix(), "agent-"+suffix()+"@support.liberation.example", manifest.GroupSupport)

	path := "/support/queue?status=open&limit=1"
	ticketID := func(raw json.RawMessage) string {
		var v ticketView
		if err := json.Unmarshal(raw, &v); err != nil || v.Status != "open" {
			t.Fatalf("queued ticket %s: %v", raw, err)
		}
		return v.ID
	}
	pages, first := cursorPages(t, h, path, agent, "tickets", ticketID)
	checkPages(t, pages, ids)
	// Oldest first: the first ticket opened is on page 1.
	if pages[0][0] != ids[0] {
		t.Fatalf("page 1 holds %v, want the oldest ticket %s", pages[0], ids[0])
	}

	refusedCursor(t, h, path, agent, tamperCursor(t, first))
	// Bound to its status: the open queue's cursor is no cursor on the pending queue.
	refusedCursor(t, h, "/support/queue?status=pending&limit=1", agent, first)
	usesCoverGrants(t, "list-support-queue", "ssm:") // the cursor secret
}
