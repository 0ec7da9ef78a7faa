// Package smoke is a safe end-to-end check of a deployed stack (`make smoke API=<url>`): public
// reads, the JWT authorizer, an authenticated read, a Stripe test-mode Checkout Session created and
// expired, the webhook's signature check, a signed test event it acknowledges without effect and,
// with an admin's token, the queues' dead-letter depth (GET /admin/queues).
// Nothing it does changes money or a user's state: the Checkout Session is never paid (and is
// expired at once), the test event's type is one no area handles (so not even its dedupe record is
// stored), and every other request is a read or a refusal. It runs against `make dev` in CI
// (infra/local/e2e, TestSmokeAgainstLocalStack) and against staging or prod by hand (docs/operations.md).
package smoke

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stripe/stripe-go/v76"
	stripewebhook "github.com/stripe/stripe-go/v76/webhook"

	"github.com/liberation/monetization/shared/stripeapi"
	"github.com/liberation/monetization/shared/webhook"
)

// Config is what a run needs. Only API is required; each optional value enables the checks that
// need it, and a check without what it needs is skipped with the reason.
type Config struct {
	// API is the HTTP API's base URL (stack output ApiUrl; make dev: http://127.0.0.1:3000).
	API string
	// Token is a bearer token of a test user without a subscription (the authenticated read and
	// the checkout); an admin's (group admin) also reads the queues' depth, else that check is skipped.
	Token string
	// WebhookURL is the Stripe webhook (stack output StripeWebhookUrl). Empty: API + /webhooks/stripe
	// when API is a loopback address (the local gateway serves it there), else the webhook checks
	// are skipped.
	WebhookURL string
	// WebhookSecret (whsec_…; the first of a comma-separated list is used) signs the test event.
	WebhookSecret string
	// StripeKey is the stack's Stripe test-mode key (sk_test_/rk_test_), needed to expire the
	// Checkout Session; a live key is never used (the checkout is skipped).
	StripeKey string
	// StripeAPIBase overrides Stripe's API address (stripe-mock locally).
	StripeAPIBase string
	// AppURL is the web app's URL, an allowed origin for Checkout's success and cancel URLs.
	AppURL string
	// HTTP is the client (default: 20 s timeout).
	HTTP *http.Client
}

// Status of one check.
type Status string

// Statuses.
const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
)

// Result is one row of the table.
type Result struct {
	Name   string
	Status Status
	Detail string
	Took   time.Duration
}

// WebhookTestEventType is the type of the signed test event: a real Stripe type that no area
// handles, so the webhook verifies the signature and version, answers 200 `ignored` and stores
// nothing. If an area ever handles it, the check fails and says so: choose another type then.
const WebhookTestEventType = "balance.available"

// Run runs every check in order and returns one result per check.
func Run(ctx context.Context, cfg Config) []Result {
	r := &runner{cfg: cfg, hc: cfg.HTTP}
	if r.hc == nil {
		r.hc = &http.Client{Timeout: 20 * time.Second}
	}
	r.cfg.API = strings.TrimRight(cfg.API, "/")
	if r.cfg.WebhookURL == "" && isLoopback(r.cfg.API) {
		r.cfg.WebhookURL = r.cfg.API + "/webhooks/stripe"
	}
	var out []Result
	for _, c := range r.checks() {
		start := time.Now()
		st, detail := c.run(ctx)
		out = append(out, Result{Name: c.name, Status: st, Detail: detail, Took: time.Since(start)})
	}
	return out
}

// Failed reports whether any check failed.
func Failed(results []Result) bool {
	for _, r := range results {
		if r.Status == Fail {
			return true
		}
	}
	return false
}

// Print writes the pass/fail table and a summary line.
func Print(w io.Writer, api string, results []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "CHECK\tRESULT\tMS\tDETAIL\n")
	n := map[Status]int{}
	for _, r := range results {
		n[r.Status]++
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", r.Name, r.Status, r.Took.Milliseconds(), r.Detail)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nsmoke %s: %d passed, %d failed, %d skipped\n", api, n[Pass], n[Fail], n[Skip])
}

