package iamcheck

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	m "github.com/liberation/monetization/shared/manifest"
)

var env = map[string]string{
	m.EnvMailFrom:       "Liberation <receipts@mail.example>",
	m.EnvTable:          "t-table",
	m.EnvBucket:         "t-bucket",
	m.EnvStripeKeyParam: "/monetization/dev/stripe-secret-key",
	"QUEUE_URL_" + strings.ToUpper(strings.ReplaceAll(m.Queues[0].Name, "-", "_")): "http://127.0.0.1:5000/123456789012/t-" + m.Queues[0].Name,
}

// functions of the tests, by name (not the manifest's).
var fns = map[string]m.Function{
	"reader":   {Name: "reader", Table: []string{m.GetItem, m.Query, m.QueryIndex}},
	"indexer":  {Name: "indexer", Table: []string{m.QueryIndex}},
	"mailer":   {Name: "mailer", Email: true},
	"lister":   {Name: "lister", Cursors: true},
	"writer":   {Name: "writer", Table: []string{m.GetItem, m.PutItem, m.UpdateItem}, Sends: []string{m.Queues[0].Name}},
	"receipts": {Name: "receipts", Bucket: []string{"s3:GetObject", "s3:PutObject"}, BucketPrefix: "receipts/"},
	"stripe":   {Name: "stripe", Stripe: true},
}

func checker(rec *Recorder) *Checker {
	return &Checker{Region: "us-east-1", Getenv: func(k string) string { return env[k] }, Recorder: rec,
		Lookup: func(n string) (m.Function, bool) { f, ok := fns[n]; return f, ok }}
}

func table(s string) *string { return aws.String(s) }

