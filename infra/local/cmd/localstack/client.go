package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/liberation/monetization/infra/local/authlocal"
	"github.com/liberation/monetization/infra/local/gateway"
	"github.com/liberation/monetization/infra/local/seed"
	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/manifest"
)

// runToken prints a bearer token the running `make dev` gateway accepts (same persisted key).
func (c *cli) runToken(_ context.Context, args []string) error {
	fs := c.flags("token")
	sub := fs.String("sub", "", "user id (the token's sub) (required)")
	email := fs.String("email", "", "e-mail claim (default <sub>@example.com)")
	groups := fs.String("groups", "", "comma-separated Cognito groups, e.g. admin,instructor")
	ttl := fs.Duration("ttl", time.Hour, "lifetime (Cognito's default is 1h)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *sub == "" {
		return errors.New("-sub is required (make token SUB=user-1)")
	}
	if *email == "" {
		*email = *sub + "@example.com"
	}
	root, err := projectRoot()
	if err != nil {
		return err
	}
	state := c.stateDir(root)
	key, err := authlocal.LoadOrCreateKey(filepath.Join(state, "jwt"))
	if err != nil {
		return err
	}
	var gs []string
	for _, g := range strings.Split(*groups, ",") {
		if g = strings.TrimSpace(g); g != "" {
			gs = append(gs, g)
		}
	}
	tok, err := authlocal.FromEnv(key, c.devGetenv(state)).Mint(*sub, *email, gs, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, tok)
	return nil
}

// runTrigger builds a realistic Stripe event, signs it with the running stack's webhook secret
// and posts it to the webhook, as Stripe would.
func (c *cli) runTrigger(ctx context.Context, args []string) error {
	fs := c.flags("trigger")
	typ := fs.String("event", "", "event type, e.g. "+strings.Join(stripeevents.Types, ", ")+" (required)")
	var o stripeevents.Options
	fs.StringVar(&o.UserID, "user", "", "our user id (metadata.userId) (required)")
	fs.StringVar(&o.Email, "email", "", "customer e-mail (default <user>@example.com)")
	fs.StringVar(&o.Tier, "tier", "", "pro or enterprise (default pro)")
	fs.Int64Var(&o.AmountCents, "amount", 0, "amount in cents (default the tier's price)")
	fs.StringVar(&o.PriceID, "price", "", "Stripe price id (default from -tier)")
	fs.StringVar(&o.Status, "status", "", "subscription or dispute status")
	fs.StringVar(&o.CustomerID, "customer", "", "Stripe customer id (default derived from -user)")
	fs.StringVar(&o.SubscriptionID, "subscription", "", "Stripe subscription id (default derived from -user)")
	fs.StringVar(&o.ChargeID, "charge", "", "Stripe charge id")
	fs.StringVar(&o.InvoiceID, "invoice", "", "Stripe invoice id")
	fs.StringVar(&o.EventID, "id", "", "event id (repeat one to test deduplication)")
	fs.StringVar(&o.Mode, "mode", "", "checkout mode: subscription or payment")
	fs.BoolVar(&o.CancelAtPeriodEnd, "cancel-at-period-end", false, "subscription cancel_at_period_end")
	marketplaceTriggerFlags(fs, &o)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *typ == "" || o.UserID == "" {
		return errors.New("-event and -user are required (make trigger EVENT=invoice.paid SUB=user-1)")
	}
	if !slices.Contains(stripeevents.Types, *typ) {
		return fmt.Errorf("unknown -event %q; supported: %s", *typ, strings.Join(stripeevents.Types, ", "))
	}
	root, err := projectRoot()
	if err != nil {
		return err
	}
	getenv := c.devGetenv(c.stateDir(root))
	payload, err := stripeevents.Build(*typ, o)
	if err != nil {
		return err
	}
	// The stand-in learns the event first, so the charge it pays exists there before the webhook's
	// work (or a refund made right after) asks Stripe about it.
	if err := seed.TellStripeState(ctx, &http.Client{Timeout: 30 * time.Second}, getenv(envStripeStateURL), payload); err != nil {
		return err
	}
	secret := or(getenv(manifest.EnvWebhookSecret), defaultWebhookSecret)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, baseURL(getenv)+webhookPath(), bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Stripe-Signature", stripeevents.SignatureHeader(payload, secret, time.Now()))
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	return c.send(req)
}

// runJob runs a schedule function now on the running stack and prints the report it returned.
func (c *cli) runJob(ctx context.Context, args []string) error {
	fs := c.flags("job")
	name := fs.String("name", "", "schedule function: "+strings.Join(jobNames(), ", ")+" (required)")
	day := fs.String("day", "", "yyyy-mm-dd put in the event's detail as \"day\" (reconcile: the day to reconcile; default yesterday)")
	dryRun := fs.Bool("dry-run", false, "put \"dryRun\": \"true\" in the event's detail (backfill-journal: count, post nothing)")
	restart := fs.Bool("restart", false, "put \"restart\": \"true\" in the event's detail (backfill-journal: walk the table again)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return fmt.Errorf("-name is required; one of: %s", strings.Join(jobNames(), ", "))
	}
	if !slices.Contains(jobNames(), *name) {
		return fmt.Errorf("unknown job %q; the jobs are: %s", *name, strings.Join(jobNames(), ", "))
	}
	root, err := projectRoot()
	if err != nil {
		return err
	}
	var detail io.Reader
	fields := map[string]string{}
	if *day != "" {
		fields["day"] = *day
	}
	if *dryRun {
		fields["dryRun"] = "true"
	}
	if *restart {
		fields["restart"] = "true"
	}
	if len(fields) > 0 {
		b, _ := json.Marshal(fields)
		detail = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, baseURL(c.devGetenv(c.stateDir(root)))+"/_local/jobs/"+*name, detail)
	res, err := (&http.Client{Timeout: 10 * time.Minute}).Do(req)
	if err != nil {
		return fmt.Errorf("%w (is `make dev` running?)", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", *name, seed.AnswerMessage(res.Status, body))
	}
	var jr gateway.JobResult
	if err := json.Unmarshal(body, &jr); err != nil {
		return fmt.Errorf("%s: unexpected answer %s %s", *name, res.Status, body)
	}
	if len(jr.Result) == 0 {
		fmt.Fprintf(c.stdout, "%s ran in %d ms (it returned no report)\n", *name, jr.Ms)
		return nil
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, jr.Result, "", "  "); err != nil {
		pretty.Reset()
		pretty.Write(jr.Result)
	}
	fmt.Fprintf(c.stdout, "%s ran in %d ms; its report:\n%s\n", *name, jr.Ms, pretty.String())
	return nil
}

// jobNames are the manifest's schedule functions.
func jobNames() []string {
	var names []string
	for _, f := range manifest.Of(manifest.Schedule) {
		names = append(names, f.Name)
	}
	return names
}

func baseURL(getenv func(string) string) string {
	return "http://127.0.0.1:" + or(getenv("PORT"), defaultPort)
}

func webhookPath() string {
	for _, f := range manifest.Of(manifest.FunctionURL) {
		return f.Trigger.Path
	}
	return "/webhooks/stripe"
}

// send prints the status and body; a non-2xx answer is an error (non-zero exit).
func (c *cli) send(req *http.Request) error {
	res, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		return fmt.Errorf("%w (is `make dev` running?)", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Fprintln(c.stdout, res.Status)
	c.stdout.Write(bytes.TrimRight(body, "\n"))
	fmt.Fprintln(c.stdout)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s answered %s", req.Method, req.URL.Path, res.Status)
	}
	return nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
