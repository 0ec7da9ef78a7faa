package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	m "github.com/liberation/monetization/shared/manifest"
)

// The Stripe webhook's URL is capped by reserved concurrency (a flood is throttled at it instead of
// taking the account's concurrency from the other functions), and no other function reserves any.
func TestWebhookReservedConcurrency(t *testing.T) {
	if m.WebhookReservedConcurrency <= 0 || m.WebhookReservedConcurrency > 100 {
		t.Fatalf("WebhookReservedConcurrency = %d; decision 0078 sizes it at a few tens", m.WebhookReservedConcurrency)
	}
	for _, env := range []string{"dev", "prod"} {
		c, _ := synth(t, env)
		fns := c.ofType("AWS::Lambda::Function")
		for _, f := range m.Functions {
			got, set := fns[f.LogicalID()].Properties["ReservedConcurrentExecutions"]
			switch {
			case f.Name == m.StripeWebhook:
				checkEq(t, env+" "+f.Name+" ReservedConcurrentExecutions", got, float64(m.WebhookReservedConcurrency))
			case set:
				t.Errorf("%s %s reserves %v executions; only the public webhook URL should (decision 0078)", env, f.Name, got)
			}
		}
	}
}

// The webhook alarms on its invocation rate and on any throttle, to the alarm topic.
func TestWebhookFloodAlarms(t *testing.T) {
	c, _ := synth(t, "dev")
	alarms := c.ofType("AWS::CloudWatch::Alarm")
	webhook := m.Pascal(m.StripeWebhook) + "Function"
	for _, want := range []struct {
		id, metric string
		threshold  float64
	}{
		{webhook + "InvocationsAlarm", "Invocations", WebhookInvocationsPer5Min},
		{webhook + "ThrottlesAlarm", "Throttles", 0},
	} {
		var a resource
		ok := false
		for id, r := range alarms { // CDK suffixes the construct id with a hash
			if strings.HasPrefix(id, want.id) {
				a, ok = r, true
			}
		}
		if !ok {
			t.Errorf("no alarm %s", want.id)
			continue
		}
		p := a.Properties
		checkEq(t, want.id+" Namespace", p["Namespace"], "AWS/Lambda")
		checkEq(t, want.id+" MetricName", p["MetricName"], want.metric)
		checkEq(t, want.id+" Statistic", p["Statistic"], "Sum")
		checkEq(t, want.id+" Period", p["Period"], float64(300))
		checkEq(t, want.id+" Threshold", p["Threshold"], want.threshold)
		checkEq(t, want.id+" ComparisonOperator", p["ComparisonOperator"], "GreaterThanThreshold")
		checkEq(t, want.id+" Dimensions", p["Dimensions"], []any{map[string]any{"Name": "FunctionName", "Value": map[string]any{"Ref": webhook}}})
		if actions, _ := p["AlarmActions"].([]any); len(actions) != 1 {
			t.Errorf("%s AlarmActions = %v, want the alarm topic", want.id, p["AlarmActions"])
		}
		if d, _ := p["AlarmDescription"].(string); !strings.Contains(d, "docs/runbooks/webhook-flood.md") {
			t.Errorf("%s description %q names no runbook", want.id, d)
		}
	}
	if _, err := os.Stat("../../docs/runbooks/webhook-flood.md"); err != nil {
		t.Errorf("the alarms' runbook: %v", err)
	}
}

// Every log group (each function's, the HTTP API's access log and the console deployment's) has a
// retention: a month in dev, three in prod; every function logs to its own group.
func TestLogGroupsHaveRetention(t *testing.T) {
	for env, days := range map[string]float64{"dev": 30, "prod": 90} {
		c, _ := synth(t, env)
		groups := c.ofType("AWS::Logs::LogGroup")
		if len(groups) != len(m.Functions)+2 {
			t.Errorf("%s: %d log groups, want one per function (%d), the access log and the console deployment's", env, len(groups), len(m.Functions))
		}
		for id, fn := range c.ofType("AWS::Lambda::Function") { // console.go: CDK's BucketDeployment handler
			if strings.HasPrefix(id, "CustomCDKBucketDeployment") {
				ref, _ := at(fn.Properties, "LoggingConfig", "LogGroup", "Ref").(string)
				if _, ok := groups[ref]; !ok || !strings.HasPrefix(ref, "ConsoleDeploymentLogs") {
					t.Errorf("%s: the console deployment logs to %q", env, ref)
				}
			}
		}
		for id, g := range groups {
			checkEq(t, env+" "+id+" RetentionInDays", g.Properties["RetentionInDays"], days)
		}
		if _, ok := groups[AccessLogsLogicalID]; !ok {
			t.Errorf("%s: no access log group %s", env, AccessLogsLogicalID)
		}
		fns := c.ofType("AWS::Lambda::Function")
		for _, f := range m.Functions {
			ref, _ := at(fns[f.LogicalID()].Properties, "LoggingConfig", "LogGroup", "Ref").(string)
			if _, ok := groups[ref]; !ok {
				t.Errorf("%s %s logs to %q, not to one of the stack's log groups (which have a retention)", env, f.Name, ref)
			}
		}
	}
}

