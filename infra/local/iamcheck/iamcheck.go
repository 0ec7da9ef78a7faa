package iamcheck

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	m "github.com/liberation/monetization/shared/manifest"
)

// Local identity of the emulated account (moto's default) and partition.
const (
	Partition = "aws"
	AccountID = "123456789012"
)

// Checker evaluates calls against the functions' policies in one local environment.
type Checker struct {
	// Region of the local ARNs.
	Region string
	// Getenv reads the environment the functions run with (TABLE_NAME, BUCKET_NAME, QUEUE_URL_*,
	// the *_PARAM names): the local values of the policy placeholders.
	Getenv func(string) string
	// Lookup returns a function's manifest entry by name (nil: manifest.ByName).
	Lookup func(name string) (m.Function, bool)
	// Recorder, when set, receives every allowed (function, action, resource).
	Recorder *Recorder
}

// Install adds the check to cfg's API options: every client built from cfg afterwards checks each
// call made inside a function's invocation. Local stack only (localtest, make dev).
func Install(cfg *aws.Config, c *Checker) {
	cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("LocalIAMCheck", c.handle), middleware.After)
	})
}

// Call is one authorisation AWS would make for a request: an action on a resource.
type Call struct {
	Action   string
	Resource string
	// Keys are the request's condition keys (e.g. kms:ViaService).
	Keys map[string]string
}

func (c *Checker) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	fn, ok := FunctionFrom(ctx)
	if !ok {
		return next.HandleInitialize(ctx, in) // not a function's call: test set-up, tooling
	}
	service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
	if err := c.Check(fn, service, op, in.Parameters); err != nil {
		return middleware.InitializeOutput{}, middleware.Metadata{}, err
	}
	return next.HandleInitialize(ctx, in)
}

// FunctionFrom returns the name of the function whose invocation ctx belongs to: the last part of
// the invoked function ARN the Lambda context carries.
func FunctionFrom(ctx context.Context) (string, bool) {
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok || lc == nil || lc.InvokedFunctionArn == "" {
		return "", false
	}
	arn := lc.InvokedFunctionArn
	return arn[strings.LastIndex(arn, ":")+1:], true
}

// Check authorises every action the request needs for fn, recording the allowed ones; the first
// denied one is returned as the error AWS returns (code AccessDeniedException, AccessDenied, …).
func (c *Checker) Check(fn, service, op string, params any) error {
	calls := c.Calls(service, op, params)
	f, known := c.lookup(fn)
	grants := Grants(f, c.value)
	uses := make([]Use, len(calls))
	for i, call := range calls {
		tmpl, ok := allowedBy(grants, call.Action, call.Resource, call.Keys)
		if !known || !ok {
			return Denied(service, fn, call)
		}
		uses[i] = Use{Function: fn, Action: call.Action, Resource: call.Resource, Grant: tmpl}
	}
	if c.Recorder != nil {
		for _, u := range uses {
			c.Recorder.Record(u)
		}
	}
	return nil
}

func (c *Checker) lookup(name string) (m.Function, bool) {
	if c.Lookup != nil {
		return c.Lookup(name)
	}
	return m.ByName(name)
}

// Denied is the error AWS returns for an unauthorised call: a client fault with the service's
// access-denied code and a message in AWS's words naming the function, action and resource.
func Denied(service, fn string, call Call) error {
	code := "AccessDeniedException" // DynamoDB, SES, SSM, KMS
	switch service {
	case "S3":
		code = "AccessDenied"
	case "SQS":
		code = "AccessDenied" // SQS's query/JSON protocols answer AccessDenied
	}
	return &smithy.GenericAPIError{Code: code, Fault: smithy.FaultClient, Message: fmt.Sprintf(
		"User: arn:%s:sts::%s:assumed-role/%s-role/%s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action (local IAM check: grant it in the function's manifest entry)",
		Partition, AccountID, fn, fn, call.Action, call.Resource, call.Action)}
}

