package payments

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/metric"
)

// The payment success-rate alarm (infra/cdk dashboard.go) divides PaymentSuccesses by
// PaymentAttempts. The Recorder's own log lines carry them, counted once per payment and once per
// failed (invoice, attempt) like the day counters: redeliveries of the same event add nothing.
func TestPaymentOutcomesEmitTheSuccessRateMetrics(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	var buf bytes.Buffer
	ctx := logging.With(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)))
	rec := &Recorder{Repo: newFakeLedger(), Queue: &fakeQueue{}, Clock: clk}

	failed := &stripe.Invoice{ID: "in_1", AmountDue: 999, Currency: "usd", AttemptCount: 1}
	for _, step := range []func() error{
		func() error { return rec.InvoicePaymentFailed(ctx, "u1", failed, Source{EventID: "evt_f1"}) },
		func() error { return rec.InvoicePaymentFailed(ctx, "u1", failed, Source{EventID: "evt_f1"}) }, // redelivered
		func() error {
			failed.AttemptCount = 2
			return rec.InvoicePaymentFailed(ctx, "u1", failed, Source{EventID: "evt_f2"})
		},
		func() error {
			return rec.InvoicePaid(ctx, "u1", invoiceFixture("in_1", "ch_1", 999, clk.Now()), Source{EventID: "evt_p"})
		},
		func() error {
			return rec.InvoicePaid(ctx, "u1", invoiceFixture("in_1", "ch_1", 999, clk.Now()), Source{EventID: "evt_p"})
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	obs, err := metric.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, name := range []string{metric.PaymentAttempts, metric.PaymentSuccesses, metric.PaymentFailures} {
		got[name] = metric.Sum(obs, name)
	}
	want := map[string]float64{metric.PaymentAttempts: 3, metric.PaymentSuccesses: 1, metric.PaymentFailures: 2}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	for _, o := range obs {
		if o.Namespace != metric.Namespace || len(o.Dimensions) != 1 || len(o.Dimensions[0]) != 0 {
			t.Errorf("%s is not the dimensionless rollup the alarm reads: %+v", o.Name, o)
		}
	}
}
