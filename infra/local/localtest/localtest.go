// Package localtest gives integration tests real local services: moto for AWS, stripe-mock for
// Stripe and mailpit for e-mail. Under `make test` the services are already running and their
// addresses are in the environment; a plain `go test` of one package starts its own on free ports
// (TestMain calls Main). Each test gets its own table, queues and bucket, so tests never share state.
package localtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/liberation/monetization/infra/local/iamcheck"
	"github.com/liberation/monetization/infra/local/resources"
	"github.com/liberation/monetization/infra/local/services"
	"github.com/liberation/monetization/shared/blob/s3blob"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/licensing/licensekey"
	"github.com/liberation/monetization/shared/mail/sesmail"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/queue/sqsqueue"
	"github.com/liberation/monetization/shared/store"
)

// StackEnv is set by `make test` when the services are already running.
const StackEnv = "LIBERATION_LOCAL_STACK"

// Test defaults for Stripe configuration (stripe-mock accepts any key; price ids are ours).
const (
	StripeKey       = "sk_test_localtest"
	WebhookSecret   = "whsec_localtest_secret"
	PricePro        = "price_pro_monthly"
	PriceEnterprise = "price_enterprise_monthly"
	MailFrom        = "receipts@liberation.local"
)

// Main runs a package's tests, starting the local services first unless `make test` already did.
// Use it from TestMain: func TestMain(m *testing.M) { localtest.Main(m) }. m may wrap the
// *testing.M (logscan.Run does, to check the functions' logs after the tests).
func Main(m interface{ Run() int }) {
	if os.Getenv(StackEnv) != "" {
		os.Exit(m.Run())
	}
	ports := services.Ports{Moto: freePort(), StripeMock: freePort(), SMTP: freePort(), MailpitUI: freePort(), SES: freePort()}
	root := ProjectRoot()
	stack, err := services.Start(context.Background(), root, filepath.Join(os.TempDir(), "liberation-localtest-logs"), ports)
	if err != nil {
		fmt.Fprintln(os.Stderr, "localtest: cannot start local services:", err)
		os.Exit(1)
	}
	for k, v := range ports.Env() {
		os.Setenv(k, v)
	}
	os.Setenv(StackEnv, "1")
	code := m.Run()
	stack.Stop()
	os.Exit(code)
}

// ProjectRoot is the repository root (where go.mod is).
func ProjectRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Env is a test's private environment: its resources plus the service addresses.
type Env struct {
	Resources resources.Set
	Vars      map[string]string
	// Runtime is the base runtime: configuration, secrets and clients shared by every function the
	// test builds (registry.Handler(env.Runtime, fn) derives each function's own from it).
	Runtime *platform.Runtime
	Clock   *clock.Fake // nil unless WithFakeClock
	Mailpit *Mailpit
}

// Store is the test's DynamoDB store (the same client the functions use).
func (e *Env) Store() *store.Store { return store.Open(e.Runtime) }

// RuntimeFor returns fn's runtime, with the capabilities its manifest entry declares provided by
// the real local clients (SQS, S3, SMTP).
func (e *Env) RuntimeFor(t testing.TB, fn manifest.Function) *platform.Runtime {
	t.Helper()
	rt := e.Runtime.For(fn)
	var providers []platform.Provider
	if len(fn.Sends) > 0 {
		providers = append(providers, sqsqueue.Provide)
	}
	if len(fn.Bucket) > 0 {
		providers = append(providers, s3blob.Provide)
	}
	if fn.Email {
		providers = append(providers, sesmail.Provide)
	}
	for _, p := range providers {
		if err := p(rt); err != nil {
			t.Fatalf("%s: %v", fn.Name, err)
		}
	}
	return rt
}

// Getenv reads the test's environment (its variables first, then the process's).
func (e *Env) Getenv(name string) string {
	if v, ok := e.Vars[name]; ok {
		return v
	}
	return os.Getenv(name)
}

// New creates fresh resources named after the test and Deps wired to them and to the services.
func New(t testing.TB) *Env {
	t.Helper()
	if os.Getenv(StackEnv) == "" {
		t.Fatalf("local services are not running: run `make test`, or call localtest.Main from TestMain")
	}
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatalf("aws config: %v", err)
	}
	prefix := "t-" + sanitize(t.Name()) + "-" + randHex(4)
	set, err := resources.Create(ctx, resources.NewClients(awsCfg), prefix, MailFrom)
	if err != nil {
		t.Fatalf("create local resources: %v", err)
	}
	vars := map[string]string{
		manifest.EnvStripeKey:       StripeKey,
		manifest.EnvWebhookSecret:   WebhookSecret,
		manifest.EnvPricePro:        PricePro,
		manifest.EnvPriceEnterprise: PriceEnterprise,
		manifest.EnvMailFrom:        MailFrom,
		manifest.EnvCursorSecret:    "localtest-cursor-secret-" + randHex(8),
		manifest.EnvAppURL:          "http://app.liberation.local",
		// The web app's origins used by tests' redirect URLs.
		manifest.EnvAllowedOrigins: "https://a.example,https://app.example.com,http://localhost:5173",
		// A license-signing key of the test's own, and an agents' address of its own (mailpit is
		// shared: tests count e-mails by recipient).
		manifest.EnvLicenseKey:   licenseKey(t),
		manifest.EnvSupportEmail: "agents-" + randHex(4) + "@support.liberation.local",
	}
	for k, v := range set.Env() {
		vars[k] = v
	}
	e := &Env{Resources: set, Vars: vars, Mailpit: &Mailpit{URL: os.Getenv("MAILPIT_URL")}}
	rt, err := platform.New(ctx, manifest.Function{Name: "localtest"}, e.Getenv)
	if err != nil {
		t.Fatalf("platform.New: %v", err)
	}
	// Every function's AWS call made inside its invocation is checked against its role's policy
	// (manifest.Policy) and fails with AccessDenied outside it, as in AWS (docs/decisions/0076).
	// Secret reads too (ssm:GetParameter on the secret's parameter), although they come from
	// the environment here.
	checker := &iamcheck.Checker{Region: rt.Config.Region, Getenv: e.Getenv,
		Recorder: iamcheck.RecorderAt(os.Getenv(iamcheck.EnvUseLog))}
	iamcheck.Install(&rt.AWS, checker)
	rt.Secrets.Check = checker.SecretCheck
	e.Runtime = rt
	return e
}

// WithFakeClock replaces the runtime's and the store's clock with a fake one set to the real time
// now. Call it before building handlers: each function's runtime copies the clock when derived.
func (e *Env) WithFakeClock() *clock.Fake {
	f := clock.NewFake(clock.System{}.Now())
	e.Clock = f
	e.Runtime.Clock = f
	e.Store().Clock = f
	return f
}

func licenseKey(t testing.TB) string {
	t.Helper()
	pem, err := licensekey.GenerateKeyPEM()
	if err != nil {
		t.Fatalf("license signing key: %v", err)
	}
	return pem
}

func sanitize(name string) string {
	name = strings.ToLower(name)
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := b.String()
	if len(s) > 30 {
		s = s[len(s)-30:]
	}
	return strings.Trim(s, "-")
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Store is a fresh table on moto with clk as the store's clock (nil: the environment's): what a
// package's backend_moto_test.go gives its repository cases (decision 0073).
func Store(t testing.TB, clk clock.Clock) *store.Store {
	s := New(t).Store()
	if clk != nil {
		s.Clock = clk
	}
	return s
}
