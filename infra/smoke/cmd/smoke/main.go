// Command smoke checks a deployed stack end to end without changing anything and prints a pass/fail
// table (package infra/smoke). Settings come from the environment, as `make smoke` passes them:
//
//	make smoke API=<ApiUrl> [TOKEN=<bearer>] [WEBHOOK_URL=<StripeWebhookUrl>] [WEBHOOK_SECRET=whsec_…]
//	           [STRIPE_KEY=sk_test_…] [APP_URL=https://…] [STRIPE_API_BASE=…]
//
// Exit status: 0 when no check failed (skips are listed with their reason), 1 when one failed, 2
// without API (usage). Secrets are read from the environment, never from flags (no `ps` exposure).
package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/liberation/monetization/infra/smoke"
)

const usage = `usage: make smoke API=<url> [TOKEN=…] [WEBHOOK_URL=…] [WEBHOOK_SECRET=…] [STRIPE_KEY=sk_test_…] [APP_URL=…]

  API             the HTTP API's base URL (stack output ApiUrl; make dev: http://127.0.0.1:3000)
  TOKEN           a test user's bearer token (no subscription): authenticated read and checkout;
                  an admin's (group admin) also checks the queues' dead-letter depth (GET /admin/queues)
  WEBHOOK_URL     the Stripe webhook (stack output StripeWebhookUrl; default API/webhooks/stripe on localhost)
  WEBHOOK_SECRET  the endpoint's whsec_ secret: sends a signed test event the webhook ignores
  STRIPE_KEY      the stack's Stripe test-mode key: a Checkout Session is created and expired (never live)
  APP_URL         the web app's URL (an allowed origin for the checkout's return URLs)
  STRIPE_API_BASE Stripe's address (stripe-mock locally; default api.stripe.com)
`

func main() { os.Exit(run(os.Getenv, os.Stdout, os.Stderr)) }

func run(getenv func(string) string, stdout, stderr io.Writer) int {
	cfg := smoke.Config{
		API: getenv("API"), Token: getenv("TOKEN"), WebhookURL: getenv("WEBHOOK_URL"),
		WebhookSecret: getenv("WEBHOOK_SECRET"), StripeKey: getenv("STRIPE_KEY"),
		StripeAPIBase: getenv("STRIPE_API_BASE"), AppURL: getenv("APP_URL"),
	}
	if cfg.API == "" {
		fmt.Fprint(stderr, "smoke: API is required\n\n"+usage)
		return 2
	}
	if u, err := url.Parse(cfg.API); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		fmt.Fprintf(stderr, "smoke: API %q is not an http(s) URL\n\n%s", cfg.API, usage)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	results := smoke.Run(ctx, cfg)
	smoke.Print(stdout, cfg.API, results)
	if smoke.Failed(results) {
		return 1
	}
	return 0
}
