package main

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	m "github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/metric"
)

// The CDK side of billing: the duplicate-subscription alarm, PAST_DUE_GRACE_DAYS, and no production
// stack without the web app's public URL.

func TestDuplicateLiveSubscriptionsAlarm(t *testing.T) {
	if _, ok := m.ByName(billingCycle); !ok {
		t.Fatalf("the alarm watches %q, which the manifest does not declare", billingCycle)
	}
	for _, env := range []string{"dev", "prod"} {
		_, tpl := synth(t, env)
		must(t, env, func() {
			tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
				"Namespace":          metric.Namespace,
				"MetricName":         metric.DuplicateLiveSubscriptions,
				"Dimensions":         []any{map[string]any{"Name": "Function", "Value": "billing-cycle"}},
				"Statistic":          "Maximum",
				"Period":             3600,
				"Threshold":          0,
				"ComparisonOperator": "GreaterThanThreshold",
				"EvaluationPeriods":  1,
				"TreatMissingData":   "notBreaching",
				"AlarmActions":       assertions.Match_AnyValue(),
			})
		})
	}
}

func TestPastDueGraceDaysReachesTheFunctions(t *testing.T) {
	for env, want := range map[string]any{"dev": nil, "prod": "5"} {
		c, _ := synth(t, env)
		for _, f := range m.Functions {
			vars := c.Resources[f.LogicalID()].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
			if got := vars[m.EnvPastDueGraceDays]; got != want {
				t.Errorf("%s %s: %s = %v, want %v", env, f.Name, m.EnvPastDueGraceDays, got, want)
			}
		}
	}
}

// What `cdk synth -c env=prod` runs (main → buildApp): without appURL, or with cdk.json's localhost
// default, it stops with a message naming the setting and adds no stack.
func TestProdSynthWithoutAppURLFails(t *testing.T) {
	assets := placeholderAssets(t)
	base := map[string]any{"env": "prod", "assetDir": assets, "consoleDir": consoleFixture, "allowedOrigins": "https://app.example.com",
		"mailFrom": "receipts@example.com", "stripePricePro": "price_1", "stripePriceEnterprise": "price_2"}
	for name, tc := range map[string]struct {
		appURL any // nil: absent
		want   string
	}{
		"Absent":           {nil, "appURL is required"},
		"Empty":            {"", "appURL is required"},
		"CdkJSONLocalhost": {"http://localhost:5173", "prod appURL \"http://localhost:5173\" must be the web app's public https URL"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := map[string]any{}
			for k, v := range base {
				ctx[k] = v
			}
			if tc.appURL != nil {
				ctx["appURL"] = tc.appURL
			}
			app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
			stack, err := buildApp(app)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if stack != nil || len(*app.Node().Children()) != 0 {
				t.Fatalf("a stack was added: %v", stack)
			}
		})
	}
	t.Run("StackRefusesAnInvalidConfig", func(t *testing.T) {
		cfg := testConfig(t, "prod")
		cfg.AppURL = ""
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "appURL is required") {
				t.Fatalf("recovered %v, want a panic naming appURL", r)
			}
		}()
		NewMonetizationStack(awscdk.NewApp(nil), "Test-invalid", &MonetizationStackProps{Config: cfg})
	})
	t.Run("ValidProdBuilds", func(t *testing.T) {
		ctx := map[string]any{"appURL": "https://app.example.com"}
		for k, v := range base {
			ctx[k] = v
		}
		if _, err := buildApp(awscdk.NewApp(&awscdk.AppProps{Context: &ctx})); err != nil {
			t.Fatal(err)
		}
	})
}

// The marketplace's money alarms watch the metrics their functions emit, on functions the manifest
// declares.
func TestMarketplaceMoneyAlarms(t *testing.T) {
	_, tpl := synth(t, "dev")
	for name, function := range map[string]string{metric.CourseSalesRejected: m.StripeWebhook,
		metric.DuplicateRefundsRefused: m.StripeWebhook, metric.ReleaseTruncated: "release-earnings"} {
		if _, ok := m.ByName(function); !ok {
			t.Fatalf("%s is watched on %q, which the manifest does not declare", name, function)
		}
		must(t, name, func() {
			tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
				"Namespace": metric.Namespace, "MetricName": name, "Statistic": "Sum", "Threshold": 0,
				"Dimensions":         []any{map[string]any{"Name": "Function", "Value": function}},
				"ComparisonOperator": "GreaterThanThreshold", "AlarmActions": assertions.Match_AnyValue(),
			})
		})
	}
}

// The entry points' refusals are watched: Connect events refused at the webhook, and each
// rate-limited route's 429s.
func TestRefusalAlarms(t *testing.T) {
	_, tpl := synth(t, "dev")
	watch := map[string]float64{m.StripeWebhook + "/" + metric.WebhookEventsRefused: RefusedConnectEventsPerHour}
	for _, f := range m.Functions {
		if f.RateLimit != nil {
			watch[f.Name+"/"+metric.RateLimited] = RateLimitedPer5Min
		}
	}
	if len(watch) < 6 {
		t.Fatalf("expected the webhook and at least five rate-limited routes, got %v", watch)
	}
	for key, threshold := range watch {
		function, name, _ := strings.Cut(key, "/")
		must(t, key, func() {
			tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
				"Namespace": metric.Namespace, "MetricName": name, "Statistic": "Sum", "Threshold": threshold,
				"Dimensions":         []any{map[string]any{"Name": "Function", "Value": function}},
				"ComparisonOperator": "GreaterThanThreshold", "AlarmActions": assertions.Match_AnyValue(),
			})
		})
	}
}

// The user pool keeps a user's verified address until a new one is verified: an unverified address
// never replaces it in the token (issue 14, item 1).
func TestUserPoolKeepsTheVerifiedEmail(t *testing.T) {
	_, tpl := synth(t, "prod")
	must(t, "prod", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Cognito::UserPool"), map[string]any{
			"UserAttributeUpdateSettings": map[string]any{"AttributesRequireVerificationBeforeUpdate": []any{"email"}},
			"AutoVerifiedAttributes":      []any{"email"},
		})
	})
}
