package manifest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	m "github.com/liberation/monetization/shared/manifest"
)

// repoRoot is where template.yaml, events/ and functions/ live, relative to this package.
const repoRoot = "../.."

// samTemplate is template.yaml as plain maps (long-form intrinsics only, so yaml.v3 reads it).
type samTemplate struct {
	Transform string `yaml:"Transform"`
	Globals   struct {
		Function map[string]any `yaml:"Function"`
	} `yaml:"Globals"`
	Resources map[string]struct {
		Type       string         `yaml:"Type"`
		Metadata   map[string]any `yaml:"Metadata"`
		Properties map[string]any `yaml:"Properties"`
	} `yaml:"Resources"`
}

func loadTemplate(t *testing.T) samTemplate {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tpl samTemplate
	if err := yaml.Unmarshal(raw, &tpl); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	return tpl
}

// at walks nested maps: at(x, "Properties", "Events") is x["Properties"]["Events"] or nil.
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

// prop is a function property, falling back to Globals.Function as SAM does.
func (tpl samTemplate) prop(props map[string]any, name string) any {
	if v, ok := props[name]; ok {
		return v
	}
	return tpl.Globals.Function[name]
}

// env merges the global and the function's environment variables.
func (tpl samTemplate) env(props map[string]any) map[string]any {
	out := map[string]any{}
	for _, src := range []any{at(tpl.Globals.Function, "Environment", "Variables"), at(props, "Environment", "Variables")} {
		if vars, ok := src.(map[string]any); ok {
			for k, v := range vars {
				out[k] = v
			}
		}
	}
	return out
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestTemplateMatchesManifest(t *testing.T) {
	tpl := loadTemplate(t)
	eq(t, "Transform", tpl.Transform, "AWS::Serverless-2016-10-31")
	for _, f := range m.Functions {
		t.Run(f.Name, func(t *testing.T) {
			r, ok := tpl.Resources[f.LogicalID()]
			if !ok || r.Type != "AWS::Serverless::Function" {
				t.Fatalf("no AWS::Serverless::Function %s", f.LogicalID())
			}
			p := r.Properties
			eq(t, "BuildMethod", r.Metadata["BuildMethod"], "go1.x")
			eq(t, "CodeUri", p["CodeUri"], f.CodeDir())
			// Its own log group, with a retention (Lambda's default group keeps logs forever).
			logs, ok := tpl.Resources[f.LogicalID()+"Logs"]
			if !ok || logs.Type != "AWS::Logs::LogGroup" {
				t.Fatalf("no AWS::Logs::LogGroup %sLogs", f.LogicalID())
			}
			if days, _ := logs.Properties["RetentionInDays"].(int); days <= 0 {
				t.Errorf("%sLogs RetentionInDays = %v, want a retention", f.LogicalID(), logs.Properties["RetentionInDays"])
			}
			eq(t, "LoggingConfig.LogGroup", fmt.Sprint(p["LoggingConfig"]), fmt.Sprint(map[string]any{"LogGroup": map[string]any{"Ref": f.LogicalID() + "Logs"}}))
			eq(t, "Runtime", tpl.prop(p, "Runtime"), "provided.al2023")
			eq(t, "Architectures", tpl.prop(p, "Architectures"), []any{"arm64"})
			eq(t, "Handler", tpl.prop(p, "Handler"), "bootstrap")
			eq(t, "Timeout", tpl.prop(p, "Timeout"), f.Timeout())
			eq(t, "MemorySize", tpl.prop(p, "MemorySize"), f.Memory())
			checkEnv(t, f, tpl.env(p))
			checkTrigger(t, f, p)
			eq(t, "policy actions", policyActions(t, p["Policies"]), wantSAMActions(f))
		})
	}
	for id, r := range tpl.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		if _, ok := m.ByName(strings.TrimPrefix(fmt.Sprint(r.Properties["CodeUri"]), "functions/")); !ok {
			t.Errorf("template function %s (%v) is not in the manifest", id, r.Properties["CodeUri"])
		}
	}
}

