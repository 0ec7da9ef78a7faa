package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liberation/monetization/shared/metric"
)

// alarmNamed finds the alarm of the synthesized template whose AlarmName is name.
func alarmNamed(t *testing.T, c cfn, name string) map[string]any {
	t.Helper()
	for _, r := range c.ofType("AWS::CloudWatch::Alarm") {
		if r.Properties["AlarmName"] == name {
			return r.Properties
		}
	}
	t.Fatalf("no alarm named %s", name)
	return nil
}

// watched is the one metric a single-metric alarm reads, whichever way CDK rendered it (flat
// properties, or a one-query Metrics array when the metric has a label): name, statistic, period,
// dimensions.
func watched(p map[string]any) (name, stat string, period float64, dims any) {
	if qs, ok := p["Metrics"].([]any); ok && len(qs) == 1 {
		ms, _ := qs[0].(map[string]any)["MetricStat"].(map[string]any)
		m, _ := ms["Metric"].(map[string]any)
		n, _ := m["MetricName"].(string)
		st, _ := ms["Stat"].(string)
		return n, st, num(ms["Period"]), m["Dimensions"]
	}
	n, _ := p["MetricName"].(string)
	st, _ := p["Statistic"].(string)
	if st == "" {
		st, _ = p["ExtendedStatistic"].(string)
	}
	return n, st, num(p["Period"]), p["Dimensions"]
}

// num reads a JSON number of the template.
func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// The four business alarms of issue 19, in every environment: their names, the metrics they watch
// (the shared/metric names the emitting code paths' tests find in the EMF lines: payments,
// billing, webhook), thresholds, periods, comparison, missing-data rule, an action on the alarm
// topic, and a description naming a runbook that exists.
func TestBusinessAlarms(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		c, _ := synth(t, env)
		name := func(s string) string { return "monetization-" + env + "-" + s }

		pay := alarmNamed(t, c, name("payment-success-rate"))
		if num(pay["Threshold"]) != 99.9 || pay["ComparisonOperator"] != "LessThanThreshold" || num(pay["EvaluationPeriods"]) != 1 ||
			pay["TreatMissingData"] != "notBreaching" {
			t.Errorf("%s payment success rate alarm: %v", env, pay)
		}
		queries, _ := pay["Metrics"].([]any)
		var expr string
		stats := map[string]string{} // id → metric name
		for _, q := range queries {
			q := q.(map[string]any)
			if e, ok := q["Expression"].(string); ok {
				expr = e
				if q["ReturnData"] == false {
					t.Errorf("%s: the expression does not return data", env)
				}
				continue
			}
			ms := q["MetricStat"].(map[string]any)
			m := ms["Metric"].(map[string]any)
			if m["Namespace"] != metric.Namespace || m["Dimensions"] != nil || num(ms["Period"]) != 3600 || ms["Stat"] != "Sum" {
				t.Errorf("%s: rate input %v is not an hourly sum of a dimensionless business metric", env, q)
			}
			stats[q["Id"].(string)] = m["MetricName"].(string)
		}
		if stats["attempts"] != metric.PaymentAttempts || stats["successes"] != metric.PaymentSuccesses ||
			expr != "IF(attempts >= 20, 100 * FILL(successes, 0) / attempts, 100)" {
			t.Errorf("%s: success rate is %q over %v", env, expr, stats)
		}

		churn := alarmNamed(t, c, name("churn-rate"))
		if n, st, p, d := watched(churn); n != metric.ChurnRate30dBasisPoints || st != "Maximum" || p != 86400 || d != nil || num(churn["Threshold"]) != 100 || churn["ComparisonOperator"] != "GreaterThanThreshold" ||
			churn["TreatMissingData"] != "notBreaching" {
			t.Errorf("%s churn alarm: %v", env, churn)
		}

		lag := alarmNamed(t, c, name("webhook-lag"))
		if n, st, p, d := watched(lag); n != metric.WebhookLag || st != "p99" || p != 300 || d != nil ||
			num(lag["Threshold"]) != 300000 || num(lag["EvaluationPeriods"]) != 2 || lag["ComparisonOperator"] != "GreaterThanThreshold" {
			t.Errorf("%s webhook lag alarm: %v", env, lag)
		}

		cyc := alarmNamed(t, c, name("billing-cycle-missed"))
		n, st, period, d := watched(cyc)
		if n != metric.BillingCycleSucceeded || st != "Sum" || d != nil || cyc["ComparisonOperator"] != "LessThanThreshold" ||
			num(cyc["Threshold"]) != 1 || cyc["TreatMissingData"] != "breaching" ||
			period*num(cyc["EvaluationPeriods"]) != 26*3600 || num(cyc["DatapointsToAlarm"]) != num(cyc["EvaluationPeriods"]) {
			t.Errorf("%s billing-cycle alarm (26 h of silence): %v", env, cyc)
		}
		// CloudWatch: a period of an hour or more, at most a day, and at most 7 days evaluated in all.
		if period < 3600 || period > 86400 || period*num(cyc["EvaluationPeriods"]) > 7*86400 {
			t.Errorf("%s billing-cycle alarm outside CloudWatch's limits: period %v", env, period)
		}

		for _, a := range []struct {
			props   map[string]any
			runbook string
		}{{pay, runbookPaymentSuccess}, {churn, runbookChurn}, {lag, runbookWebhookLag}, {cyc, runbookBillingCycle}} {
			if d, _ := a.props["AlarmDescription"].(string); !strings.Contains(d, a.runbook) {
				t.Errorf("%s: %q does not name %s", env, d, a.runbook)
			}
			if _, err := os.Stat(filepath.Join("..", "..", a.runbook)); err != nil {
				t.Errorf("runbook: %v", err)
			}
			if acts, _ := a.props["AlarmActions"].([]any); len(acts) != 1 {
				t.Errorf("%s %v: actions %v", env, a.props["AlarmName"], a.props["AlarmActions"])
			}
		}
	}
}

