//go:build integration

package apispec_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/registry"
	"github.com/liberation/monetization/shared/webhook"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// localServer is the document's local server: requests are routed against it.
const localServer = "http://127.0.0.1:3000"

// contract invokes the registered handlers with API Gateway v2 events built from events/*.json and
// validates every answer against docs/openapi.yaml.
type contract struct {
	t      *testing.T
	doc    *openapi3.T
	router routers.Router
	env    *localtest.Env
	// ok records the operations that answered a validated 2xx.
	ok map[string]bool
}

func newContract(t *testing.T) *contract {
	doc := loadDoc(t)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	return &contract{t: t, doc: doc, router: router, env: localtest.New(t), ok: map[string]bool{}}
}

// caller is who makes a request: no claims (nil), a user, or an admin.
type caller struct {
	sub, email string
	admin      bool
	groups     string // cognito:groups as API Gateway renders it ("[support]"), for non-admin groups
}

func newCaller(admin bool) *caller {
	id := "u-" + randHex(6)
	return &caller{sub: id, email: id + "@example.com", admin: admin}
}

// req is one API call.
type req struct {
	fn      string
	as      *caller
	path    map[string]string
	query   map[string]string
	body    string
	headers map[string]string
	// invalid: the request itself breaks the document (the test checks the document says so).
	invalid bool
	// probeStatus: the status an idempotency probe gets when not the default (400 with a body, else 422).
	probeStatus int
}

// result is a validated answer.
type result struct {
	status  int
	headers map[string]string
	body    []byte
}

func (r result) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r result) errorCode(t *testing.T) apperr.Code {
	t.Helper()
	var e httpapi.ErrorBody
	r.json(t, &e)
	return e.Error.Code
}

// baseEvent reads events/<fn>.json, the real payload shape of the route.
func baseEvent(t *testing.T, fn string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(localtest.ProjectRoot(), "events", fn+".json"))
	if err != nil {
		t.Fatalf("events/%s.json: %v", fn, err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("events/%s.json: %v", fn, err)
	}
	return ev
}

func (c *contract) handler(name string) httpapi.Lambda {
	c.t.Helper()
	built, err := registry.Handler(c.env.Runtime, manifest.MustByName(name))
	if err != nil {
		c.t.Fatalf("%s: %v", name, err)
	}
	h, ok := built.(httpapi.Lambda)
	if !ok {
		c.t.Fatalf("%s: registry entry does not build an httpapi.Lambda", name)
	}
	return h
}

// consume delivers one message to a queue consumer, as the event source mapping would, and fails the
// test unless it is processed.
func (c *contract) consume(fn, typ, dedupeID string, payload any) {
	c.t.Helper()
	built, err := registry.Handler(c.env.Runtime, manifest.MustByName(fn))
	if err != nil {
		c.t.Fatalf("%s: %v", fn, err)
	}
	consumer, ok := built.(queue.Consumer)
	if !ok {
		c.t.Fatalf("%s: registry entry does not build a queue.Consumer", fn)
	}
	body, err := queue.Envelope(typ, dedupeID, payload)
	if err != nil {
		c.t.Fatal(err)
	}
	resp, err := consumer(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m-" + randHex(4), Body: body}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		c.t.Fatalf("%s: message not processed: %v %+v", fn, err, resp)
	}
}

