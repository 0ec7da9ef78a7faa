package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	m "github.com/liberation/monetization/shared/manifest"
)

// MonetizationStackProps configures the stack.
type MonetizationStackProps struct {
	awscdk.StackProps
	Config Config
}

// NewMonetizationStack builds every resource from the function manifest: nothing here is written
// per function, so adding a function to shared/manifest is the whole change. The configuration must
// be valid (ConfigFromContext checks it); an invalid one is a programming error and panics before any
// resource exists, so no caller can synthesize, say, prod without its appURL.
func NewMonetizationStack(scope constructs.Construct, id string, props *MonetizationStackProps) awscdk.Stack {
	cfg := props.Config
	if err := cfg.Validate(); err != nil {
		panic("cdk: invalid configuration: " + err.Error())
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	awscdk.Tags_Of(stack).Add(jsii.String("app"), jsii.String("liberation-monetization"), nil)
	awscdk.Tags_Of(stack).Add(jsii.String("env"), jsii.String(cfg.Env), nil)

	d := newData(stack, cfg)
	addBackups(stack, d.table) // backup.go: daily AWS Backup plan beside PITR
	ops := newAlarmTopic(stack, cfg)
	for _, q := range m.Queues {
		alarmDLQ(stack, ops, q, d.dlqs[q.Name])
	}
	alarmDuplicateLiveSubscriptions(stack, ops)
	alarmMarketplace(stack, ops)
	alarmPayments(stack, ops)
	alarmReconciliation(stack, ops)
	alarmAuditChain(stack, ops)
	alarmRefusals(stack, ops)
	addBusinessMonitoring(stack, ops, cfg)
	addEventRules(stack, d, ops)
	auth := newAuth(stack, cfg)
	// console.go: the operator console (bucket, CloudFront, its Cognito client) before the authorizer,
	// whose audience names that client, and the API, whose CORS names the distribution.
	site := newConsole(stack, cfg, auth)
	auth.addJWT()
	api := newHTTPAPI(stack, cfg, auth, site.origin)
	site.deploy(stack, cfg, auth, api)
	alarmAPI(stack, ops, api)

	scopes := map[string]awscdk.Stack{}
	for _, f := range m.Functions {
		scope := functionScope(stack, scopes, f)
		fn := newFunction(scope, cfg, d, f)
		switch f.Trigger.Kind {
		case m.HTTP:
			addRoute(scope, api, auth, f, fn)
		case m.FunctionURL:
			url := fn.AddFunctionUrl(&awslambda.FunctionUrlOptions{AuthType: awslambda.FunctionUrlAuthType_NONE})
			skipChecks(url, m.SkipFunctionURLAuth)
			output(stack, m.Pascal(f.Name)+"Url", url.Url(), f.Summary+" (function URL)")
			alarmFunctionErrors(stack, ops, f, fn)
			alarmURL5xx(stack, ops, f, fn)
			if f.ReservedConcurrency > 0 {
				alarmWebhookFlood(stack, ops, f, fn)
			}
		case m.Queue:
			addQueueSource(d, f, fn)
		case m.Schedule:
			addSchedule(scope, f, fn)
			alarmFunctionErrors(scope, ops, f, fn)
		}
		if f.Name == migrateFunction {
			addMigrateOnDeploy(scope, d, f, fn) // migrations.go: the deploy runs the pending migrations
		}
	}

	migrateLast(stack, scopes) // migrations.go: the migrations run after the rest of the deploy
	output(stack, "ApiUrl", api.Url(), "HTTP API base URL")
	output(stack, "UserPoolId", auth.pool.UserPoolId(), "Cognito user pool id")
	output(stack, "UserPoolClientId", auth.client.UserPoolClientId(), "Cognito app client id (JWT audience)")
	output(stack, "TableName", d.table.TableName(), "DynamoDB table")
	output(stack, "BucketName", d.bucket.BucketName(), "Content and receipts bucket")
	output(stack, "AlarmTopicArn", ops.TopicArn(), "SNS topic the alarms notify")
	return stack
}

// functionScope is where an area's functions and what belongs to each (role, log group, route,
// integration, permission, schedule, alarm) are created: a nested stack per area, because one
// CloudFormation stack holds at most 500 resources and each function brings five to seven. The
// shared resources (table, bucket, queues, HTTP API and its authorizer, alarm topic) stay in the
// parent; CDK passes what the functions reference as nested-stack parameters. The platform's
// functions (the Stripe webhook, whose URL is a stack output, and the facts consumer) stay in the
// parent too.
func functionScope(stack awscdk.Stack, scopes map[string]awscdk.Stack, f m.Function) awscdk.Stack {
	if f.Area == "platform" {
		return stack
	}
	s, ok := scopes[f.Area]
	if !ok {
		s = awscdk.NewNestedStack(stack, jsii.String(m.Pascal(f.Area)+"Functions"), &awscdk.NestedStackProps{
			Description: jsii.String("The " + f.Area + " area's functions"),
		})
		scopes[f.Area] = s
	}
	return s
}

func output(stack awscdk.Stack, id string, value *string, desc string) {
	awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(desc)})
}

// setLogicalID pins the CloudFormation logical id of a construct's default resource, so the CDK
// template and template.yaml name things alike and refactors never replace stateful resources.
func setLogicalID(c constructs.Construct, id string) {
	c.Node().DefaultChild().(awscdk.CfnElement).OverrideLogicalId(jsii.String(id))
}
