package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	m "github.com/liberation/monetization/shared/manifest"
)

// newFunction creates one Lambda from its manifest entry, with exactly the permissions it lists.
func newFunction(stack awscdk.Stack, cfg Config, d *data, f m.Function) awslambda.Function {
	retention, removal := awslogs.RetentionDays_ONE_MONTH, awscdk.RemovalPolicy_DESTROY
	if cfg.Prod() {
		retention, removal = awslogs.RetentionDays_THREE_MONTHS, awscdk.RemovalPolicy_RETAIN
	}
	logs := awslogs.NewLogGroup(stack, jsii.String(f.LogicalID()+"Logs"), &awslogs.LogGroupProps{
		Retention: retention, RemovalPolicy: removal,
	})
	fn := awslambda.NewFunction(stack, jsii.String(f.LogicalID()), &awslambda.FunctionProps{
		Description:   jsii.String(f.Summary),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(cfg.AssetDir, f.Name)), nil),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(float64(f.Timeout()))),
		MemorySize:    jsii.Number(float64(f.Memory())),
		Environment:   environment(cfg, d, f),
		LogGroup:      logs,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		// A cap for a public entry point (the webhook); nil: the account's unreserved pool.
		ReservedConcurrentExecutions: reservedConcurrency(f),
	})
	setLogicalID(fn, f.LogicalID())
	skipChecks(fn, f.ScanSkips()...)
	skipChecks(logs, m.SkipLogGroupKMS)
	for _, s := range statements(stack, cfg, d, f) {
		fn.AddToRolePolicy(s)
	}
	return fn
}

// reservedConcurrency is the manifest's ReservedConcurrency, or nil when it reserves none.
func reservedConcurrency(f m.Function) *float64 {
	if f.ReservedConcurrency <= 0 {
		return nil
	}
	return jsii.Number(float64(f.ReservedConcurrency))
}

func environment(cfg Config, d *data, f m.Function) *map[string]*string {
	env := map[string]*string{
		m.EnvTable:           d.table.TableName(),
		m.EnvBucket:          d.bucket.BucketName(),
		m.EnvFunctionName:    jsii.String(f.Name),
		m.EnvMailTransport:   jsii.String("ses"),
		m.EnvMailFrom:        jsii.String(cfg.MailFrom),
		m.EnvPricePro:        jsii.String(cfg.PricePro),
		m.EnvPriceEnterprise: jsii.String(cfg.PriceEnterprise),
		m.EnvAllowedOrigins:  jsii.String(strings.Join(cfg.AllowedOrigins, ",")),
		m.EnvSupportEmail:    jsii.String(cfg.supportEmail()),
	}
	if cfg.AppURL != "" {
		env[m.EnvAppURL] = jsii.String(cfg.AppURL)
	}
	if cfg.PastDueGraceDays != "" {
		env[m.EnvPastDueGraceDays] = jsii.String(cfg.PastDueGraceDays)
	}
	if cfg.StripeTestKeysOnly() && f.Stripe {
		env[m.EnvStripeTestKeysOnly] = jsii.String("1") // staging: a live key is refused (shared/stripeapi)
	}
	for _, name := range f.SecretParamEnv() {
		env[name] = jsii.String(paramName(cfg, name))
	}
	for _, q := range f.SendQueues() {
		env[q.EnvVar()] = d.queues[q.Name].QueueUrl()
	}
	for _, q := range f.InspectedQueues() { // GET /admin/queues: every queue's and DLQ's URL
		env[q.EnvVar()] = d.queues[q.Name].QueueUrl()
		env[q.DLQEnvVar()] = d.dlqs[q.Name].QueueUrl()
	}
	for _, name := range f.Env {
		env[name] = jsii.String(cfg.setting(name))
	}
	return &env
}

// paramName maps an env var that names an SSM parameter to the parameter's name.
func paramName(cfg Config, env string) string {
	switch env {
	case m.EnvStripeKeyParam:
		return cfg.stripeKeyParam()
	case m.EnvWebhookParam:
		return cfg.webhookSecretParam()
	case m.EnvCursorSecretName:
		return cfg.cursorSecretParam()
	case m.EnvLicenseKeyParam:
		return cfg.licenseKeyParam()
	}
	panic("cdk: no SSM parameter for " + env)
}

// statements are the function's IAM statements: exactly manifest.Policy(f) — the statements the
// local stack enforces (infra/local/iamcheck, docs/decisions/0076) — with the stack's ARNs in place
// of the placeholders. Nothing is added here (no wildcards in actions, no Scan, no grant* helpers).
func statements(stack awscdk.Stack, cfg Config, d *data, f m.Function) []awsiam.PolicyStatement {
	value := func(name string) (string, bool) {
		switch {
		case name == "Partition":
			return *stack.Partition(), true
		case name == "Region":
			return *stack.Region(), true
		case name == "Account":
			return *stack.Account(), true
		case name == "TableArn":
			return *d.table.TableArn(), true
		case name == "BucketArn":
			return *d.bucket.BucketArn(), true
		case name == "MailFromAddress":
			return cfg.mailFromAddress(), true
		case name == "MailFromDomain":
			a := cfg.mailFromAddress()
			return a[strings.LastIndex(a, "@")+1:], true
		case strings.HasPrefix(name, "QueueArn:"):
			q, ok := d.queues[strings.TrimPrefix(name, "QueueArn:")]
			if !ok {
				return "", false
			}
			return *q.QueueArn(), true
		case strings.HasPrefix(name, "DLQArn:"):
			q, ok := d.dlqs[strings.TrimPrefix(name, "DLQArn:")]
			if !ok {
				return "", false
			}
			return *q.QueueArn(), true
		case strings.HasPrefix(name, "Param:"):
			return "/" + strings.TrimPrefix(paramName(cfg, strings.TrimPrefix(name, "Param:")), "/"), true
		}
		return "", false
	}
	resolve := func(tpl string) *string {
		v, err := m.Resolve(tpl, value)
		if err != nil {
			panic(fmt.Sprintf("cdk: %s: %v", f.Name, err))
		}
		return jsii.String(v)
	}
	var out []awsiam.PolicyStatement
	for _, s := range m.Policy(f) {
		if s.Effect != "Allow" {
			panic(fmt.Sprintf("cdk: %s: statement effect %q", f.Name, s.Effect))
		}
		res := make([]*string, len(s.Resources))
		for i, r := range s.Resources {
			res[i] = resolve(r)
		}
		props := &awsiam.PolicyStatementProps{Actions: jsii.Strings(s.Actions...), Resources: &res}
		if len(s.Condition) > 0 {
			cond := map[string]any{}
			for op, kv := range s.Condition {
				vals := map[string]any{}
				for k, v := range kv {
					vals[k] = *resolve(v)
				}
				cond[op] = vals
			}
			props.Conditions = &cond
		}
		out = append(out, awsiam.NewPolicyStatement(props))
	}
	return out
}

// addQueueSource connects a queue consumer with partial batch failures reported.
func addQueueSource(d *data, f m.Function, fn awslambda.Function) {
	q, ok := d.queues[f.Trigger.Queue]
	if !ok {
		panic(fmt.Sprintf("cdk: %s consumes unknown queue %q", f.Name, f.Trigger.Queue))
	}
	fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(q, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(float64(f.Trigger.BatchSize)),
		ReportBatchItemFailures: jsii.Bool(true),
	}))
}
