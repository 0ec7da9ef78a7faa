package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/liberation/monetization/infra/local/authlocal"
	"github.com/liberation/monetization/infra/local/gateway"
	"github.com/liberation/monetization/infra/local/iamcheck"
	"github.com/liberation/monetization/infra/local/invoke"
	"github.com/liberation/monetization/infra/local/poller"
	"github.com/liberation/monetization/infra/local/resources"
	"github.com/liberation/monetization/infra/local/scheduler"
	"github.com/liberation/monetization/infra/local/services"
	"github.com/liberation/monetization/infra/local/stripestate"
	m "github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
)

// Defaults for `make dev`. A variable already set in the environment always wins.
const (
	defaultPort          = "3000"
	defaultWebhookSecret = "whsec_local_dev_secret"
	devPrefix            = "liberation-dev"
	// defaultStripeStatePort is the Stripe stand-in's (docs/decisions/0082), next to stripe-mock's 12111.
	defaultStripeStatePort = "12113"
)

// The Stripe stand-in's settings: STRIPE_STATE_PORT moves it; dev records its URL in dev.env as
// STRIPE_STATE_URL, where trigger and seed find it.
const (
	envStripeStatePort = "STRIPE_STATE_PORT"
	envStripeStateURL  = "STRIPE_STATE_URL"
)

// devDefaults are dev's settings for the services on p, with the functions' Stripe calls going to
// the stand-in at stripeState (which passes what it does not keep on to stripe-mock).
func devDefaults(p services.Ports, stripeState string) map[string]string {
	d := map[string]string{
		m.EnvStripeKey:       "sk_test_local", // stripe-mock accepts any key
		m.EnvStripeAPIBase:   stripeState,     // not p.Env()'s stripe-mock: the stand-in remembers
		m.EnvWebhookSecret:   defaultWebhookSecret,
		m.EnvPricePro:        "price_pro_monthly",
		m.EnvPriceEnterprise: "price_enterprise_monthly",
		m.EnvCursorSecret:    "local-dev-cursor-secret",
		m.EnvMailFrom:        "receipts@liberation.local",
		"PORT":               defaultPort,
	}
	for k, v := range p.Env() { // AWS_ENDPOINT_URL=moto, STRIPE_API_BASE=stripe-mock, SMTP_ADDR, …
		if _, set := d[k]; !set {
			d[k] = v
		}
	}
	return d
}

