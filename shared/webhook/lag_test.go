package webhook_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/idempotency/idemtest"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/webhook"
)

// syncBuffer is a log sink safe for the handler's writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// The webhook-lag alarm watches WebhookLag's p99 (the rollup): every verified event emits now −
// event.created in milliseconds, under the rollup and under its EventType (a handled type by name,
// any other as "other", so the dimension's values stay bounded). A request that fails verification
// emits nothing: its "created" is not Stripe's word.
func TestWebhookLagPerEventType(t *testing.T) {
	var logs syncBuffer
	var r webhook.Router
	r.On(stripe.EventTypeInvoicePaid, (&area{}).hook)
	h := webhook.New(webhook.Config{Dedupe: idemtest.New(nil), InFlight: time.Minute,
		Secret: func(context.Context) (string, error) { return secret, nil },
		Log:    slog.New(slog.NewJSONHandler(&logs, nil))}, &r)
	post := func(payload []byte, sig string) {
		t.Helper()
		if _, err := h(context.Background(), events.LambdaFunctionURLRequest{Body: string(payload),
			Headers:        map[string]string{"stripe-signature": sig},
			RequestContext: events.LambdaFunctionURLRequestContext{HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "POST"}}}); err != nil {
			t.Fatal(err)
		}
	}
	late := time.Now().Add(-7 * time.Minute).Truncate(time.Second)
	paid := stripeevents.MustBuild(stripeevents.InvoicePaid, stripeevents.Options{EventID: "evt_late", UserID: "u1", Created: late})
	ignored := stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated,
		stripeevents.Options{EventID: "evt_other", UserID: "u1", Created: time.Now().Add(-2 * time.Second)})
	before := time.Now()
	post(paid, signed(paid))
	post(ignored, signed(ignored))
	post(paid, "t=1,v1=forged")
	after := time.Now()

	obs, err := metric.Parse(logs.b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var lags []metric.Observed
	for _, o := range obs {
		if o.Name == metric.WebhookLag {
			lags = append(lags, o)
		}
	}
	if len(lags) != 2 {
		t.Fatalf("want 2 lag points (the forged request emits none), got %+v", lags)
	}
	lo, hi := float64(before.Sub(late).Milliseconds()), float64(after.Sub(late).Milliseconds())
	if l := lags[0]; l.DimValues[metric.DimEventType] != "invoice.paid" || l.Unit != "Milliseconds" || l.Value < lo || l.Value > hi {
		t.Fatalf("invoice.paid lag %+v, want between %v and %v ms", l, lo, hi)
	}
	if l := lags[1]; l.DimValues[metric.DimEventType] != webhook.OtherEventType || l.Value > 60_000 {
		t.Fatalf("unhandled type's lag %+v", l)
	}
	for _, l := range lags {
		if len(l.Dimensions) != 2 || len(l.Dimensions[0]) != 0 {
			t.Fatalf("lag without the rollup the alarm reads: %+v", l)
		}
	}
}
