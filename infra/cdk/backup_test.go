package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/jsii-runtime-go"

	m "github.com/liberation/monetization/shared/manifest"
)

// The full stack, in both environments, backs the table up daily under AWS Backup: a plan with one
// rule (03:00 UTC, 35 days), a retained vault, a selection naming exactly the table. PITR, the
// bucket's versioning and its old-version lifecycle are checked in TestTableAndBucket.
func TestBackupPlanForTheTable(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		c, _ := synth(t, env)
		plans := c.ofType("AWS::Backup::BackupPlan")
		if len(plans) != 1 {
			t.Fatalf("%s: %d backup plans, want 1", env, len(plans))
		}
		rules := plans[backupPlanID].Properties["BackupPlan"].(map[string]any)["BackupPlanRule"].([]any)
		if len(rules) != 1 {
			t.Fatalf("%s: rules %v, want one", env, rules)
		}
		r := rules[0].(map[string]any)
		checkEq(t, env+" schedule", r["ScheduleExpression"], "cron(0 3 * * ? *)")
		checkEq(t, env+" retention", r["Lifecycle"], map[string]any{"DeleteAfterDays": float64(BackupRetentionDays)})
		checkEq(t, env+" target vault", r["TargetBackupVault"], map[string]any{"Fn::GetAtt": []any{backupVaultID, "BackupVaultName"}})
		if _, ok := r["CopyActions"]; ok {
			t.Errorf("%s: a copy action without %s: %v", env, BackupCopyVaultContext, r["CopyActions"])
		}
		checkEq(t, env+" vault DeletionPolicy", c.Resources[backupVaultID].DeletionPolicy, "Retain")
		sels := c.ofType("AWS::Backup::BackupSelection")
		if len(sels) != 1 {
			t.Fatalf("%s: %d selections, want 1", env, len(sels))
		}
		for _, s := range sels {
			sel := s.Properties["BackupSelection"].(map[string]any)
			checkEq(t, env+" selection", sel["Resources"], []any{map[string]any{"Fn::GetAtt": []any{m.TableLogicalName, "Arn"}}})
		}
	}
}

// backupOnly synthesizes addBackups on a bare table with the given context (no full stack: a
// synth costs seconds) and returns the plan's rule.
func backupOnly(t *testing.T, ctx map[string]any) map[string]any {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	stack := awscdk.NewStack(app, jsii.String("BackupOnly"), nil)
	table := awsdynamodb.NewTable(stack, jsii.String("T"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("PK"), Type: awsdynamodb.AttributeType_STRING},
	})
	addBackups(stack, table)
	raw, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var c cfn
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c.Resources[backupPlanID].Properties["BackupPlan"].(map[string]any)["BackupPlanRule"].([]any)[0].(map[string]any)
}

// With -c backupCopyVaultArn=<vault in another region> every recovery point is copied there and
// kept as long as the original.
func TestBackupCopyToASecondRegion(t *testing.T) {
	const arn = "arn:aws:backup:eu-central-1:123456789012:backup-vault:monetization-copy"
	r := backupOnly(t, map[string]any{BackupCopyVaultContext: arn})
	checkEq(t, "copy actions", r["CopyActions"], []any{map[string]any{
		"DestinationBackupVaultArn": arn,
		"Lifecycle":                 map[string]any{"DeleteAfterDays": float64(BackupRetentionDays)},
	}})
	if r := backupOnly(t, map[string]any{}); r["CopyActions"] != nil {
		t.Errorf("copy actions without the context value: %v", r["CopyActions"])
	}
}

// A malformed vault ARN is refused by buildApp (no stack added) and by copyVaultArn.
func TestBackupCopyVaultArnRejected(t *testing.T) {
	for _, bad := range []string{
		"monetization-copy",
		"arn:aws:s3:::bucket",
		"arn:aws:backup::123456789012:backup-vault:x", // no region
		"arn:aws:backup:eu-central-1:123456789012:backup-plan:x",
		"arn:aws:backup:eu-central-1:123456789012:backup-vault:",
	} {
		if _, err := copyVaultArn(bad); err == nil {
			t.Errorf("copyVaultArn(%q) accepted", bad)
		}
		ctx := map[string]any{"env": "dev", "allowedOrigins": "https://app.example.com", "assetDir": placeholderAssets(t), "consoleDir": consoleFixture,
			"mailFrom": "receipts@example.com", "stripePricePro": "price_1", "stripePriceEnterprise": "price_2",
			"appURL": "https://app.example.com", BackupCopyVaultContext: bad}
		app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
		if stack, err := buildApp(app); err == nil || !strings.Contains(err.Error(), BackupCopyVaultContext) {
			t.Errorf("buildApp with %q: err %v, stack %v", bad, err, stack)
		}
		if len(*app.Node().Children()) != 0 {
			t.Errorf("%q: a stack was added", bad)
		}
	}
	if got, err := copyVaultArn("arn:aws:backup:us-west-2:123456789012:backup-vault:v"); err != nil || got == "" {
		t.Errorf("a valid ARN: %q, %v", got, err)
	}
}
