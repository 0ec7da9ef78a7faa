package billing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/facts"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/idempotency/idemtest"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/webhook"
)

// The unit tests' world: billing wired to in-memory fakes (fakes_test.go), a fake clock, and the
// real webhook frame in front of billing's hooks. Nothing is started.

const testWebhookSecret = "whsec_billing_unit"

var (
	t0        = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	testRules = Rules{Prices: Prices{Pro: stripeevents.DefaultPricePro, Enterprise: stripeevents.DefaultPriceEnterprise},
		Grace: DefaultPastDueGraceDays * 24 * time.Hour}
	testSettings = Settings{Rules: testRules, AppURL: "https://app.example.com",
		AppOrigins: []string{"https://app.example.com", "http://localhost:5173"}}
)

type world struct {
	repo   *memRepo
	stripe *fakeStripe
	clock  *clock.Fake
	idem   *idemtest.Store
	life   *lifecycle
	hook   webhook.Handler
	logs   *logBuffer
	facts  *factQueue
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{repo: newMemRepo(), stripe: newFakeStripe(), clock: clock.NewFake(t0), logs: &logBuffer{},
		facts: &factQueue{}}
	w.idem = idemtest.New(w.clock)
	w.life = &lifecycle{subs: w.repo, clock: w.clock, rules: testRules}
	var r webhook.Router
	registerHooks(&r, &hooks{life: w.life, users: w.repo, customers: w.repo, others: w.repo, audit: w.repo,
		facts: w.facts})
	w.hook = webhook.New(webhook.Config{Dedupe: w.idem, InFlight: time.Minute,
		Secret: func(context.Context) (string, error) { return testWebhookSecret, nil },
		Log:    slog.New(slog.NewJSONHandler(io.Discard, nil))}, &r)
	return w
}

// deliver signs an event as Stripe does and posts it to the webhook frame; it returns the status
// and the outcome word of the answer.
func (w *world) deliver(t *testing.T, payload []byte) (int, string) {
	t.Helper()
	req := events.LambdaFunctionURLRequest{Body: string(payload),
		Headers: map[string]string{webhook.SignatureHeader: stripeevents.SignatureHeader(payload, testWebhookSecret, time.Now())},
		RequestContext: events.LambdaFunctionURLRequestContext{RequestID: "req-unit",
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "POST"}}}
	resp, err := w.hook(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Outcome string `json:"outcome"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		t.Fatalf("webhook answer is not JSON: %q", resp.Body)
	}
	return resp.StatusCode, out.Outcome
}

// mustDeliver delivers and fails the test unless the webhook answered 200.
func (w *world) mustDeliver(t *testing.T, typ string, o stripeevents.Options) string {
	t.Helper()
	status, outcome := w.deliver(t, stripeevents.MustBuild(typ, o))
	if status != 200 {
		t.Fatalf("%s: status %d (%s)", typ, status, outcome)
	}
	return outcome
}

// cycle is the billing-cycle job over the world's fakes.
func (w *world) cycle() *cycle {
	return &cycle{fn: "billing-cycle", life: w.life, due: w.repo, others: w.repo, stripe: w.stripe,
		metrics: w.repo, records: w.repo, audit: w.repo}
}

// runJob runs the billing-cycle job once, its log lines going to w.logs.
func (w *world) runJob(t *testing.T) CycleReport {
	t.Helper()
	ctx := logging.With(context.Background(), slog.New(slog.NewJSONHandler(w.logs, nil)))
	rep, err := w.cycle().run(ctx)
	if err != nil {
		t.Fatalf("billing cycle: %v", err)
	}
	return rep
}

// factQueue records the facts billing sends; fail makes the next sends fail.
type factQueue struct {
	mu   sync.Mutex
	sent []facts.SubscriptionRenewedFact
	ids  []string
	fail bool
}

func (q *factQueue) Send(_ context.Context, queue, typ, dedupeID string, payload any) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail {
		return errors.New("queue unavailable")
	}
	f, ok := payload.(facts.SubscriptionRenewedFact)
	if queue != manifest.FactsQueue || typ != facts.SubscriptionRenewed || !ok {
		return fmt.Errorf("unexpected message %s %s %T", queue, typ, payload)
	}
	q.sent, q.ids = append(q.sent, f), append(q.ids, dedupeID)
	return nil
}

// logBuffer collects JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the logged lines decoded.
func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

// stripeSub builds the Stripe subscription object of a built event (what Stripe's API answers).
func stripeSub(t *testing.T, typ string, o stripeevents.Options) *stripe.Subscription {
	t.Helper()
	var ev stripe.Event
	if err := json.Unmarshal(stripeevents.MustBuild(typ, o), &ev); err != nil {
		t.Fatal(err)
	}
	var s stripe.Subscription
	if err := json.Unmarshal(ev.Data.Raw, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

var reqSeq struct {
	sync.Mutex
	n int
}

func nextReqID() string {
	reqSeq.Lock()
	defer reqSeq.Unlock()
	reqSeq.n++
	return "req-" + strings.Repeat("x", 3) + "-" + time.Now().Format("150405.000000") + "-" + itoa(int64(reqSeq.n))
}

type callOpts struct {
	admin   bool
	path    map[string]string
	headers map[string]string
	query   map[string]string // query string parameters
}

// call invokes an HTTP handler as API Gateway would for userID and decodes the JSON answer.
func call(t *testing.T, h httpapi.Lambda, userID, body string, o callOpts) (int, map[string]any) {
	t.Helper()
	claims := map[string]string{"sub": userID, "email": userID + "@example.com", "email_verified": "true"}
	if o.admin {
		claims["cognito:groups"] = "[admin]"
	}
	headers := map[string]string{"content-type": "application/json"}
	for k, v := range o.headers {
		headers[k] = v
	}
	ev := events.APIGatewayV2HTTPRequest{Body: body, PathParameters: o.path, Headers: headers, QueryStringParameters: o.query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: nextReqID(),
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}}}
	resp, err := h(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if resp.Body != "" {
		if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
			t.Fatalf("response is not JSON: %q", resp.Body)
		}
	}
	return resp.StatusCode, out
}

func fn(name string) manifest.Function { return manifest.MustByName(name) }

// errMessage is the message of an error body.
func errMessage(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