type check struct {
	name string
	run  func(ctx context.Context) (Status, string)
}

type runner struct {
	cfg Config
	hc  *http.Client
}

func (r *runner) checks() []check {
	cs := []check{}
	// Public reads: the routes anyone may call. Each must answer 200 with JSON.
	for _, p := range []struct{ path, field string }{
		{"/tiers", "tiers"}, {"/courses", ""}, {"/rewards", ""}, {"/leaderboards/global", ""}, {"/licenses/public-key", ""},
	} {
		cs = append(cs, check{"public GET " + p.path, func(ctx context.Context) (Status, string) {
			return r.publicRead(ctx, p.path, p.field)
		}})
	}
	return append(cs,
		check{"authorizer refuses no token", r.noToken},
		check{"authenticated GET /subscription", r.authRead},
		check{"checkout session (test mode) created and expired", r.checkout},
		check{"webhook refuses a bad signature", r.webhookForged},
		check{"webhook acknowledges a signed test event", r.webhookSigned},
		check{"queues: dead-letter depth", r.queues},
	)
}

func (r *runner) publicRead(ctx context.Context, path, field string) (Status, string) {
	status, body, err := r.do(ctx, http.MethodGet, r.cfg.API+path, "", nil, nil)
	if err != nil {
		return Fail, err.Error()
	}
	if status != http.StatusOK {
		return Fail, fmt.Sprintf("status %d: %s", status, snippet(body))
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return Fail, "not a JSON object: " + snippet(body)
	}
	if field != "" {
		list, _ := doc[field].([]any)
		if len(list) == 0 {
			return Fail, fmt.Sprintf("no %s in the answer", field)
		}
		return Pass, fmt.Sprintf("200, %d %s", len(list), field)
	}
	return Pass, "200"
}

func (r *runner) noToken(ctx context.Context) (Status, string) {
	status, body, err := r.do(ctx, http.MethodGet, r.cfg.API+"/subscription", "", nil, nil)
	if err != nil {
		return Fail, err.Error()
	}
	if status != http.StatusUnauthorized {
		return Fail, fmt.Sprintf("status %d without a token, want 401: %s", status, snippet(body))
	}
	return Pass, "401"
}

func (r *runner) authRead(ctx context.Context) (Status, string) {
	if r.cfg.Token == "" {
		return Skip, "no TOKEN (a test user's bearer token)"
	}
	status, body, err := r.do(ctx, http.MethodGet, r.cfg.API+"/subscription", r.cfg.Token, nil, nil)
	if err != nil {
		return Fail, err.Error()
	}
	if status != http.StatusOK {
		return Fail, fmt.Sprintf("status %d: %s", status, snippet(body))
	}
	var sub struct {
		Tier string `json:"tier"`
	}
	if err := json.Unmarshal(body, &sub); err != nil || sub.Tier == "" {
		return Fail, "no tier in the answer: " + snippet(body)
	}
	return Pass, "200, tier " + sub.Tier
}

