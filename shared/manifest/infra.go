package manifest

// Helpers used by the deployable descriptions of the system (infra/cdk, template.yaml and their
// tests). They derive everything from the declarations in functions.go; they add no new facts.

// Logical ids shared by the CDK stack and template.yaml.
const (
	BucketLogicalID  = "Bucket"
	HTTPAPILogicalID = "HttpApi"
)

// SES actions granted to functions with Email set. SES v2 SendEmail authorises as ses:SendEmail;
// SendRawEmail covers raw (attachment) messages sent through the v1 API.
var SESActions = []string{"ses:SendEmail", "ses:SendRawEmail"}

// Actions granted to read an SSM SecureString: the parameter itself and the aws/ssm KMS key.
const (
	SSMGetParameter = "ssm:GetParameter"
	KMSDecrypt      = "kms:Decrypt"
)

// SendMessage is the only SQS action a producer gets.
const SendMessage = "sqs:SendMessage"

// LogicalID is the queue's CloudFormation logical id ("ReceiptsQueue").
func (q QueueDef) LogicalID() string { return Pascal(q.Name) + "Queue" }

// DLQLogicalID is the dead-letter queue's logical id ("ReceiptsDeadLetterQueue").
func (q QueueDef) DLQLogicalID() string { return Pascal(q.Name) + "DeadLetterQueue" }

// CodeDir is the function's source folder relative to the repository root.
func (f Function) CodeDir() string { return "functions/" + f.Name }

// InGroups reports whether a caller with groups may call f (always true when f names no Groups).
func (f Function) InGroups(groups []string) bool {
	if len(f.Groups) == 0 {
		return true
	}
	for _, want := range f.Groups {
		for _, g := range groups {
			if g == want {
				return true
			}
		}
	}
	return false
}

// NeedsJWT reports whether the HTTP route sits behind the JWT authorizer (User and Admin; the admin
// group check itself happens in the handler).
func (f Function) NeedsJWT() bool { return f.Auth == User || f.Auth == Admin }

// SecretParamEnv lists the environment variables naming the SSM SecureStrings the function reads.
// Every function builds the store and so signs pagination cursors: all read the cursor secret.
func (f Function) SecretParamEnv() []string {
	out := []string{EnvCursorSecretName}
	if f.Stripe {
		out = append(out, EnvStripeKeyParam)
	}
	if f.WebhookSecret {
		out = append(out, EnvWebhookParam)
	}
	if f.SigningKey {
		out = append(out, EnvLicenseKeyParam)
	}
	return out
}

// SendQueues returns the definitions of the queues the function sends to.
func (f Function) SendQueues() []QueueDef {
	var out []QueueDef
	for _, name := range f.Sends {
		if q, ok := QueueByName(name); ok {
			out = append(out, q)
		}
	}
	return out
}

// ScheduleInput is the payload EventBridge Scheduler hands a scheduled function: an EventBridge
// event envelope (events.EventBridgeEvent) filled from Scheduler's context attributes.
func (f Function) ScheduleInput() string {
	return `{"version":"0","id":"<aws.scheduler.execution-id>","detail-type":"Scheduled Event",` +
		`"source":"aws.scheduler","time":"<aws.scheduler.scheduled-time>",` +
		`"resources":["<aws.scheduler.schedule-arn>"],"detail":{"job":"` + f.Name + `"}}`
}

// BucketObjects is the object pattern f's Bucket actions apply to: "<prefix>*", or "*".
func (f Function) BucketObjects() string { return f.BucketPrefix + "*" }

// TableIAMActions are the IAM actions for f.Table (the manifest lists only real IAM actions).
func (f Function) TableIAMActions() []string { return append([]string(nil), f.Table...) }
