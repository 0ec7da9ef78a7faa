//go:build integration

// Package e2e runs the system end to end: real handlers from the registry behind the local gateway
// (API Gateway events, JWT authorizer, function URL) and the SQS poller, against moto, stripe-mock
// and mailpit. Harness is importable so other packages' end-to-end tests can use it too.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/liberation/monetization/infra/local/authlocal"
	"github.com/liberation/monetization/infra/local/gateway"
	"github.com/liberation/monetization/infra/local/invoke"
	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/poller"
	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/manifest"
)

// Harness is a running local system for one test.
type Harness struct {
	Env     *localtest.Env
	URL     string // the gateway's base URL
	Auth    *authlocal.Authority
	Gateway *gateway.Gateway
	SQS     *sqs.Client
	// Clock is the functions' settable clock (WithFakeClock), else nil.
	Clock *clock.Fake
	fns   []manifest.Function
}

// Options change what the harness serves.
type Options struct {
	// Functions replaces the manifest's list (nil: manifest.Functions).
	Functions []manifest.Function
	// Handlers overrides or adds handlers by function name; the others come from the registry.
	Handlers map[string]any
	// Setup runs on the test's environment before any handler is built (point Stripe at a
	// fault-injecting proxy, install a fake clock).
	Setup []func(testing.TB, *localtest.Env)
	// FakeClock gives every function one settable clock (Harness.Clock), starting at the real now.
	FakeClock bool
	// Console serves the operator console from <repo>/web/console/dist with local sign-in
	// (WithConsole).
	Console bool
}

// Option sets Options.
type Option func(*Options)

// WithFunctions serves exactly fns.
func WithFunctions(fns ...manifest.Function) Option {
	return func(o *Options) { o.Functions = append([]manifest.Function{}, fns...) }
}

// WithFakeClock serves every function on one settable clock, h.Clock (tokens stay on real time).
func WithFakeClock() Option { return func(o *Options) { o.FakeClock = true } }

// WithConsole serves the operator console at h.URL+"/console/" from <repo>/web/console/dist
// (`make console` builds it; without it every file answers 503) and the local sign-in, POST
// /_local/console/token, as make dev does (docs/decisions/0093).
func WithConsole() Option { return func(o *Options) { o.Console = true } }

// WithHandler adds fn (appended to the served functions unless already there) with handler h.
func WithHandler(fn manifest.Function, h any) Option {
	return func(o *Options) {
		if o.Handlers == nil {
			o.Handlers = map[string]any{}
		}
		o.Handlers[fn.Name] = h
		if o.Functions == nil {
			o.Functions = append([]manifest.Function(nil), manifest.Functions...)
		}
		for i, f := range o.Functions {
			if f.Name == fn.Name {
				o.Functions[i] = fn
				return
			}
		}
		o.Functions = append(o.Functions, fn)
	}
}

// WithSetup runs f on the environment before the handlers are built: functions copy the runtime's
// configuration and clock when they are built.
func WithSetup(f func(t testing.TB, env *localtest.Env)) Option {
	return func(o *Options) { o.Setup = append(o.Setup, f) }
}

