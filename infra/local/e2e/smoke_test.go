//go:build integration

package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/smoke"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/webhook"
)

// TestSmokeAgainstLocalStack is how CI runs `make smoke` against the local stack (`make test` runs
// this package): the smoke checks, in process, against the gateway every function is served by,
// with a fresh user's token, the stack's webhook secret and its test-mode Stripe key (stripe-mock
// behind it). The user is an admin, so the queue depth (GET /admin/queues) is checked too: every
// check must pass on the fresh stack. Then the same run with a wrong webhook secret must fail that
// check, and a message in a DLQ must fail the queue check — smoke can fail.
func TestSmokeAgainstLocalStack(t *testing.T) {
	h := Start(t)
	cfg := smoke.Config{
		API: h.URL, Token: h.Token(t, "smoke-user", "smoke@example.com", "admin"),
		WebhookSecret: localtest.WebhookSecret, StripeKey: localtest.StripeKey,
		StripeAPIBase: h.Env.Getenv(manifest.EnvStripeAPIBase), AppURL: "https://app.example.com",
	}
	results := smoke.Run(context.Background(), cfg)
	var table bytes.Buffer
	smoke.Print(&table, cfg.API, results)
	t.Logf("smoke against the local gateway:\n%s", table.String())
	if len(results) < 11 {
		t.Fatalf("%d checks ran, want the 11 of smoke.Run", len(results))
	}
	for _, r := range results {
		if r.Status != smoke.Pass {
			t.Errorf("%s: %s (%s), want PASS", r.Name, r.Status, r.Detail)
		}
	}
	if smoke.Failed(results) {
		t.Error("Failed() is true for a run without failures")
	}
	// The signed test event changed nothing: not even its dedupe record was stored.
	var eventID string
	for _, r := range results {
		for _, f := range strings.Fields(r.Detail) {
			if strings.HasPrefix(f, "evt_smoke_") {
				eventID = strings.TrimSuffix(f, ")")
			}
		}
	}
	if eventID == "" {
		t.Fatal("the signed check's detail names no event id")
	}
	var rec map[string]any
	if err := h.Env.Store().Get(context.Background(), store.IdempotencyKey(webhook.DedupeScope, eventID), &rec); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("test event %s left a dedupe record (err %v): %v", eventID, err, rec)
	}

	// A message dead-lettered from the receipts queue: the queue check fails and names it.
	if _, err := h.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(h.Env.Resources.DLQURLs[manifest.ReceiptsQueue]), MessageBody: aws.String(`{"type":"dead"}`)}); err != nil {
		t.Fatal(err)
	}
	for _, r := range smoke.Run(context.Background(), cfg) {
		if r.Name == "queues: dead-letter depth" && (r.Status != smoke.Fail || !strings.Contains(r.Detail, manifest.ReceiptsQueue+"-dlq: 1")) {
			t.Errorf("a dead letter in %s-dlq: %s (%s), want FAIL naming it", manifest.ReceiptsQueue, r.Status, r.Detail)
		}
	}

	cfg.WebhookSecret = "whsec_not_this_stacks"
	cfg.Token = "" // the other checks were proven above; without a token they skip
	bad := smoke.Run(context.Background(), cfg)
	if !smoke.Failed(bad) {
		t.Fatal("a wrong webhook secret did not fail the run")
	}
	for _, r := range bad {
		if r.Name == "webhook acknowledges a signed test event" && r.Status != smoke.Fail {
			t.Errorf("signed event with a wrong secret: %s (%s), want FAIL", r.Status, r.Detail)
		}
		if r.Name == "authenticated GET /subscription" && r.Status != smoke.Skip {
			t.Errorf("no token: %s, want SKIP", r.Status)
		}
	}
}