func checkEnv(t *testing.T, f m.Function, env map[string]any) {
	t.Helper()
	eq(t, "FUNCTION_NAME", env[m.EnvFunctionName], f.Name)
	eq(t, "MAIL_TRANSPORT", env[m.EnvMailTransport], "ses")
	want := map[string]bool{m.EnvTable: true, m.EnvBucket: true, m.EnvMailFrom: true, m.EnvPricePro: true, m.EnvAllowedOrigins: true,
		m.EnvPriceEnterprise: true, m.EnvCursorSecretName: f.Cursors, m.EnvPastDueGraceDays: true,
		m.EnvStripeKeyParam: f.Stripe, m.EnvWebhookParam: f.WebhookSecret, m.EnvLicenseKeyParam: f.SigningKey,
		m.EnvSupportEmail: true}
	for _, q := range m.Queues {
		want[q.EnvVar()] = false
		want[q.DLQEnvVar()] = false
	}
	for _, q := range f.SendQueues() {
		want[q.EnvVar()] = true
	}
	for _, q := range f.InspectedQueues() { // GET /admin/queues reads each queue's and DLQ's depth
		want[q.EnvVar()], want[q.DLQEnvVar()] = true, true
	}
	for _, name := range f.Env {
		want[name] = true
	}
	for name, present := range want {
		if _, ok := env[name]; ok != present {
			t.Errorf("env %s present=%v, want %v", name, ok, present)
		}
	}
	for _, secret := range []string{m.EnvStripeKey, m.EnvWebhookSecret, m.EnvCursorSecret, m.EnvLicenseKey} {
		if _, ok := env[secret]; ok {
			t.Errorf("secret %s in the environment; pass its SSM parameter name", secret)
		}
	}
}

func checkTrigger(t *testing.T, f m.Function, p map[string]any) {
	t.Helper()
	events, _ := p["Events"].(map[string]any)
	if f.Trigger.Kind == m.FunctionURL {
		eq(t, "FunctionUrlConfig.AuthType", at(p, "FunctionUrlConfig", "AuthType"), "NONE")
		if len(events) != 0 {
			t.Errorf("function URL function has events %v", events)
		}
		return
	}
	if p["FunctionUrlConfig"] != nil {
		t.Error("only function-url functions may have a FunctionUrlConfig")
	}
	if len(events) != 1 {
		t.Fatalf("%d events, want exactly 1", len(events))
	}
	var ev any
	for _, v := range events {
		ev = v
	}
	typ, props := at(ev, "Type"), at(ev, "Properties")
	switch f.Trigger.Kind {
	case m.HTTP:
		eq(t, "event type", typ, "HttpApi")
		eq(t, "ApiId", at(props, "ApiId", "Ref"), m.HTTPAPILogicalID)
		eq(t, "Method", at(props, "Method"), f.Trigger.Method)
		eq(t, "Path", at(props, "Path"), f.Trigger.Path)
		want := "NONE"
		if f.NeedsJWT() {
			want = "CognitoJwt"
		}
		eq(t, "Authorizer", at(props, "Auth", "Authorizer"), want)
	case m.Queue:
		q, _ := m.QueueByName(f.Trigger.Queue)
		eq(t, "event type", typ, "SQS")
		eq(t, "Queue", at(props, "Queue", "Fn::GetAtt"), []any{q.LogicalID(), "Arn"})
		eq(t, "BatchSize", at(props, "BatchSize"), f.Trigger.BatchSize)
		eq(t, "FunctionResponseTypes", at(props, "FunctionResponseTypes"), []any{"ReportBatchItemFailures"})
	case m.Schedule:
		eq(t, "event type", typ, "ScheduleV2")
		eq(t, "ScheduleExpression", at(props, "ScheduleExpression"), f.Trigger.Expression)
		eq(t, "FlexibleTimeWindow", at(props, "FlexibleTimeWindow", "Mode"), "OFF")
		eq(t, "Input", at(props, "Input"), f.ScheduleInput())
	}
}

// wantSAMActions is what the function's Policies must grant, from the manifest fields. (SAM adds the
// SQS poller actions for an SQS event itself.)
func wantSAMActions(f m.Function) []string {
	want := append([]string{}, f.TableIAMActions()...)
	want = append(want, f.Bucket...)
	for _, g := range f.BucketAlso {
		want = append(want, g.Actions...)
	}
	for range f.BucketVersions {
		want = append(want, m.S3ListBucketVersions, m.S3DeleteObjectVersion)
	}
	if len(f.Sends) > 0 {
		want = append(want, m.SendMessage)
	}
	if f.InspectQueues {
		want = append(want, m.GetQueueAttributes)
	}
	if f.Email {
		want = append(want, m.SESActions...)
	}
	if len(f.SecretParamEnv()) > 0 {
		want = append(want, m.SSMGetParameter, m.KMSDecrypt)
	}
	sort.Strings(want)
	return want
}