// Start creates fresh resources, serves the gateway on a local port and runs the SQS poller for
// every queue function. Everything stops when the test ends.
func Start(t testing.TB, opts ...Option) *Harness {
	t.Helper()
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
	if o.Functions == nil {
		o.Functions = manifest.Functions
	}
	env := localtest.New(t)
	for _, f := range o.Setup {
		f(t, env)
	}
	if o.FakeClock {
		env.WithFakeClock() // before the handlers are built: each function's runtime copies the clock
	}
	var fromRegistry []manifest.Function
	for _, fn := range o.Functions {
		if _, overridden := o.Handlers[fn.Name]; !overridden {
			fromRegistry = append(fromRegistry, fn)
		}
	}
	handlers, err := gateway.Handlers(fromRegistry, env.Runtime)
	if err != nil {
		t.Fatal(err)
	}
	for name, h := range o.Handlers {
		handlers[name] = h
	}
	key, err := authlocal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	auth := authlocal.New(key, authlocal.DefaultIssuer, authlocal.DefaultAudience)
	logw := &testLog{t: t}
	gcfg := gateway.Config{Functions: o.Functions, Handlers: handlers, Authority: auth, Jobs: true, Log: logw}
	if o.Console {
		gcfg.Console = &gateway.ConsoleConfig{Dir: filepath.Join(localtest.ProjectRoot(), "web", "console", "dist"), LocalSignIn: true}
	}
	gw, err := gateway.New(gcfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)

	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sqsc := sqs.NewFromConfig(awsCfg)
	var sources []poller.Source
	for _, fn := range o.Functions {
		if h, ok := handlers[fn.Name]; ok && fn.Trigger.Kind == manifest.Queue {
			sources = append(sources, poller.Source{Fn: invoke.New(fn, h), QueueURL: env.Resources.QueueURLs[fn.Trigger.Queue]})
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := (&poller.Poller{SQS: sqsc, Log: logw}).Run(ctx, sources); err != nil {
			t.Errorf("poller: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait() // the poller stops logging before the test is marked done
		srv.Close()
		logw.close()
	})
	return &Harness{Env: env, URL: srv.URL, Auth: auth, Gateway: gw, SQS: sqsc, Clock: env.Clock, fns: o.Functions}
}

// Token mints a valid bearer token (without the "Bearer " prefix); a failure fails the test.
func (h *Harness) Token(t testing.TB, sub, email string, groups ...string) string {
	t.Helper()
	tok, err := h.Auth.Mint(sub, email, groups, time.Hour)
	if err != nil {
		t.Fatalf("mint a token: %v", err)
	}
	return tok
}

// UnverifiedToken is a token whose e-mail claim the user has not verified (email_verified false).
func (h *Harness) UnverifiedToken(t testing.TB, sub, email string) string {
	t.Helper()
	tok, err := h.Auth.MintEmail(sub, email, false, nil, time.Hour)
	if err != nil {
		t.Fatalf("mint a token: %v", err)
	}
	return tok
}

// Call sends a request and decodes its JSON answer into out (unless nil), failing the test unless
// the status is want; it returns the body. headers, if given, are sent too. The one request helper
// of the end-to-end tests.
func (h *Harness) Call(t testing.TB, method, path, token string, body any, want int, out any, headers ...map[string]string) []byte {
	t.Helper()
	var hdr map[string]string
	if len(headers) > 0 {
		hdr = headers[0]
	}
	status, b, _ := h.doWithHeaders(t, method, path, token, body, hdr)
	if status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return b
}

// Drain waits until a queue holds no message, visible or in flight (every delivery so far has been
// consumed), and fails the test if anything was dead-lettered from it. The one queue wait of the
// end-to-end tests.
func (h *Harness) Drain(t testing.TB, queue string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := h.queueDepth(t, h.Env.Resources.QueueURLs[queue])
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue %s still holds %d messages", queue, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := h.queueDepth(t, h.Env.Resources.DLQURLs[queue]); n != 0 {
		t.Fatalf("%d messages dead-lettered from %s", n, queue)
	}
}

// queueDepth counts a queue's visible and in-flight messages.
func (h *Harness) queueDepth(t testing.TB, url string) int {
	t.Helper()
	out, err := h.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, v := range out.Attributes {
		n, _ := strconv.Atoi(v)
		total += n
	}
	return total
}

// Do sends a request. body may be nil, []byte or string (sent as is, application/json), or any
// other value (marshalled to JSON). token may be empty.
func (h *Harness) Do(t testing.TB, method, path, token string, body any) (int, []byte, http.Header) {
	t.Helper()
	return h.doWithHeaders(t, method, path, token, body, nil)
}

// DoWithHeaders is Do with extra request headers (e.g. Idempotency-Key).
func (h *Harness) DoWithHeaders(t testing.TB, method, path, token string, body any, headers map[string]string) (int, []byte, http.Header) {
	t.Helper()
	return h.doWithHeaders(t, method, path, token, body, headers)
}

func (h *Harness) doWithHeaders(t testing.TB, method, path, token string, body any, headers map[string]string) (int, []byte, http.Header) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, h.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

// PostWebhook signs payload with the environment's webhook secret, as Stripe does, and posts it to
// the webhook's function URL.
func (h *Harness) PostWebhook(t testing.TB, payload []byte) int {
	t.Helper()
	status, _ := h.PostWebhookSigned(t, payload, stripeevents.SignatureHeader(payload, h.Env.Getenv(manifest.EnvWebhookSecret), time.Now()))
	return status
}

// PostWebhookSigned posts payload with the given Stripe-Signature header (tests of bad signatures).
func (h *Harness) PostWebhookSigned(t testing.TB, payload []byte, signature string) (int, []byte) {
	t.Helper()
	var path string
	for _, fn := range h.fns {
		if fn.Trigger.Kind == manifest.FunctionURL {
			path = fn.Trigger.Path
		}
	}
	if path == "" {
		t.Fatal("no function URL is served")
	}
	req, _ := http.NewRequest(http.MethodPost, h.URL+path, bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Stripe-Signature", signature)
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// RunJob runs a schedule function now through the gateway's local jobs endpoint.
func (h *Harness) RunJob(t testing.TB, name string) gateway.JobResult {
	t.Helper()
	status, body, _ := h.Do(t, http.MethodPost, "/_local/jobs/"+name, "", nil)
	var res gateway.JobResult
	if status != http.StatusOK || json.Unmarshal(body, &res) != nil {
		t.Fatalf("job %s failed: %d %s", name, status, body)
	}
	return res
}

// testLog forwards gateway and poller lines to t.Log until the test ends.
type testLog struct {
	mu     sync.Mutex
	t      testing.TB
	closed bool
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (l *testLog) close() { l.mu.Lock(); l.closed = true; l.mu.Unlock() }

var _ io.Writer = (*testLog)(nil)
