//go:build integration

package browser

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// Every list pages with the API's cursors: with more enterprise licenses than one page of GET
// /admin/licenses holds, the licenses page shows the first page and a "Load more" button, and
// following it until it disappears shows exactly the licenses the API lists by cursor, in the
// API's order, each once.
func TestConsoleListsPageWithTheAPICursor(t *testing.T) {
	b, s := consoleTab(t, desktopW, desktopH)
	admin := []string{"admin"}
	type license struct {
		ID string `json:"id"`
	}
	type page struct {
		Licenses   []license `json:"licenses"`
		NextCursor string    `json:"nextCursor"`
	}
	list := func() (first page, all []string) {
		cursor := ""
		for i := 0; ; i++ {
			var p page
			path := "/admin/licenses"
			if cursor != "" {
				path += "?cursor=" + url.QueryEscape(cursor)
			}
			s.api(t, http.MethodGet, path, s.seed.AdminID, admin, nil, http.StatusOK, &p)
			if i == 0 {
				first = p
			}
			for _, l := range p.Licenses {
				all = append(all, l.ID)
			}
			if p.NextCursor == "" {
				return first, all
			}
			cursor = p.NextCursor
		}
	}
	// More licenses than the route's default page (the console sends no limit, as a user's
	// first look would not): create them until the first page has a cursor, then two more.
	first, _ := list()
	day := time.Now().UTC().Truncate(24 * time.Hour)
	for i := 0; first.NextCursor == "" || i < 2; i++ {
		org := fmt.Sprintf("Paging Test Org %02d", i)
		body := map[string]any{"orgName": org, "seats": 3, "startsAt": day.Format(time.RFC3339),
			"expiresAt": day.AddDate(1, 0, 0).Format(time.RFC3339), "overagePolicy": "block",
			"expirationPolicy": "restrict", "adminEmails": []string{fmt.Sprintf("paging-%02d@example.com", i)}}
		tok := s.h.Token(t, s.seed.AdminID, s.seed.AdminID+"@example.com", admin...)
		s.h.Call(t, http.MethodPost, "/admin/licenses", tok, body, http.StatusCreated, nil,
			map[string]string{"Idempotency-Key": "browser-paging-" + org})
		if i > 100 {
			t.Fatal("GET /admin/licenses never returned a cursor")
		}
		if first.NextCursor == "" {
			first, _ = list()
		}
	}
	first, want := list()

	b.signIn(s, s.seed.AdminID, "admin")
	b.open(s, "licenses", "Licenses")
	rows := func() []string {
		var ids []string
		b.eval(`[...document.querySelectorAll('main table')].find(t => t.caption && t.caption.textContent.startsWith('Enterprise licenses'))
			? [...[...document.querySelectorAll('main table')].find(t => t.caption.textContent.startsWith('Enterprise licenses')).tBodies[0].rows]
				.map(r => r.innerText) : []`, &ids)
		return ids
	}
	if got := len(rows()); got != len(first.Licenses) {
		t.Fatalf("the first page shows %d licenses, the API's first page has %d", got, len(first.Licenses))
	}
	clicks := 0
	for {
		var more bool
		b.eval(`[...document.querySelectorAll('main button.more')].some(e => e.offsetParent !== null)`, &more)
		if !more {
			break
		}
		before := len(rows())
		b.click(button("main", "Load more"))
		b.poll("the next page", fmt.Sprintf(`[...document.querySelectorAll('main table')].find(t => t.caption && t.caption.textContent.startsWith('Enterprise licenses')).tBodies[0].rows.length > %d`, before))
		b.waitIdle()
		if clicks++; clicks > 50 {
			t.Fatal("Load more never ran out")
		}
	}
	if clicks == 0 {
		t.Fatal("no Load more button although the API's first page has a cursor")
	}
	got := rows()
	if len(got) != len(want) {
		t.Fatalf("after %d Load more the page shows %d licenses, the API lists %d by cursor", clicks, len(got), len(want))
	}
	for i, id := range want {
		// Each row names its license (the id is in the row's text: its link or key download).
		var has bool
		b.eval(fmt.Sprintf(`(() => { const t = [...document.querySelectorAll('main table')].find(t => t.caption && t.caption.textContent.startsWith('Enterprise licenses'));
			return t.tBodies[0].rows[%d].innerHTML.includes(%s); })()`, i, jsString(id)), &has)
		if !has {
			t.Errorf("row %d does not name license %s (the API's order)", i, id)
		}
	}
	b.axe("the licenses page after Load more")
}
