package webhook_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/idempotency/idemtest"
	"github.com/liberation/monetization/shared/webhook"
)

const secret = "whsec_frame_test"

// area is a fake area: it records the events its works applied and can be told to fail.
type area struct {
	mu      sync.Mutex
	applied []string
	fail    error
	skip    string // a reason to return no work
}

func (a *area) hook(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
	var obj stripe.Invoice
	if err := webhook.Decode(ev, &obj); err != nil {
		return nil, "", err
	}
	if a.skip != "" {
		return nil, a.skip, nil
	}
	return func(context.Context) error {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.fail != nil {
			return a.fail
		}
		a.applied = append(a.applied, ev.ID)
		return nil
	}, "", nil
}

func (a *area) got() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.applied...)
}

type frame struct {
	h      webhook.Handler
	dedupe *idemtest.Store
}

func newFrame(t *testing.T, register func(r *webhook.Router)) *frame {
	t.Helper()
	var r webhook.Router
	register(&r)
	f := &frame{dedupe: idemtest.New(nil)}
	f.h = webhook.New(webhook.Config{Dedupe: f.dedupe, InFlight: time.Minute,
		Secret: func(context.Context) (string, error) { return secret, nil },
		Log:    slog.New(slog.NewJSONHandler(io.Discard, nil))}, &r)
	return f
}