// checkout creates a Checkout Session through the API and expires it with the stack's test key, so
// nobody can ever pay it. It runs only with a test-mode key: with none (or a live one) it is
// skipped, and a session that comes back in live mode is a failure (the stack is not in test mode).
func (r *runner) checkout(ctx context.Context) (Status, string) {
	switch {
	case r.cfg.Token == "":
		return Skip, "no TOKEN"
	case r.cfg.StripeKey == "":
		return Skip, "no STRIPE_KEY: runs only on a stack in Stripe test mode, with its sk_test_ key to expire the session"
	case !stripeapi.IsTestKey(r.cfg.StripeKey):
		return Skip, "STRIPE_KEY is not a test-mode key: smoke never creates live Checkout Sessions"
	case r.cfg.AppURL == "":
		return Skip, "no APP_URL (an allowed origin for the success and cancel URLs)"
	}
	app := strings.TrimRight(r.cfg.AppURL, "/")
	req := map[string]string{"tier": "pro", "successUrl": app + "/smoke/success", "cancelUrl": app + "/smoke/cancel"}
	status, body, err := r.do(ctx, http.MethodPost, r.cfg.API+"/subscription/checkout", r.cfg.Token, req,
		map[string]string{"Idempotency-Key": "smoke-" + randomID()})
	if err != nil {
		return Fail, err.Error()
	}
	if status == http.StatusConflict {
		return Skip, "the TOKEN's user already has a subscription (409): use a test user without one"
	}
	if status != http.StatusCreated {
		return Fail, fmt.Sprintf("create: status %d: %s", status, snippet(body))
	}
	var sess struct {
		SessionID string `json:"sessionId"`
		URL       string `json:"url"`
	}
	if err := json.Unmarshal(body, &sess); err != nil || sess.SessionID == "" {
		return Fail, "create: no sessionId: " + snippet(body)
	}
	if !strings.HasPrefix(sess.SessionID, "cs_test_") {
		return Fail, fmt.Sprintf("session %s is not a test-mode session: the stack is in live mode (it was not expired; "+
			"it lapses by itself after 24 h and nobody was charged)", sess.SessionID)
	}
	api, err := stripeapi.New(r.cfg.StripeKey, r.cfg.StripeAPIBase, 30*time.Second).API(ctx)
	if err != nil {
		return Fail, err.Error()
	}
	p := &stripe.CheckoutSessionExpireParams{}
	stripeapi.Bind(ctx, &p.Params, "")
	exp, err := api.CheckoutSessions.Expire(sess.SessionID, p)
	if err != nil {
		return Fail, fmt.Sprintf("created %s, expire failed: %v", sess.SessionID, err)
	}
	// Stripe itself answers the expired session; stripe-mock (StripeAPIBase set) answers a fixture.
	if r.cfg.StripeAPIBase == "" && exp.Status != stripe.CheckoutSessionStatusExpired {
		return Fail, fmt.Sprintf("created %s, expire answered status %s", sess.SessionID, exp.Status)
	}
	return Pass, fmt.Sprintf("created %s, expired (status %s)", sess.SessionID, exp.Status)
}

func (r *runner) webhookForged(ctx context.Context) (Status, string) {
	if r.cfg.WebhookURL == "" {
		return Skip, "no WEBHOOK_URL (stack output StripeWebhookUrl)"
	}
	payload, _ := testEvent(time.Now())
	// A well-formed header whose HMAC is not the secret's: the webhook must refuse it.
	sig := fmt.Sprintf("t=%d,v1=%s", time.Now().Unix(), strings.Repeat("0", 64))
	status, body, err := r.post(ctx, payload, sig)
	if err != nil {
		return Fail, err.Error()
	}
	if status != http.StatusBadRequest {
		return Fail, fmt.Sprintf("status %d for a forged signature, want 400: %s", status, snippet(body))
	}
	return Pass, "400 " + outcome(body)
}

func (r *runner) webhookSigned(ctx context.Context) (Status, string) {
	switch {
	case r.cfg.WebhookURL == "":
		return Skip, "no WEBHOOK_URL (stack output StripeWebhookUrl)"
	case r.cfg.WebhookSecret == "":
		return Skip, "no WEBHOOK_SECRET (the endpoint's whsec_ signing secret)"
	}
	secret := strings.TrimSpace(strings.Split(r.cfg.WebhookSecret, ",")[0])
	now := time.Now()
	payload, id := testEvent(now)
	signed := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{
		Payload: payload, Secret: secret, Timestamp: now})
	status, body, err := r.post(ctx, payload, signed.Header)
	if err != nil {
		return Fail, err.Error()
	}
	got := outcome(body)
	if status != http.StatusOK || got != webhook.OutcomeIgnored {
		return Fail, fmt.Sprintf("%s %s: status %d outcome %q, want 200 %q (a wrong secret or API version, or an area "+
			"now handles %s: pick another type)", WebhookTestEventType, id, status, got, webhook.OutcomeIgnored, WebhookTestEventType)
	}
	return Pass, fmt.Sprintf("200 %s (%s %s)", got, WebhookTestEventType, id)
}

// QueuesPath is the admin route reporting every queue's and DLQ's depth (shared/ops).
const QueuesPath = "/admin/queues"

