package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	m "github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/metric"
)

// addSchedule invokes a job on its manifest expression, at the exact time (no flexible window),
// through a role that may invoke that one function.
func addSchedule(stack awscdk.Stack, f m.Function, fn awslambda.Function) {
	role := awsiam.NewRole(stack, jsii.String(m.Pascal(f.Name)+"ScheduleRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()}},
		}),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("lambda:InvokeFunction"), Resources: &[]*string{fn.FunctionArn()},
	}))
	awsscheduler.NewCfnSchedule(stack, jsii.String(m.Pascal(f.Name)+"Schedule"), &awsscheduler.CfnScheduleProps{
		Description:                jsii.String(f.Summary),
		ScheduleExpression:         jsii.String(f.Trigger.Expression),
		ScheduleExpressionTimezone: jsii.String("UTC"),
		FlexibleTimeWindow:         &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
		Target: &awsscheduler.CfnSchedule_TargetProperty{
			Arn:         fn.FunctionArn(),
			RoleArn:     role.RoleArn(),
			Input:       jsii.String(f.ScheduleInput()),
			RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{MaximumRetryAttempts: jsii.Number(2)},
		},
	})
}

func newAlarmTopic(stack awscdk.Stack, cfg Config) awssns.Topic {
	topic := awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("monetization-" + cfg.Env + " alarms"),
		EnforceSSL:  jsii.Bool(true),
	})
	skipChecks(topic, m.SkipSNSEncryption)
	if cfg.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlarmEmail), nil))
	}
	return topic
}

func alarm(stack awscdk.Stack, topic awssns.Topic, id, desc string, metric awscloudwatch.IMetric, threshold float64) {
	a := awscloudwatch.NewAlarm(stack, jsii.String(id), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String(desc),
		Metric:             metric,
		Threshold:          jsii.Number(threshold),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	a.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
}

// alarmDLQ fires as soon as one message is dead-lettered.
func alarmDLQ(stack awscdk.Stack, topic awssns.Topic, q m.QueueDef, dlq awssqs.Queue) {
	alarm(stack, topic, q.DLQLogicalID()+"Alarm", "Messages in "+q.DLQName()+": a consumer failed "+
		"them repeatedly; inspect and redrive.",
		dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(1)), Statistic: jsii.String("Maximum"),
		}), 0)
}

// alarmAPI fires on any 5xx in a five-minute window.
func alarmAPI(stack awscdk.Stack, topic awssns.Topic, api awsapigatewayv2.HttpApi) {
	alarm(stack, topic, "HttpApi5xxAlarm", "The HTTP API returned 5xx responses.",
		api.MetricServerError(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum"),
		}), 0)
}

// alarmFunctionErrors fires on any error of a function whose caller (Stripe, the scheduler) only
// retries: nobody else would notice.
func alarmFunctionErrors(stack awscdk.Stack, topic awssns.Topic, f m.Function, fn awslambda.Function) {
	alarm(stack, topic, f.LogicalID()+"ErrorsAlarm", f.Name+" failed; its caller retries, but check the logs.",
		fn.MetricErrors(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum"),
		}), 0)
}

// alarmURL5xx fires when the webhook answers 5xx. The webhook reports its own failures as 500
// responses (so Stripe retries) rather than as Lambda errors, which the Errors metric would miss.
func alarmURL5xx(stack awscdk.Stack, topic awssns.Topic, f m.Function, fn awslambda.Function) {
	alarm(stack, topic, f.LogicalID()+"Url5xxAlarm", f.Name+" answered 5xx; Stripe retries for up to 3 days, check the logs.",
		awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("AWS/Lambda"), MetricName: jsii.String("Url5xxCount"),
			DimensionsMap: &map[string]*string{"FunctionName": fn.FunctionName()},
			Period:        awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum"),
		}), 0)
}

// alarmDuplicateLiveSubscriptions fires when the billing-cycle job found a user with two live Stripe
// subscriptions (metric.DuplicateLiveSubscriptions, emitted by every run): someone may be billed
// twice. The job also writes a subscription.duplicate_live audit record per user.
func alarmDuplicateLiveSubscriptions(stack awscdk.Stack, topic awssns.Topic) {
	jobMetricAlarm(stack, topic, "DuplicateLiveSubscriptionsAlarm", "billing-cycle found users with two live Stripe subscriptions; "+
		"see docs/runbooks/subscription-state-mismatch.md.", billingCycle, metric.DuplicateLiveSubscriptions)
}

