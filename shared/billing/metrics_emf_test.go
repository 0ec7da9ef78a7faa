package billing

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/webhook"
)

// The churn and billing-cycle alarms and the dashboard's subscription panels read these lines:
// a subscription becoming paying / stopping paying (once per fact, a redelivery adds nothing), and
// a finished billing-cycle run's gauges (the snapshot's own figures) and its success point.
func TestSubscriptionAndCycleMetricsAreEmitted(t *testing.T) {
	w := newWorld(t)
	var hookLogs logBuffer
	var r webhook.Router
	registerHooks(&r, &hooks{life: w.life, users: w.repo, customers: w.repo, others: w.repo, audit: w.repo, facts: w.facts})
	w.hook = webhook.New(webhook.Config{Dedupe: w.idem, InFlight: time.Minute,
		Secret: func(context.Context) (string, error) { return testWebhookSecret, nil },
		Log:    slog.New(slog.NewJSONHandler(&hookLogs, nil))}, &r)

	created := t0.Add(-time.Hour)
	for _, u := range []string{"u-1", "u-2"} {
		w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: u, Created: created,
			PeriodStart: created, PeriodEnd: created.AddDate(0, 1, 0)})
	}
	gone := stripeevents.MustBuild(stripeevents.CustomerSubscriptionDeleted, stripeevents.Options{UserID: "u-1",
		Status: "canceled", Created: t0, PeriodStart: created, PeriodEnd: created.AddDate(0, 1, 0)})
	for i := 0; i < 2; i++ { // Stripe redelivers: counted once
		if status, outcome := w.deliver(t, gone); status != 200 {
			t.Fatalf("delete: %d %s", status, outcome)
		}
	}
	obs, err := metric.Parse(hookLogs.buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if s, c := metric.Sum(obs, metric.SubscriptionStarts), metric.Sum(obs, metric.SubscriptionCancellations); s != 2 || c != 1 {
		t.Fatalf("starts %v cancellations %v, want 2 and 1", s, c)
	}

	w.clock.Set(t0.Add(time.Hour))
	w.repo.marketplace = mktmetrics.Metrics{GMVCents: 12000, PlatformRevenueCents: 3600, RefundedCents: 500}
	w.runJob(t)
	obs, err = metric.Parse(w.logs.buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want, err := readMetrics(logging.With(context.Background(), slog.New(slog.NewJSONHandler(io.Discard, nil))),
		w.repo, w.repo, testRules, w.clock.Now().UTC(), cycleMaxPages)
	if err != nil {
		t.Fatal(err)
	}
	if want.PayingCustomers != 1 || want.MRRCents <= 0 {
		t.Fatalf("the world is not what the test means: %+v", want)
	}
	got := map[string]float64{}
	for _, o := range obs {
		got[o.Name] = o.Value
	}
	if got[metric.MRRCents] != float64(want.MRRCents) || got[metric.PayingCustomers] != 1 || got[metric.BillingCycleSucceeded] != 1 {
		t.Fatalf("job metrics %v, snapshot MRR %d", got, want.MRRCents)
	}
	for name, v := range map[string]float64{metric.MarketplaceGMVMonthCents: 12000, metric.MarketplaceCommissionMonthCents: 3600,
		metric.MarketplaceRefundsMonthCents: 500} {
		if got[name] != v {
			t.Errorf("%s = %v, want %v", name, got[name], v)
		}
	}
	if bp := want.Churn.RateBasisPoints; bp == nil {
		if _, ok := got[metric.ChurnRate30dBasisPoints]; ok {
			t.Fatalf("churn rate emitted although undefined: %v", got)
		}
	} else if got[metric.ChurnRate30dBasisPoints] != float64(*bp) {
		t.Fatalf("churn rate %v, snapshot %d", got[metric.ChurnRate30dBasisPoints], *bp)
	}
}

// A run that fails emits no success point (the 26-hour alarm must see the gap).
func TestFailedCycleEmitsNoSuccess(t *testing.T) {
	w := newWorld(t)
	c := w.cycle()
	c.records = failingRunRecord{c.records}
	ctx := logging.With(context.Background(), slog.New(slog.NewJSONHandler(w.logs, nil)))
	if _, err := c.run(ctx); err == nil {
		t.Fatal("the run's record failed, yet the run succeeded")
	}
	obs, err := metric.Parse(w.logs.buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if n := metric.Sum(obs, metric.BillingCycleSucceeded); n != 0 {
		t.Fatalf("a failed run emitted %v success points", n)
	}
}

// failingRunRecord fails the run's record (the table refused the write).
type failingRunRecord struct{ jobRecords }

func (failingRunRecord) RecordJobRun(context.Context, string, string, time.Time, any) error {
	return errors.New("table unavailable")
}