// The dashboard exists per environment and draws the alarms' metrics with their thresholds as
// horizontal lines, the alarms' states, and the other business points.
func TestBusinessDashboard(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		c, _ := synth(t, env)
		var body string
		for _, r := range c.ofType("AWS::CloudWatch::Dashboard") {
			if r.Properties["DashboardName"] == "monetization-"+env+"-business" {
				body = literal(r.Properties["DashboardBody"])
			}
		}
		if body == "" {
			t.Fatalf("%s: no business dashboard", env)
		}
		for _, want := range []string{
			metric.PaymentAttempts, metric.PaymentSuccesses, metric.PaymentFailures, metric.SubscriptionStarts,
			metric.SubscriptionCancellations, metric.ChurnRate30dBasisPoints, metric.MRRCents, metric.PayingCustomers,
			metric.WebhookLag, metric.BillingCycleSucceeded, metric.SLABreaches, metric.SLAWarnings,
			metric.MarketplaceGMVMonthCents, metric.MarketplaceCommissionMonthCents, metric.MarketplaceRefundsMonthCents,
			metric.PayoutsPaid, metric.PayoutsPaidCents, metric.PayoutsFailed, metric.TokensIssued, metric.TokensRedeemed, metric.TokensClawedBack,
			metric.LicenseSeatsSold, metric.LicenseSeatsUsed,
			`IF(attempts >= 20, 100 * FILL(successes, 0) / attempts, 100)`,
			`"value":99.9`, `"value":20`, `"value":100`, `"value":300000`, `"value":1,`,
			`{Liberation/Monetization,EventType} MetricName=\"WebhookLag\"`,
			`"type":"alarm"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s dashboard lacks %s", env, want)
			}
		}
	}
}

// literal joins the string parts of a CloudFormation value (Fn::Join of strings and tokens), the
// tokens (alarm ARNs, the region) left as placeholders.
func literal(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			parts, _ := j[1].([]any)
			var b strings.Builder
			for _, p := range parts {
				b.WriteString(literal(p))
			}
			return b.String()
		}
		return "<token>"
	}
	return fmt.Sprint(v)
}
