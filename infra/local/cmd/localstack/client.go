package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/liberation/monetization/infra/local/authlocal"
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
	secret := or(getenv(manifest.EnvWebhookSecret), defaultWebhookSecret)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, baseURL(getenv)+webhookPath(), bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Stripe-Signature", stripeevents.SignatureHeader(payload, secret, time.Now()))
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	return c.send(req)
}

// runJob runs a schedule function now on the running stack.
func (c *cli) runJob(ctx context.Context, args []string) error {
	fs := c.flags("job")
	name := fs.String("name", "", "schedule function, e.g. billing-cycle (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" {
		var names []string
		for _, f := range manifest.Of(manifest.Schedule) {
			names = append(names, f.Name)
		}
		return fmt.Errorf("-name is required; one of: %s", strings.Join(names, ", "))
	}
	root, err := projectRoot()
	if err != nil {
		return err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, baseURL(c.devGetenv(c.stateDir(root)))+"/_local/jobs/"+*name, nil)
	return c.send(req)
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
