package manifest

// The IaC scanner (checkov, run by `make lint` over template.yaml and the synthesized CDK templates)
// reads its suppressions from each resource's Metadata:
//
//	Metadata: {checkov: {skip: [{id: CKV_AWS_117, comment: "why"}]}}
//
// Every suppression is written next to the resource it concerns, with its reason; the generator
// (template.yaml) and the CDK stack take a function's from here, so both say the same thing. A test
// fails on a suppression without a reason, and checkov fails `make lint` on any other finding
// (decision 0078).

// ScanSkip is one suppressed scanner check and why it does not apply.
type ScanSkip struct {
	ID      string `json:"id" yaml:"id"`
	Comment string `json:"comment" yaml:"comment"`
}

// The checks suppressed on resources, with the checkov id each stands for.
const (
	CheckLambdaConcurrency = "CKV_AWS_115" // function-level concurrency limit
	CheckLambdaDLQ         = "CKV_AWS_116" // dead-letter queue on the function
	CheckLambdaVPC         = "CKV_AWS_117" // function inside a VPC
	CheckLambdaEnvKMS      = "CKV_AWS_173" // environment variables encrypted with a customer key
	CheckLogGroupKMS       = "CKV_AWS_158" // log group encrypted with a customer key
	CheckFunctionURLAuth   = "CKV_AWS_258" // function URL with AuthType NONE
	CheckSQSEncryption     = "CKV_AWS_27"  // queue encrypted (checkov knows KMS only)
	CheckAPIAccessLogs     = "CKV_AWS_95"  // HTTP API stage access logs
	CheckTableCMK          = "CKV_AWS_119" // DynamoDB table with a customer managed key
	CheckBucketAccessLogs  = "CKV_AWS_18"  // S3 server access logging
	CheckSNSEncryption     = "CKV_AWS_26"  // SNS topic encrypted with KMS
)

// Reasons shared by resources that are not functions (queues, the table, the bucket, the topic,
// log groups, the webhook's URL); the CDK stack and the generator attach them.
var (
	SkipSQSManagedSSE = ScanSkip{CheckSQSEncryption, "Encrypted at rest with SQS managed SSE (SqsManagedSseEnabled); " +
		"the check only recognises a KMS key. Messages carry ids, not secrets or card data."}
	SkipLogGroupKMS = ScanSkip{CheckLogGroupKMS, "CloudWatch Logs encrypts every log group at rest; the logs hold no " +
		"secrets, tokens or card data (shared/logging scrubs them), so a customer key would add a key policy and cost, not protection."}
	SkipTableCMK = ScanSkip{CheckTableCMK, "DynamoDB encrypts the table at rest with an AWS owned key; no requirement " +
		"calls for a customer managed key, which would add a KMS grant to all 94 roles and a KMS call to reads."}
	SkipBucketAccessLogs = ScanSkip{CheckBucketAccessLogs, "Objects are reached only through presigned URLs that " +
		"functions mint after their own authorisation check and log (request id, user); no public access (BlockPublicAccess)."}
	SkipSNSEncryption = ScanSkip{CheckSNSEncryption, "The alarm topic carries alarm names and descriptions only; " +
		"CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key aws/sns."}
	SkipFunctionURLAuth = ScanSkip{CheckFunctionURLAuth, "Stripe cannot sign requests with SigV4 (AWS_IAM); the " +
		"Stripe-Signature header, verified on the raw body before anything is read or stored, is the authentication; " +
		"reserved concurrency caps a flood (decision 0078)."}
)

// ScanSkips are the function's suppressed scanner checks, each with its reason.
func (f Function) ScanSkips() []ScanSkip {
	out := []ScanSkip{
		{CheckLambdaVPC, "VPC not used: the function reaches only AWS public endpoints (DynamoDB, SQS, S3, SES, SSM) " +
			"and Stripe over TLS; there is no private resource to reach, and a VPC would add NAT cost and cold-start time."},
		{CheckLambdaEnvKMS, "Environment variables hold resource and parameter names only (table, bucket, queue URLs, " +
			"SSM parameter names); secrets live in SSM SecureStrings read at init. Lambda encrypts them at rest with its AWS managed key."},
		{CheckLambdaDLQ, f.dlqReason()},
	}
	if f.ReservedConcurrency == 0 {
		out = append(out, ScanSkip{CheckLambdaConcurrency, "Draws on the account's unreserved pool: reserving for each " +
			"of 94 functions would split the account's concurrency into slices too small for a burst; the HTTP API's " +
			"stage throttle (100 rps, burst 200) bounds what callers can start. Only the public webhook URL reserves (decision 0078)."})
	}
	return out
}

func (f Function) dlqReason() string {
	switch f.Trigger.Kind {
	case Queue:
		return "Not applicable: an SQS event source invokes synchronously; failed messages go to the queue's own " +
			"dead-letter queue (maxReceiveCount), which alarms."
	case Schedule:
		return "The job's input is fixed (its schedule's), so there is nothing to keep: EventBridge Scheduler retries " +
			"it, the job is idempotent and runs again at its next schedule, and its errors alarm."
	default:
		return "Not applicable to synchronous invocations (HTTP API route, function URL): the caller gets the error " +
			"and retries (Stripe for the webhook); a Lambda DLQ only receives failed asynchronous events."
	}
}
