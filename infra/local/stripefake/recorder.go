package stripefake

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// Request is one request stripe-go sent: method, path, Idempotency-Key and form body.
type Request struct {
	Method, Path, Key string
	Form              url.Values
}

// Recorder is an http.RoundTripper between stripe-go and Stripe's stand-in (stripe-mock, or a Fake)
// that records every request, so tests can assert exactly what we asked of Stripe. FailNext makes
// the next requests fail with a 500 without reaching the stand-in (an answer lost on the way).
type Recorder struct {
	mu       sync.Mutex
	reqs     []Request
	failNext int
}

// RoundTrip records r and passes it on (or fails it, see FailNext).
func (s *Recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	form, _ := url.ParseQuery(string(body))
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{r.Method, r.URL.Path, r.Header.Get("Idempotency-Key"), form})
	fail := s.failNext > 0
	if fail {
		s.failNext--
	}
	s.mu.Unlock()
	if fail {
		return &http.Response{StatusCode: 500, Header: http.Header{"Content-Type": {"application/json"}}, Request: r,
			Body: io.NopCloser(strings.NewReader(`{"error":{"type":"api_error","message":"injected"}}`))}, nil
	}
	return http.DefaultTransport.RoundTrip(r)
}

// FailNext makes the next n requests fail with a 500 (recorded, not passed on).
func (s *Recorder) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// Posts returns the recorded POSTs whose path starts with prefix ("" for all).
func (s *Recorder) Posts(prefix string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.reqs {
		if r.Method == http.MethodPost && strings.HasPrefix(r.Path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// All returns every recorded request.
func (s *Recorder) All() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Client is a stripe-go client on baseURL whose requests go through rt (nil: straight), with no
// network retries, so that each failure reaches the caller.
func Client(key, baseURL string, rt http.RoundTripper) *client.API {
	cfg := &stripe.BackendConfig{URL: stripe.String(baseURL), MaxNetworkRetries: stripe.Int64(0),
		HTTPClient: &http.Client{Transport: rt, Timeout: 20 * time.Second}, LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelError}}
	return client.New(key, &stripe.Backends{API: stripe.GetBackendWithConfig(stripe.APIBackend, cfg),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, cfg), Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, cfg)})
}
