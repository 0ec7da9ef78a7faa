package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/liberation/monetization/shared/metric"
)

// The business's alarms (issue 19) and their thresholds, drawn on the dashboard as well. The
// metrics are the dimensionless business points of shared/metric (business.go), emitted as EMF
// lines by the code where the events happen: no API call at request time. SAM has no dashboards:
// the dashboard and these alarms exist in the CDK stack only (docs/operations.md).
const (
	// PaymentSuccessRateMinPercent: below it, over an hour with at least PaymentAttemptsMinPerHour
	// attempts, payments fail more than the target allows (docs/runbooks/payment-success-rate-low.md).
	PaymentSuccessRateMinPercent = 99.9
	// PaymentAttemptsMinPerHour: with fewer attempts in the hour, one decline is more than 0.1 %
	// and says nothing about the system; the alarm's expression then reports 100 %.
	PaymentAttemptsMinPerHour = 20
	// ChurnRate30dMaxBasisPoints: 1 % of the customers paying at the 30-day window's start stopped
	// paying inside it (decision 0037's definition, emitted daily by billing-cycle).
	ChurnRate30dMaxBasisPoints = 100
	// WebhookLagP99MaxMs: Stripe events reach us more than 5 minutes after they happened (p99 over
	// 5 minutes, WebhookLagPeriods periods in a row).
	WebhookLagP99MaxMs = 5 * 60 * 1000
	// WebhookLagPeriods: one redelivered event after our own 500 carries its full delay (and has its
	// own alarm, Url5xx); two five-minute periods in a row over the line mean delivery is behind.
	WebhookLagPeriods = 2
	// BillingCycleSilenceHours: the billing-cycle job is daily; no finished run for this long means
	// a day was missed (two scheduler retries included) — the day's expiries and snapshot are late.
	BillingCycleSilenceHours = 26
	// billingCycleAlarmPeriodHours × BillingCycleSilenceHours/… : the silence is evaluated as
	// consecutive empty 2-hour periods (an alarm's single period is at most a day; periods of an
	// hour or more may span up to 7 days in all).
	billingCycleAlarmPeriodHours = 2
)

// The runbooks the business alarms name (tests check they exist).
const (
	runbookPaymentSuccess = "docs/runbooks/payment-success-rate-low.md"
	runbookChurn          = "docs/runbooks/churn-high.md"
	runbookWebhookLag     = "docs/runbooks/webhook-lag.md"
	runbookBillingCycle   = "docs/runbooks/billing-cycle-missed.md"
)

// business is a dimensionless business metric of shared/metric.
func business(name, statistic string, period awscdk.Duration, label string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String(metric.Namespace), MetricName: jsii.String(name),
		Period: period, Statistic: jsii.String(statistic), Label: jsii.String(label),
	})
}

// search draws every series of name under the given dimension (one line per value), e.g. webhook
// lag per event type, without listing the values here.
func search(name, dim, statistic string, period awscdk.Duration, label string) awscloudwatch.MathExpression {
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(fmt.Sprintf(`SEARCH('{%s,%s} MetricName="%s"', '%s', %d)`,
			metric.Namespace, dim, name, statistic, int(*period.ToSeconds(nil)))),
		Label: jsii.String(label), Period: period, UsingMetrics: &map[string]awscloudwatch.IMetric{},
	})
}

// paymentSuccessRate is the hour's success rate in percent, or 100 when the hour had fewer than
// PaymentAttemptsMinPerHour attempts (too few to judge; no attempts at all is no data).
func paymentSuccessRate() awscloudwatch.MathExpression {
	hour := awscdk.Duration_Hours(jsii.Number(1))
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(fmt.Sprintf("IF(attempts >= %d, 100 * FILL(successes, 0) / attempts, 100)", PaymentAttemptsMinPerHour)),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"attempts":  business(metric.PaymentAttempts, "Sum", hour, "attempts"),
			"successes": business(metric.PaymentSuccesses, "Sum", hour, "successes"),
		},
		Label: jsii.String("payment success rate (%)"), Period: hour,
	})
}