func (f *frame) deliver(t *testing.T, payload []byte, sig string, b64 bool) (int, string) {
	t.Helper()
	body := string(payload)
	if b64 {
		body = base64.StdEncoding.EncodeToString(payload)
	}
	headers := map[string]string{"content-type": "application/json"}
	if sig != "" {
		headers["stripe-signature"] = sig
	}
	resp, err := f.h(context.Background(), events.LambdaFunctionURLRequest{Body: body, IsBase64Encoded: b64, Headers: headers,
		RequestContext: events.LambdaFunctionURLRequestContext{RequestID: "r1", HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "POST"}}})
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Outcome string `json:"outcome"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	return resp.StatusCode, out.Outcome
}

func signed(payload []byte) string { return stripeevents.SignatureHeader(payload, secret, time.Now()) }

func event(typ, id string) []byte {
	return stripeevents.MustBuild(typ, stripeevents.Options{EventID: id, UserID: "u1"})
}

func TestSignatureAndVersionAreCheckedBeforeAnything(t *testing.T) {
	a := &area{}
	f := newFrame(t, func(r *webhook.Router) { r.On(stripe.EventTypeInvoicePaid, a.hook) })
	payload := event(stripeevents.InvoicePaid, "evt_sig")
	oldVersion := []byte(strings.Replace(string(payload), stripe.APIVersion, "2020-08-27", 1))
	for _, tc := range []struct {
		name, sig, want string
		payload         []byte
	}{
		{"ErrWrongSecret", stripeevents.SignatureHeader(payload, "whsec_attacker", time.Now()), "invalid signature", payload},
		{"ErrTamperedBody", signed(payload), "invalid signature", []byte(strings.Replace(string(payload), "u1", "u-evil", 1))},
		{"ErrStale", stripeevents.SignatureHeader(payload, secret, time.Now().Add(-301*time.Second)), "stale signature", payload},
		{"ErrMissingHeader", "", "missing signature", payload},
		{"ErrGarbageHeader", "t=abc,v1=zz", "invalid signature", payload},
		{"ErrTooLarge", "t=1,v1=00", "bad body", append(append([]byte{}, payload...), make([]byte, webhook.MaxBodyBytes)...)},
		{"ErrAPIVersion", signed(oldVersion), "api version mismatch", oldVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, outcome := f.deliver(t, tc.payload, tc.sig, false)
			if status != 400 || outcome != tc.want {
				t.Fatalf("got %d %q, want 400 %q", status, outcome, tc.want)
			}
			if len(a.got()) != 0 || f.dedupe.Status(webhook.DedupeScope, "evt_sig") != "" {
				t.Fatal("a refused event changed something")
			}
		})
	}
	t.Run("OKBase64", func(t *testing.T) {
		if status, outcome := f.deliver(t, payload, signed(payload), true); status != 200 || outcome != webhook.OutcomeApplied {
			t.Fatalf("%d %q", status, outcome)
		}
		if got := a.got(); len(got) != 1 || got[0] != "evt_sig" {
			t.Fatalf("applied %v", got)
		}
	})
}

// Two areas handle one type: both apply, once, however often Stripe delivers the event.
func TestEveryAreaAppliesOnceAcrossRedeliveries(t *testing.T) {
	billing, payments := &area{}, &area{}
	f := newFrame(t, func(r *webhook.Router) {
		r.On(stripe.EventTypeInvoicePaid, billing.hook)
		r.On(stripe.EventTypeInvoicePaid, payments.hook)
	})
	payload := event(stripeevents.InvoicePaid, "evt_twice")
	var outcomes []string
	for i := 0; i < 3; i++ {
		status, outcome := f.deliver(t, payload, signed(payload), false)
		if status != 200 {
			t.Fatalf("delivery %d: %d", i, status)
		}
		outcomes = append(outcomes, outcome)
	}
	if strings.Join(outcomes, ",") != "applied,duplicate,duplicate" {
		t.Fatalf("outcomes %v", outcomes)
	}
	if len(billing.got()) != 1 || len(payments.got()) != 1 {
		t.Fatalf("billing %v payments %v", billing.got(), payments.got())
	}
	if st := f.dedupe.Status(webhook.DedupeScope, "evt_twice"); st != idempotency.Completed {
		t.Fatalf("dedupe record %q", st)
	}
}

// A failing work answers 500 and releases the claim, so Stripe's redelivery applies the event.
func TestFailureReleasesTheClaimForStripesRetry(t *testing.T) {
	a := &area{fail: apperr.New(apperr.Unavailable, "DynamoDB is down")}
	f := newFrame(t, func(r *webhook.Router) { r.On(stripe.EventTypeInvoicePaid, a.hook) })
	payload := event(stripeevents.InvoicePaid, "evt_retry")
	if status, _ := f.deliver(t, payload, signed(payload), false); status != 500 {
		t.Fatalf("failing work: %d, want 500", status)
	}
	if st := f.dedupe.Status(webhook.DedupeScope, "evt_retry"); st != "" {
		t.Fatalf("claim kept after a failure: %q", st)
	}
	a.fail = nil
	if status, outcome := f.deliver(t, payload, signed(payload), false); status != 200 || outcome != webhook.OutcomeApplied {
		t.Fatalf("redelivery: %d %q", status, outcome)
	}
	if len(a.got()) != 1 {
		t.Fatalf("applied %v", a.got())
	}
}

// An event nobody handles, or that changes nothing, is acknowledged and stores nothing — not even
// its dedupe record; a concurrent delivery of a claimed event is a 409 Stripe retries; a dedupe
// store failure is a 500.
func TestEventsThatChangeNothingStoreNothing(t *testing.T) {
	a := &area{skip: "unknown user"}
	f := newFrame(t, func(r *webhook.Router) { r.On(stripe.EventTypeInvoicePaid, a.hook) })
	unhandled := event(stripeevents.ChargeDisputeCreated, "evt_unhandled")
	if status, outcome := f.deliver(t, unhandled, signed(unhandled), false); status != 200 || outcome != webhook.OutcomeIgnored {
		t.Fatalf("unhandled type: %d %q", status, outcome)
	}
	skipped := event(stripeevents.InvoicePaid, "evt_skip")
	if status, outcome := f.deliver(t, skipped, signed(skipped), false); status != 200 || outcome != "unknown user" {
		t.Fatalf("skipped: %d %q", status, outcome)
	}
	for _, id := range []string{"evt_unhandled", "evt_skip"} {
		if st := f.dedupe.Status(webhook.DedupeScope, id); st != "" {
			t.Fatalf("%s: dedupe record %q stored", id, st)
		}
	}
	a.skip = ""
	busy := event(stripeevents.InvoicePaid, "evt_busy")
	if _, err := f.dedupe.BeginIdempotent(context.Background(), webhook.DedupeScope, "evt_busy",
		idempotency.Hash([]byte("evt_busy")), time.Minute, time.Hour); err != nil {
		t.Fatal(err)
	}
	if status, outcome := f.deliver(t, busy, signed(busy), false); status != 409 || outcome != "in progress" {
		t.Fatalf("claimed elsewhere: %d %q", status, outcome)
	}
	f.dedupe.Fail = errors.New("throttled")
	down := event(stripeevents.InvoicePaid, "evt_down")
	if status, _ := f.deliver(t, down, signed(down), false); status != 500 {
		t.Fatalf("dedupe store down: %d", status)
	}
	if len(a.got()) != 0 {
		t.Fatalf("applied %v", a.got())
	}
}

// An object that does not parse is a 400 (Stripe will not fix it by retrying).
func TestMalformedObjectIs400(t *testing.T) {
	a := &area{}
	f := newFrame(t, func(r *webhook.Router) { r.On(stripe.EventTypeInvoicePaid, a.hook) })
	payload := []byte(`{"id":"evt_bad","object":"event","api_version":"` + stripe.APIVersion + `","type":"invoice.paid","created":1,"data":{"object":{"id":5}}}`)
	if status, outcome := f.deliver(t, payload, signed(payload), false); status != 400 || outcome != "malformed object" {
		t.Fatalf("%d %q", status, outcome)
	}
}

func TestRouterTypes(t *testing.T) {
	var r webhook.Router
	nop := func(context.Context, *stripe.Event) (webhook.Work, string, error) { return nil, "", nil }
	r.On(stripe.EventTypeInvoicePaid, nop)
	r.On(stripe.EventTypeChargeRefunded, nop)
	r.On(stripe.EventTypeInvoicePaid, nop)
	if got := strings.Join(r.Types(), ","); got != "charge.refunded,invoice.paid" {
		t.Fatalf("types %s", got)
	}
}

// The frame accepts a signature by any of the listed secrets (the account and the Connect
// endpoints', or an old and a new one while rolling), and only those.
func TestSeveralSecrets(t *testing.T) {
	a := &area{}
	var r webhook.Router
	r.On(stripe.EventTypeInvoicePaid, a.hook)
	h := webhook.New(webhook.Config{Dedupe: idemtest.New(nil), InFlight: time.Minute,
		Secret: func(context.Context) (string, error) { return "whsec_account, whsec_connect", nil },
		Log:    slog.New(slog.NewJSONHandler(io.Discard, nil))}, &r)
	f := &frame{h: h}
	for i, s := range []string{"whsec_account", "whsec_connect"} {
		p := event(stripeevents.InvoicePaid, fmt.Sprintf("evt_multi_%d", i))
		if status, outcome := f.deliver(t, p, stripeevents.SignatureHeader(p, s, time.Now()), false); status != 200 || outcome != webhook.OutcomeApplied {
			t.Fatalf("signed with %s: %d %q", s, status, outcome)
		}
	}
	p := event(stripeevents.InvoicePaid, "evt_multi_x")
	if status, _ := f.deliver(t, p, stripeevents.SignatureHeader(p, "whsec_other", time.Now()), false); status != 400 {
		t.Fatalf("another secret: %d", status)
	}
	if status, outcome := f.deliver(t, p, stripeevents.SignatureHeader(p, "whsec_connect", time.Now().Add(-time.Hour)), false); status != 400 || outcome != "stale signature" {
		t.Fatalf("stale: %d %q", status, outcome)
	}
}

// stripe-go v76 refuses only a timestamp older than the tolerance; the frame refuses one as far
// ahead, after the signature is verified (a captured future-stamped signature is not replayable).
func TestFutureSignatureIsRefused(t *testing.T) {
	a := &area{}
	f := newFrame(t, func(r *webhook.Router) { r.On(stripe.EventTypeInvoicePaid, a.hook) })
	p := event(stripeevents.InvoicePaid, "evt_future")
	sig := stripeevents.SignatureHeader(p, secret, time.Now().Add(webhook.Tolerance+2*time.Second))
	if status, outcome := f.deliver(t, p, sig, false); status != 400 || outcome != webhook.OutcomeFuture {
		t.Fatalf("signed %v ahead: %d %q", webhook.Tolerance+2*time.Second, status, outcome)
	}
	if len(a.got()) != 0 || f.dedupe.Status(webhook.DedupeScope, "evt_future") != "" {
		t.Fatal("a refused event changed something")
	}
	sig = stripeevents.SignatureHeader(p, secret, time.Now().Add(webhook.Tolerance-5*time.Second))
	if status, outcome := f.deliver(t, p, sig, false); status != 200 || outcome != webhook.OutcomeApplied {
		t.Fatalf("signed within the tolerance ahead (clock skew): %d %q", status, outcome)
	}
}

// Events from connected accounts reach only the hooks registered for Connect, and only for an
// account some area knows; every refusal is logged and counted.
func TestConnectEvents(t *testing.T) {
	platform, connect := &area{}, &area{}
	var lookupErr error
	var r webhook.Router
	r.On(stripe.EventTypeInvoicePaid, platform.hook)
	r.OnConnect(stripe.EventTypeAccountUpdated, func(ctx context.Context, ev *stripe.Event) (webhook.Work, string, error) {
		return func(context.Context) error {
			connect.mu.Lock()
			defer connect.mu.Unlock()
			connect.applied = append(connect.applied, ev.ID)
			return nil
		}, "", nil
	})
	r.ConnectAccounts(func(_ context.Context, acct string, ev *stripe.Event) (bool, error) {
		return acct == "acct_known", lookupErr
	})
	var logs strings.Builder
	var mu sync.Mutex
	f := &frame{dedupe: idemtest.New(nil)}
	f.h = webhook.New(webhook.Config{Dedupe: f.dedupe, InFlight: time.Minute, Function: "stripe-webhook",
		Secret: func(context.Context) (string, error) { return "whsec_account,whsec_connect", nil },
		Log:    slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, nil))}, &r)
	deliver := func(typ, id, acct string) (int, string) {
		t.Helper()
		o := stripeevents.Options{EventID: id, UserID: "u1", ConnectAccount: acct}
		if acct != "" {
			o.AccountID = acct
		}
		p := stripeevents.MustBuild(typ, o)
		return f.deliver(t, p, stripeevents.SignatureHeader(p, "whsec_connect", time.Now()), false)
	}
	refusals := func() int {
		mu.Lock()
		defer mu.Unlock()
		return strings.Count(logs.String(), `"WebhookEventsRefused":1`)
	}

	if status, outcome := deliver(stripeevents.AccountUpdated, "evt_c_unknown", "acct_stranger"); status != 403 || outcome != webhook.OutcomeUnknownAccount {
		t.Fatalf("unknown connected account: %d %q", status, outcome)
	}
	// invoice.paid is handled for the platform, not for Connect: a connected account's invoice must
	// never be taken for one of ours.
	if status, outcome := deliver(stripeevents.InvoicePaid, "evt_c_type", "acct_known"); status != 200 || outcome != webhook.OutcomeConnectType {
		t.Fatalf("unhandled Connect type: %d %q", status, outcome)
	}
	if len(platform.got()) != 0 || len(connect.got()) != 0 {
		t.Fatalf("a refused Connect event applied: platform %v connect %v", platform.got(), connect.got())
	}
	for _, id := range []string{"evt_c_unknown", "evt_c_type"} {
		if st := f.dedupe.Status(webhook.DedupeScope, id); st != "" {
			t.Fatalf("%s: dedupe record %q stored", id, st)
		}
	}
	if n := refusals(); n != 2 {
		t.Fatalf("%d refusals counted, want 2:\n%s", n, logs.String())
	}
	if status, outcome := deliver(stripeevents.AccountUpdated, "evt_c_ok", "acct_known"); status != 200 || outcome != webhook.OutcomeApplied {
		t.Fatalf("known account, handled type: %d %q", status, outcome)
	}
	if got := connect.got(); len(got) != 1 || got[0] != "evt_c_ok" {
		t.Fatalf("connect applied %v", got)
	}
	// The platform's own account.updated (no `account`) is not a Connect event: nobody handles it.
	p := stripeevents.MustBuild(stripeevents.AccountUpdated, stripeevents.Options{EventID: "evt_platform_acct",
		Object: map[string]any{"id": "", "object": "account"}})
	if status, outcome := f.deliver(t, p, signed2(p, "whsec_account"), false); status != 200 || outcome != webhook.OutcomeIgnored {
		t.Fatalf("platform account.updated: %d %q", status, outcome)
	}
	lookupErr = errors.New("throttled")
	if status, _ := deliver(stripeevents.AccountUpdated, "evt_c_err", "acct_known"); status != 500 {
		t.Fatalf("account lookup failing: %d, want 500 (Stripe retries)", status)
	}
	if got := strings.Join(r.ConnectTypes(), ","); got != "account.updated" {
		t.Fatalf("connect types %s", got)
	}
	if got := strings.Join(r.Types(), ","); got != "invoice.paid" {
		t.Fatalf("types %s", got)
	}
}

func signed2(p []byte, s string) string { return stripeevents.SignatureHeader(p, s, time.Now()) }

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
