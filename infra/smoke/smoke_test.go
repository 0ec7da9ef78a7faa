package smoke_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	stripewebhook "github.com/stripe/stripe-go/v76/webhook"

	"github.com/liberation/monetization/infra/smoke"
)

const secret = "whsec_unit"

// fakeStack answers like a deployed stack: public reads, the authorizer, checkout, a webhook that
// verifies signatures with secret. sessionPrefix is the mode of the sessions it creates; tiersStatus
// breaks GET /tiers when not 200.
type fakeStack struct {
	sessionPrefix string
	tiersStatus   int
	// queues is GET /admin/queues's answer to the admin token ("Bearer admin"; others get 403):
	// its status and body ("" : 200, one healthy queue).
	queuesStatus int
	queuesBody   string
	checkouts    atomic.Int32
	expired      atomic.Int32
}

func (f *fakeStack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("content-type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/tiers":
		w.WriteHeader(f.tiersStatus)
		io.WriteString(w, `{"tiers":[{"id":"free"},{"id":"pro"}]}`)
	case r.Method == http.MethodGet && r.URL.Path == "/subscription":
		if r.Header.Get("authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"message":"Unauthorized"}`)
			return
		}
		io.WriteString(w, `{"tier":"free","status":"none"}`)
	case r.Method == http.MethodGet && r.URL.Path == smoke.QueuesPath:
		if r.Header.Get("authorization") != "Bearer admin" {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"message":"Forbidden"}`)
			return
		}
		if f.queuesStatus != 0 {
			w.WriteHeader(f.queuesStatus)
		}
		body := f.queuesBody
		if body == "" {
			body = `{"healthy":true,"queues":[{"name":"receipts","visible":3,"inFlight":1,"deadLetters":0,"healthy":true}]}`
		}
		io.WriteString(w, body)
	case r.Method == http.MethodGet:
		io.WriteString(w, `{"items":[]}`)
	case r.URL.Path == "/subscription/checkout":
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		if r.Header.Get("Idempotency-Key") == "" || !strings.HasPrefix(body["successUrl"], "https://app.example/") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.checkouts.Add(1)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sessionId":"`+f.sessionPrefix+`abc","url":"https://checkout.stripe.com/c/pay/x"}`)
	case r.URL.Path == "/v1/checkout/sessions/cs_test_abc/expire": // the fake Stripe
		if u, _, _ := r.BasicAuth(); u != "sk_test_unit" && r.Header.Get("Authorization") != "Bearer sk_test_unit" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		f.expired.Add(1)
		io.WriteString(w, `{"id":"cs_test_abc","object":"checkout.session","status":"expired"}`)
	case r.URL.Path == "/webhooks/stripe":
		payload, _ := io.ReadAll(r.Body)
		ev, err := stripewebhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), secret)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"received":false,"outcome":"invalid signature"}`)
			return
		}
		if ev.Type != smoke.WebhookTestEventType || ev.Livemode {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		io.WriteString(w, `{"received":true,"outcome":"ignored"}`)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func byName(results []smoke.Result) map[string]smoke.Result {
	out := map[string]smoke.Result{}
	for _, r := range results {
		out[r.Name] = r
	}
	return out
}

const (
	checkoutCheck = "checkout session (test mode) created and expired"
	signedCheck   = "webhook acknowledges a signed test event"
)

// Everything given, on a healthy test-mode stack, with a user's token: every check passes but the
// queue depth (a user may not read it: skipped), the session is created once and expired once with
// the key, and the webhook verified the signature.
func TestAllChecksPass(t *testing.T) {
	f := &fakeStack{sessionPrefix: "cs_test_", tiersStatus: 200}
	srv := httptest.NewServer(f)
	defer srv.Close()
	res := smoke.Run(context.Background(), smoke.Config{API: srv.URL, Token: "tok", WebhookSecret: secret,
		StripeKey: "sk_test_unit", StripeAPIBase: srv.URL, AppURL: "https://app.example"})
	for _, r := range res {
		want := smoke.Pass
		if strings.HasPrefix(r.Name, "queues") {
			want = smoke.Skip
		}
		if r.Status != want {
			t.Errorf("%s: %s (%s), want %s", r.Name, r.Status, r.Detail, want)
		}
	}
	if f.checkouts.Load() != 1 || f.expired.Load() != 1 {
		t.Errorf("checkouts %d, expired %d; want 1 and 1", f.checkouts.Load(), f.expired.Load())
	}
	if smoke.Failed(res) {
		t.Error("Failed() on a passing run")
	}
	var out bytes.Buffer
	smoke.Print(&out, srv.URL, res)
	if !strings.Contains(out.String(), "10 passed, 0 failed, 1 skipped") || !strings.Contains(out.String(), "public GET /tiers") {
		t.Errorf("table:\n%s", out.String())
	}
}

// A broken route fails the run; a live key, no key or no token skip the checkout without creating a
// session; a stack answering a live-mode session fails (and nothing is expired); a wrong secret
// fails the signed event; a non-loopback API without WEBHOOK_URL skips the webhook checks.
func TestFailuresAndSkips(t *testing.T) {
	for name, tc := range map[string]struct {
		f      *fakeStack
		cfg    func(api string) smoke.Config
		check  string
		want   smoke.Status
		detail string
	}{
		"BrokenRoute": {&fakeStack{sessionPrefix: "cs_test_", tiersStatus: 500},
			func(api string) smoke.Config { return smoke.Config{API: api} }, "public GET /tiers", smoke.Fail, "status 500"},
		"LiveKey": {&fakeStack{sessionPrefix: "cs_test_", tiersStatus: 200}, func(api string) smoke.Config {
			return smoke.Config{API: api, Token: "tok", StripeKey: "sk_live_x", AppURL: "https://app.example"}
		}, checkoutCheck, smoke.Skip, "never creates live"},
		"NoKey": {&fakeStack{sessionPrefix: "cs_test_", tiersStatus: 200}, func(api string) smoke.Config {
			return smoke.Config{API: api, Token: "tok", AppURL: "https://app.example"}
		}, checkoutCheck, smoke.Skip, "no STRIPE_KEY"},
		"LiveStack": {&fakeStack{sessionPrefix: "cs_live_", tiersStatus: 200}, func(api string) smoke.Config {
			return smoke.Config{API: api, Token: "tok", StripeKey: "sk_test_unit", StripeAPIBase: api, AppURL: "https://app.example"}
		}, checkoutCheck, smoke.Fail, "live mode"},
		"WrongSecret": {&fakeStack{sessionPrefix: "cs_test_", tiersStatus: 200}, func(api string) smoke.Config {
			return smoke.Config{API: api, WebhookSecret: "whsec_other"}
		}, signedCheck, smoke.Fail, "status 400"},
		"NoWebhookURL": {&fakeStack{sessionPrefix: "cs_test_", tiersStatus: 200}, func(api string) smoke.Config {
			return smoke.Config{API: strings.Replace(api, "127.0.0.1", "ip6-not-loopback.invalid", 1), WebhookSecret: secret}
		}, signedCheck, smoke.Skip, "no WEBHOOK_URL"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(tc.f)
			defer srv.Close()
			res := smoke.Run(context.Background(), tc.cfg(srv.URL))
			r, ok := byName(res)[tc.check]
			if !ok || r.Status != tc.want || !strings.Contains(r.Detail, tc.detail) {
				t.Fatalf("%s: %+v, want %s with %q", tc.check, r, tc.want, tc.detail)
			}
			if smoke.Failed(res) != (tc.want == smoke.Fail) && name != "NoWebhookURL" {
				t.Errorf("Failed() = %v", smoke.Failed(res))
			}
			if tc.check == checkoutCheck && tc.f.expired.Load() != 0 {
				t.Errorf("a session was expired: %d", tc.f.expired.Load())
			}
			if (name == "LiveKey" || name == "NoKey") && tc.f.checkouts.Load() != 0 {
				t.Errorf("a session was created without a test key")
			}
		})
	}
}

// queuesResult runs smoke with token against a stack answering GET /admin/queues with status and
// body, and returns the queue check's result.
func queuesResult(t *testing.T, token string, status int, body string) smoke.Result {
	t.Helper()
	srv := httptest.NewServer(&fakeStack{sessionPrefix: "cs_test_", tiersStatus: 200, queuesStatus: status, queuesBody: body})
	defer srv.Close()
	for _, r := range smoke.Run(context.Background(), smoke.Config{API: srv.URL, Token: token}) {
		if strings.HasPrefix(r.Name, "queues") {
			return r
		}
	}
	t.Fatal("no queues check ran")
	return smoke.Result{}
}

// The queue check passes on empty DLQs with an admin's token (a main queue's backlog is reported,
// not failed), fails naming each queue whose DLQ holds messages, fails on an error or a body without
// the report, and skips without a token or with a user's (403).
func TestQueuesCheck(t *testing.T) {
	r := queuesResult(t, "admin", 0, "")
	if r.Status != smoke.Pass || !strings.Contains(r.Detail, "1 queues") || !strings.Contains(r.Detail, "3 waiting, 1 in flight") {
		t.Errorf("healthy: %s (%s), want PASS with the counts", r.Status, r.Detail)
	}
	unhealthy := `{"healthy":false,"queues":[{"name":"receipts","visible":0,"inFlight":0,"deadLetters":0,"healthy":true},` +
		`{"name":"payouts","visible":0,"inFlight":0,"deadLetters":2,"healthy":false}]}`
	r = queuesResult(t, "admin", 0, unhealthy)
	if r.Status != smoke.Fail || !strings.Contains(r.Detail, "payouts-dlq: 2") || strings.Contains(r.Detail, "receipts") {
		t.Errorf("dead letters in payouts: %s (%s), want FAIL naming payouts-dlq alone", r.Status, r.Detail)
	}
	for name, tc := range map[string]struct {
		status int
		body   string
	}{
		"500":               {500, `{"message":"Internal Server Error"}`},
		"no healthy flag":   {0, `{"queues":[{"name":"receipts","healthy":true}]}`},
		"no queues":         {0, `{"healthy":true,"queues":[]}`},
		"flag says unwell":  {0, `{"healthy":false,"queues":[{"name":"receipts","healthy":true}]}`},
		"not a JSON object": {0, `<html>`},
	} {
		if r := queuesResult(t, "admin", tc.status, tc.body); r.Status != smoke.Fail {
			t.Errorf("%s: %s (%s), want FAIL", name, r.Status, r.Detail)
		}
	}
	if r := queuesResult(t, "tok", 0, ""); r.Status != smoke.Skip || !strings.Contains(r.Detail, "403") {
		t.Errorf("a user's token: %s (%s), want SKIP naming the 403", r.Status, r.Detail)
	}
	if r := queuesResult(t, "", 0, ""); r.Status != smoke.Skip {
		t.Errorf("no token: %s (%s), want SKIP", r.Status, r.Detail)
	}
}
