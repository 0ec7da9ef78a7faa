// Package stripefault is a fault-injecting proxy in front of a Stripe stand-in (stripe-mock), for
// integration and end-to-end tests of what our code does when Stripe's answer is lost or refused:
//
//   - Drop: the request reaches the stand-in, then the connection is closed without an answer — a
//     true ambiguous failure (Stripe did it; we cannot know).
//   - Status: answer a 4xx/5xx instead (AfterForward: after the stand-in processed the request).
//   - Refunds: stripe-mock is stateless (its refunds list is a fixed fixture whatever the charge), so
//     the proxy keeps the refunds made through it — replaying a stored answer for a repeated
//     Idempotency-Key, as Stripe does — and answers GET /v1/refunds?charge=… (or payment_intent=…)
//     from them. Tests add Dashboard refunds and change a refund's status with AddRefund and
//     SetRefundStatus.
//
// Every request is recorded, so tests can assert on exactly what we sent. Hand-written Stripe fakes
// are not used anywhere else: everything the proxy does not answer itself goes to stripe-mock.
package stripefault

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Kind of fault.
type Kind int

const (
	// Drop forwards the request, then closes the connection without answering.
	Drop Kind = iota + 1
	// Status answers Status and Body (without forwarding, unless AfterForward).
	Status
)

// Fault is injected into the next Times requests matching Method and Path (a prefix of the URL path).
type Fault struct {
	Method, Path string
	Kind         Kind
	Status       int
	Body         string // Stripe's error JSON; a generic api_error when empty
	AfterForward bool   // Status only: the stand-in processes the request first
	Times        int    // default 1
}

// Request is one request the proxy received.
type Request struct {
	Method, Path   string
	Form           url.Values // the POST body or the query
	IdempotencyKey string
}

// Proxy is an http.Handler; Start serves it for a test.
type Proxy struct {
	upstream *url.URL
	forward  *httputil.ReverseProxy

	mu       sync.Mutex
	faults   []*Fault
	requests []Request
	refunds  []map[string]any  // every refund made through the proxy or added, oldest first
	replies  map[string][]byte // Idempotency-Key → the stored answer of a refund create
}

// New returns a proxy to upstream (stripe-mock's base URL).
func New(upstream string) (*Proxy, error) {
	u, err := url.Parse(upstream)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("stripefault: upstream %q is not a URL", upstream)
	}
	return &Proxy{upstream: u, forward: httputil.NewSingleHostReverseProxy(u), replies: map[string][]byte{}}, nil
}

// Start serves a proxy to upstream on a local port until the test ends; URL is its base URL.
func Start(t testing.TB, upstream string) (*Proxy, string) {
	t.Helper()
	p, err := New(upstream)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

// Inject adds a fault.
func (p *Proxy) Inject(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	p.mu.Lock()
	p.faults = append(p.faults, &f)
	p.mu.Unlock()
}

// Requests returns the requests received so far matching method and path prefix ("" matches any).
func (p *Proxy) Requests(method, path string) []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Request
	for _, r := range p.requests {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, path) {
			out = append(out, r)
		}
	}
	return out
}

// AddRefund records a refund made outside our code (the Dashboard): it appears in the charge's list.
func (p *Proxy) AddRefund(refund map[string]any) {
	p.mu.Lock()
	p.refunds = append(p.refunds, refund)
	p.mu.Unlock()
}

// SetRefundStatus changes a refund's status (a refund that later fails).
func (p *Proxy) SetRefundStatus(id, status string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.refunds {
		if r["id"] == id {
			r["status"] = status
			return true
		}
	}
	return false
}

