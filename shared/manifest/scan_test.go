package manifest_test

import (
	"fmt"
	"strings"
	"testing"

	m "github.com/liberation/monetization/shared/manifest"
)

// template.yaml reserves the webhook's concurrency as the manifest says, and nobody else's.
func TestTemplateReservedConcurrency(t *testing.T) {
	tpl := loadTemplate(t)
	for _, f := range m.Functions {
		got, set := tpl.Resources[f.LogicalID()].Properties["ReservedConcurrentExecutions"]
		switch {
		case f.ReservedConcurrency > 0:
			eq(t, f.Name+" ReservedConcurrentExecutions", got, f.ReservedConcurrency)
		case set:
			t.Errorf("%s reserves %v executions; the manifest reserves none", f.Name, got)
		}
	}
	wh, _ := m.ByName(m.StripeWebhook)
	eq(t, "stripe-webhook ReservedConcurrency", wh.ReservedConcurrency, m.WebhookReservedConcurrency)
}

// Every scanner suppression in template.yaml carries a check id and a reason; each function's are
// the manifest's (the CDK stack attaches the same).
func TestTemplateScannerSuppressionsExplained(t *testing.T) {
	tpl := loadTemplate(t)
	for id, r := range tpl.Resources {
		skips, _ := at(r.Metadata, "checkov", "skip").([]any)
		for _, s := range skips {
			sid, _ := at(s, "id").(string)
			comment, _ := at(s, "comment").(string)
			if !strings.HasPrefix(sid, "CKV") || len(strings.Fields(comment)) < 8 {
				t.Errorf("%s: suppression %v has no check id or no reason", id, s)
			}
		}
	}
	for _, f := range m.Functions {
		var got []string
		skips, _ := at(tpl.Resources[f.LogicalID()].Metadata, "checkov", "skip").([]any)
		for _, s := range skips {
			got = append(got, fmt.Sprint(at(s, "id"), ": ", at(s, "comment")))
		}
		var want []string
		for _, s := range f.ScanSkips() {
			want = append(want, s.ID+": "+s.Comment)
		}
		eq(t, f.Name+" checkov skips", got, want)
	}
}

// A function that reserves concurrency needs no suppression of the concurrency check; every other
// one explains why it draws on the shared pool.
func TestScanSkipsFollowTheManifest(t *testing.T) {
	for _, f := range m.Functions {
		has := false
		for _, s := range f.ScanSkips() {
			has = has || s.ID == m.CheckLambdaConcurrency
		}
		if has == (f.ReservedConcurrency > 0) {
			t.Errorf("%s: concurrency check suppressed = %v with ReservedConcurrency %d", f.Name, has, f.ReservedConcurrency)
		}
	}
}

// The SAM template's user pool offers TOTP MFA, and its HTTP API logs to a group with a retention.
func TestTemplateMFAAndAccessLogs(t *testing.T) {
	tpl := loadTemplate(t)
	pool := tpl.Resources["UserPool"].Properties
	eq(t, "UserPool MfaConfiguration", pool["MfaConfiguration"], "OPTIONAL")
	eq(t, "UserPool EnabledMfas", pool["EnabledMfas"], []any{"SOFTWARE_TOKEN_MFA"})
	api := tpl.Resources[m.HTTPAPILogicalID].Properties
	eq(t, "HttpApi AccessLogSettings.DestinationArn", at(api, "AccessLogSettings", "DestinationArn", "Fn::GetAtt"),
		[]any{"HttpApiAccessLogs", "Arn"})
	logs := tpl.Resources["HttpApiAccessLogs"]
	eq(t, "HttpApiAccessLogs Type", logs.Type, "AWS::Logs::LogGroup")
	if days, _ := logs.Properties["RetentionInDays"].(int); days <= 0 {
		t.Errorf("HttpApiAccessLogs RetentionInDays = %v, want a retention", logs.Properties["RetentionInDays"])
	}
}