// billingCycle is the manifest name of the job that emits the billing metrics.
const billingCycle = "billing-cycle"

// alarmMarketplace fires on the marketplace's money metrics (shared/metric): a course paid in a
// currency we do not sell in (refunded, but the account's currency settings need a look), a second
// payment Stripe refused to refund (a person must act), and a release run that hit its deadline
// with sales still due (docs/runbooks/marketplace-money.md).
func alarmMarketplace(stack awscdk.Stack, topic awssns.Topic) {
	for _, a := range []struct{ id, function, name, why string }{
		{"CourseSalesRejectedAlarm", m.StripeWebhook, metric.CourseSalesRejected,
			"A course was paid in a currency the marketplace does not sell in and was refunded; check the Stripe account's currency settings"},
		{"DuplicateRefundsRefusedAlarm", m.StripeWebhook, metric.DuplicateRefundsRefused,
			"Stripe refused to refund a second payment for a course the buyer already held"},
		{"ReleaseTruncatedAlarm", "release-earnings", metric.ReleaseTruncated,
			"The daily release stopped at its deadline with sales still due"},
	} {
		alarm(stack, topic, a.id, a.why+"; see docs/runbooks/marketplace-money.md.",
			awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace: jsii.String(metric.Namespace), MetricName: jsii.String(a.name),
				DimensionsMap: &map[string]*string{"Function": jsii.String(a.function)},
				Period:        awscdk.Duration_Hours(jsii.Number(1)), Statistic: jsii.String("Sum"),
			}), 0)
	}
}

// alarmPayments fires on payments' own metrics (shared/metric, from the functions' logs): a refund
// Stripe reported for a charge we never recorded, and refund reservations the hourly
// resolve-refunds job could not resolve (docs/runbooks/refund-failed.md).
func alarmPayments(stack awscdk.Stack, topic awssns.Topic) {
	appMetric := func(function, name, statistic string, period float64) awscloudwatch.IMetric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(metric.Namespace), MetricName: jsii.String(name),
			DimensionsMap: &map[string]*string{"Function": jsii.String(function)},
			Period:        awscdk.Duration_Minutes(jsii.Number(period)), Statistic: jsii.String(statistic),
		})
	}
	alarm(stack, topic, "UnmatchedRefundsAlarm", "Stripe refunded a charge we have no payment for; "+
		"see docs/runbooks/refund-failed.md.", appMetric(m.StripeWebhook, metric.UnmatchedRefunds, "Sum", 5), 0)
	alarm(stack, topic, "StuckRefundReservationsAlarm", "Refund reservations older than 15 minutes that "+
		m.ResolveRefunds+" could not resolve from Stripe; see docs/runbooks/refund-failed.md.",
		appMetric(m.ResolveRefunds, metric.StuckRefundReservations, "Maximum", 60), 0)
}

// Thresholds of the entry points' refusal alarms (decision 0077, docs/runbooks/webhook-flood.md).
const (
	// RefusedConnectEventsPerHour: a Connect event for an account we do not know is refused with 403
	// and Stripe retries it; one or two arrive when an account.updated outruns connect-instructor
	// storing the account (the retry applies it). More in an hour is a misrouted endpoint or someone
	// replaying events.
	RefusedConnectEventsPerHour = 5
	// RateLimitedPer5Min: 429s of one rate-limited route over five minutes. A person retrying hits a
	// few; fifty is a script guessing join codes or a client stuck in a retry loop.
	RateLimitedPer5Min = 50
)

