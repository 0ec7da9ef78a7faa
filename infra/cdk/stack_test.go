package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	m "github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/metric"
)

// cfn is a synthesized template as plain JSON, so most checks are ordinary Go.
type cfn struct {
	Resources map[string]resource
	Outputs   map[string]any
}

type resource struct {
	Type           string
	Metadata       map[string]any
	Properties     map[string]any
	DeletionPolicy string
	DependsOn      any // a logical id or a list of them (ordering checks: TestMigrateOnDeploy)
}

func (c cfn) ofType(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range c.Resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

var (
	synthOnce sync.Once
	synthed   map[string]cfn // by env
	synthAsrt map[string]assertions.Template
	synthOut  map[string]string // the cloud assembly directory (staged assets) by env
)

// consoleFixture stands in for web/console/dist (`make console`): an index.html, an asset and a
// local config.json that must not reach AWS (TestConsoleDeployment).
const consoleFixture = "testdata/console"

func testConfig(t testing.TB, env string) Config {
	t.Helper()
	c := Config{
		Env: env, AssetDir: placeholderAssets(t), AllowedOrigins: []string{"https://app.example.com"},
		MailFrom: "receipts@example.com", AppURL: "https://app.example.com",
		PricePro: "price_pro", PriceEnterprise: "price_ent", ParamPrefix: "/monetization/" + env,
		ConsoleDir: consoleFixture, // a stand-in for `make console`'s web/console/dist
	}
	if env == "prod" {
		c.PastDueGraceDays = "5" // dev leaves it unset: billing's default
	}
	return c
}

// placeholderAssets stands in for `make build`: an empty bootstrap per function.
func placeholderAssets(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cdk-assets-")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Functions {
		if err := os.MkdirAll(filepath.Join(dir, f.Name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name, "bootstrap"), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// synth builds the dev and prod stacks once for the whole test binary (each synth starts jsii).
func synth(t *testing.T, env string) (cfn, assertions.Template) {
	t.Helper()
	synthOnce.Do(func() {
		synthed, synthAsrt, synthOut = map[string]cfn{}, map[string]assertions.Template{}, map[string]string{}
		for _, e := range []string{"dev", "prod"} {
			cfg := testConfig(t, e)
			defer os.RemoveAll(cfg.AssetDir) // synthesis has copied the assets by then
			app := awscdk.NewApp(nil)
			stack := NewMonetizationStack(app, "Test-"+e, &MonetizationStackProps{Config: cfg})
			flat := flatten(t, stack) // the areas' nested stacks inlined
			tpl := assertions.Template_FromJSON(&flat, nil)
			raw, err := json.Marshal(flat)
			if err != nil {
				t.Fatal(err)
			}
			var c cfn
			if err := json.Unmarshal(raw, &c); err != nil {
				t.Fatal(err)
			}
			synthed[e], synthAsrt[e], synthOut[e] = c, tpl, *app.Outdir()
		}
	})
	c, ok := synthed[env]
	if !ok {
		t.Fatalf("synth of %s failed earlier", env)
	}
	return c, synthAsrt[env]
}

// must turns a jsii assertion panic into a test error.
func must(t *testing.T, name string, assert func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", name, r)
		}
	}()
	assert()
}

func TestFunctions(t *testing.T) {
	c, _ := synth(t, "dev")
	fns := c.ofType("AWS::Lambda::Function")
	// +2: the provider of the deploy's migrate trigger (migrations.go; TestMigrateOnDeploy checks it)
	// and CDK's BucketDeployment handler that uploads the console (console.go; TestConsoleDeployment).
	if len(fns) != len(m.Functions)+2 {
		t.Errorf("%d Lambda functions, manifest has %d, the trigger provider and the console deployment 2 (a helper construct added one?)", len(fns), len(m.Functions))
	}
	for _, f := range m.Functions {
		r, ok := fns[f.LogicalID()]
		if !ok {
			t.Errorf("no AWS::Lambda::Function with logical id %s", f.LogicalID())
			continue
		}
		p := r.Properties
		checkEq(t, f.Name+" Runtime", p["Runtime"], "provided.al2023")
		checkEq(t, f.Name+" Architectures", p["Architectures"], []any{"arm64"})
		checkEq(t, f.Name+" Handler", p["Handler"], "bootstrap")
		checkEq(t, f.Name+" Timeout", p["Timeout"], float64(f.Timeout()))
		checkEq(t, f.Name+" MemorySize", p["MemorySize"], float64(f.Memory()))
		env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
		checkEq(t, f.Name+" FUNCTION_NAME", env[m.EnvFunctionName], f.Name)
		checkEq(t, f.Name+" MAIL_TRANSPORT", env[m.EnvMailTransport], "ses")
		want := []string{m.EnvTable, m.EnvBucket, m.EnvMailFrom, m.EnvPricePro, m.EnvPriceEnterprise, m.EnvAllowedOrigins}
		want = append(want, f.SecretParamEnv()...)
		want = append(want, f.Env...)
		for _, q := range f.SendQueues() {
			want = append(want, q.EnvVar())
		}
		for _, q := range f.InspectedQueues() { // GET /admin/queues
			want = append(want, q.EnvVar(), q.DLQEnvVar())
		}
		for _, k := range want {
			if _, ok := env[k]; !ok {
				t.Errorf("%s: env var %s missing", f.Name, k)
			}
		}
		for _, secret := range []string{m.EnvStripeKey, m.EnvWebhookSecret, m.EnvCursorSecret, m.EnvLicenseKey} {
			if _, ok := env[secret]; ok {
				t.Errorf("%s: secret %s is in the environment; pass its SSM parameter name", f.Name, secret)
			}
		}
		if _, ok := env[m.EnvLicenseKeyParam]; ok != f.SigningKey {
			t.Errorf("%s: %s present=%v, manifest SigningKey=%v", f.Name, m.EnvLicenseKeyParam, ok, f.SigningKey)
		}
		checkEq(t, f.Name+" "+m.EnvSupportEmail, env[m.EnvSupportEmail], "receipts@example.com")
		if _, ok := env[m.EnvStripeKeyParam]; ok != f.Stripe {
			t.Errorf("%s: %s present=%v, manifest Stripe=%v", f.Name, m.EnvStripeKeyParam, ok, f.Stripe)
		}
	}
}

func TestRoutes(t *testing.T) {
	c, _ := synth(t, "dev")
	routes := map[string]map[string]any{}
	for _, r := range c.ofType("AWS::ApiGatewayV2::Route") {
		routes[r.Properties["RouteKey"].(string)] = r.Properties
	}
	http := m.Of(m.HTTP)
	if len(routes) != len(http) {
		t.Errorf("%d routes, manifest has %d HTTP functions", len(routes), len(http))
	}
	for _, f := range http {
		p, ok := routes[f.RouteKey()]
		if !ok {
			t.Errorf("no route %q", f.RouteKey())
			continue
		}
		want := "NONE"
		if f.NeedsJWT() {
			want = "JWT"
		}
		checkEq(t, f.RouteKey()+" AuthorizationType", p["AuthorizationType"], want)
		target, _ := json.Marshal(p["Target"])
		if !strings.Contains(string(target), m.Pascal(f.Name)+"Integration") {
			t.Errorf("%s targets %s, want %s's integration", f.RouteKey(), target, f.Name)
		}
	}
	for _, r := range c.ofType("AWS::ApiGatewayV2::Integration") {
		checkEq(t, "integration PayloadFormatVersion", r.Properties["PayloadFormatVersion"], "2.0")
	}
	api := c.Resources[m.HTTPAPILogicalID].Properties
	cors := api["CorsConfiguration"].(map[string]any)
	// The configured origins, then the console's distribution (console.go; TestConsoleCORSAndAudience).
	origins, _ := cors["AllowOrigins"].([]any)
	if len(origins) != 2 || origins[0] != "https://app.example.com" || !strings.Contains(jsonString(origins[1]), "ConsoleDistribution") {
		t.Errorf("CORS origins = %v, want https://app.example.com and the console's distribution", origins)
	}
	if cors["AllowCredentials"] == true {
		t.Error("CORS allows credentials")
	}
	auths := c.ofType("AWS::ApiGatewayV2::Authorizer")
	if len(auths) != 1 {
		t.Fatalf("%d authorizers, want 1 JWT authorizer", len(auths))
	}
	for _, a := range auths {
		checkEq(t, "authorizer type", a.Properties["AuthorizerType"], "JWT")
		groups := c.ofType("AWS::Cognito::UserPoolGroup")
		var names []string
		for _, g := range groups {
			names = append(names, g.Properties["GroupName"].(string))
		}
		sort.Strings(names)
		checkEq(t, "user pool groups", names, []string{"admin", "instructor", "support"})
	}
}

func TestQueues(t *testing.T) {
	c, tpl := synth(t, "dev")
	for _, q := range m.Queues {
		r, ok := c.Resources[q.LogicalID()]
		if !ok {
			t.Errorf("no queue %s", q.LogicalID())
			continue
		}
		checkEq(t, q.Name+" VisibilityTimeout", r.Properties["VisibilityTimeout"], float64(q.VisibilitySeconds))
		rp, _ := r.Properties["RedrivePolicy"].(map[string]any)
		checkEq(t, q.Name+" maxReceiveCount", rp["maxReceiveCount"], float64(q.MaxReceiveCount))
		dlqArn, _ := json.Marshal(rp["deadLetterTargetArn"])
		if !strings.Contains(string(dlqArn), q.DLQLogicalID()) {
			t.Errorf("%s redrives to %s, want %s", q.Name, dlqArn, q.DLQLogicalID())
		}
	}
	for _, f := range m.Of(m.Queue) {
		must(t, f.Name+" event source mapping", func() {
			tpl.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
				"FunctionName":          map[string]any{"Ref": f.LogicalID()},
				"BatchSize":             f.Trigger.BatchSize,
				"FunctionResponseTypes": []string{"ReportBatchItemFailures"},
				"EventSourceArn": map[string]any{"Fn::GetAtt": []string{
					mustQueue(t, f.Trigger.Queue).LogicalID(), "Arn"}},
			})
		})
	}
	if n := len(c.ofType("AWS::Lambda::EventSourceMapping")); n != len(m.Of(m.Queue)) {
		t.Errorf("%d event source mappings, manifest has %d queue consumers", n, len(m.Of(m.Queue)))
	}
	if n := len(c.ofType("AWS::CloudWatch::Alarm")); n < len(m.Queues)+2 {
		t.Errorf("%d alarms, want one per DLQ + API 5xx + webhook errors", n)
	}
	for _, q := range m.Queues {
		found := false
		for _, a := range c.ofType("AWS::CloudWatch::Alarm") {
			dims, _ := json.Marshal(a.Properties["Dimensions"])
			found = found || a.Properties["MetricName"] == "ApproximateNumberOfMessagesVisible" &&
				a.Properties["Threshold"] == 0.0 && a.Properties["ComparisonOperator"] == "GreaterThanThreshold" &&
				strings.Contains(string(dims), `"`+q.DLQLogicalID()+`"`) && a.Properties["AlarmActions"] != nil
		}
		if !found {
			t.Errorf("no alarm (visible messages > 0, notifying SNS) on %s", q.DLQName())
		}
	}
}