// policyActions collects the Allow actions of a Policies list of inline {Statement: [...]} documents;
// a SAM policy template or managed policy name there fails the test (they grant unlisted actions).
func policyActions(t *testing.T, policies any) []string {
	t.Helper()
	var out []string
	list, _ := policies.([]any)
	for _, doc := range list {
		stmts, ok := at(doc, "Statement").([]any)
		if !ok {
			t.Errorf("policy %v is not an inline statement list", doc)
			continue
		}
		for _, s := range stmts {
			if at(s, "Effect") != "Allow" {
				continue
			}
			out = append(out, strs(at(s, "Action"))...)
		}
	}
	sort.Strings(out)
	return out
}

func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

// walkerResource reports whether a template resource is a table walker's (TableWalkers may Scan).
func walkerResource(id string) bool {
	for name := range m.TableWalkers {
		if strings.HasPrefix(id, m.Pascal(name)) {
			return true
		}
	}
	return false
}

func TestTemplateGrantsNoScanOrWildcard(t *testing.T) {
	tpl := loadTemplate(t)
	checked := 0
	for id, r := range tpl.Resources {
		docs, _ := r.Properties["Policies"].([]any)
		if pd := r.Properties["PolicyDocument"]; pd != nil && r.Type != "AWS::S3::BucketPolicy" {
			docs = append(docs, pd)
		}
		for _, a := range policyActions(t, docs) {
			checked++
			if a == "*" || strings.Contains(a, "*") || (strings.EqualFold(a, m.Scan) && !walkerResource(id)) {
				t.Errorf("%s grants %q", id, a)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no policy actions found: the check would pass vacuously")
	}
}

func TestTemplateResources(t *testing.T) {
	tpl := loadTemplate(t)
	for _, q := range m.Queues {
		p := tpl.Resources[q.LogicalID()].Properties
		eq(t, q.Name+" VisibilityTimeout", p["VisibilityTimeout"], q.VisibilitySeconds)
		eq(t, q.Name+" maxReceiveCount", at(p, "RedrivePolicy", "maxReceiveCount"), q.MaxReceiveCount)
		eq(t, q.Name+" DLQ", at(p, "RedrivePolicy", "deadLetterTargetArn", "Fn::GetAtt"), []any{q.DLQLogicalID(), "Arn"})
		if tpl.Resources[q.DLQLogicalID()].Type != "AWS::SQS::Queue" {
			t.Errorf("no DLQ %s", q.DLQLogicalID())
		}
	}
	table := tpl.Resources[m.TableLogicalName].Properties
	eq(t, "BillingMode", table["BillingMode"], "PAY_PER_REQUEST")
	eq(t, "PITR", at(table, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"), true)
	eq(t, "TTL", at(table, "TimeToLiveSpecification", "AttributeName"), m.AttrTTL)
	var gsis []string
	indexes, _ := table["GlobalSecondaryIndexes"].([]any)
	for _, g := range indexes {
		gsis = append(gsis, fmt.Sprintf("%v %v", at(g, "IndexName"), at(g, "Projection", "ProjectionType")))
	}
	var want []string
	for _, ix := range m.Indexes {
		want = append(want, ix.Name+" ALL")
	}
	eq(t, "GSIs", gsis, want)
	bucket := tpl.Resources[m.BucketLogicalID].Properties
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		eq(t, "bucket "+k, at(bucket, "PublicAccessBlockConfiguration", k), true)
	}
	origins := at(tpl.Resources[m.HTTPAPILogicalID].Properties, "CorsConfiguration", "AllowOrigins")
	if reflect.DeepEqual(origins, []any{"*"}) {
		t.Error("HTTP API CORS allows any origin")
	}
}

// Every manifest function needs its wiring under functions/<name>/main.go (sam build and make build
// compile it).
func TestEveryFunctionHasMain(t *testing.T) {
	for _, f := range m.Functions {
		if _, err := os.Stat(filepath.Join(repoRoot, f.CodeDir(), "main.go")); err != nil {
			t.Errorf("%s: no %s/main.go", f.Name, f.CodeDir())
		}
	}
}
