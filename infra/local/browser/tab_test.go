//go:build integration

package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Viewports the console must work at: a laptop and a phone.
const (
	desktopW, desktopH = 1280, 800
	phoneW, phoneH     = 390, 844
)

// waitTimeout bounds every wait of a tab: long enough for a cold page on a busy 2-core machine
// (under make test other packages share the one local DynamoDB, which serves one request at a
// time), short enough that a missing element fails the test rather than the package's timeout.
const waitTimeout = 30 * time.Second

// tab is one browser tab of a test.
type tab struct {
	t     *testing.T
	ctx   context.Context
	width int64

	mu       sync.Mutex
	sent     []sentRequest                // every request the tab made (network events), in order
	inflight map[network.RequestID]string // requests sent and not yet finished or failed
	lastNet  time.Time                    // when a request last started or ended
	errs     []string                     // uncaught exceptions and console errors of the page
}

// newTab opens a tab of the package's browser at the given viewport; it closes when the test
// ends. The tab records every request it makes and every page error.
func newTab(t *testing.T, width, height int64) *tab {
	t.Helper()
	needBrowser(t)
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	b := &tab{t: t, ctx: ctx, width: width, inflight: map[network.RequestID]string{}}
	// WithListener would be needed for the tab's first events; the first Do below opens the tab
	// and nothing loads before Navigate, so Listen right after it sees every request.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			b.sent = append(b.sent, sentRequest{Method: ev.Request.Method, URL: ev.Request.URL, Headers: headerMap(ev.Request.Headers)})
			b.inflight[ev.RequestID] = ev.Request.URL
			b.lastNet = time.Now()
		case *network.EventLoadingFinished:
			delete(b.inflight, ev.RequestID)
			b.lastNet = time.Now()
		case *network.EventLoadingFailed:
			delete(b.inflight, ev.RequestID)
			b.lastNet = time.Now()
		case *runtime.EventExceptionThrown:
			b.errs = append(b.errs, "exception: "+ev.ExceptionDetails.Text+exceptionDesc(ev.ExceptionDetails))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range ev.Args {
					if len(a.Value) > 0 {
						parts = append(parts, string(a.Value))
					} else {
						parts = append(parts, a.Description)
					}
				}
				b.errs = append(b.errs, "console.error: "+strings.Join(parts, " "))
			}
		}
	}); err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	b.do(chromedp.EmulateViewport(width, height))
	return b
}

// exceptionDesc is an exception's description (its message and stack), when the page gave one.
func exceptionDesc(d *runtime.ExceptionDetails) string {
	if d == nil || d.Exception == nil || d.Exception.Description == "" {
		return ""
	}
	return ": " + d.Exception.Description
}

// emulate sets the tab's viewport (CSS pixels, scale 1).
func emulate(width, height int64) chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(width, height)
}

// sentRequest is a request the page made, as the network events report it.
type sentRequest struct {
	Method, URL string
	Headers     map[string]string // names lower-cased
}

// headerMap copies DevTools' request headers with lower-case names.
func headerMap(h network.Headers) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[strings.ToLower(k)] = fmt.Sprint(v)
	}
	return out
}

// Sent returns the requests the tab has made so far whose method is method and whose URL path
// is path.
func (b *tab) Sent(method, path string) []sentRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []sentRequest
	for _, r := range b.sent {
		if r.Method != method {
			continue
		}
		if u, err := url.Parse(r.URL); err == nil && u.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// Requests returns the URLs the tab has requested so far.
func (b *tab) Requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	urls := make([]string, len(b.sent))
	for i, r := range b.sent {
		urls[i] = r.URL
	}
	return urls
}

// waitIdle waits until the page has had no request in flight for quiet (its data has loaded
// and rendered), failing with the pending URLs after waitTimeout.
func (b *tab) waitIdle() {
	b.t.Helper()
	const quiet = 400 * time.Millisecond
	deadline := time.Now().Add(waitTimeout)
	for {
		b.mu.Lock()
		n, last := len(b.inflight), b.lastNet
		var pending []string
		for _, u := range b.inflight {
			pending = append(pending, u)
		}
		b.mu.Unlock()
		if n == 0 && time.Since(last) >= quiet {
			// Two animation frames: what the last answer rendered is painted.
			b.eval(`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`, nil)
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the page still has requests in flight after %s: %v%s", waitTimeout, pending, b.pageState())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// do runs actions, failing the test on the first error (or after waitTimeout).
func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v%s", err, b.pageState())
	}
}

// navigate loads url and waits for the document's load event.
func (b *tab) navigate(url string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url))
}

// eval evaluates a JavaScript expression (awaiting a promise) and decodes its JSON value into out.
func (b *tab) eval(js string, out any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %.80q: %v%s", js, err, b.pageState())
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatalf("evaluate %.80q: decode %s: %v", js, raw, err)
		}
	}
}