// Callers that only retry (Stripe, the scheduler) get alarms on the function's failures; the
// webhook also on its 5xx answers, which are responses, not Lambda errors.
func TestRetryOnlyCallersHaveAlarms(t *testing.T) {
	c, _ := synth(t, "dev")
	has := func(metric, fnLogicalID string) bool {
		for _, a := range c.ofType("AWS::CloudWatch::Alarm") {
			dims, _ := json.Marshal(a.Properties["Dimensions"])
			if a.Properties["MetricName"] == metric && strings.Contains(string(dims), `"`+fnLogicalID+`"`) && a.Properties["AlarmActions"] != nil {
				return true
			}
		}
		return false
	}
	for _, f := range m.Functions {
		switch f.Trigger.Kind {
		case m.FunctionURL:
			if !has("Errors", f.LogicalID()) || !has("Url5xxCount", f.LogicalID()) {
				t.Errorf("%s: want Errors and Url5xxCount alarms", f.Name)
			}
		case m.Schedule:
			if !has("Errors", f.LogicalID()) {
				t.Errorf("%s: want an Errors alarm", f.Name)
			}
		}
	}
}

// Payments' EMF metrics have alarms, on the metric the function actually emits (namespace, name and
// the Function dimension shared/metric writes).
func TestPaymentsMetricAlarms(t *testing.T) {
	c, _ := synth(t, "dev")
	for _, want := range []struct{ function, name, statistic string }{
		{m.StripeWebhook, metric.UnmatchedRefunds, "Sum"},
		{m.ResolveRefunds, metric.StuckRefundReservations, "Maximum"},
	} {
		found := false
		for _, a := range c.ofType("AWS::CloudWatch::Alarm") {
			dims, _ := json.Marshal(a.Properties["Dimensions"])
			found = found || a.Properties["Namespace"] == metric.Namespace && a.Properties["MetricName"] == want.name &&
				a.Properties["Statistic"] == want.statistic && a.Properties["Threshold"] == 0.0 &&
				string(dims) == `[{"Name":"Function","Value":"`+want.function+`"}]` && a.Properties["AlarmActions"] != nil
		}
		if !found {
			t.Errorf("no alarm on %s from %s", want.name, want.function)
		}
	}
}

