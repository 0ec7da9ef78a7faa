// Package metric emits CloudWatch metrics from a function's log stream in the Embedded Metric
// Format: one JSON log line per data point, which CloudWatch Logs turns into a metric with no API
// call (and no SDK client) at request time. Alarms in infra/cdk watch them.
package metric

import (
	"context"
	"log/slog"
	"time"
)

// Namespace is where every metric of the system lives.
const Namespace = "Liberation/Monetization"

// Metric names (the alarms in infra/cdk refer to them).
const (
	// UnmatchedRefunds: a charge.refunded for a charge we never recorded.
	UnmatchedRefunds = "UnmatchedRefunds"
	// DuplicateLiveSubscriptions: a user with two live Stripe subscriptions (found by billing-cycle).
	DuplicateLiveSubscriptions = "DuplicateLiveSubscriptions"
	// StuckRefundReservations: refund reservations older than the resolution window that the
	// reconciliation could not resolve.
	StuckRefundReservations = "StuckRefundReservations"
	// SLABreaches: support SLA targets breached (shared/support), one data point per breach recorded.
	SLABreaches = "SLABreaches"
	// SLAWarnings: support SLA warnings sent (75 % of a target's time used), one data point per
	// warning e-mailed by support-sla-check.
	SLAWarnings = "SLAWarnings"
	// CourseSalesRejected: a course Checkout Session paid in a currency the marketplace does not sell
	// in (refunded automatically; the Stripe account's currency settings need a look).
	CourseSalesRejected = "CourseSalesRejected"
	// DuplicateRefundsRefused: Stripe refused to refund a second payment for a course the buyer held
	// (a charge under dispute, say): someone must look at it.
	DuplicateRefundsRefused = "DuplicateRefundsRefused"
	// ReleaseTruncated: the daily release stopped at its deadline with sales still due.
	ReleaseTruncated = "ReleaseTruncated"
	// WebhookEventsRefused: a signed event from a connected account refused by the webhook — of a
	// type no area handles for Connect, or for an account no area knows (docs/decisions/0077).
	WebhookEventsRefused = "WebhookEventsRefused"
	// ReconciliationDifferences: the daily reconciliation with Stripe found differences (items
	// missing in our books or at Stripe, amount differences); emitted by every run, 0 included
	// (docs/runbooks/reconciliation-difference.md).
	ReconciliationDifferences = "ReconciliationDifferences"
	// RateLimited: a request refused with 429 by a function's per-user limit (docs/decisions/0077).
	RateLimited = "RateLimited"
	// AuditChainBreaks: the audit-verify job found records of the audit trail removed, edited or
	// reordered (one per broken chain); emitted by every run, 0 included
	// (docs/runbooks/audit-tampering.md, docs/decisions/0085).
	AuditChainBreaks = "AuditChainBreaks"
)

// Emit logs one data point of name (Count unit) with the function as its dimension.
func Emit(ctx context.Context, log *slog.Logger, function, name string, value int64) {
	log.LogAttrs(ctx, slog.LevelInfo, "metric",
		slog.Any("_aws", map[string]any{
			"Timestamp": time.Now().UnixMilli(), // when the line is written, not a business time
			"CloudWatchMetrics": []map[string]any{{
				"Namespace":  Namespace,
				"Dimensions": [][]string{{"Function"}},
				"Metrics":    []map[string]string{{"Name": name, "Unit": "Count"}},
			}},
		}),
		slog.String("Function", function),
		slog.Int64(name, value),
	)
}
