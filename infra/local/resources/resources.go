// Package resources creates the local AWS resources (in moto) from the same manifest definitions the
// CDK stack uses: the single table with its GSIs and TTL, every queue with its DLQ and redrive
// policy, and the bucket. Creating is idempotent, so `make dev` can be restarted.
package resources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// Set names the created resources.
type Set struct {
	Table     string
	Bucket    string
	QueueURLs map[string]string // queue name → URL
	DLQURLs   map[string]string // queue name → its DLQ URL
}

// Env returns the environment variables functions need to find the resources.
func (s Set) Env() map[string]string {
	env := map[string]string{manifest.EnvTable: s.Table, manifest.EnvBucket: s.Bucket}
	for _, q := range manifest.Queues {
		env[q.EnvVar()] = s.QueueURLs[q.Name]
		env[q.DLQEnvVar()] = s.DLQURLs[q.Name] // read by functions with InspectQueues (GET /admin/queues)
	}
	return env
}

// Clients are the AWS clients used to create resources.
type Clients struct {
	DynamoDB *dynamodb.Client
	SQS      *sqs.Client
	S3       *s3.Client
	SES      *sesv2.Client
}

// NewClients builds clients for cfg (S3 path-style, as moto needs).
func NewClients(cfg aws.Config) Clients {
	return Clients{
		DynamoDB: dynamodb.NewFromConfig(cfg),
		SQS:      sqs.NewFromConfig(cfg),
		S3:       s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		SES:      sesv2.NewFromConfig(cfg),
	}
}

// Create makes every resource with names prefixed by prefix (e.g. "liberation-dev").
func Create(ctx context.Context, c Clients, prefix, mailFrom string) (Set, error) {
	set := Set{Table: prefix + "-table", Bucket: prefix + "-content", QueueURLs: map[string]string{}, DLQURLs: map[string]string{}}
	if err := CreateTable(ctx, c.DynamoDB, set.Table); err != nil {
		return set, err
	}
	for _, q := range manifest.Queues {
		url, dlq, err := createQueue(ctx, c.SQS, prefix, q)
		if err != nil {
			return set, err
		}
		set.QueueURLs[q.Name], set.DLQURLs[q.Name] = url, dlq
	}
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(set.Bucket)}); err != nil {
		var owned *s3types.BucketAlreadyOwnedByYou
		if !errors.As(err, &owned) {
			return set, fmt.Errorf("create bucket: %w", err)
		}
	}
	// Versioned as the deployed bucket is (CDK, template.yaml): an overwrite or a delete keeps the
	// earlier versions, which the erasure must find and remove (manifest BucketVersions).
	if _, err := c.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(set.Bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		return set, fmt.Errorf("bucket versioning: %w", err)
	}
	if c.SES != nil && mailFrom != "" {
		// moto's SES refuses unverified senders, as SES in sandbox does.
		_, _ = c.SES.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(mailFrom)})
	}
	return set, nil
}

// CreateTable creates the single table as the CDK stack defines it and waits until it is active.
func CreateTable(ctx context.Context, db *dynamodb.Client, name string) error {
	_, err := db.CreateTable(ctx, store.TableDefinition(name))
	var inUse *dtypes.ResourceInUseException
	if errors.As(err, &inUse) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create table: %w", err)
	}
	if _, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &dtypes.TimeToLiveSpecification{AttributeName: aws.String(manifest.AttrTTL), Enabled: aws.Bool(true)},
	}); err != nil {
		return fmt.Errorf("enable TTL: %w", err)
	}
	return nil
}

func createQueue(ctx context.Context, c *sqs.Client, prefix string, q manifest.QueueDef) (url, dlqURL string, err error) {
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(prefix + "-" + q.DLQName())})
	if err != nil {
		return "", "", fmt.Errorf("create %s: %w", q.DLQName(), err)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: dlq.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", "", fmt.Errorf("dlq arn: %w", err)
	}
	redrive, _ := json.Marshal(map[string]string{
		"deadLetterTargetArn": attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)],
		"maxReceiveCount":     strconv.Itoa(q.MaxReceiveCount),
	})
	main, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(prefix + "-" + q.Name),
		Attributes: map[string]string{
			string(sqstypes.QueueAttributeNameRedrivePolicy):     string(redrive),
			string(sqstypes.QueueAttributeNameVisibilityTimeout): strconv.Itoa(q.VisibilitySeconds),
		},
	})
	if err != nil {
		return "", "", fmt.Errorf("create %s: %w", q.Name, err)
	}
	return aws.ToString(main.QueueUrl), aws.ToString(dlq.QueueUrl), nil
}
