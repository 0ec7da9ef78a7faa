//go:build integration

package billing

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// stripeRecorder sits between stripe-go and stripe-mock and records every request.
type stripeRecorder struct {
	mu   sync.Mutex
	reqs []recordedReq
}

type recordedReq struct {
	Method, Path, IdempotencyKey string
	Form                         url.Values
}

func (s *stripeRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	form, _ := url.ParseQuery(string(body))
	s.mu.Lock()
	s.reqs = append(s.reqs, recordedReq{r.Method, r.URL.Path, r.Header.Get("Idempotency-Key"), form})
	s.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// posts returns the recorded POSTs whose path starts with prefix.
func (s *stripeRecorder) posts(prefix string) []recordedReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []recordedReq
	for _, r := range s.reqs {
		if r.Method == http.MethodPost && strings.HasPrefix(r.Path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

func (s *stripeRecorder) all() []recordedReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recordedReq(nil), s.reqs...)
}

type testEnv struct {
	*localtest.Env
	d      *Deps
	stripe *stripeRecorder
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	env := localtest.New(t)
	rec := &stripeRecorder{}
	cfg := &stripe.BackendConfig{HTTPClient: &http.Client{Transport: rec, Timeout: 20 * time.Second},
		URL: stripe.String(os.Getenv(manifest.EnvStripeAPIBase)), MaxNetworkRetries: stripe.Int64(0),
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelError}}
	sc := stripeapi.New(localtest.StripeKey, "", 10*time.Second)
	sc.Set(client.New(localtest.StripeKey, &stripe.Backends{
		API: stripe.GetBackendWithConfig(stripe.APIBackend, cfg), Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, cfg),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, cfg),
	}))
	d := &Deps{Config: env.Runtime.Config, Clock: env.Runtime.Clock, Store: env.Store(), Stripe: sc}
	return &testEnv{Env: env, d: d, stripe: rec}
}

// WithFakeClock gives the environment and billing's Deps one settable clock.
func (e *testEnv) WithFakeClock() *clock.Fake {
	f := e.Env.WithFakeClock()
	e.d.Clock = f
	return f
}

var reqSeq struct {
	sync.Mutex
	n int
}

func nextReqID() string {
	reqSeq.Lock()
	defer reqSeq.Unlock()
	reqSeq.n++
	return "req-" + time.Now().Format("150405.000000") + "-" + string(rune('a'+reqSeq.n%26)) + strings.Repeat("x", reqSeq.n%7)
}

type callOpts struct {
	admin   bool
	path    map[string]string
	headers map[string]string
}

// call invokes an HTTP handler as API Gateway would for userID and decodes the JSON answer.
func call(t *testing.T, h httpapi.Lambda, userID, body string, o callOpts) (int, map[string]any) {
	t.Helper()
	claims := map[string]string{"sub": userID, "email": userID + "@example.com"}
	if o.admin {
		claims["cognito:groups"] = "[admin]"
	}
	ev := events.APIGatewayV2HTTPRequest{Body: body, PathParameters: o.path, Headers: o.headers,
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

// stripeSub builds the Stripe subscription object of a built event.
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

// seed stores a Stripe subscription state for a user as the webhook would.
func seed(t *testing.T, d *Deps, typ string, o stripeevents.Options) store.Subscription {
	t.Helper()
	if o.Created.IsZero() {
		o.Created = d.Clock.Now().Add(-time.Hour)
	}
	res, err := SyncFromStripe(context.Background(), d, o.UserID, stripeSub(t, typ, o),
		Stamp{Created: o.Created.Unix(), ID: "evt_seed_" + typ + o.Created.String()}, audit.ActorStripe, "seed")
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return res.Stored
}

func mustSub(t *testing.T, d *Deps, userID string) store.Subscription {
	t.Helper()
	s, err := d.Store.GetSubscription(context.Background(), userID)
	if err != nil {
		t.Fatalf("read subscription of %s: %v", userID, err)
	}
	return s
}

func rawItem(t *testing.T, d *Deps, k store.Key) map[string]types.AttributeValue {
	t.Helper()
	res, err := d.Store.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &d.Store.Table, Key: k.Item(),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return res.Item
}

func gauges(t *testing.T, d *Deps) map[string]int64 {
	t.Helper()
	return counters(rawItem(t, d, store.MetricsCurrentKey()))
}

// auditCount counts the audit records of a day with an action.
func auditCount(t *testing.T, d *Deps, day time.Time, action string) int {
	t.Helper()
	return localtest.AuditCount(t, d.Store, day, action)
}
