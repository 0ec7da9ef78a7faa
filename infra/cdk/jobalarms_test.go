package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	m "github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/metric"
)

// The jobs' difference alarms: each on its job's own EMF metric (Maximum above 0, missing data not
// breaching), in every environment, with a description that names a runbook that exists.
func TestJobDifferenceAlarms(t *testing.T) {
	for _, a := range []struct {
		job, metric, runbook, about string
	}{
		{reconcileJob, metric.ReconciliationDifferences, "docs/runbooks/reconciliation-difference.md", "reconciliation with Stripe"},
		{auditVerifyJob, metric.AuditChainBreaks, "docs/runbooks/audit-tampering.md", "audit trail"},
	} {
		if f, ok := m.ByName(a.job); !ok || f.Trigger.Kind != m.Schedule {
			t.Fatalf("the alarm watches %q, which the manifest does not declare as a job", a.job)
		}
		if _, err := os.Stat(filepath.Join("..", "..", a.runbook)); err != nil {
			t.Fatalf("%s's runbook: %v", a.job, err)
		}
		for _, env := range []string{"dev", "prod"} {
			c, tpl := synth(t, env)
			must(t, env, func() {
				tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
					"Namespace":          metric.Namespace,
					"MetricName":         a.metric,
					"Dimensions":         []any{map[string]any{"Name": "Function", "Value": a.job}},
					"Statistic":          "Maximum",
					"Threshold":          0,
					"ComparisonOperator": "GreaterThanThreshold",
					"TreatMissingData":   "notBreaching",
					"AlarmActions":       assertions.Match_AnyValue(),
				})
			})
			found := false
			for _, r := range c.Resources {
				if d, _ := r.Properties["AlarmDescription"].(string); strings.Contains(d, a.about) && strings.Contains(d, a.runbook) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no alarm description about the %s names %s", env, a.about, a.runbook)
			}
		}
	}
}