func mustQueue(t *testing.T, name string) m.QueueDef {
	q, ok := m.QueueByName(name)
	if !ok {
		t.Fatalf("manifest has no queue %q", name)
	}
	return q
}

func TestTableAndBucket(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		c, _ := synth(t, env)
		table, ok := c.Resources[m.TableLogicalName]
		if !ok {
			t.Fatalf("%s: no table %s", env, m.TableLogicalName)
		}
		p := table.Properties
		checkEq(t, "BillingMode", p["BillingMode"], "PAY_PER_REQUEST")
		checkEq(t, "PITR", p["PointInTimeRecoverySpecification"].(map[string]any)["PointInTimeRecoveryEnabled"], true)
		checkEq(t, "TTL", p["TimeToLiveSpecification"], map[string]any{"AttributeName": m.AttrTTL, "Enabled": true})
		gsis := map[string]any{}
		for _, g := range p["GlobalSecondaryIndexes"].([]any) {
			g := g.(map[string]any)
			gsis[g["IndexName"].(string)] = g
		}
		for _, ix := range m.Indexes {
			checkEq(t, ix.Name, gsis[ix.Name], map[string]any{
				"IndexName": ix.Name,
				"KeySchema": []any{
					map[string]any{"AttributeName": ix.PK, "KeyType": "HASH"},
					map[string]any{"AttributeName": ix.SK, "KeyType": "RANGE"},
				},
				"Projection": map[string]any{"ProjectionType": "ALL"},
			})
		}
		wantPolicy := map[string]string{"dev": "Delete", "prod": "Retain"}[env]
		checkEq(t, env+" table DeletionPolicy", table.DeletionPolicy, wantPolicy)

		b := c.Resources[m.BucketLogicalID].Properties
		checkEq(t, "bucket public access", b["PublicAccessBlockConfiguration"], map[string]any{
			"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
		})
		checkEq(t, "bucket versioning", b["VersioningConfiguration"], map[string]any{"Status": "Enabled"})
		snapshots, exports, receipts := false, false, false
		oldVersions := map[string]bool{}
		for _, r := range b["LifecycleConfiguration"].(map[string]any)["Rules"].([]any) {
			r := r.(map[string]any)
			if nv, ok := r["NoncurrentVersionExpiration"].(map[string]any); ok {
				// Old versions expire per data prefix, never bucket-wide (the audit seals keep theirs).
				p, _ := r["Prefix"].(string)
				if p == "" || p == m.AuditSealPrefix || nv["NoncurrentDays"] != float64(m.NoncurrentVersionDays) {
					t.Errorf("%s: old-version rule %v", env, r)
				}
				oldVersions[p] = true
			}
			snapshots = snapshots || r["Prefix"] == m.CatalogSnapshotPrefix && r["ExpirationInDays"] == float64(m.CatalogSnapshotDays)
			exports = exports || r["Prefix"] == m.ExportsPrefix && r["ExpirationInDays"] == float64(m.ExportsDays)
			receipts = receipts || r["Prefix"] == m.ReceiptsPrefix && r["ExpirationInDays"] == float64(m.ReceiptsDays)
		}
		for _, p := range m.VersionPrefixes {
			if !oldVersions[p] {
				t.Errorf("%s: no old-version rule for %s", env, p)
			}
		}
		if !snapshots {
			t.Errorf("%s: no lifecycle rule expiring %s after %d days", env, m.CatalogSnapshotPrefix, m.CatalogSnapshotDays)
		}
		if !exports { // personal-data exports' retention (docs/privacy.md)
			t.Errorf("%s: no lifecycle rule expiring %s after %d days", env, m.ExportsPrefix, m.ExportsDays)
		}
		if !receipts { // receipts' retention (docs/privacy.md)
			t.Errorf("%s: no lifecycle rule expiring %s after %d days", env, m.ReceiptsPrefix, m.ReceiptsDays)
		}
		policies := 0 // the console bucket has its own (TestConsoleBucketPrivateWithOAC)
		for _, p := range c.ofType("AWS::S3::BucketPolicy") {
			if jsonEq(p.Properties["Bucket"], map[string]any{"Ref": m.BucketLogicalID}) {
				policies++
			}
		}
		if policies != 1 {
			t.Errorf("%s: want one bucket policy (enforceSSL) on %s, got %d", env, m.BucketLogicalID, policies)
		}
	}
}