// poll waits until the JavaScript expression is truthy and returns its value as JSON.
// what names the wait in the failure message.
func (b *tab) poll(what, js string) []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout+5*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Poll[[]byte](js,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout)))
	if err != nil {
		if errors.Is(err, chromedp.ErrPollingTimeout) || errors.Is(err, context.DeadlineExceeded) {
			b.t.Fatalf("waited %s for %s%s", waitTimeout, what, b.pageState())
		}
		b.t.Fatalf("wait for %s: %v%s", what, err, b.pageState())
	}
	return raw
}

// waitSelector waits until a visible element matches the CSS selector.
func (b *tab) waitSelector(css string) {
	b.t.Helper()
	b.poll("a visible "+css, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && %s(e); })()`, jsString(css), jsVisible))
}

// waitText waits until a visible element matching the CSS selector contains text (whitespace
// collapsed) and returns that element's text.
func (b *tab) waitText(css, text string) string {
	b.t.Helper()
	raw := b.poll(fmt.Sprintf("%s containing %q", css, text), fmt.Sprintf(`(() => {
		for (const e of document.querySelectorAll(%s)) {
			const s = (e.innerText || e.textContent || '').replace(/\s+/g, ' ').trim();
			if (%s(e) && s.includes(%s)) return s;
		}
		return false;
	})()`, jsString(css), jsVisible, jsString(text)))
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// text returns the visible text of the first element matching css, whitespace collapsed.
func (b *tab) text(css string) string {
	b.t.Helper()
	b.waitSelector(css)
	var s string
	b.eval(fmt.Sprintf(`(document.querySelector(%s).innerText || '').replace(/\s+/g, ' ').trim()`, jsString(css)), &s)
	return s
}

// jsVisible is a JavaScript function: is the element rendered (has a box and is not hidden)?
const jsVisible = `((e) => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
	return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; })`

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// field returns a JSPath selector for the form control labelled label (exact label text,
// whitespace collapsed; a label's `for` or a control nested in it, the first visible one),
// within any element matching the CSS selector within ("" for the whole page).
func field(within, label string) chromedp.JSPath {
	return chromedp.JSPath(fmt.Sprintf(`(() => {
		const scopes = %s ? [...document.querySelectorAll(%s)] : [document];
		for (const l of scopes.flatMap(s => [...s.querySelectorAll('label')])) {
			// The label's own words: its .field-label part when it has one (the console's
			// fields put a hint in the label too), else its text without the control's.
			const part = l.querySelector('.field-label');
			const own = (part ? part.textContent : [...l.childNodes]
				.filter(n => !(n instanceof Element && n.matches('input,select,textarea')))
				.map(n => n.textContent).join(' ')).replace(/\s+/g, ' ').trim();
			if (own !== %s) continue;
			const c = l.control || (l.htmlFor ? document.getElementById(l.htmlFor) : null);
			if (c && %s(l)) return c;
		}
		return null;
	})()`, jsString(within), jsString(within), jsString(label), jsVisible))
}

// button returns a JSPath selector for the visible, enabled button (or link styled as one) whose
// text is exactly label, within any element matching the CSS selector within ("" for the page).
func button(within, label string) chromedp.JSPath {
	return chromedp.JSPath(fmt.Sprintf(`(() => {
		const scopes = %s ? [...document.querySelectorAll(%s)] : [document];
		for (const e of scopes.flatMap(s => [...s.querySelectorAll('button, a, [role=button], input[type=submit]')])) {
			const s = (e.innerText || e.value || e.textContent || '').replace(/\s+/g, ' ').trim();
			if (s === %s && %s(e) && !e.disabled) return e;
		}
		return null;
	})()`, jsString(within), jsString(within), jsString(label), jsVisible))
}

// click clicks the element (a real mouse click at its centre, after scrolling it into view).
func (b *tab) click(sel chromedp.JSPath) {
	b.t.Helper()
	b.do(chromedp.Click(sel))
}

// fill replaces a text control's value by typing into it, as a user would.
func (b *tab) fill(sel chromedp.JSPath, value string) {
	b.t.Helper()
	b.do(chromedp.Click(sel), chromedp.Evaluate[chromedp.Void](`document.activeElement.select && document.activeElement.select()`),
		chromedp.KeyEvent("\b"), chromedp.SendKeys(sel, value))
}

// pageState describes the page for a failure message: its URL, errors and visible text.
func (b *tab) pageState() string {
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	type state struct {
		URL  string `json:"url"`
		Text string `json:"text"`
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`({url: location.href, text: (document.body ? document.body.innerText : '').slice(0, 1500)})`))
	if err != nil {
		return ""
	}
	var s state
	_ = json.Unmarshal(raw, &s)
	b.mu.Lock()
	errs := strings.Join(b.errs, "\n  ")
	b.mu.Unlock()
	out := fmt.Sprintf("\n page %s\n text: %s", s.URL, strings.ReplaceAll(s.Text, "\n", " | "))
	if errs != "" {
		out += "\n errors:\n  " + errs
	}
	return out
}