// value is the local value of a policy placeholder.
func (c *Checker) value(name string) (string, bool) {
	switch {
	case name == "Partition":
		return Partition, true
	case name == "Region":
		return c.Region, true
	case name == "Account":
		return AccountID, true
	case name == "TableArn":
		return c.tableARN(c.Getenv(m.EnvTable)), true
	case name == "BucketArn":
		return "arn:" + Partition + ":s3:::" + c.Getenv(m.EnvBucket), true
	case name == "MailFromAddress", name == "MailFromDomain":
		addr := identity(c.Getenv(m.EnvMailFrom))
		if name == "MailFromDomain" {
			addr = addr[strings.LastIndex(addr, "@")+1:]
		}
		return addr, addr != ""
	case strings.HasPrefix(name, "QueueArn:"):
		q, ok := m.QueueByName(strings.TrimPrefix(name, "QueueArn:"))
		if !ok || c.Getenv(q.EnvVar()) == "" {
			return "", false
		}
		return c.queueARN(c.Getenv(q.EnvVar())), true
	case strings.HasPrefix(name, "DLQArn:"):
		q, ok := m.QueueByName(strings.TrimPrefix(name, "DLQArn:"))
		if !ok || c.Getenv(q.DLQEnvVar()) == "" {
			return "", false
		}
		return c.queueARN(c.Getenv(q.DLQEnvVar())), true
	case strings.HasPrefix(name, "Param:"):
		env := strings.TrimPrefix(name, "Param:")
		p := c.Getenv(env)
		if p == "" {
			p = "local/" + env // locally the secret is in the environment; no parameter exists
		}
		return "/" + strings.TrimPrefix(p, "/"), true
	}
	return "", false
}

func (c *Checker) tableARN(table string) string {
	return "arn:" + Partition + ":dynamodb:" + c.Region + ":" + AccountID + ":table/" + table
}

// queueARN derives a queue's ARN from its URL (https://host/<account>/<name>).
func (c *Checker) queueARN(u string) string {
	account, name := AccountID, u
	if p, err := url.Parse(u); err == nil {
		parts := strings.Split(strings.Trim(p.Path, "/"), "/")
		if len(parts) == 2 {
			account, name = parts[0], parts[1]
		} else {
			name = parts[len(parts)-1]
		}
	}
	return "arn:" + Partition + ":sqs:" + c.Region + ":" + account + ":" + name
}