func TestSchedulesAndFunctionURL(t *testing.T) {
	c, _ := synth(t, "dev")
	scheds := c.ofType("AWS::Scheduler::Schedule")
	if len(scheds) != len(m.Of(m.Schedule)) {
		t.Errorf("%d schedules, manifest has %d", len(scheds), len(m.Of(m.Schedule)))
	}
	for _, f := range m.Of(m.Schedule) {
		s, ok := scheds[m.Pascal(f.Name)+"Schedule"]
		if !ok {
			t.Errorf("no schedule for %s", f.Name)
			continue
		}
		checkEq(t, f.Name+" expression", s.Properties["ScheduleExpression"], f.Trigger.Expression)
		checkEq(t, f.Name+" window", s.Properties["FlexibleTimeWindow"], map[string]any{"Mode": "OFF"})
		target := s.Properties["Target"].(map[string]any)
		checkEq(t, f.Name+" target", target["Arn"], map[string]any{"Fn::GetAtt": []any{f.LogicalID(), "Arn"}})
		checkEq(t, f.Name+" input", target["Input"], f.ScheduleInput())
	}
	urls := c.ofType("AWS::Lambda::Url")
	if len(urls) != len(m.Of(m.FunctionURL)) {
		t.Errorf("%d function URLs, manifest has %d", len(urls), len(m.Of(m.FunctionURL)))
	}
	for _, f := range m.Of(m.FunctionURL) {
		found := false
		for _, u := range urls {
			if u.Properties["AuthType"] == "NONE" &&
				jsonEq(u.Properties["TargetFunctionArn"], map[string]any{"Fn::GetAtt": []any{f.LogicalID(), "Arn"}}) {
				found = true
			}
		}
		if !found {
			t.Errorf("no function URL with AuthType NONE for %s", f.Name)
		}
		if _, ok := c.Outputs[m.Pascal(f.Name)+"Url"]; !ok {
			t.Errorf("no output for %s's URL", f.Name)
		}
	}
	for _, o := range []string{"ApiUrl", "UserPoolId", "UserPoolClientId", "TableName"} {
		if _, ok := c.Outputs[o]; !ok {
			t.Errorf("no output %s", o)
		}
	}
}

func checkEq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !jsonEq(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("%s = %s, want %s", what, g, w)
	}
}

func jsonString(v any) string {
	x, _ := json.Marshal(v)
	return string(x)
}

func jsonEq(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// The support agents' Cognito group exists (the agents' routes check it), and the API's CORS allows
// PATCH (the license and ticket updates).
func TestSupportGroupAndPatch(t *testing.T) {
	c, _ := synth(t, "dev")
	groups := map[string]bool{}
	for _, r := range c.ofType("AWS::Cognito::UserPoolGroup") {
		groups[r.Properties["GroupName"].(string)] = true
	}
	checkEq(t, "groups", groups, map[string]bool{"admin": true, "instructor": true, m.GroupSupport: true})
	if _, ok := c.Resources["SupportGroup"]; !ok {
		t.Error("no SupportGroup (the logical id template.yaml uses)")
	}
	var methods []any
	for _, r := range c.ofType("AWS::ApiGatewayV2::Api") {
		methods, _ = r.Properties["CorsConfiguration"].(map[string]any)["AllowMethods"].([]any)
	}
	found := false
	for _, x := range methods {
		found = found || x == "PATCH"
	}
	if !found {
		t.Errorf("CORS methods %v lack PATCH", methods)
	}
}
