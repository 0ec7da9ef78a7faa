package main

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsbackup"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/jsii-runtime-go"

	m "github.com/liberation/monetization/shared/manifest"
)

// Backups of the table (docs/runbooks/restore.md, docs/decisions/0090): PITR stays on the table
// itself (any second of the last 35 days, restored into a new table); AWS Backup adds a daily
// snapshot kept BackupRetentionDays in a vault of the stack's own, optionally copied to a vault in
// a second region (context backupCopyVaultArn), so a lost region or a table deleted with its PITR
// window still has a copy. `make restore-drill` rehearses the restore locally.
const (
	// BackupRetentionDays is how long a daily recovery point (and its copy) is kept.
	BackupRetentionDays = 35
	// BackupCopyVaultContext names the context value with the ARN of a backup vault in another
	// region (created outside this stack: `aws backup create-backup-vault --region …`).
	BackupCopyVaultContext = "backupCopyVaultArn"
	backupVaultID          = "TableBackupVault"
	backupPlanID           = "TableBackupPlan"
	// backupHourUTC: 03:00 UTC, after the nightly jobs of the day before (reconcile, billing) ran.
	backupHourUTC = "3"
)

// skipVaultCMK: checkov's CKV_AWS_166 wants a customer managed key on the vault. The vault encrypts
// its recovery points with the AWS Backup managed key (aws/backup); the table itself uses an AWS
// owned key (the table's CKV_AWS_119 suppression), so a customer key here would add a key policy to
// keep (and to share with the copy's region), not protection the table has.
var skipVaultCMK = m.ScanSkip{ID: "CKV_AWS_166", Comment: "Recovery points are encrypted with the AWS Backup " +
	"managed key (aws/backup); the table itself uses an AWS owned key (CKV_AWS_119), so a customer key adds a key policy, not protection."}

// copyVaultArn validates the context value: empty (no copy) or a backup vault's ARN in a region.
func copyVaultArn(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	parts := strings.SplitN(v, ":", 6) // arn:aws:backup:<region>:<account>:backup-vault:<name>
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "backup" || parts[3] == "" || parts[4] == "" ||
		!strings.HasPrefix(parts[5], "backup-vault:") || strings.TrimPrefix(parts[5], "backup-vault:") == "" {
		return "", fmt.Errorf("context %s must be a backup vault ARN (arn:aws:backup:<region>:<account>:backup-vault:<name>), got %q", BackupCopyVaultContext, v)
	}
	return v, nil
}

// addBackups puts the table under a daily AWS Backup plan. The vault is retained whatever the
// environment: CloudFormation cannot delete a vault that holds recovery points, and the points
// must outlive a deleted stack. A malformed backupCopyVaultArn panics here (buildApp rejects it
// first with an error).
func addBackups(stack awscdk.Stack, table awsdynamodb.Table) {
	raw, _ := stack.Node().TryGetContext(jsii.String(BackupCopyVaultContext)).(string)
	copyArn, err := copyVaultArn(raw)
	if err != nil {
		panic(err)
	}
	vault := awsbackup.NewBackupVault(stack, jsii.String(backupVaultID), &awsbackup.BackupVaultProps{
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	setLogicalID(vault, backupVaultID)
	skipChecks(vault, skipVaultCMK)
	rule := &awsbackup.BackupPlanRuleProps{
		RuleName:           jsii.String("Daily35Days"),
		ScheduleExpression: awsevents.Schedule_Cron(&awsevents.CronOptions{Hour: jsii.String(backupHourUTC), Minute: jsii.String("0")}),
		StartWindow:        awscdk.Duration_Hours(jsii.Number(1)),
		CompletionWindow:   awscdk.Duration_Hours(jsii.Number(4)),
		DeleteAfter:        awscdk.Duration_Days(jsii.Number(BackupRetentionDays)),
	}
	if copyArn != "" {
		dest := awsbackup.BackupVault_FromBackupVaultArn(stack, jsii.String("TableBackupCopyVault"), jsii.String(copyArn))
		rule.CopyActions = &[]*awsbackup.BackupPlanCopyActionProps{{
			DestinationBackupVault: dest,
			DeleteAfter:            awscdk.Duration_Days(jsii.Number(BackupRetentionDays)),
		}}
	}
	plan := awsbackup.NewBackupPlan(stack, jsii.String(backupPlanID), &awsbackup.BackupPlanProps{
		BackupVault:     vault,
		BackupPlanRules: &[]awsbackup.BackupPlanRule{awsbackup.NewBackupPlanRule(rule)},
	})
	setLogicalID(plan, backupPlanID)
	plan.AddSelection(jsii.String("Table"), &awsbackup.BackupSelectionOptions{
		Resources:     &[]awsbackup.BackupResource{awsbackup.BackupResource_FromDynamoDbTable(table)},
		AllowRestores: jsii.Bool(true),
	})
	output(stack, "BackupVaultName", vault.BackupVaultName(), "AWS Backup vault with the table's daily recovery points (docs/runbooks/restore.md)")
}
