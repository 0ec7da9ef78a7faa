package main

import (
	"context"
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
	m "github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
)

// Defaults for `make dev`. A variable already set in the environment always wins.
const (
	defaultPort          = "3000"
	defaultWebhookSecret = "whsec_local_dev_secret"
	devPrefix            = "liberation-dev"
)

func devDefaults(p services.Ports) map[string]string {
	d := map[string]string{
		m.EnvStripeKey:       "sk_test_local", // stripe-mock accepts any key
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
	getenv := layered(c.getenv, fromMap(devDefaults(ports)), c.devLicenseKey(state)) // a variable already set wins
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
	gw, err := gateway.New(gateway.Config{Functions: m.Functions, Handlers: handlers, Authority: auth, Jobs: true,
		CORSOrigins: strings.Split(or(getenv("LOCAL_CORS_ORIGINS"), base.Config.AppURL), ","), Log: c.stderr})
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

	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Add(3)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
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
	api := "http://" + addr
	if err := writeDevEnv(envFile, map[string]string{
		"PORT": port, "API_URL": api, m.EnvWebhookSecret: getenv(m.EnvWebhookSecret),
		authlocal.EnvIssuer: auth.Issuer, authlocal.EnvAudience: auth.Audience,
		"MOTO_URL": ports.MotoURL(), "STRIPE_MOCK_URL": ports.StripeMockURL(), "MAILPIT_URL": ports.MailpitURL(),
		m.EnvTable: set.Table, m.EnvBucket: set.Bucket,
	}); err != nil {
		cancel()
		_ = srv.Close()
		wg.Wait()
		return err
	}
	defer os.Remove(envFile)
	c.banner(api, displayPath(root, logDir), ports, jobs)

	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	fmt.Fprintln(c.stderr, "\nstopping…")
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShutdown()
	_ = srv.Shutdown(shutdownCtx)
	wg.Wait()
	return err
}

// displayPath is path relative to root when it is inside it (".local/logs/"), else absolute.
func displayPath(root, path string) string {
	if rel, err := filepath.Rel(root, path); err == nil && !strings.HasPrefix(rel, "..") {
		path = rel
	}
	return path + string(filepath.Separator)
}

func (c *cli) banner(api, logs string, p services.Ports, jobs []scheduler.Job) {
	hook := api + webhookPath()
	var b strings.Builder
	line := func(f string, a ...any) { fmt.Fprintf(&b, f+"\n", a...) }
	line("")
	line("Liberation Monetization — local stack is up (Ctrl-C stops everything)")
	line("  API (HTTP API v2):   %s", api)
	line("  Stripe webhook:      %s   (function URL)", hook)
	line("  JWKS:                %s/.well-known/jwks.json", api)
	line("  Mail inbox:          %s", p.MailpitURL())
	line("  moto (AWS):          %s", p.MotoURL())
	line("  stripe-mock:         %s", p.StripeMockURL())
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
	line("")
	fmt.Fprint(c.stderr, b.String())
}
