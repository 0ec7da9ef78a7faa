//go:build integration

package browser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// groups the local sign-in form offers.
var allGroups = []string{"admin", "support", "instructor"}

// consoleTab opens a tab on the shared system's console at the given viewport.
func consoleTab(t *testing.T, width, height int64) (*tab, *consoleStack) {
	t.Helper()
	s := needStack(t)
	b := newTab(t, width, height)
	// An uncaught exception in the console is a defect even when the page looks right.
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.errs {
			if strings.HasPrefix(e, "exception: ") {
				t.Errorf("the console threw: %s", e)
			} else {
				t.Logf("page %s", e)
			}
		}
	})
	return b, s
}

// signIn signs in through the console's local sign-in form as sub with exactly groups (the
// form's checkboxes are set to them), and waits until the console has left the sign-in page.
func (b *tab) signIn(s *consoleStack, sub string, groups ...string) {
	b.t.Helper()
	b.navigate(s.h.URL + "/console/#/sign-in")
	b.waitText("h1", "Sign in")
	b.waitText("form h2", "Local sign-in — development only")
	b.fill(field("form", "User id"), sub)
	b.fill(field("form", "E-mail"), sub+"@example.com")
	for _, g := range allGroups {
		box := field("form", g)
		var checked bool
		b.eval(fmt.Sprintf(`(() => { const e = %s; return !!e && e.checked; })()`, box), &checked)
		if checked != slices.Contains(groups, g) {
			b.click(box)
		}
	}
	b.click(button("form", "Sign in"))
	b.poll("the console to leave the sign-in page", `location.hash !== '#/sign-in' && location.hash !== '' && !!document.querySelector('nav#primary-nav')`)
	b.waitIdle()
}

// open goes to a console page by its hash route (as a bookmark or the address bar would) and
// waits for its <h1> and for its data to load.
func (b *tab) open(s *consoleStack, page, title string) {
	b.t.Helper()
	b.eval(fmt.Sprintf(`location.hash = %s`, jsString("#/"+page)), nil)
	b.waitText("main h1", title)
	b.waitIdle()
}

// navLinks are the console pages the nav offers (their hash routes, "#/<name>").
func (b *tab) navLinks() []string {
	b.t.Helper()
	var hrefs []string
	b.eval(`[...document.querySelectorAll('nav#primary-nav a')].map(a => a.getAttribute('href'))`, &hrefs)
	return hrefs
}

// api calls the shared system's API with a token minted for sub and groups, decoding a JSON
// answer into out; it fails the test unless the status is want.
func (s *consoleStack) api(t *testing.T, method, path, sub string, groups []string, body any, want int, out any) []byte {
	t.Helper()
	tok := s.h.Token(t, sub, sub+"@example.com", groups...)
	return s.h.Call(t, method, path, tok, body, want, out)
}

// apiDoc is api for a GET whose answer is decoded generically, numbers kept exact (UseNumber).
func (s *consoleStack) apiDoc(t *testing.T, path, sub string, groups ...string) map[string]any {
	t.Helper()
	raw := s.api(t, http.MethodGet, path, sub, groups, nil, http.StatusOK, nil)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return doc
}

// apiError is the error body's message of an answer in the API's error shape.
func apiError(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Message == "" {
		t.Fatalf("not an API error: %s", body)
	}
	return e.Error.Message
}

// inRow is a JSPath selector for the button labelled label in the first visible row containing
// text.
func inRow(text, label string) chromedp.JSPath {
	return chromedp.JSPath(fmt.Sprintf(`(() => {
		const r = [...document.querySelectorAll('main tr')].find(r => r.innerText.includes(%s) && %s(r));
		if (!r) return null;
		return [...r.querySelectorAll('button, a')].find(e => (e.innerText || '').replace(/\s+/g, ' ').trim() === %s && !e.disabled) || null;
	})()`, jsString(text), jsVisible, jsString(label)))
}

// dialogButton is a JSPath selector for the button labelled label in the open <dialog>.
func dialogButton(label string) chromedp.JSPath {
	return chromedp.JSPath(fmt.Sprintf(`(() => {
		const d = document.querySelector('dialog[open]');
		if (!d) return null;
		return [...d.querySelectorAll('button')].find(e => (e.innerText || '').replace(/\s+/g, ' ').trim() === %s) || null;
	})()`, jsString(label)))
}
