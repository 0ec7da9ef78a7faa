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

// The reconciliation alarm: on the reconcile job's ReconciliationDifferences metric, above 0,
// linked to a runbook that exists.
func TestReconciliationDifferencesAlarm(t *testing.T) {
	f, ok := m.ByName(reconcileJob)
	if !ok || f.Trigger.Kind != m.Schedule {
		t.Fatalf("the alarm watches %q, which the manifest does not declare as a job", reconcileJob)
	}
	const runbook = "docs/runbooks/reconciliation-difference.md"
	if _, err := os.Stat(filepath.Join("..", "..", runbook)); err != nil {
		t.Fatalf("the alarm's runbook: %v", err)
	}
	for _, env := range []string{"dev", "prod"} {
		c, tpl := synth(t, env)
		must(t, env, func() {
			tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
				"Namespace":          metric.Namespace,
				"MetricName":         metric.ReconciliationDifferences,
				"Dimensions":         []any{map[string]any{"Name": "Function", "Value": reconcileJob}},
				"Statistic":          "Maximum",
				"Threshold":          0,
				"ComparisonOperator": "GreaterThanThreshold",
				"TreatMissingData":   "notBreaching",
				"AlarmActions":       assertions.Match_AnyValue(),
			})
		})
		desc, _ := c.Resources["ReconciliationDifferencesAlarm"].Properties["AlarmDescription"].(string)
		if desc == "" {
			for _, r := range c.Resources {
				if d, _ := r.Properties["AlarmDescription"].(string); strings.Contains(d, "reconciliation with Stripe") {
					desc = d
				}
			}
		}
		if !strings.Contains(desc, runbook) {
			t.Errorf("%s: the alarm's description %q does not name %s", env, desc, runbook)
		}
	}
}
