package metric

import (
	"context"
	"log/slog"
	"time"
)

// The business's monitoring points (issue 19). Unlike the operational counts above, which carry
// the emitting function as their dimension, these are emitted without the Function dimension, so a
// number means the same whichever function (or area) saw the event, and the dashboard and alarms
// in infra/cdk (dashboard.go) read one metric per point. Where a breakdown helps (webhook lag per
// event type, marketplace money per currency) the line also carries that dimension set: EMF then
// records the point under both (the rollup and the breakdown).
const (
	// PaymentAttempts: a payment attempt whose outcome was recorded for the first time (a payment
	// recorded, or an invoice attempt that failed); PaymentSuccesses and PaymentFailures split it.
	// The success-rate alarm is PaymentSuccesses ÷ PaymentAttempts over an hour.
	PaymentAttempts  = "PaymentAttempts"
	PaymentSuccesses = "PaymentSuccesses"
	PaymentFailures  = "PaymentFailures"
	// SubscriptionStarts / SubscriptionCancellations: a subscription became paying / stopped paying
	// (the same facts as the newPaying / churnedPaying day counters, counted at their write).
	SubscriptionStarts        = "SubscriptionStarts"
	SubscriptionCancellations = "SubscriptionCancellations"
	// MRRCents, PayingCustomers, ChurnRate30dBasisPoints: gauges the billing-cycle job emits once a
	// run from the figures of its daily snapshot (GET /admin/metrics computes the same ones). The
	// churn alarm watches ChurnRate30dBasisPoints (the 30-day rate, decision 0037), which no sum of
	// daily points could give: its denominator is the paying customers at the window's start.
	MRRCents                = "MRRCents"
	PayingCustomers         = "PayingCustomers"
	ChurnRate30dBasisPoints = "ChurnRate30dBasisPoints"
	// MarketplaceGMVMonthCents, MarketplaceCommissionMonthCents, MarketplaceRefundsMonthCents: the
	// course marketplace's month to date (gross sales, the platform's shares net of reversals,
	// course refunds), minor units, emitted by billing-cycle daily from the admin metrics' read.
	MarketplaceGMVMonthCents        = "MarketplaceGMVMonthCents"
	MarketplaceCommissionMonthCents = "MarketplaceCommissionMonthCents"
	MarketplaceRefundsMonthCents    = "MarketplaceRefundsMonthCents"
	// BillingCycleSucceeded: 1 at the end of every billing-cycle run that finished; the alarm fires
	// when none arrived for 26 hours (the job is daily).
	BillingCycleSucceeded = "BillingCycleSucceeded"
	// TokensIssued / TokensRedeemed: tokens credited to balances / spent on fulfilled redemptions
	// (the amounts of the issued / redeemed counters of GET /admin/tokens/metrics);
	// TokensClawedBack: tokens a clawback took back (a refund learnt after the release), debt included.
	TokensIssued     = "TokensIssued"
	TokensRedeemed   = "TokensRedeemed"
	TokensClawedBack = "TokensClawedBack"
	// PayoutsPaid / PayoutsFailed: instructor payouts whose transfer Stripe made / definitely
	// refused (the balance restored); PayoutsPaidCents: the amounts paid.
	PayoutsPaid      = "PayoutsPaid"
	PayoutsFailed    = "PayoutsFailed"
	PayoutsPaidCents = "PayoutsPaidCents"
	// LicenseSeatsSold / LicenseSeatsUsed: seats of the licenses in the enterprise gauges (active,
	// not suspended, not expired) and how many of them are taken; license-expiry emits them daily
	// after its walk over every license.
	LicenseSeatsSold = "LicenseSeatsSold"
	LicenseSeatsUsed = "LicenseSeatsUsed"
	// WebhookLag: milliseconds between a Stripe event's creation and its verified delivery to the
	// webhook (now − event.created), per event type and rolled up; the alarm watches the rollup's p99.
	WebhookLag = "WebhookLag"
)

// Dimension names of the business metrics.
const (
	DimEventType = "EventType"
)

// Unit is a CloudWatch unit.
type Unit string

// The units the business metrics use.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
	None         Unit = "None"
)

// Point is one business data point. Dims, when set, adds a breakdown (its names, in order) to the
// rollup that every point has.
type Point struct {
	Name  string
	Unit  Unit
	Value int64
	Dims  []Dim
}

// Dim is one dimension of a breakdown.
type Dim struct{ Name, Value string }

// Record logs one business data point as an EMF line: the metric under no dimension at all (the
// rollup the alarms read) and, when the point has dimensions, also under them. No API call: the
// Lambda's log stream is the transport.
func Record(ctx context.Context, log *slog.Logger, p Point) {
	if p.Unit == "" {
		p.Unit = Count
	}
	sets := [][]string{{}}
	attrs := []slog.Attr{}
	if len(p.Dims) > 0 {
		names := make([]string, 0, len(p.Dims))
		for _, d := range p.Dims {
			names = append(names, d.Name)
			attrs = append(attrs, slog.String(d.Name, d.Value))
		}
		sets = append(sets, names)
	}
	attrs = append([]slog.Attr{slog.Any("_aws", map[string]any{
		"Timestamp": time.Now().UnixMilli(), // when the line is written, not a business time
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  Namespace,
			"Dimensions": sets,
			"Metrics":    []map[string]string{{"Name": p.Name, "Unit": string(p.Unit)}},
		}},
	})}, attrs...)
	attrs = append(attrs, slog.Int64(p.Name, p.Value))
	log.LogAttrs(ctx, slog.LevelInfo, "metric", attrs...)
}

// Count1 records one occurrence of a business event (a Count of 1, no breakdown).
func Count1(ctx context.Context, log *slog.Logger, name string) {
	Record(ctx, log, Point{Name: name, Unit: Count, Value: 1})
}