// sdkEnv are the variables the AWS SDK reads from the process environment itself (it has no
// getenv hook), so dev exports its values of them.
var sdkEnv = []string{"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}

// layered reads each variable from the first source that has it set.
func layered(sources ...func(string) string) func(string) string {
	return func(k string) string {
		for _, get := range sources {
			if v := get(k); v != "" {
				return v
			}
		}
		return ""
	}
}

func fromMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func (c *cli) runDev(ctx context.Context, args []string) error {
	fs := c.flags("dev")
	if err := parse(fs, args); err != nil {
		return err
	}
	root, err := projectRoot()
	if err != nil {
		return err
	}
	state := c.stateDir(root)
	ports := services.DevPorts.FromEnv(c.getenv)
	statePort := or(c.getenv(envStripeStatePort), defaultStripeStatePort)
	stateAddr := "127.0.0.1:" + statePort
	stateURL := "http://" + stateAddr
	getenv := layered(c.getenv, fromMap(devDefaults(ports, stateURL)), c.devLicenseKey(state)) // a variable already set wins
	for _, k := range sdkEnv {
		if v := getenv(k); v != "" && os.Getenv(k) != v {
			os.Setenv(k, v)
		}
	}
	port := getenv("PORT")
	addr := "127.0.0.1:" + port
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("gateway port %s is busy (another `make dev`?); set PORT: %w", port, err)
	}
	defer ln.Close()
	stateLn, err := net.Listen("tcp", stateAddr)
	if err != nil {
		return fmt.Errorf("the Stripe stand-in's port %s is busy (another `make dev`?); set %s: %w", statePort, envStripeStatePort, err)
	}
	defer stateLn.Close()
	api := "http://" + addr

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fmt.Fprintln(c.stderr, "starting moto, stripe-mock and mailpit…")
	logDir := filepath.Join(state, "logs")
	stack, err := services.Start(ctx, root, logDir, ports)
	if err != nil {
		return err
	}
	defer stack.Stop()

	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	set, err := resources.Create(ctx, resources.NewClients(awsCfg), devPrefix, getenv(m.EnvMailFrom))
	if err != nil {
		return fmt.Errorf("create resources in moto: %w", err)
	}
	getenv = layered(fromMap(set.Env()), getenv) // the created resources win
	base, err := platform.New(ctx, m.Function{}, getenv)
	if err != nil {
		return err
	}
	// Each function's calls are checked against its role's policy (docs/decisions/0076); the
	// allowed ones are appended to <state>/iam-uses.jsonl.
	checker := &iamcheck.Checker{Region: base.Config.Region, Getenv: getenv,
		Recorder: iamcheck.RecorderAt(filepath.Join(state, "iam-uses.jsonl"))}
	iamcheck.Install(&base.AWS, checker)
	base.Secrets.Check = checker.SecretCheck // secret reads: ssm:GetParameter on their parameter
	handlers, err := gateway.Handlers(m.Functions, base)
	if err != nil {
		return err
	}
	key, err := authlocal.LoadOrCreateKey(filepath.Join(state, "jwt"))
	if err != nil {
		return err
	}
	auth := authlocal.FromEnv(key, getenv)
	// The operator console from web/console/dist (`make console`), with the local sign-in
	// (docs/decisions/0093).
	console := &gateway.ConsoleConfig{Dir: filepath.Join(root, "web", "console", "dist"), LocalSignIn: true}
	gw, err := gateway.New(gateway.Config{Functions: m.Functions, Handlers: handlers, Authority: auth, Jobs: true,
		CORSOrigins: strings.Split(or(getenv("LOCAL_CORS_ORIGINS"), base.Config.AppURL), ","), Console: console, Log: c.stderr})
	if err != nil {
		return err
	}
	var sources []poller.Source
	var jobFns []*invoke.Function
	for _, fn := range m.Functions {
		h, ok := handlers[fn.Name]
		if !ok {
			continue // not written yet: leave its messages in the queue
		}
		switch fn.Trigger.Kind {
		case m.Queue:
			sources = append(sources, poller.Source{Fn: invoke.New(fn, h), QueueURL: set.QueueURLs[fn.Trigger.Queue]})
		case m.Schedule:
			jobFns = append(jobFns, invoke.New(fn, h))
		}
	}
	jobs, err := scheduler.Jobs(jobFns)
	if err != nil {
		return err
	}
	// The Stripe stand-in (docs/decisions/0082): the functions' STRIPE_API_BASE. It keeps the
	// charges, refunds, disputes, transfers… the stack makes or is told about (trigger and seed
	// post their events to it), answers everything else from stripe-mock, and sends the events
	// Stripe would to the webhook's function URL, signed with the stack's webhook secret.
	stand, err := stripestate.New(stripestate.Config{StripeMock: ports.StripeMockURL(),
		WebhookURL: api + webhookPath(), WebhookSecret: getenv(m.EnvWebhookSecret)})
	if err != nil {
		return err
	}

	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	stateSrv := &http.Server{Handler: standIn(stand), ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	wg.Add(4)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	go func() {
		defer wg.Done()
		if err := stateSrv.Serve(stateLn); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("the Stripe stand-in: %w", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := (&poller.Poller{SQS: sqs.NewFromConfig(awsCfg), Log: c.stderr}).Run(ctx, sources); err != nil {
			errc <- err
		}
	}()
	go func() { defer wg.Done(); scheduler.Run(ctx, jobs, c.stderr) }()

	envFile := devEnvFile(state)
	if err := writeDevEnv(envFile, map[string]string{
		"PORT": port, "API_URL": api, m.EnvWebhookSecret: getenv(m.EnvWebhookSecret),
		authlocal.EnvIssuer: auth.Issuer, authlocal.EnvAudience: auth.Audience,
		"MOTO_URL": ports.MotoURL(), "STRIPE_MOCK_URL": ports.StripeMockURL(), "MAILPIT_URL": ports.MailpitURL(),
		envStripeStateURL: stateURL, m.EnvTable: set.Table, m.EnvBucket: set.Bucket,
	}); err != nil {
		cancel()
		_ = stateSrv.Close()
		stand.Close()
		_ = srv.Close()
		wg.Wait()
		return err
	}
	defer os.Remove(envFile)
	c.banner(api, stateURL, displayPath(root, logDir), console.Dir, ports, jobs)

	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	fmt.Fprintln(c.stderr, "\nstopping…")
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShutdown()
	// The stand-in first: its events already queued still reach the webhook, which is still up.
	_ = stateSrv.Shutdown(shutdownCtx)
	stand.Close()
	_ = srv.Shutdown(shutdownCtx)
	wg.Wait()
	return err
}

// standIn serves the Stripe stand-in, plus GET /_stripestate/deliveries: each event it sent to
// the webhook so far, in order, with the webhook's last answer (the stand-in's own helpers under
// /_stripestate/ are POSTs) — what a developer reads when a refund made locally seems not to
// reach the payment.
func standIn(s *stripestate.Server) http.Handler {
	type delivery struct {
		EventID  string `json:"eventId"`
		Type     string `json:"type"`
		Object   string `json:"object"`
		Status   int    `json:"status"`
		Error    string `json:"error,omitempty"`
		Attempts int    `json:"attempts"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != deliveriesPath {
			s.ServeHTTP(w, r)
			return
		}
		out := []delivery{}
		for _, d := range s.Deliveries() {
			out = append(out, delivery{EventID: d.EventID, Type: d.Type, Object: d.Object, Status: d.Status, Error: d.Err, Attempts: d.Attempts})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"deliveries": out})
	})
}

// deliveriesPath lists the stand-in's webhook deliveries (GET).
const deliveriesPath = "/_stripestate/deliveries"

// displayPath is path relative to root when it is inside it (".local/logs/"), else absolute.
func displayPath(root, path string) string {
	if rel, err := filepath.Rel(root, path); err == nil && !strings.HasPrefix(rel, "..") {
		path = rel
	}
	return path + string(filepath.Separator)
}

func (c *cli) banner(api, stripeState, logs, consoleDir string, p services.Ports, jobs []scheduler.Job) {
	hook := api + webhookPath()
	var b strings.Builder
	line := func(f string, a ...any) { fmt.Fprintf(&b, f+"\n", a...) }
	line("")
	line("Liberation Monetization — local stack is up (Ctrl-C stops everything)")
	line("  API (HTTP API v2):   %s", api)
	console := "(local sign-in)"
	if _, err := os.Stat(filepath.Join(consoleDir, "index.html")); err != nil {
		console = "(local sign-in; not built: run `make console`)"
	}
	line("  console:             %s/console/   %s", api, console)
	line("  Stripe webhook:      %s   (function URL)", hook)
	line("  JWKS:                %s/.well-known/jwks.json", api)
	line("  Mail inbox:          %s", p.MailpitURL())
	line("  moto (AWS):          %s", p.MotoURL())
	line("  Stripe (stand-in):   %s   (STRIPE_API_BASE: keeps charges, refunds, balance; events to the webhook)", stripeState)
	line("  stripe-mock:         %s   (what the stand-in does not keep)", p.StripeMockURL())
	line("  logs of services:    %s", logs)
	for _, j := range jobs {
		line("  schedule:            %s %s, next %s", j.Fn.Name, j.Fn.Trigger.Expression, j.Schedule.Next(time.Now()).Format(time.RFC3339))
	}
	line("")
	line("Try:")
	line("  curl -s %s/tiers", api)
	line("  TOKEN=$(make -s token SUB=user-1 EMAIL=user-1@example.com)")
	line("  curl -s -H \"Authorization: Bearer $TOKEN\" %s/subscription", api)
	line("  ADMIN=$(make -s token SUB=admin-1 GROUPS=admin)")
	line("  curl -s -H \"Authorization: Bearer $ADMIN\" %s/admin/metrics", api)
	line("  make trigger EVENT=checkout.session.completed SUB=user-1 TIER=pro")
	line("  make job NAME=billing-cycle")
	line("  curl -s -u sk_test_local: %s/v1/balance_transactions   (what the stand-in's Stripe balance moved)", stripeState)
	line("")
	fmt.Fprint(c.stderr, b.String())
}