// Calls maps a request to the authorisations AWS makes for it. An operation this table does not
// know authorises as "<service>:<Operation>" on "*", which no function's policy grants.
func (c *Checker) Calls(service, op string, params any) []Call {
	one := func(action, resource string) []Call { return []Call{{Action: action, Resource: resource}} }
	switch in := params.(type) {
	// DynamoDB: the table, or its index for a Query on one.
	case *dynamodb.GetItemInput:
		return one(m.GetItem, c.tableARN(aws.ToString(in.TableName)))
	case *dynamodb.PutItemInput:
		return one(m.PutItem, c.tableARN(aws.ToString(in.TableName)))
	case *dynamodb.UpdateItemInput:
		return one(m.UpdateItem, c.tableARN(aws.ToString(in.TableName)))
	case *dynamodb.DeleteItemInput:
		return one(m.DeleteItem, c.tableARN(aws.ToString(in.TableName)))
	case *dynamodb.QueryInput:
		res := c.tableARN(aws.ToString(in.TableName))
		if in.IndexName != nil {
			res += "/index/" + *in.IndexName
		}
		return one(m.Query, res)
	case *dynamodb.ScanInput:
		res := c.tableARN(aws.ToString(in.TableName))
		if in.IndexName != nil {
			res += "/index/" + *in.IndexName
		}
		return one("dynamodb:Scan", res)
	case *dynamodb.BatchGetItemInput:
		var out []Call
		for _, t := range sortedKeys(in.RequestItems) {
			out = append(out, Call{Action: m.BatchGetItem, Resource: c.tableARN(t)})
		}
		return out
	case *dynamodb.BatchWriteItemInput:
		var out []Call
		for _, t := range sortedKeys(in.RequestItems) {
			out = append(out, Call{Action: "dynamodb:BatchWriteItem", Resource: c.tableARN(t)})
		}
		return out
	case *dynamodb.TransactWriteItemsInput:
		// IAM authorises each item of a transaction as its own action (no TransactWriteItems action).
		var out []Call
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				out = append(out, Call{Action: m.PutItem, Resource: c.tableARN(aws.ToString(it.Put.TableName))})
			case it.Update != nil:
				out = append(out, Call{Action: m.UpdateItem, Resource: c.tableARN(aws.ToString(it.Update.TableName))})
			case it.Delete != nil:
				out = append(out, Call{Action: m.DeleteItem, Resource: c.tableARN(aws.ToString(it.Delete.TableName))})
			case it.ConditionCheck != nil:
				out = append(out, Call{Action: m.ConditionCheckItem, Resource: c.tableARN(aws.ToString(it.ConditionCheck.TableName))})
			}
		}
		return out
	case *dynamodb.TransactGetItemsInput:
		var out []Call
		for _, it := range in.TransactItems {
			if it.Get != nil {
				out = append(out, Call{Action: m.GetItem, Resource: c.tableARN(aws.ToString(it.Get.TableName))})
			}
		}
		return out
	// SQS: the queue named by its URL.
	case *sqs.SendMessageInput:
		return one(m.SendMessage, c.queueARN(aws.ToString(in.QueueUrl)))
	case *sqs.SendMessageBatchInput:
		return one(m.SendMessage, c.queueARN(aws.ToString(in.QueueUrl))) // authorised as SendMessage
	case *sqs.GetQueueAttributesInput:
		return one(m.GetQueueAttributes, c.queueARN(aws.ToString(in.QueueUrl)))
	// S3: the object (HeadObject needs s3:GetObject).
	case *s3.GetObjectInput:
		return one("s3:GetObject", c.objectARN(in.Bucket, in.Key))
	case *s3.HeadObjectInput:
		return one("s3:GetObject", c.objectARN(in.Bucket, in.Key))
	case *s3.PutObjectInput:
		return one("s3:PutObject", c.objectARN(in.Bucket, in.Key))
	case *s3.DeleteObjectInput:
		if in.VersionId != nil { // a version is removed for good: its own action
			return one(m.S3DeleteObjectVersion, c.objectARN(in.Bucket, in.Key))
		}
		return one(m.S3DeleteObject, c.objectARN(in.Bucket, in.Key))
	case *s3.ListObjectVersionsInput:
		return []Call{{Action: m.S3ListBucketVersions, Resource: "arn:" + Partition + ":s3:::" + aws.ToString(in.Bucket),
			Keys: map[string]string{"s3:prefix": aws.ToString(in.Prefix)}}}
	case *s3.ListObjectsV2Input:
		return one("s3:ListBucket", "arn:"+Partition+":s3:::"+aws.ToString(in.Bucket))
	// SES v2: the sending identity (the From address).
	case *sesv2.SendEmailInput:
		return one("ses:SendEmail", "arn:"+Partition+":ses:"+c.Region+":"+AccountID+":identity/"+identity(aws.ToString(in.FromEmailAddress)))
	// SSM: the parameter(s); SecureString decryption is SSM's own call to KMS.
	case *ssm.GetParameterInput:
		return one(m.SSMGetParameter, c.paramARN(aws.ToString(in.Name)))
	case *ssm.GetParametersInput:
		var out []Call
		for _, n := range in.Names {
			out = append(out, Call{Action: "ssm:GetParameters", Resource: c.paramARN(n)})
		}
		return out
	}
	return one(prefix(service)+":"+op, "*")
}

func (c *Checker) objectARN(bucket, key *string) string {
	return "arn:" + Partition + ":s3:::" + aws.ToString(bucket) + "/" + aws.ToString(key)
}

func (c *Checker) paramARN(name string) string {
	return "arn:" + Partition + ":ssm:" + c.Region + ":" + AccountID + ":parameter/" + strings.TrimPrefix(name, "/")
}

// identity is the address part of a From header ("Name <a@b>" → "a@b").
func identity(from string) string {
	if i := strings.LastIndex(from, "<"); i >= 0 {
		from = strings.TrimSuffix(from[i+1:], ">")
	}
	return strings.TrimSpace(from)
}

// prefix is the IAM service prefix of an SDK service id.
func prefix(service string) string {
	switch service {
	case "SESv2", "SES":
		return "ses"
	}
	return strings.ToLower(strings.ReplaceAll(service, " ", ""))
}

func sortedKeys[V any](mp map[string]V) []string {
	out := make([]string, 0, len(mp))
	for k := range mp {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// SecretCheck is platform.Secrets.Check for the local stack: a secret read inside a function's
// invocation is authorised as SSM would authorise it — ssm:GetParameter on the parameter named by
// paramEnv — and recorded, although locally the value comes from the environment.
func (c *Checker) SecretCheck(ctx context.Context, paramEnv string) error {
	fn, ok := FunctionFrom(ctx)
	if !ok {
		return nil // not a function's read: test set-up, tooling
	}
	name, _ := c.value("Param:" + paramEnv)
	return c.Check(fn, "SSM", "GetParameter", &ssm.GetParameterInput{Name: &name})
}