// call invokes the route's handler with a realistic event and validates request and response.
func (c *contract) call(r req, wantStatus int) result {
	t := c.t
	t.Helper()
	fn := manifest.MustByName(r.fn)
	ev := baseEvent(t, r.fn)
	ev.RequestContext.RequestID = "req-" + randHex(8)
	ev.RequestContext.TimeEpoch = time.Now().UnixMilli()
	// Path and query.
	path := fn.Trigger.Path
	for k, v := range r.path {
		path = strings.ReplaceAll(path, "{"+k+"}", url.PathEscape(v))
	}
	ev.PathParameters = r.path
	ev.RawPath, ev.RequestContext.HTTP.Path = path, path
	ev.QueryStringParameters = r.query
	q := url.Values{}
	for k, v := range r.query {
		q.Set(k, v)
	}
	ev.RawQueryString = q.Encode()
	// Headers: the example's, minus what this request decides.
	delete(ev.Headers, httpapi.IdempotencyHeader)
	delete(ev.Headers, "authorization")
	for k, v := range r.headers {
		ev.Headers[strings.ToLower(k)] = v
	}
	ev.Body, ev.IsBase64Encoded = r.body, false
	if r.body == "" {
		delete(ev.Headers, "content-type")
	} else {
		ev.Headers["content-type"] = "application/json"
	}
	// Claims as the JWT authorizer renders them.
	if r.as == nil {
		ev.RequestContext.Authorizer = nil
	} else {
		claims := map[string]string{"sub": r.as.sub, "email": r.as.email, "email_verified": "true",
			"token_use": "id", "cognito:username": r.as.sub}
		if r.as.admin {
			claims["cognito:groups"] = "[admin]"
		}
		if r.as.groups != "" {
			claims["cognito:groups"] = r.as.groups
		}
		ev.Headers["authorization"] = "Bearer test-token"
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}

	resp, err := c.handler(r.fn)(context.Background(), ev)
	if err != nil {
		t.Fatalf("%s: handler error: %v", r.fn, err)
	}
	res := result{status: resp.StatusCode, headers: resp.Headers, body: []byte(resp.Body)}
	label := r.fn + " " + ev.RawPath
	if res.status != wantStatus {
		t.Fatalf("%s: status %d, want %d; body %s", label, res.status, wantStatus, resp.Body)
	}
	c.validate(label, ev.RequestContext.HTTP.Method, ev.RawPath, ev.RawQueryString, ev.Headers, r.body, r.invalid, res)
	if res.status < 300 {
		c.ok[r.fn] = true
	}
	if res.status >= 400 {
		if code := res.errorCode(t); apperr.Status(code) != res.status {
			t.Fatalf("%s: error code %q does not belong to status %d", label, code, res.status)
		}
	}
	return res
}

