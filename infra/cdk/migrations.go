package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/triggers"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	m "github.com/liberation/monetization/shared/manifest"
)

// The deploy runs the migrations (issue 19, docs/decisions/0088, docs/runbooks/migrations.md):
// `cdk deploy` invokes the migrate function once its version (code or configuration) changes —
// and a new migration is new code in it — synchronously, after the table and the function exist,
// through aws-cdk-lib's triggers.Trigger (a Custom::Trigger resource and its provider function).
// A failed run (a refusal — out of order, table ahead — or an error) is a FunctionError, which the
// provider turns into a FAILED custom resource: the deploy fails and CloudFormation rolls it back
// (the table keeps what the migration did; migrations are additive and idempotent). A deploy
// whose migrate function did not change does not invoke it; one that invokes it with nothing
// pending costs two reads. A run longer than the Lambda's 15 minutes stops at its checkpoint and
// reports done=false without failing; the daily schedule (or the runbook's invoke) continues it.
const (
	// migrateFunction is the manifest's migrate job (shared/manifest/area_migrate.go).
	migrateFunction = "migrate"
	// migrateTriggerID is the trigger construct's id; its custom resource is <id>Default…
	migrateTriggerID = "MigrateOnDeploy"
	// triggerProviderID is the id aws-cdk-lib gives the triggers' provider, a singleton per stack
	// (TriggerProvider.getOrCreateProvider with "AWSCDK.TriggerCustomResourceProvider").
	triggerProviderID = "AWSCDK.TriggerCustomResourceProviderCustomResourceProvider"
)

// Scanner findings on the provider function and why each does not apply (decision 0078: every
// suppression sits on its resource with its reason).
var triggerProviderSkips = []m.ScanSkip{
	{ID: m.CheckLambdaVPC, Comment: "aws-cdk-lib's trigger provider only calls lambda:Invoke on the migrate " +
		"function (a public AWS endpoint) and answers CloudFormation's presigned S3 URL; there is no private resource to reach."},
	{ID: m.CheckLambdaDLQ, Comment: "Invoked synchronously by CloudFormation for the Custom::Trigger resource; a " +
		"failure fails the deploy, so there is no asynchronous event to keep."},
	{ID: m.CheckLambdaConcurrency, Comment: "Runs once per deploy that changes the migrate function, invoked only by " +
		"CloudFormation; a reservation would take concurrency from the account's pool for nothing."},
}

// addMigrateOnDeploy makes the deploy invoke the migrate function (fn, created from f in scope,
// the migrate area's nested stack) after the table exists. The trigger waits for the invocation as
// long as the function may run; the provider's role may invoke fn's versions and nothing else.
func addMigrateOnDeploy(scope awscdk.Stack, d *data, f m.Function, fn awslambda.Function) triggers.Trigger {
	// Everything of the migrate area made so far (the function, its role, log group, schedule,
	// alarm) and the table: the trigger is the area's last resource, so no failure in it comes after
	// a migration (a rollback would send the trigger the previous version, and an older code refuses
	// a table a migration moved ahead).
	var areaSoFar []constructs.IDependable
	for _, c := range *scope.Node().Children() {
		areaSoFar = append(areaSoFar, c)
	}
	tr := triggers.NewTrigger(scope, jsii.String(migrateTriggerID), &triggers.TriggerProps{
		Handler:                fn,
		InvocationType:         triggers.InvocationType_REQUEST_RESPONSE, // wait: a failure fails the deploy
		Timeout:                awscdk.Duration_Seconds(jsii.Number(float64(f.Timeout()))),
		ExecuteOnHandlerChange: jsii.Bool(true),
		// The function references the table (its environment), which already orders the nested
		// stack after it; said explicitly so a change there cannot run migrations on no table.
		ExecuteAfter: &[]constructs.Construct{fn, d.table},
	})
	tr.Node().AddDependency(areaSoFar...)
	// The provider's function is a CfnResource child, not a construct's default child, so the
	// suppressions are written the way skipChecks writes them, on it directly.
	handler := scope.Node().FindChild(jsii.String(triggerProviderID)).Node().FindChild(jsii.String("Handler")).(awscdk.CfnResource)
	skips := make([]any, len(triggerProviderSkips))
	for i, s := range triggerProviderSkips {
		skips[i] = map[string]any{"id": s.ID, "comment": s.Comment}
	}
	handler.AddMetadata(jsii.String("checkov"), map[string]any{"skip": skips})
	return tr
}

// migrateLast orders the migrate area's nested stack after every other resource and nested stack
// of the deploy, so the migrations run once the rest of the stack is in place (the new code is
// live everywhere: decision 0088's migrations are additive, code N reads items of N−1) and a
// failure elsewhere rolls the deploy back before any migration ran. Nothing outside the area
// references the migrate function, so no dependency points the other way.
func migrateLast(stack awscdk.Stack, scopes map[string]awscdk.Stack) {
	ms, ok := scopes[migrateFunction]
	if !ok {
		return
	}
	own := *ms.NestedStackResource().Node().Scope().Node().Path()
	for _, c := range *stack.Node().Children() {
		if c == constructs.Construct(ms) || *c.Node().Path() == own {
			continue
		}
		ms.Node().AddDependency(c)
	}
}
