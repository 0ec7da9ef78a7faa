package manifest

import "slices"

// Helpers used by the deployable descriptions of the system (infra/cdk, template.yaml and their
// tests). They derive everything from the declarations in functions.go; they add no new facts.

// Logical ids shared by the CDK stack and template.yaml.
const (
	BucketLogicalID  = "Bucket"
	HTTPAPILogicalID = "HttpApi"
)

// SES actions granted to functions with Email set: SES v2 SendEmail (simple content, attachments
// included: shared/mail/sesmail) authorises as ses:SendEmail. ses:SendRawEmail belongs to the v1
// API, which nothing calls.
var SESActions = []string{"ses:SendEmail"}

// Actions granted to read an SSM SecureString: the parameter itself and the aws/ssm KMS key.
const (
	SSMGetParameter = "ssm:GetParameter"
	KMSDecrypt      = "kms:Decrypt"
)

// SendMessage is the only SQS action a producer gets.
const SendMessage = "sqs:SendMessage"

// GetQueueAttributes is the only SQS action of a function with InspectQueues: the approximate
// message counts of each queue and dead-letter queue.
const GetQueueAttributes = "sqs:GetQueueAttributes"

// InspectedQueues returns the queues whose depth the function reads: every queue when InspectQueues.
func (f Function) InspectedQueues() []QueueDef {
	if !f.InspectQueues {
		return nil
	}
	return slices.Clone(Queues)
}

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

// SecretParamEnv lists the environment variables naming the SSM SecureStrings the function reads:
// the cursor secret only where cursors are signed (Cursors).
func (f Function) SecretParamEnv() []string {
	var out []string
	if f.Cursors {
		out = append(out, EnvCursorSecretName)
	}
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

// TableIAMActions are the IAM actions for f.Table: QueryIndex is dynamodb:Query (on other
// resources), listed once.
func (f Function) TableIAMActions() []string {
	var out []string
	for _, a := range f.Table {
		if a == QueryIndex {
			a = Query
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}