func TestCheck(t *testing.T) {
	c := checker(nil)
	queueURL := env["QUEUE_URL_"+strings.ToUpper(strings.ReplaceAll(m.Queues[0].Name, "-", "_"))]
	cases := []struct {
		name, fn, service, op string
		params                any
		allow                 bool
	}{
		{"granted GetItem", "reader", "DynamoDB", "GetItem", &dynamodb.GetItemInput{TableName: table("t-table")}, true},
		{"PutItem not granted", "reader", "DynamoDB", "PutItem", &dynamodb.PutItemInput{TableName: table("t-table")}, false},
		{"Query on an index: index/*", "reader", "DynamoDB", "Query", &dynamodb.QueryInput{TableName: table("t-table"), IndexName: aws.String("GSI1")}, true},
		{"QueryIndex: no Query on the table's own keys", "indexer", "DynamoDB", "Query", &dynamodb.QueryInput{TableName: table("t-table")}, false},
		{"QueryIndex: Query on an index", "indexer", "DynamoDB", "Query", &dynamodb.QueryInput{TableName: table("t-table"), IndexName: aws.String("GSI2")}, true},
		{"send as MAIL_FROM", "mailer", "SESv2", "SendEmail", &sesv2.SendEmailInput{FromEmailAddress: aws.String("Liberation <receipts@mail.example>")}, true},
		{"send as another identity", "mailer", "SESv2", "SendEmail", &sesv2.SendEmailInput{FromEmailAddress: aws.String("ceo@other.example")}, false},
		{"the cursor secret where cursors are signed", "lister", "SSM", "GetParameter", &ssm.GetParameterInput{Name: aws.String("/local/" + m.EnvCursorSecretName)}, true},
		{"no cursor secret elsewhere", "reader", "SSM", "GetParameter", &ssm.GetParameterInput{Name: aws.String("/local/" + m.EnvCursorSecretName)}, false},
		{"another table", "reader", "DynamoDB", "GetItem", &dynamodb.GetItemInput{TableName: table("other")}, false},
		{"Scan is never granted", "reader", "DynamoDB", "Scan", &dynamodb.ScanInput{TableName: table("t-table")}, false},
		{"BatchGetItem not granted", "reader", "DynamoDB", "BatchGetItem",
			&dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"t-table": {}}}, false},
		{"transaction of granted items", "writer", "DynamoDB", "TransactWriteItems", &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: table("t-table")}}, {Update: &types.Update{TableName: table("t-table")}}}}, true},
		{"transaction with one ConditionCheck not granted", "writer", "DynamoDB", "TransactWriteItems", &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: table("t-table")}}, {ConditionCheck: &types.ConditionCheck{TableName: table("t-table")}}}}, false},
		{"send to its queue", "writer", "SQS", "SendMessage", &sqs.SendMessageInput{QueueUrl: aws.String(queueURL)}, true},
		{"send to another queue", "writer", "SQS", "SendMessage", &sqs.SendMessageInput{QueueUrl: aws.String("http://127.0.0.1:5000/123456789012/other")}, false},
		{"no Sends, no queue", "reader", "SQS", "SendMessage", &sqs.SendMessageInput{QueueUrl: aws.String(queueURL)}, false},
		{"object under the prefix", "receipts", "S3", "GetObject", &s3.GetObjectInput{Bucket: aws.String("t-bucket"), Key: aws.String("receipts/u1/r.pdf")}, true},
		{"HeadObject is GetObject", "receipts", "S3", "HeadObject", &s3.HeadObjectInput{Bucket: aws.String("t-bucket"), Key: aws.String("receipts/x")}, true},
		{"object outside the prefix", "receipts", "S3", "GetObject", &s3.GetObjectInput{Bucket: aws.String("t-bucket"), Key: aws.String("content/c1/v.mp4")}, false},
		{"prefix is not a key prefix of a sibling", "receipts", "S3", "PutObject", &s3.PutObjectInput{Bucket: aws.String("t-bucket"), Key: aws.String("receipts-old/x")}, false},
		{"DeleteObject not granted", "receipts", "S3", "DeleteObject", &s3.DeleteObjectInput{Bucket: aws.String("t-bucket"), Key: aws.String("receipts/x")}, false},
		{"its parameter", "stripe", "SSM", "GetParameter", &ssm.GetParameterInput{Name: aws.String("/monetization/dev/stripe-secret-key")}, true},
		{"another parameter", "stripe", "SSM", "GetParameter", &ssm.GetParameterInput{Name: aws.String("/monetization/dev/license-signing-key")}, false},
		{"a function not in the manifest has no role", "ghost", "DynamoDB", "GetItem", &dynamodb.GetItemInput{TableName: table("t-table")}, false},
		{"an operation the checker does not know", "reader", "DynamoDB", "DescribeTable", &dynamodb.DescribeTableInput{TableName: table("t-table")}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Check(tc.fn, tc.service, tc.op, tc.params)
			if tc.allow {
				if err != nil {
					t.Fatalf("denied: %v", err)
				}
				return
			}
			var api smithy.APIError
			if !errors.As(err, &api) {
				t.Fatalf("allowed (err %v), want AccessDenied", err)
			}
			want := "AccessDeniedException"
			if tc.service == "S3" || tc.service == "SQS" {
				want = "AccessDenied"
			}
			if api.ErrorCode() != want || !strings.Contains(api.ErrorMessage(), tc.fn) {
				t.Errorf("error %s %q, want code %s naming %s", api.ErrorCode(), api.ErrorMessage(), want, tc.fn)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"arn:aws:s3:::b/receipts/*", "arn:aws:s3:::b/receipts/a/b", true},
		{"arn:aws:s3:::b/receipts/*", "arn:aws:s3:::b/receipts/", true},
		{"arn:aws:s3:::b/receipts/*", "arn:aws:s3:::b/content/x", false},
		{"arn:aws:dynamodb:r:1:table/t/index/*", "arn:aws:dynamodb:r:1:table/t/index/GSI1", true},
		{"arn:aws:dynamodb:r:1:table/t", "arn:aws:dynamodb:r:1:table/t/index/GSI1", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*", "", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
	} {
		if got := Match(tc.p, tc.s); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
}

func TestConditionedGrant(t *testing.T) {
	g := []Grant{{Actions: []string{m.KMSDecrypt}, Resources: []string{"arn:aws:kms:r:1:key/*"},
		Condition: map[string]map[string]string{"StringEquals": {"kms:ViaService": "ssm.r.amazonaws.com"}}}}
	if !Allowed(g, "kms:Decrypt", "arn:aws:kms:r:1:key/k", map[string]string{"kms:ViaService": "ssm.r.amazonaws.com"}) {
		t.Error("decrypt through SSM denied")
	}
	if Allowed(g, "kms:Decrypt", "arn:aws:kms:r:1:key/k", nil) {
		t.Error("direct decrypt allowed")
	}
}

// A function removing old versions under one prefix (manifest BucketVersions): listing versions is
// a bucket action held to the prefix by s3:prefix (StringLike), deleting a version its own action,
// and the current object is not deletable through it.
func TestBucketVersionsGrant(t *testing.T) {
	f := m.Function{Name: "eraser", BucketVersions: []string{"receipts/"}}
	g := Grants(f, func(name string) (string, bool) { return "arn:aws:s3:::b", name == "BucketArn" })
	for _, tc := range []struct {
		action, resource, prefix string
		want                     bool
	}{
		{m.S3ListBucketVersions, "arn:aws:s3:::b", "receipts/u1/pay_1.pdf", true},
		{m.S3ListBucketVersions, "arn:aws:s3:::b", "exports/u1/", false},
		{m.S3ListBucketVersions, "arn:aws:s3:::b", "", false},
		{m.S3DeleteObjectVersion, "arn:aws:s3:::b/receipts/u1/pay_1.pdf", "", true},
		{m.S3DeleteObjectVersion, "arn:aws:s3:::b/content/c1/lesson.mp4", "", false},
		{m.S3DeleteObject, "arn:aws:s3:::b/receipts/u1/pay_1.pdf", "", false}, // versions only
		{"s3:ListBucket", "arn:aws:s3:::b", "receipts/", false},
	} {
		keys := map[string]string{}
		if tc.action == m.S3ListBucketVersions {
			keys["s3:prefix"] = tc.prefix
		}
		if got := Allowed(g, tc.action, tc.resource, keys); got != tc.want {
			t.Errorf("%s on %s (prefix %q): allowed %v, want %v", tc.action, tc.resource, tc.prefix, got, tc.want)
		}
	}
}

// The middleware on a real client: a call inside a function's invocation that its policy does not
// allow fails before it is sent, with the error the SDK's callers see from AWS; calls outside an
// invocation (test set-up) and allowed calls reach the service; allowed calls are recorded.
func TestMiddleware(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sent = append(sent, r.Header.Get("X-Amz-Target"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "uses.jsonl")
	cfg := aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}
	Install(&cfg, checker(RecorderAt(path)))
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	in := func(fn string) context.Context {
		return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
			InvokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:" + fn})
	}
	put := &dynamodb.PutItemInput{TableName: table("t-table"), Item: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "a"}}}

	_, err := db.PutItem(in("reader"), put)
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" ||
		!strings.Contains(api.ErrorMessage(), "reader") || !strings.Contains(api.ErrorMessage(), "dynamodb:PutItem") ||
		!strings.Contains(api.ErrorMessage(), "table/t-table") {
		t.Fatalf("PutItem by a reader: %v, want AccessDeniedException naming the function, action and table", err)
	}
	if len(sent) != 0 {
		t.Fatalf("the denied call reached the service: %v", sent)
	}
	if _, err := db.PutItem(in("writer"), put); err != nil {
		t.Fatalf("PutItem by a writer: %v", err)
	}
	if _, err := db.PutItem(context.Background(), put); err != nil {
		t.Fatalf("PutItem outside an invocation: %v", err)
	}
	if len(sent) != 2 {
		t.Errorf("calls sent: %v, want 2", sent)
	}
	uses, err := ReadUses(path)
	want := Use{Function: "writer", Action: m.PutItem, Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/t-table", Grant: "${TableArn}"}
	if err != nil || len(uses) != 1 || uses[0] != want {
		t.Errorf("recorded %v (%v), want [%v]", uses, err, want)
	}
}

func TestRecorderConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "uses.jsonl")
	r := RecorderAt(path)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r.Record(Use{Function: "f", Action: "a", Resource: string(rune('a' + i%10))})
		}(i)
	}
	wg.Wait()
	uses, err := ReadUses(path)
	if err != nil || len(uses) != 10 || r.Err() != nil {
		t.Errorf("%d uses (%v, %v), want the 10 distinct ones, each once", len(uses), err, r.Err())
	}
}

func TestUnused(t *testing.T) {
	f := m.Function{Name: "f", Table: []string{m.GetItem, m.PutItem, m.Query, m.QueryIndex}, Bucket: []string{"s3:GetObject"}, BucketPrefix: "receipts/"}
	uses := []Use{
		{Function: "f", Action: m.GetItem, Grant: "${TableArn}"},
		{Function: "f", Action: m.Query, Grant: "${TableArn}/index/*"},
		{Function: "f", Action: "s3:GetObject", Grant: "${BucketArn}/receipts/*"},
		{Function: "gone", Action: m.GetItem, Grant: "${TableArn}"},
	}
	allow := map[string]string{GrantKey("f", m.Query, "${TableArn}"): "the base-table query runs only on a path the suite cannot reach"}
	unused, ungranted := Unused([]m.Function{f}, uses, allow)
	if want := []string{GrantKey("f", m.PutItem, "${TableArn}")}; !reflect.DeepEqual(unused, want) {
		t.Errorf("unused %v, want %v", unused, want)
	}
	if want := []string{GrantKey("gone", m.GetItem, "${TableArn}")}; !reflect.DeepEqual(ungranted, want) {
		t.Errorf("ungranted %v, want %v", ungranted, want)
	}
}