// Refunds returns the refunds the proxy holds for a charge, newest first.
func (p *Proxy) Refunds(chargeID string) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.listLocked(url.Values{"charge": {chargeID}})
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	form := r.URL.Query()
	if r.Method == http.MethodPost {
		form, _ = url.ParseQuery(string(body))
	}
	key := r.Header.Get("Idempotency-Key")
	p.mu.Lock()
	p.requests = append(p.requests, Request{Method: r.Method, Path: r.URL.Path, Form: form, IdempotencyKey: key})
	f := p.takeFault(r.Method, r.URL.Path)
	p.mu.Unlock()

	if f != nil && f.Kind == Status && !f.AfterForward {
		writeError(w, f)
		return
	}
	var status int
	var answer []byte
	var header http.Header
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/refunds":
		status, answer, header = p.createRefund(r, form, key)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/refunds" && (form.Get("charge") != "" || form.Get("payment_intent") != ""):
		status, answer, header = p.listRefunds(form)
	default:
		rec := httptest.NewRecorder()
		p.forward.ServeHTTP(rec, r)
		status, answer, header = rec.Code, rec.Body.Bytes(), rec.Header()
	}
	if f != nil {
		if f.Kind == Drop {
			drop(w)
			return
		}
		writeError(w, f)
		return
	}
	for k, vs := range header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(answer)
}

func (p *Proxy) takeFault(method, path string) *Fault {
	for _, f := range p.faults {
		if f.Times > 0 && (f.Method == "" || f.Method == method) && strings.HasPrefix(path, f.Path) {
			f.Times--
			c := *f
			return &c
		}
	}
	return nil
}

// createRefund forwards a refund to the stand-in once per Idempotency-Key (a repeated key gets the
// stored answer, as from Stripe) and keeps it, with what we sent, for the charge's list.
func (p *Proxy) createRefund(r *http.Request, form url.Values, key string) (int, []byte, http.Header) {
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	p.mu.Lock()
	if b, ok := p.replies[key]; ok && key != "" {
		p.mu.Unlock()
		return http.StatusOK, b, jsonHeader
	}
	p.mu.Unlock()
	rec := httptest.NewRecorder()
	p.forward.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		return rec.Code, rec.Body.Bytes(), rec.Header()
	}
	var refund map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &refund); err != nil {
		return http.StatusBadGateway, []byte(`{"error":{"type":"api_error","message":"stand-in answered no JSON"}}`), jsonHeader
	}
	// stripe-mock echoes few parameters; the refund is what we asked for.
	md := map[string]any{}
	for k, vs := range form {
		if strings.HasPrefix(k, "metadata[") && strings.HasSuffix(k, "]") && len(vs) > 0 {
			md[k[len("metadata["):len(k)-1]] = vs[0]
		}
	}
	refund["metadata"] = md
	refund["charge"] = nilIfEmpty(form.Get("charge"))
	refund["payment_intent"] = nilIfEmpty(form.Get("payment_intent"))
	refund["status"] = "succeeded"
	if n, err := strconv.ParseInt(form.Get("amount"), 10, 64); err == nil {
		refund["amount"] = n
	}
	if v := form.Get("reason"); v != "" {
		refund["reason"] = v
	}
	b, _ := json.Marshal(refund)
	p.mu.Lock()
	defer p.mu.Unlock()
	if prior, ok := p.replies[key]; ok && key != "" { // a concurrent request with the key won
		return http.StatusOK, prior, jsonHeader
	}
	p.refunds = append(p.refunds, refund)
	if key != "" {
		p.replies[key] = b
	}
	return http.StatusOK, b, jsonHeader
}

func (p *Proxy) listRefunds(q url.Values) (int, []byte, http.Header) {
	p.mu.Lock()
	data := p.listLocked(q)
	b, _ := json.Marshal(map[string]any{"object": "list", "data": data, "has_more": false, "url": "/v1/refunds"})
	p.mu.Unlock()
	return http.StatusOK, b, http.Header{"Content-Type": {"application/json"}}
}

func (p *Proxy) listLocked(q url.Values) []map[string]any {
	data := []map[string]any{}
	for i := len(p.refunds) - 1; i >= 0; i-- {
		r := p.refunds[i]
		if ch := q.Get("charge"); ch != "" && r["charge"] == ch || ch == "" && r["payment_intent"] == q.Get("payment_intent") {
			data = append(data, r)
		}
	}
	return data
}

func writeError(w http.ResponseWriter, f *Fault) {
	body := f.Body
	if body == "" {
		body = `{"error":{"type":"api_error","message":"injected failure"}}`
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Stripe-Should-Retry", "false") // the test decides what fails, not the client's retries
	w.WriteHeader(f.Status)
	_, _ = io.WriteString(w, body)
}

// drop closes the client's connection without an answer.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // net/http closes the connection without writing a response
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