// alarmRefusals fires when the public entry points refuse more than their normal trickle: Connect
// events from unknown accounts at the webhook, and per-user rate limits on each limited route.
func alarmRefusals(stack awscdk.Stack, topic awssns.Topic) {
	sum := func(function, name string, period awscdk.Duration) awscloudwatch.IMetric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(metric.Namespace), MetricName: jsii.String(name),
			DimensionsMap: &map[string]*string{"Function": jsii.String(function)},
			Period:        period, Statistic: jsii.String("Sum"),
		})
	}
	alarm(stack, topic, "WebhookEventsRefusedAlarm", "The webhook refused signed Connect events (unknown account or "+
		"type); see docs/runbooks/webhook-flood.md.", sum(m.StripeWebhook, metric.WebhookEventsRefused,
		awscdk.Duration_Hours(jsii.Number(1))), RefusedConnectEventsPerHour)
	for _, f := range m.Functions {
		if f.RateLimit == nil {
			continue
		}
		alarm(stack, topic, m.Pascal(f.Name)+"RateLimitedAlarm", f.Name+" refused many requests over its per-user "+
			"limit (a script guessing codes, or a client retry loop); see docs/runbooks/webhook-flood.md.",
			sum(f.Name, metric.RateLimited, awscdk.Duration_Minutes(jsii.Number(5))), RateLimitedPer5Min)
	}
}

// WebhookInvocationsPer5Min is the invocation count (sum over 5 minutes) above which the webhook's
// rate alarm fires: 3,000 is 10 requests/s sustained for five minutes, several times what Stripe
// delivers for this platform even during a month-start billing run, yet far below what the reserved
// concurrency serves (20 × ~25 requests/s each): an alarm on a flood, or on a Stripe retry storm,
// before the throttle is the only defence (docs/runbooks/webhook-flood.md, decision 0078).
const WebhookInvocationsPer5Min = 3000

// alarmWebhookFlood watches the public webhook URL: its invocation rate (a flood of unsigned
// requests, or a retry storm) and its throttles (reserved concurrency reached: callers got 429,
// which Stripe retries with backoff for up to 3 days, so no event is lost, only delayed).
func alarmWebhookFlood(stack awscdk.Stack, topic awssns.Topic, f m.Function, fn awslambda.Function) {
	five := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}
	alarm(stack, topic, f.LogicalID()+"InvocationsAlarm", f.Name+" received more than 10 requests/s for 5 minutes: "+
		"a flood or a Stripe retry storm; see docs/runbooks/webhook-flood.md.", fn.MetricInvocations(five), WebhookInvocationsPer5Min)
	alarm(stack, topic, f.LogicalID()+"ThrottlesAlarm", f.Name+" was throttled at its reserved concurrency: callers "+
		"got 429 (Stripe retries); see docs/runbooks/webhook-flood.md.", fn.MetricThrottles(five), 0)
}

// alarmReconciliation fires when the daily reconciliation with Stripe (the reconcile job,
// metric.ReconciliationDifferences, emitted by every run with the day's count) found an item
// missing in our books or at Stripe, or an amount difference (docs/runbooks/reconciliation-difference.md).
func alarmReconciliation(stack awscdk.Stack, topic awssns.Topic) {
	jobMetricAlarm(stack, topic, "ReconciliationDifferencesAlarm", "The daily reconciliation with Stripe found differences "+
		"(missing in our books, missing at Stripe, amount differences); see docs/runbooks/reconciliation-difference.md.",
		reconcileJob, metric.ReconciliationDifferences)
}

// reconcileJob is the manifest name of the job that emits the reconciliation metric.
const reconcileJob = "reconcile"

// alarmAuditChain fires when the audit-verify job (metric.AuditChainBreaks, emitted by every run
// with the number of broken chains) found an audit record removed, edited or reordered
// (docs/runbooks/audit-tampering.md, docs/decisions/0085).
func alarmAuditChain(stack awscdk.Stack, topic awssns.Topic) {
	jobMetricAlarm(stack, topic, "AuditChainBreaksAlarm", "The audit trail's verification found a record removed, edited or "+
		"reordered; see docs/runbooks/audit-tampering.md.", auditVerifyJob, metric.AuditChainBreaks)
}

// jobMetricAlarm fires when a job's own count (an EMF metric the job emits on every run, 0
// included, with its function name as dimension) is above 0 in an hour.
func jobMetricAlarm(stack awscdk.Stack, topic awssns.Topic, id, desc, job, name string) {
	alarm(stack, topic, id, desc, awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String(metric.Namespace), MetricName: jsii.String(name),
		DimensionsMap: &map[string]*string{"Function": jsii.String(job)},
		Period:        awscdk.Duration_Hours(jsii.Number(1)), Statistic: jsii.String("Maximum"),
	}), 0)
}

// auditVerifyJob is the manifest name of the job that emits the audit chain metric.
const auditVerifyJob = "audit-verify"