// The HTTP API writes one JSON access log line per request with the fields operators need and
// nothing a caller sent; template.yaml writes the same.
func TestHTTPAPIAccessLogs(t *testing.T) {
	c, _ := synth(t, "dev")
	var stage map[string]any
	for _, s := range c.ofType("AWS::ApiGatewayV2::Stage") {
		stage = s.Properties
	}
	checkEq(t, "AccessLogSettings.DestinationArn", at(stage, "AccessLogSettings", "DestinationArn"),
		map[string]any{"Fn::GetAtt": []any{AccessLogsLogicalID, "Arn"}})
	format, _ := at(stage, "AccessLogSettings", "Format").(string)
	checkAccessLogFormat(t, format)

	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "Format: '"+AccessLogFormat+"'") {
		t.Error("template.yaml's HttpApi AccessLogSettings.Format differs from AccessLogFormat (shared/manifest/gen/sam/static.yaml)")
	}
}

func checkAccessLogFormat(t *testing.T, format string) {
	t.Helper()
	var fields map[string]string
	if err := json.Unmarshal([]byte(format), &fields); err != nil {
		t.Fatalf("access log format is not one JSON object: %v (%s)", err, format)
	}
	for key, variable := range map[string]string{
		"requestId": "$context.requestId", "routeKey": "$context.routeKey", "status": "$context.status",
		"responseLatency": "$context.responseLatency", "integrationError": "$context.integrationErrorMessage",
	} {
		checkEq(t, "access log field "+key, fields[key], variable)
	}
	// Nothing the caller sent: headers (tokens), bodies, query strings, paths, addresses, identities.
	forbidden := regexp.MustCompile(`(?i)\$request\.|\$input|header|querystring|authorization|\$context\.path|identity|\$context\.authorizer\.(claims|jwt)`)
	for key, variable := range fields {
		if forbidden.MatchString(variable) {
			t.Errorf("access log field %s = %s logs what the caller sent", key, variable)
		}
	}
}

// The user pool offers TOTP MFA, optional per user, and no SMS.
func TestUserPoolOffersTOTP(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		c, _ := synth(t, env)
		for id, p := range c.ofType("AWS::Cognito::UserPool") {
			checkEq(t, env+" "+id+" MfaConfiguration", p.Properties["MfaConfiguration"], "OPTIONAL")
			checkEq(t, env+" "+id+" EnabledMfas", p.Properties["EnabledMfas"], []any{"SOFTWARE_TOKEN_MFA"})
		}
	}
}

// Every scanner suppression sits on its resource with a reason (make lint's checkov fails on any
// other finding); every function carries its own.
func TestScannerSuppressionsExplained(t *testing.T) {
	c, _ := synth(t, "dev")
	id := regexp.MustCompile(`^CKV2?_AWS_[0-9]+$`)
	for rid, r := range c.Resources {
		skips, _ := at(r.Metadata, "checkov", "skip").([]any)
		for _, s := range skips {
			sid, _ := at(s, "id").(string)
			comment, _ := at(s, "comment").(string)
			if !id.MatchString(sid) || len(strings.Fields(comment)) < 8 {
				t.Errorf("%s: suppression %v has no check id or no reason", rid, s)
			}
		}
	}
	for _, f := range m.Functions {
		skips, _ := at(c.Resources[f.LogicalID()].Metadata, "checkov", "skip").([]any)
		if len(skips) != len(f.ScanSkips()) {
			t.Errorf("%s: %d suppressions, the manifest gives %d", f.Name, len(skips), len(f.ScanSkips()))
		}
	}
}

// at walks nested maps: at(x, "a", "b") is x["a"]["b"] or nil.
func at(v any, path ...string) any {
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}
