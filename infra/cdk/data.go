package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	m "github.com/liberation/monetization/shared/manifest"
)

// data holds the stateful resources functions are granted access to.
type data struct {
	table  awsdynamodb.Table
	bucket awss3.Bucket
	queues map[string]awssqs.Queue
	dlqs   map[string]awssqs.Queue
}

func newData(stack awscdk.Stack, cfg Config) *data {
	retain := awscdk.RemovalPolicy_DESTROY
	if cfg.Prod() {
		retain = awscdk.RemovalPolicy_RETAIN
	}
	d := &data{queues: map[string]awssqs.Queue{}, dlqs: map[string]awssqs.Queue{}}

	str := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	d.table = awsdynamodb.NewTable(stack, jsii.String(m.TableLogicalName), &awsdynamodb.TableProps{
		PartitionKey: str(m.AttrPK),
		SortKey:      str(m.AttrSK),
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		TimeToLiveAttribute: jsii.String(m.AttrTTL),
		DeletionProtection:  jsii.Bool(cfg.Prod()),
		RemovalPolicy:       retain,
	})
	for _, ix := range m.Indexes {
		d.table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(ix.Name),
			PartitionKey:   str(ix.PK),
			SortKey:        str(ix.SK),
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	setLogicalID(d.table, m.TableLogicalName)
	skipChecks(d.table, m.SkipTableCMK)

	origins := make([]*string, len(cfg.AllowedOrigins))
	for i, o := range cfg.AllowedOrigins {
		origins[i] = jsii.String(o)
	}
	d.bucket = awss3.NewBucket(stack, jsii.String(m.BucketLogicalID), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		Versioned:         jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     retain,
		// Browsers upload and download through presigned URLs.
		Cors: &[]*awss3.CorsRule{{
			AllowedMethods: &[]awss3.HttpMethods{awss3.HttpMethods_GET, awss3.HttpMethods_PUT},
			AllowedOrigins: &origins,
			AllowedHeaders: jsii.Strings("content-type"),
			MaxAge:         jsii.Number(3000),
		}},
		LifecycleRules: lifecycleRules(),
	})
	setLogicalID(d.bucket, m.BucketLogicalID)
	skipChecks(d.bucket, m.SkipBucketAccessLogs)

	for _, q := range m.Queues {
		dlq := awssqs.NewQueue(stack, jsii.String(q.DLQLogicalID()), &awssqs.QueueProps{
			RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
			Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
			EnforceSSL:      jsii.Bool(true),
		})
		setLogicalID(dlq, q.DLQLogicalID())
		skipChecks(dlq, m.SkipSQSManagedSSE)
		queue := awssqs.NewQueue(stack, jsii.String(q.LogicalID()), &awssqs.QueueProps{
			VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(float64(q.VisibilitySeconds))),
			RetentionPeriod:   awscdk.Duration_Days(jsii.Number(4)),
			Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
			EnforceSSL:        jsii.Bool(true),
			DeadLetterQueue: &awssqs.DeadLetterQueue{
				Queue:           dlq,
				MaxReceiveCount: jsii.Number(float64(q.MaxReceiveCount)),
			},
		})
		setLogicalID(queue, q.LogicalID())
		skipChecks(queue, m.SkipSQSManagedSSE)
		d.queues[q.Name], d.dlqs[q.Name] = queue, dlq
	}
	return d
}

// lifecycleRules: incomplete uploads aborted after a day; old versions expire after
// NoncurrentVersionDays under each of manifest.VersionPrefixes and never under the audit seals (a
// seal's earlier version is the evidence, decision 0085); catalog snapshots and personal exports
// (docs/privacy.md "Retention": the link works 24 h, the files go after a week) and
// receipts (ten years, manifest.ReceiptsDays) expire.
func lifecycleRules() *[]*awss3.LifecycleRule {
	rules := []*awss3.LifecycleRule{{AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1))}}
	for _, p := range m.VersionPrefixes {
		rules = append(rules, &awss3.LifecycleRule{Prefix: jsii.String(p),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(m.NoncurrentVersionDays))})
	}
	rules = append(rules,
		&awss3.LifecycleRule{Prefix: jsii.String(m.CatalogSnapshotPrefix), Expiration: awscdk.Duration_Days(jsii.Number(m.CatalogSnapshotDays))},
		&awss3.LifecycleRule{Prefix: jsii.String(m.ExportsPrefix), Expiration: awscdk.Duration_Days(jsii.Number(m.ExportsDays))},
		&awss3.LifecycleRule{Prefix: jsii.String(m.ReceiptsPrefix), Expiration: awscdk.Duration_Days(jsii.Number(m.ReceiptsDays))})
	return &rules
}