// queues reads GET /admin/queues with TOKEN. Only an admin may: with a user's token (403) the check
// is skipped with the reason. It fails when any dead-letter queue holds a message (a message that
// failed every delivery waits for a person: the queue's runbook), naming each such queue; a backlog
// on a main queue is reported, not failed (a burst drains by itself).
func (r *runner) queues(ctx context.Context) (Status, string) {
	if r.cfg.Token == "" {
		return Skip, "no TOKEN (an admin's token reads " + QueuesPath + ")"
	}
	status, body, err := r.do(ctx, http.MethodGet, r.cfg.API+QueuesPath, r.cfg.Token, nil, nil)
	if err != nil {
		return Fail, err.Error()
	}
	if status == http.StatusForbidden {
		return Skip, "TOKEN is not an admin's (" + QueuesPath + " answered 403); the <Queue>DeadLetterQueueAlarm alarms watch the DLQs"
	}
	if status != http.StatusOK {
		return Fail, fmt.Sprintf("status %d: %s", status, snippet(body))
	}
	var rep struct {
		Healthy *bool `json:"healthy"`
		Queues  []struct {
			Name        string `json:"name"`
			Visible     int64  `json:"visible"`
			InFlight    int64  `json:"inFlight"`
			DeadLetters int64  `json:"deadLetters"`
			Healthy     bool   `json:"healthy"`
		} `json:"queues"`
	}
	if err := json.Unmarshal(body, &rep); err != nil || rep.Healthy == nil || len(rep.Queues) == 0 {
		return Fail, "no healthy flag or no queues in the answer: " + snippet(body)
	}
	var dead []string
	var visible, inFlight int64
	for _, q := range rep.Queues {
		visible, inFlight = visible+q.Visible, inFlight+q.InFlight
		if q.DeadLetters > 0 || !q.Healthy {
			dead = append(dead, fmt.Sprintf("%s-dlq: %d", q.Name, q.DeadLetters))
		}
	}
	if len(dead) > 0 {
		return Fail, fmt.Sprintf("dead letters in %s: see the queue's runbook (docs/operations.md, Alarms)", strings.Join(dead, ", "))
	}
	if !*rep.Healthy {
		return Fail, "healthy: false although no queue reports dead letters: " + snippet(body)
	}
	return Pass, fmt.Sprintf("200, %d queues, no dead letters (%d waiting, %d in flight)", len(rep.Queues), visible, inFlight)
}

// testEvent is a Stripe event of WebhookTestEventType in test mode, in the API version the webhook
// accepts, with a fresh id.
func testEvent(now time.Time) ([]byte, string) {
	id := "evt_smoke_" + randomID()
	ev := map[string]any{
		"id": id, "object": "event", "api_version": stripe.APIVersion, "created": now.Unix(),
		"type": WebhookTestEventType, "livemode": false, "pending_webhooks": 1,
		"request": map[string]any{"id": nil, "idempotency_key": nil},
		"data": map[string]any{"object": map[string]any{
			"object": "balance", "livemode": false,
			"available": []any{map[string]any{"amount": 0, "currency": "usd"}},
			"pending":   []any{map[string]any{"amount": 0, "currency": "usd"}},
		}},
	}
	b, _ := json.Marshal(ev)
	return b, id
}

func (r *runner) post(ctx context.Context, payload []byte, sig string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.cfg.WebhookURL, bytes.NewReader(payload))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("content-type", "application/json")
	req.Header.Set("Stripe-Signature", sig)
	return r.send(req)
}

func (r *runner) do(ctx context.Context, method, u, token string, body any, headers map[string]string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("content-type", "application/json")
	}
	if token != "" {
		req.Header.Set("authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return r.send(req)
}

func (r *runner) send(req *http.Request) (int, []byte, error) {
	resp, err := r.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

func outcome(body []byte) string {
	var v struct {
		Outcome string `json:"outcome"`
	}
	_ = json.Unmarshal(body, &v)
	return v.Outcome
}

// snippet is the start of a body for a failure's detail (error bodies are short JSON).
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%d_%s", time.Now().Unix(), hex.EncodeToString(b))
}

func isLoopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