// validate finds the route in the document, checks the request against it (a request marked invalid
// must be rejected by the document too) and validates the response: status, content type, headers
// and body.
func (c *contract) validate(label, method, path, rawQuery string, headers map[string]string, body string, invalid bool, res result) {
	t := c.t
	t.Helper()
	u := localServer + path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	hreq, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		hreq.Header.Set(k, v)
	}
	route, params, err := c.router.FindRoute(hreq)
	if err != nil {
		t.Fatalf("%s: no route in docs/openapi.yaml: %v", label, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: hreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case invalid && reqErr == nil:
		t.Errorf("%s: the handler refused this request (%d) but docs/openapi.yaml accepts it: body %s", label, res.status, body)
	case !invalid && reqErr != nil:
		t.Errorf("%s: the request breaks docs/openapi.yaml: %v", label, reqErr)
	}
	// Validate the response against the route (fresh request: the body was consumed above).
	hreq2, _ := http.NewRequest(method, u, strings.NewReader(body))
	for k, v := range headers {
		hreq2.Header.Set(k, v)
	}
	in.Request = hreq2
	rh := http.Header{}
	for k, v := range res.headers {
		rh.Set(k, v)
	}
	if ct := rh.Get("content-type"); ct != "application/json" {
		t.Errorf("%s: content-type %q, want application/json", label, ct)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: res.status, Header: rh,
		Body:    io.NopCloser(bytes.NewReader(res.body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s: %d response breaks docs/openapi.yaml: %v\nbody: %s", label, res.status, err, res.body)
	}
}

// webhookCall signs payload (unless sig is given) and posts it to the webhook as a function URL
// request, validating the answer against POST /webhooks/stripe.
func (c *contract) webhookCall(payload []byte, sig string, wantStatus int, wantOutcome string) {
	t := c.t
	t.Helper()
	built, err := registry.Handler(c.env.Runtime, manifest.MustByName("stripe-webhook"))
	if err != nil {
		t.Fatal(err)
	}
	h, ok := built.(webhook.Handler)
	if !ok {
		t.Fatal("stripe-webhook: registry entry does not build a webhook.Handler")
	}
	if sig == "" {
		sig = stripeevents.SignatureHeader(payload, localtest.WebhookSecret, time.Time{})
	}
	headers := map[string]string{"content-type": "application/json; charset=utf-8", "stripe-signature": sig,
		"user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}
	ev := events.LambdaFunctionURLRequest{Version: "2.0", RawPath: "/", Headers: headers, Body: string(payload)}
	ev.RequestContext.RequestID = "req-" + randHex(8)
	ev.RequestContext.HTTP.Method = http.MethodPost
	resp, err := h(context.Background(), ev)
	if err != nil {
		t.Fatalf("webhook: %v", err)
	}
	var ack struct {
		Received bool   `json:"received"`
		Outcome  string `json:"outcome"`
	}
	_ = json.Unmarshal([]byte(resp.Body), &ack)
	if resp.StatusCode != wantStatus || ack.Outcome != wantOutcome {
		t.Fatalf("webhook: %d %q, want %d %q", resp.StatusCode, ack.Outcome, wantStatus, wantOutcome)
	}
	c.validate("stripe-webhook", http.MethodPost, manifest.MustByName("stripe-webhook").Trigger.Path, "",
		headers, string(payload), false, result{status: resp.StatusCode, headers: resp.Headers, body: []byte(resp.Body)})
	if resp.StatusCode < 300 {
		c.ok["stripe-webhook"] = true
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func jsonBody(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestResponsesMatchDocument drives every route through its real handler against moto and
// stripe-mock, and validates each answer (success and error) against docs/openapi.yaml.
func TestResponsesMatchDocument(t *testing.T) {
	c := newContract(t)
	alice, bob, admin := newCaller(false), newCaller(false), newCaller(true)
	okURLs := map[string]string{"successUrl": "https://app.example.com/ok", "cancelUrl": "http://localhost:5173/no"}

	// Public.
	c.call(req{fn: "list-tiers"}, 200)

	// A user who never subscribed.
	res := c.call(req{fn: "get-subscription", as: alice}, 200)
	var sub struct{ Tier, Status string }
	res.json(t, &sub)
	if sub.Tier != "free" || sub.Status != "none" {
		t.Fatalf("new user: %+v", sub)
	}
	c.call(req{fn: "get-subscription"}, 401)
	c.call(req{fn: "check-feature", as: alice, path: map[string]string{"feature": "certificates"}}, 200)
	c.call(req{fn: "check-feature", as: alice, path: map[string]string{"feature": "teleportation"}}, 404)
	c.call(req{fn: "change-subscription", as: alice, body: `{"tier":"pro"}`}, 422)
	c.call(req{fn: "cancel-subscription", as: alice}, 422)
	c.call(req{fn: "resume-subscription", as: alice}, 422)
	c.call(req{fn: "create-portal-session", as: alice, body: `{"returnUrl":"https://app.example.com/account"}`}, 422)

	// Checkout: invalid bodies are refused by the handler and by the document alike (by a caller of
	// their own: create-checkout is limited per user, decision 0077).
	probe := newCaller(false)
	for _, tc := range []struct {
		body   string
		status int
	}{
		{`{"tier":"pro","successUrl":"https://a.example/ok","cancelUrl":"https://a.example/no","coupon":"X"}`, 400},
		{`{"tier":"gold","successUrl":"https://a.example/ok","cancelUrl":"https://a.example/no"}`, 400},
		{`{"tier":"pro","successUrl":"https://a.example/ok"}`, 400},
		{`{"tier":"pro","successUrl":"ftp://a.example/ok","cancelUrl":"https://a.example/no"}`, 400},
		{`{"tier":"pro",`, 400},
		{`{"tier":"free","successUrl":"https://a.example/ok","cancelUrl":"https://a.example/no"}`, 422},
	} {
		c.call(req{fn: "create-checkout", as: probe, body: tc.body, invalid: true}, tc.status)
	}
	c.call(req{fn: "create-checkout", as: probe, body: `{"tier":"pro","successUrl":"x"}`, invalid: true}, 400)
	big := `{"tier":"pro","successUrl":"https://a.example/` + strings.Repeat("a", httpapi.MaxBodyBytes) + `","cancelUrl":"https://a.example/no"}`
	c.call(req{fn: "create-checkout", as: probe, body: big, invalid: true}, 413)

	// Past the per-user limit: 429 with Retry-After, as documented (RateLimited).
	limit := manifest.MustByName("create-checkout").RateLimit.PerMinute
	flood := newCaller(false)
	for range limit {
		c.call(req{fn: "create-checkout", as: flood, body: `{"tier":"pro","successUrl":"x"}`, invalid: true}, 400)
	}
	if res := c.call(req{fn: "create-checkout", as: flood, body: `{"tier":"pro","successUrl":"x"}`, invalid: true}, 429); res.headers["retry-after"] == "" {
		t.Fatalf("429 without Retry-After: %v", res.headers)
	}

	// Checkout for real (stripe-mock), then its replay.
	key := map[string]string{"Idempotency-Key": "checkout-" + randHex(4)}
	co := map[string]string{"tier": "pro"}
	for k, v := range okURLs {
		co[k] = v
	}
	first := c.call(req{fn: "create-checkout", as: alice, body: jsonBody(co), headers: key}, 201)
	again := c.call(req{fn: "create-checkout", as: alice, body: jsonBody(co), headers: key}, 201)
	if again.headers["idempotent-replayed"] != "true" || string(again.body) != string(first.body) {
		t.Fatalf("checkout replay: headers %v body %s", again.headers, again.body)
	}
	co["tier"] = "enterprise"
	c.call(req{fn: "create-checkout", as: alice, body: jsonBody(co), headers: key}, 422) // same key, other body
	c.call(req{fn: "create-portal-session", as: alice, body: `{"returnUrl":"https://app.example.com/account"}`}, 200)
	c.call(req{fn: "create-portal-session", as: alice, body: `{"returnUrl":"javascript:alert(1)"}`, invalid: true}, 400)

	// Stripe tells us about the subscription and its first invoice.
	opts := stripeevents.Options{UserID: alice.sub, Email: alice.email, Tier: "pro"}
	created := stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, opts)
	c.webhookCall(created, "", 200, "applied")
	c.webhookCall(created, "", 200, "duplicate")
	c.webhookCall(created, stripeevents.SignatureHeader(created, "whsec_not_ours", time.Time{}), 400, "invalid signature")
	c.webhookCall(created, "t=1,v1=deadbeef", 400, "stale signature")
	other := opts
	other.Object = map[string]any{"id": "prod_1", "object": "product"}
	c.webhookCall(stripeevents.MustBuild("product.created", other), "", 200, "ignored")
	c.webhookCall(stripeevents.MustBuild(stripeevents.InvoicePaid, opts), "", 200, "applied")

	res = c.call(req{fn: "get-subscription", as: alice}, 200)
	res.json(t, &sub)
	if sub.Tier != "pro" || sub.Status != "active" {
		t.Fatalf("after subscription.created: %+v", sub)
	}
	c.call(req{fn: "check-feature", as: alice, path: map[string]string{"feature": "certificates"}}, 200)
	c.call(req{fn: "create-checkout", as: alice, body: jsonBody(map[string]string{"tier": "pro",
		"successUrl": okURLs["successUrl"], "cancelUrl": okURLs["cancelUrl"]})}, 409)

	// Payments.
	empty := c.call(req{fn: "list-payments", as: bob}, 200)
	var page struct {
		Payments []struct {
			ID          string `json:"id"`
			AmountCents int64  `json:"amountCents"`
		} `json:"payments"`
		NextCursor string `json:"nextCursor"`
	}
	empty.json(t, &page)
	if len(page.Payments) != 0 || page.NextCursor != "" {
		t.Fatalf("bob's payments: %s", empty.body)
	}
	c.call(req{fn: "list-payments", as: alice, query: map[string]string{"limit": "0"}, invalid: true}, 400)
	c.call(req{fn: "list-payments", as: alice, query: map[string]string{"limit": "101"}, invalid: true}, 400)
	c.call(req{fn: "list-payments", as: alice, query: map[string]string{"cursor": "forged.cursor"}}, 400)
	// A second payment so that a page of one has a next cursor.
	opts2 := opts
	opts2.Created = time.Now().Add(time.Second)
	c.webhookCall(stripeevents.MustBuild(stripeevents.InvoicePaid, opts2), "", 200, "applied")
	res = c.call(req{fn: "list-payments", as: alice, query: map[string]string{"limit": "1"}}, 200)
	res.json(t, &page)
	if len(page.Payments) != 1 || page.NextCursor == "" {
		t.Fatalf("alice's first page: %s", res.body)
	}
	res = c.call(req{fn: "list-payments", as: alice, query: map[string]string{"limit": "1", "cursor": page.NextCursor}}, 200)
	res.json(t, &page)
	if len(page.Payments) != 1 {
		t.Fatalf("alice's second page: %s", res.body)
	}
	c.call(req{fn: "list-payments", as: bob, query: map[string]string{"cursor": page.NextCursor}}, 400)
	pay := page.Payments[0]
	if pay.ID == "" {
		t.Fatal("no payment recorded")
	}
	pid := map[string]string{"paymentId": pay.ID}
	c.call(req{fn: "get-payment", as: alice, path: pid}, 200)
	c.call(req{fn: "get-payment", as: bob, path: pid}, 404) // another user's payment
	c.call(req{fn: "get-payment", as: alice, path: map[string]string{"paymentId": "pay_01JDZ8K3M4N5P6Q7R8S9T0VWXY"}}, 404)
	c.call(req{fn: "get-payment", as: alice, path: map[string]string{"paymentId": "not-a-payment"}, invalid: true}, 400)
	c.call(req{fn: "get-receipt", as: alice, path: pid}, 409) // not rendered yet
	c.call(req{fn: "get-receipt", as: bob, path: pid}, 404)
	c.consume("send-receipts", payments.MsgReceipt, payments.ReceiptDedupeID(pay.ID),
		payments.ReceiptJob{UserID: alice.sub, PaymentID: pay.ID})
	c.call(req{fn: "get-receipt", as: alice, path: pid}, 200)

	// Refunds (admin).
	refund := func(v map[string]any) string { return jsonBody(v) }
	newKey := func() map[string]string { return map[string]string{"Idempotency-Key": "refund-" + randHex(4)} }
	c.call(req{fn: "create-refund", as: alice, headers: newKey(), body: refund(map[string]any{"paymentId": pay.ID, "reason": "duplicate"})}, 403)
	c.call(req{fn: "create-refund", headers: newKey(), body: refund(map[string]any{"paymentId": pay.ID, "reason": "duplicate"})}, 401)
	c.call(req{fn: "create-refund", as: admin, body: refund(map[string]any{"paymentId": pay.ID, "reason": "duplicate"}), invalid: true}, 400) // no key
	c.call(req{fn: "create-refund", as: admin, headers: newKey(), body: refund(map[string]any{"paymentId": pay.ID}), invalid: true}, 400)
	c.call(req{fn: "create-refund", as: admin, headers: newKey(), body: refund(map[string]any{"paymentId": pay.ID, "reason": "duplicate", "amountCents": 0}), invalid: true}, 400)
	c.call(req{fn: "create-refund", as: admin, headers: newKey(), body: refund(map[string]any{"paymentId": "pay_x", "reason": "duplicate"}), invalid: true}, 400)
	c.call(req{fn: "create-refund", as: admin, headers: newKey(), body: refund(map[string]any{"paymentId": pay.ID, "reason": "because"}), invalid: true}, 400)
	c.call(req{fn: "create-refund", as: admin, headers: newKey(), body: refund(map[string]any{"paymentId": "pay_01JDZ8K3M4N5P6Q7R8S9T0VWXY", "reason": "duplicate"})}, 404)
	c.call(req{fn: "create-refund", as: admin, headers: newKey(), body: refund(map[string]any{"paymentId": pay.ID, "reason": "duplicate", "amountCents": pay.AmountCents + 1})}, 422)
	rkey := map[string]string{"Idempotency-Key": "refund-" + randHex(4)}
	c.call(req{fn: "create-refund", as: admin, headers: rkey,
		body: refund(map[string]any{"paymentId": pay.ID, "reason": "requested_by_customer", "amountCents": 100})}, 201)

	// Metrics (admin).
	c.call(req{fn: "get-metrics", as: admin}, 200)
	c.call(req{fn: "get-metrics", as: alice}, 403)
	// The operator console's metrics history and a user's payments (contract_console_test.go).
	consoleContract(t, c, alice, bob)

	// The marketplace's routes (marketplace_contract_test.go).
	marketplaceContract(t, c)

	// The subscription lifecycle against stripe-mock.
	c.call(req{fn: "change-subscription", as: alice, body: `{"tier":"platinum"}`, invalid: true}, 400)
	c.call(req{fn: "change-subscription", as: alice, body: `{"tier":"pro"}`}, 422) // already pro
	c.call(req{fn: "change-subscription", as: alice, body: `{"tier":"enterprise"}`}, 200)
	c.call(req{fn: "cancel-subscription", as: alice}, 200)
	c.call(req{fn: "resume-subscription", as: alice}, 200)

	// Enterprise licensing and support (contract_enterprise_test.go).
	enterpriseCalls(c)
	// Token rewards (contract_rewards_test.go).
	rewardsContract(t, c)
	// The books (contract_books_test.go).
	booksContract(t, c)
	// The audit trail (contract_audit_test.go).
	auditContract(t, c)
	// Personal-data exports (contract_privacy_test.go).
	privacyContract(t, c)
	// The queues' health (contract_ops_test.go).
	opsContract(t, c)

	// Every operation answered at least one validated 2xx.
	var missing []string
	for _, fn := range documented() {
		if !c.ok[fn.Name] {
			missing = append(missing, fn.Name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no validated 2xx for %v", missing)
	}
}

// TestIdempotencyKeyDocumentedWhereHonoured: an operation documents Idempotency-Key exactly when its
// handler replays a repeated request (each is sent twice with the same key; a request the handler
// answers without side effects is enough, since refusals are stored and replayed too).
func TestIdempotencyKeyDocumentedWhereHonoured(t *testing.T) {
	c := newContract(t)
	documentedKey := idempotentOps(c.doc)
	user, admin := newCaller(false), newCaller(true)
	probes := map[string]req{
		"create-checkout":       {as: user, body: `{"tier":"gold","successUrl":"https://a.example/ok","cancelUrl":"https://a.example/no"}`, invalid: true},
		"create-portal-session": {as: user, body: `{"returnUrl":"nope"}`, invalid: true},
		"change-subscription":   {as: user, body: `{"tier":"gold"}`, invalid: true},
		"cancel-subscription":   {as: user},
		"resume-subscription":   {as: user},
		"create-refund":         {as: admin, body: `{"paymentId":"pay_x","reason":"duplicate"}`, invalid: true},
	}
	for name, p := range marketplaceProbes(user, admin) {
		probes[name] = p
	}
	for name, p := range enterpriseProbes(user, admin) {
		probes[name] = p
	}
	for name, p := range rewardsProbes(user, admin) {
		probes[name] = p
	}
	for name, p := range booksProbes(user, admin) {
		probes[name] = p
	}
	for name, p := range privacyProbes(user, admin) {
		probes[name] = p
	}
	for _, fn := range manifest.Of(manifest.HTTP) {
		if fn.Trigger.Method == http.MethodGet {
			if documentedKey[fn.Name] {
				t.Errorf("%s: a GET documents Idempotency-Key", fn.Name)
			}
			continue
		}
		p, ok := probes[fn.Name]
		if !ok {
			t.Errorf("%s: add an idempotency probe for this route", fn.Name)
			continue
		}
		p.fn = fn.Name
		p.headers = map[string]string{"Idempotency-Key": "probe-" + randHex(4)}
		want := http.StatusBadRequest // the probes' bodies are invalid
		if p.body == "" {
			want = http.StatusUnprocessableEntity // nothing to cancel or resume
		}
		if p.probeStatus != 0 {
			want = p.probeStatus
		}
		first := c.call(p, want)
		second := c.call(p, first.status)
		replayed := second.headers["idempotent-replayed"] == "true"
		if replayed != documentedKey[fn.Name] {
			t.Errorf("%s: handler replays = %v, docs/openapi.yaml documents Idempotency-Key = %v",
				fn.Name, replayed, documentedKey[fn.Name])
		}
	}
}