func TestUnusedAllowsAGrantOfEveryFunction(t *testing.T) {
	f := m.Function{Name: "f", Email: true}
	identity := "arn:${Partition}:ses:${Region}:${Account}:identity/"
	uses := []Use{{Function: "f", Action: "ses:SendEmail", Grant: identity + "${MailFromAddress}"}}
	unused, _ := Unused([]m.Function{f}, uses, nil)
	if want := []string{GrantKey("f", "ses:SendEmail", identity+"${MailFromDomain}")}; !reflect.DeepEqual(unused, want) {
		t.Fatalf("unused %v, want %v", unused, want)
	}
	allow := map[string]string{"* ses:SendEmail " + identity + "${MailFromDomain}": "either identity"}
	if unused, _ := Unused([]m.Function{f}, uses, allow); len(unused) != 0 {
		t.Errorf("unused %v despite the allow-list's \"*\" entry", unused)
	}
}

func TestSecretCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "uses.jsonl")
	c := checker(RecorderAt(path))
	in := func(fn string) context.Context {
		return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
			InvokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:" + fn})
	}
	if err := c.SecretCheck(in("lister"), m.EnvCursorSecretName); err != nil {
		t.Fatalf("a cursor-signing function reading the cursor secret: %v", err)
	}
	var api smithy.APIError
	if err := c.SecretCheck(in("reader"), m.EnvCursorSecretName); !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("a function without Cursors reading the cursor secret: %v, want AccessDeniedException", err)
	}
	if err := c.SecretCheck(context.Background(), m.EnvCursorSecretName); err != nil {
		t.Fatalf("a read outside any invocation (set-up) is not checked: %v", err)
	}
	uses, err := ReadUses(path)
	if err != nil || len(uses) != 1 || uses[0].Function != "lister" || uses[0].Action != m.SSMGetParameter {
		t.Errorf("recorded %+v (%v), want lister's one ssm:GetParameter", uses, err)
	}
}

// TestInspectQueuesGrant: InspectQueues (GET /admin/queues) authorises sqs:GetQueueAttributes on
// every queue and every DLQ, named by its URL, and nothing else; a producer's SendMessage grant does
// not let it read attributes.
func TestInspectQueuesGrant(t *testing.T) {
	qenv := map[string]string{}
	for k, v := range env {
		qenv[k] = v
	}
	for _, q := range m.Queues {
		qenv[q.EnvVar()] = "http://127.0.0.1:5000/123456789012/t-" + q.Name
		qenv[q.DLQEnvVar()] = "http://127.0.0.1:5000/123456789012/t-" + q.DLQName()
	}
	inspector := m.Function{Name: "inspector", InspectQueues: true}
	c := &Checker{Region: "us-east-1", Getenv: func(k string) string { return qenv[k] },
		Lookup: func(n string) (m.Function, bool) {
			if n == inspector.Name {
				return inspector, true
			}
			f, ok := fns[n]
			return f, ok
		}}
	attrs := func(u string) *sqs.GetQueueAttributesInput {
		return &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u)}
	}
	for _, q := range m.Queues {
		for _, u := range []string{qenv[q.EnvVar()], qenv[q.DLQEnvVar()]} {
			if err := c.Check("inspector", "SQS", "GetQueueAttributes", attrs(u)); err != nil {
				t.Errorf("GetQueueAttributes on %s denied: %v", u, err)
			}
		}
	}
	q0 := m.Queues[0]
	for _, tc := range []struct {
		name, fn, op string
		params       any
	}{
		{"a queue not in the manifest", "inspector", "GetQueueAttributes", attrs("http://127.0.0.1:5000/123456789012/other")},
		{"no SendMessage with InspectQueues", "inspector", "SendMessage", &sqs.SendMessageInput{QueueUrl: aws.String(qenv[q0.EnvVar()])}},
		{"a producer reads no attributes", "writer", "GetQueueAttributes", attrs(qenv[q0.EnvVar()])},
	} {
		if err := c.Check(tc.fn, "SQS", tc.op, tc.params); err == nil {
			t.Errorf("%s: allowed, want denied", tc.name)
		}
	}
}