// businessAlarm creates one of the business alarms, named after the stack's environment and
// notifying the alarm topic.
func businessAlarm(stack awscdk.Stack, topic awssns.Topic, cfg Config, id, name string, p awscloudwatch.AlarmProps) awscloudwatch.Alarm {
	p.AlarmName = jsii.String("monetization-" + cfg.Env + "-" + name)
	a := awscloudwatch.NewAlarm(stack, jsii.String(id), &p)
	a.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
	return a
}

// addBusinessMonitoring creates the four business alarms and the dashboard that draws their
// metrics with the thresholds, beside the other business points.
func addBusinessMonitoring(stack awscdk.Stack, topic awssns.Topic, cfg Config) {
	hour, day, five := awscdk.Duration_Hours(jsii.Number(1)), awscdk.Duration_Days(jsii.Number(1)), awscdk.Duration_Minutes(jsii.Number(5))

	rate := paymentSuccessRate()
	payments := businessAlarm(stack, topic, cfg, "PaymentSuccessRateAlarm", "payment-success-rate", awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("Payment success rate below %.1f %% over an hour with at least %d attempts; see %s.",
			PaymentSuccessRateMinPercent, PaymentAttemptsMinPerHour, runbookPaymentSuccess)),
		Metric: rate, Threshold: jsii.Number(PaymentSuccessRateMinPercent), EvaluationPeriods: jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	churnRate := business(metric.ChurnRate30dBasisPoints, "Maximum", day, "30-day churn (basis points)")
	churn := businessAlarm(stack, topic, cfg, "ChurnRateAlarm", "churn-rate", awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("30-day churn above %d basis points (1 %%) in billing-cycle's daily figures; see %s.",
			ChurnRate30dMaxBasisPoints, runbookChurn)),
		Metric: churnRate, Threshold: jsii.Number(ChurnRate30dMaxBasisPoints), EvaluationPeriods: jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	lagP99 := business(metric.WebhookLag, "p99", five, "webhook lag p99 (ms)")
	lag := businessAlarm(stack, topic, cfg, "WebhookLagAlarm", "webhook-lag", awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("Stripe events arrive more than %d minutes after they happened (p99, %d five-minute periods in a row); see %s.",
			WebhookLagP99MaxMs/60000, WebhookLagPeriods, runbookWebhookLag)),
		Metric: lagP99, Threshold: jsii.Number(WebhookLagP99MaxMs), EvaluationPeriods: jsii.Number(WebhookLagPeriods),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	periods := BillingCycleSilenceHours / billingCycleAlarmPeriodHours
	cycleRuns := business(metric.BillingCycleSucceeded, "Sum", awscdk.Duration_Hours(jsii.Number(billingCycleAlarmPeriodHours)), "billing-cycle runs finished")
	cycle := businessAlarm(stack, topic, cfg, "BillingCycleMissedAlarm", "billing-cycle-missed", awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("No billing-cycle run finished in %d hours (it is daily); see %s.",
			BillingCycleSilenceHours, runbookBillingCycle)),
		Metric: cycleRuns, Threshold: jsii.Number(1),
		EvaluationPeriods: jsii.Number(float64(periods)), DatapointsToAlarm: jsii.Number(float64(periods)),
		ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		// No point at all is exactly what this alarm is about.
		TreatMissingData: awscloudwatch.TreatMissingData_BREACHING,
	})

	line := func(v float64, label string) *[]*awscloudwatch.HorizontalAnnotation {
		return &[]*awscloudwatch.HorizontalAnnotation{{Value: jsii.Number(v), Label: jsii.String(label), Color: jsii.String("#d62728")}}
	}
	graph := func(title string, metrics []awscloudwatch.IMetric, ann *[]*awscloudwatch.HorizontalAnnotation) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: &metrics,
			LeftAnnotations: ann, Width: jsii.Number(12), Height: jsii.Number(6)})
	}
	row := func(ws ...awscloudwatch.IWidget) *[]awscloudwatch.IWidget { return &ws }
	awscloudwatch.NewDashboard(stack, jsii.String("BusinessDashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   jsii.String("monetization-" + cfg.Env + "-business"),
		DefaultInterval: awscdk.Duration_Days(jsii.Number(7)),
		Widgets: &[]*[]awscloudwatch.IWidget{
			row(awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{Title: jsii.String("Business alarms"),
				Alarms: &[]interfacesawscloudwatch.IAlarmRef{payments, churn, lag, cycle}, Width: jsii.Number(24), Height: jsii.Number(3)})),
			row(graph("Payment success rate (%, hourly; alarm below the line)", []awscloudwatch.IMetric{rate},
				line(PaymentSuccessRateMinPercent, fmt.Sprintf("alarm < %.1f %% (≥ %d attempts)", PaymentSuccessRateMinPercent, PaymentAttemptsMinPerHour))),
				graph("Payment attempts, successes, failures (hourly)", []awscloudwatch.IMetric{
					business(metric.PaymentAttempts, "Sum", hour, "attempts"),
					business(metric.PaymentSuccesses, "Sum", hour, "successes"),
					business(metric.PaymentFailures, "Sum", hour, "failures"),
				}, line(PaymentAttemptsMinPerHour, "attempts the rate alarm needs"))),
			row(graph("Subscriptions started and cancelled (daily)", []awscloudwatch.IMetric{
				business(metric.SubscriptionStarts, "Sum", day, "started paying"),
				business(metric.SubscriptionCancellations, "Sum", day, "stopped paying"),
			}, nil),
				graph("30-day churn (basis points; alarm above the line)", []awscloudwatch.IMetric{churnRate},
					line(ChurnRate30dMaxBasisPoints, "alarm > 1 %"))),
			row(graph("MRR (minor units, daily, billing-cycle)", []awscloudwatch.IMetric{
				business(metric.MRRCents, "Maximum", day, "MRR"),
			}, nil),
				graph("Paying customers (daily, billing-cycle)", []awscloudwatch.IMetric{
					business(metric.PayingCustomers, "Maximum", day, "paying customers"),
				}, nil)),
			row(graph("Webhook lag p99 (ms; alarm above the line)", []awscloudwatch.IMetric{lagP99},
				line(WebhookLagP99MaxMs, "alarm > 5 min")),
				graph("Webhook lag p99 per event type (ms)", []awscloudwatch.IMetric{
					search(metric.WebhookLag, metric.DimEventType, "p99", five, ""),
				}, line(WebhookLagP99MaxMs, "5 min"))),
			row(graph("Billing-cycle runs finished (alarm when none for 26 h)", []awscloudwatch.IMetric{
				business(metric.BillingCycleSucceeded, "Sum", day, "runs"),
			}, line(1, "at least one a day")),
				graph("SLA warnings and breaches (support, daily)", []awscloudwatch.IMetric{
					search(metric.SLAWarnings, "Function", "Sum", day, ""),
					search(metric.SLABreaches, "Function", "Sum", day, ""),
				}, nil)),
			row(graph("Marketplace month to date (minor units, daily)", []awscloudwatch.IMetric{
				business(metric.MarketplaceGMVMonthCents, "Maximum", day, "GMV"),
				business(metric.MarketplaceCommissionMonthCents, "Maximum", day, "commission (platform share)"),
				business(metric.MarketplaceRefundsMonthCents, "Maximum", day, "refunds"),
			}, nil),
				awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
					Title: jsii.String("Instructor payouts (daily; amount paid on the right, minor units)"),
					Left: &[]awscloudwatch.IMetric{
						business(metric.PayoutsPaid, "Sum", day, "paid"),
						business(metric.PayoutsFailed, "Sum", day, "failed"),
					},
					Right:  &[]awscloudwatch.IMetric{business(metric.PayoutsPaidCents, "Sum", day, "amount paid")},
					Width:  jsii.Number(12),
					Height: jsii.Number(6),
				})),
			row(graph("Tokens issued, redeemed, clawed back (daily)", []awscloudwatch.IMetric{
				business(metric.TokensIssued, "Sum", day, "issued"),
				business(metric.TokensRedeemed, "Sum", day, "redeemed"),
				business(metric.TokensClawedBack, "Sum", day, "clawed back"),
			}, nil),
				graph("License seats used vs sold (daily, license-expiry)", []awscloudwatch.IMetric{
					business(metric.LicenseSeatsSold, "Maximum", day, "sold"),
					business(metric.LicenseSeatsUsed, "Maximum", day, "used"),
				}, nil)),
		},
	})
}
