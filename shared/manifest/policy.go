package manifest

import (
	"fmt"
	"sort"
	"strings"
)

// Statement is one IAM policy statement of a function's role, as data. Resources are ARN
// templates: what only a deployment knows is a placeholder (see the Placeholder constants), which
// each renderer (infra/cdk, template.yaml, the local policy check in infra/local/iamcheck) replaces
// with its own value through Resolve. So the statements checked locally are the ones deployed.
type Statement struct {
	Effect    string // always "Allow": roles carry no Deny statements
	Actions   []string
	Resources []string
	// Condition is the statement's condition block (operator → key → template), or nil.
	Condition map[string]map[string]string
}

// The S3 actions of BucketVersions.
const (
	S3ListBucketVersions  = "s3:ListBucketVersions"
	S3DeleteObject        = "s3:DeleteObject"
	S3DeleteObjectVersion = "s3:DeleteObjectVersion"
)

// Placeholders in Statement resources and conditions.
const (
	PlaceholderPartition = "${Partition}"
	PlaceholderRegion    = "${Region}"
	PlaceholderAccount   = "${Account}"
	PlaceholderTableArn  = "${TableArn}"
	PlaceholderBucketArn = "${BucketArn}"
	// The sender's SES identities: MAIL_FROM's address and its domain. SES authorises a send
	// against the identity the From address is verified under — the address when it is verified
	// itself, else its domain — so both are granted, and no other identity of the account.
	PlaceholderMailFromAddress = "${MailFromAddress}"
	PlaceholderMailFromDomain  = "${MailFromDomain}"
)

// QueueArnPlaceholder is the placeholder of the queue's ARN ("${QueueArn:receipts}").
func QueueArnPlaceholder(queue string) string { return "${QueueArn:" + queue + "}" }

// DLQArnPlaceholder is the placeholder of the ARN of the queue's dead-letter queue
// ("${DLQArn:receipts}").
func DLQArnPlaceholder(queue string) string { return "${DLQArn:" + queue + "}" }

// ParamPlaceholder is the placeholder of the name of the SSM parameter named by the environment
// variable env ("${Param:CURSOR_SECRET_PARAM}"). It resolves to the name with its leading slash
// ("/monetization/dev/cursor-secret"), so "parameter${Param:…}" is the parameter's ARN.
func ParamPlaceholder(env string) string { return "${Param:" + env + "}" }

// Policy is f's IAM statements: exactly the actions its manifest entry lists, on the resources they
// name, nothing more (no wildcard actions, no Scan). The CDK stack and template.yaml render these
// statements, and the local stack enforces them (docs/decisions/0076). Queue consumers also get
// the receive/delete actions of their event source mapping, which CDK and SAM add on their own:
// those belong to the Lambda service's poller, not to the function's code, and are not listed here.
func Policy(f Function) []Statement {
	allow := func(actions []string, resources ...string) Statement {
		return Statement{Effect: "Allow", Actions: append([]string(nil), actions...), Resources: resources}
	}
	var out []Statement
	// Item actions are authorised on the table only (DynamoDB never checks them against an index);
	// Query on the table (Query) and on its indexes (QueryIndex), each only where listed.
	var items, queryOn []string
	for _, a := range f.Table {
		switch a {
		case Query:
			queryOn = append(queryOn, PlaceholderTableArn)
		case QueryIndex:
			queryOn = append(queryOn, PlaceholderTableArn+"/index/*")
		default:
			items = append(items, a)
		}
	}
	if len(items) > 0 {
		out = append(out, allow(items, PlaceholderTableArn))
	}
	if len(queryOn) > 0 {
		sort.Strings(queryOn) // the table before its indexes, whatever the entry's order
		out = append(out, allow([]string{Query}, queryOn...))
	}
	if qs := f.SendQueues(); len(qs) > 0 {
		res := make([]string, len(qs))
		for i, q := range qs {
			res[i] = QueueArnPlaceholder(q.Name)
		}
		out = append(out, allow([]string{SendMessage}, res...))
	}
	if qs := f.InspectedQueues(); len(qs) > 0 {
		// Each queue and its DLQ: the depth GET /admin/queues reports (nothing is received or sent).
		var res []string
		for _, q := range qs {
			res = append(res, QueueArnPlaceholder(q.Name), DLQArnPlaceholder(q.Name))
		}
		out = append(out, allow([]string{GetQueueAttributes}, res...))
	}
	if len(f.Bucket) > 0 {
		// Only the objects under the function's prefix ("content/*"), or the whole bucket's.
		out = append(out, allow(f.Bucket, PlaceholderBucketArn+"/"+f.BucketObjects()))
	}
	for _, g := range f.BucketAlso {
		out = append(out, allow(g.Actions, PlaceholderBucketArn+"/"+g.Prefix+"*"))
	}
	for _, p := range f.BucketVersions {
		// Listing is a bucket action: the s3:prefix condition keeps it to the prefix's keys.
		list := allow([]string{S3ListBucketVersions}, PlaceholderBucketArn)
		list.Condition = map[string]map[string]string{"StringLike": {"s3:prefix": p + "*"}}
		out = append(out, list, allow([]string{S3DeleteObjectVersion}, PlaceholderBucketArn+"/"+p+"*"))
	}
	if f.Email {
		identity := "arn:" + PlaceholderPartition + ":ses:" + PlaceholderRegion + ":" + PlaceholderAccount + ":identity/"
		out = append(out, allow(SESActions, identity+PlaceholderMailFromAddress, identity+PlaceholderMailFromDomain))
	}
	var params []string
	for _, env := range f.SecretParamEnv() {
		params = append(params, "arn:"+PlaceholderPartition+":ssm:"+PlaceholderRegion+":"+PlaceholderAccount+":parameter"+ParamPlaceholder(env))
	}
	if len(params) > 0 {
		out = append(out, allow([]string{SSMGetParameter}, params...))
		// SecureStrings are encrypted with the AWS managed key aws/ssm; decrypt only through SSM.
		kms := allow([]string{KMSDecrypt}, "arn:"+PlaceholderPartition+":kms:"+PlaceholderRegion+":"+PlaceholderAccount+":key/*")
		kms.Condition = map[string]map[string]string{"StringEquals": {"kms:ViaService": "ssm." + PlaceholderRegion + ".amazonaws.com"}}
		out = append(out, kms)
	}
	return out
}

// Resolve replaces every placeholder "${…}" in template by value(name), where name is the text
// between "${" and "}" ("TableArn", "QueueArn:receipts", "DLQArn:receipts", "Param:CURSOR_SECRET_PARAM"). An unknown
// placeholder (value returns false) is an error: a renderer must know every placeholder.
func Resolve(template string, value func(name string) (string, bool)) (string, error) {
	var b strings.Builder
	rest := template
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		j := strings.Index(rest[i:], "}")
		if j < 0 {
			return "", fmt.Errorf("manifest: unterminated placeholder in %q", template)
		}
		name := rest[i+2 : i+j]
		v, ok := value(name)
		if !ok {
			return "", fmt.Errorf("manifest: no value for placeholder ${%s} in %q", name, template)
		}
		b.WriteString(rest[:i])
		b.WriteString(v)
		rest = rest[i+j+1:]
	}
}

// GrantCount is the number of (action, resource) pairs in f's policy: what "grants removed" counts.
func GrantCount(f Function) int {
	n := 0
	for _, s := range Policy(f) {
		n += len(s.Actions) * len(s.Resources)
	}
	return n
}
