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
	})
	setLogicalID(fn, f.LogicalID())
	for _, s := range statements(stack, cfg, d, f) {
		fn.AddToRolePolicy(s)
	}
	return fn
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
	for _, name := range f.SecretParamEnv() {
		env[name] = jsii.String(paramName(cfg, name))
	}
	for _, q := range f.SendQueues() {
		env[q.EnvVar()] = d.queues[q.Name].QueueUrl()
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

// statements are the function's IAM statements: the manifest's actions on the resources they name,
// nothing more (no wildcards in actions, no Scan, no grant* helpers that add actions).
func statements(stack awscdk.Stack, cfg Config, d *data, f m.Function) []awsiam.PolicyStatement {
	allow := func(actions []string, resources ...*string) awsiam.PolicyStatement {
		return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings(actions...), Resources: &resources,
		})
	}
	var out []awsiam.PolicyStatement
	if actions := f.TableIAMActions(); len(actions) > 0 {
		arn := d.table.TableArn()
		out = append(out, allow(actions, arn, jsii.String(*arn+"/index/*")))
	}
	if qs := f.SendQueues(); len(qs) > 0 {
		arns := make([]*string, len(qs))
		for i, q := range qs {
			arns[i] = d.queues[q.Name].QueueArn()
		}
		out = append(out, allow([]string{m.SendMessage}, arns...))
	}
	if len(f.Bucket) > 0 {
		// Only the objects under the function's prefix ("content/*"), or the whole bucket's.
		out = append(out, allow(f.Bucket, d.bucket.ArnForObjects(jsii.String(f.BucketObjects()))))
	}
	if f.Email {
		out = append(out, allow(m.SESActions, stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("ses"), Resource: jsii.String("identity"), ResourceName: jsii.String("*"),
			ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
		})))
	}
	var params []*string
	for _, env := range f.SecretParamEnv() {
		params = append(params, stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("ssm"), Resource: jsii.String("parameter"),
			ResourceName: jsii.String(strings.TrimPrefix(paramName(cfg, env), "/")),
			ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
		}))
	}
	if len(params) > 0 {
		out = append(out, allow([]string{m.SSMGetParameter}, params...))
		// SecureStrings are encrypted with the AWS managed key aws/ssm; decrypt only through SSM.
		out = append(out, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings(m.KMSDecrypt),
			Resources: jsii.Strings(*stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("kms"), Resource: jsii.String("key"), ResourceName: jsii.String("*"),
				ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
			})),
			Conditions: &map[string]any{"StringEquals": map[string]any{
				"kms:ViaService": fmt.Sprintf("ssm.%s.amazonaws.com", *stack.Region()),
			}},
		}))
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
