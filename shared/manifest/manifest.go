//go:generate go run ./gen/generate

// Package manifest is the single list of every Lambda function in the system: its trigger, its
// authorisation level and the exact AWS actions it needs. The CDK stack, template.yaml and the local
// gateway are generated from it or checked against it by tests, so they cannot drift apart.
package manifest

import (
	"fmt"
	"sort"
)

// Auth is who may call an HTTP route.
type Auth string

const (
	// Public routes need no token.
	Public Auth = "public"
	// User routes need a valid JWT.
	User Auth = "user"
	// Admin routes need a valid JWT whose cognito:groups contains "admin".
	Admin Auth = "admin"
	// Signed means the caller authenticates with a signature over the body (Stripe webhooks).
	Signed Auth = "signed"
	// Internal functions are invoked by AWS (SQS, EventBridge), never by a caller.
	Internal Auth = "internal"
)

// TriggerKind says what invokes a function.
type TriggerKind string

const (
	HTTP        TriggerKind = "http"         // API Gateway HTTP API route (payload 2.0)
	FunctionURL TriggerKind = "function-url" // Lambda function URL (Stripe webhook)
	Queue       TriggerKind = "queue"        // SQS event source mapping
	Schedule    TriggerKind = "schedule"     // EventBridge Scheduler
)

// Trigger describes the event source of a function.
type Trigger struct {
	Kind TriggerKind
	// HTTP and FunctionURL: method and path (FunctionURL path is the local gateway's mount point).
	Method string
	Path   string
	// Queue: the queue name (see Queues) and batch size.
	Queue     string
	BatchSize int
	// Schedule: an EventBridge Scheduler expression, e.g. "cron(15 0 * * ? *)".
	Expression string
}

// Table actions a function may be granted. No request path scans: Scan is granted only to the
// table walkers (TableWalkers), scheduled jobs that read the whole table once (a backfill).
// TransactWriteItems is not an IAM action: IAM authorises each Put/Update/ConditionCheck inside a
// transaction as PutItem/UpdateItem/ConditionCheckItem, so those are what a transacting function needs.
const (
	GetItem            = "dynamodb:GetItem"
	PutItem            = "dynamodb:PutItem"
	UpdateItem         = "dynamodb:UpdateItem"
	DeleteItem         = "dynamodb:DeleteItem"
	Query              = "dynamodb:Query"
	BatchGetItem       = "dynamodb:BatchGetItem"
	ConditionCheckItem = "dynamodb:ConditionCheckItem"
	// QueryIndex is the manifest's name for dynamodb:Query on the table's indexes
	// (<table>/index/*), where Query grants it on the table's own keys: IAM has one action for both
	// and tells them apart by resource, so a function reading only GSI1 gets no Query on the table.
	QueryIndex = "dynamodb:Query(index)"
	// Scan walks the whole table, page by page. Only the functions in TableWalkers may list it
	// (TestOnlyTableWalkersScan): one-off jobs, internal, resumable from a checkpoint.
	Scan = "dynamodb:Scan"
)

// TableWalkers are the functions that may Scan the table, each with the reason (decision 0083).
var TableWalkers = map[string]string{
	"backfill-journal": "posts the journal entries of the money history from before the journal: every area's " +
		"records of money, which no index lists together; runs until it has walked the table once",
	"migrate": "applies the data migrations (shared/migrate): a migration changes the shape of every item of a type, " +
		"and items of one type live in every user's partition; walks the table once per migration, from its checkpoint",
}

// BucketGrant is S3 actions on the bucket's objects under one prefix.
type BucketGrant struct {
	Actions []string
	Prefix  string
}

// Function is one Lambda.
type Function struct {
	Name    string // kebab-case folder under functions/
	Summary string
	// Area is the business area that owns the function (set from the Area it is declared in).
	Area string
	// Package is the Go package (under the module) holding the function's constructor,
	// New<PascalName>(*platform.Runtime). Empty: the area's package.
	Package string
	// Host marks a frame function (the Stripe webhook, a queue consumer) whose constructor takes the
	// hooks of every area that lists the function in Area.Hooks.
	Host    bool
	Trigger Trigger
	Auth    Auth
	// TimeoutSeconds and MemoryMB size the Lambda.
	TimeoutSeconds int
	MemoryMB       int
	// Table lists the exact DynamoDB actions on the single table (Query: its own keys; QueryIndex:
	// its indexes). Each is one the function's code takes on a path the end-to-end suite runs
	// (the grant-vs-use check, docs/decisions/0076), or is on UnexercisedGrants with its reason.
	Table []string
	// Sends lists queue names the function sends messages to.
	Sends []string
	// InspectQueues: the function reads the depth of every queue and of its dead-letter queue
	// (sqs:GetQueueAttributes on each; GET /admin/queues). It gets every queue's and DLQ's URL
	// (QueueDef.EnvVar, QueueDef.DLQEnvVar) and no other SQS action.
	InspectQueues bool
	// Bucket lists S3 actions on the content/receipts bucket ("s3:GetObject", "s3:PutObject").
	Bucket []string
	// BucketPrefix limits the Bucket actions to keys under this prefix ("content/"); empty: the
	// whole bucket's objects.
	BucketPrefix string
	// BucketAlso grants further S3 actions under other prefixes, for a function that reads one
	// prefix and writes another (the personal export reads receipts/ and writes exports/).
	BucketAlso []BucketGrant
	// BucketVersions lists prefixes under which the function removes old versions of objects (the
	// erasure: an overwrite or a delete leaves the earlier versions in the versioned bucket): it may
	// list the versions of keys under the prefix (s3:ListBucketVersions on the bucket, conditioned
	// on s3:prefix) and delete versions there (s3:DeleteObjectVersion). Deleting the current object
	// is s3:DeleteObject, granted like any object action (Bucket, BucketAlso).
	BucketVersions []string
	// Email: the function sends e-mail (SES v2 SendEmail in AWS, SMTP locally).
	Email bool
	// Cursors: the function encodes or decodes pagination cursors (a list route, or a job paging with
	// store cursors) and so reads the cursor-signing secret. Only these functions get its parameter.
	Cursors bool
	// Stripe: the function calls the Stripe API and so reads the Stripe secret key.
	Stripe bool
	// WebhookSecret: the function reads the Stripe webhook signing secret.
	WebhookSecret bool
	// Env lists further configuration variables the function reads, whose values come from the
	// stack's configuration (e.g. EnvPayoutMinimum).
	Env []string
	// SigningKey: the function signs license keys and so reads the Ed25519 private key
	// (LICENSE_SIGNING_KEY locally, the SSM SecureString named by LICENSE_SIGNING_KEY_PARAM in AWS).
	SigningKey bool
	// ZoneDB: the function resolves time-zone names and so embeds the zone database (time/tzdata,
	// ~390 KB of binary) in its own main only, whatever the OS image ships; no other function links it.
	ZoneDB bool
	// Groups, on a User route, lists the Cognito groups of which the caller must belong to at least
	// one (e.g. "support" for the agents' routes). The handler checks it (httpapi knows only
	// public/user/admin); documents and tests follow it: such a route documents 403.
	Groups []string
	// ReservedConcurrency, when > 0, reserves (and so caps) that many concurrent executions for the
	// function: a flood on a public entry point (the Stripe webhook's function URL) is throttled at
	// this many instead of taking the account's concurrency from every other function. 0: none (the
	// account's unreserved pool). Decision 0078 sizes the webhook's.
	ReservedConcurrency int
	// RateLimit, on a User route, caps each caller's requests to the function (routes that cost
	// money or can be brute-forced). The HTTP frame counts them in the table (UpdateItem on a
	// RATE# item per window; the function must be granted UpdateItem) and answers 429 with
	// Retry-After over the limit (decision 0077). nil: no per-user limit.
	RateLimit *RateLimit
}

// RateLimit is a per-user request limit: at most PerMinute requests in a clock minute and PerHour
// in a clock hour (fixed windows; 0: no limit of that length).
type RateLimit struct {
	PerMinute int
	PerHour   int
}

// LogicalID is the CloudFormation logical id used by both CDK and template.yaml.
func (f Function) LogicalID() string { return Pascal(f.Name) + "Function" }

// RouteKey is the API Gateway route key ("GET /tiers") for HTTP functions.
func (f Function) RouteKey() string { return f.Trigger.Method + " " + f.Trigger.Path }

// Pascal turns "create-checkout" into "CreateCheckout".
func Pascal(kebab string) string {
	out := make([]byte, 0, len(kebab))
	up := true
	for i := 0; i < len(kebab); i++ {
		c := kebab[i]
		if c == '-' {
			up = true
			continue
		}
		if up && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = false
		out = append(out, c)
	}
	return string(out)
}

// QueueDef is an SQS queue; every queue has a dead-letter queue.
type QueueDef struct {
	Name            string // logical name, e.g. "receipts"
	MaxReceiveCount int    // deliveries before a message moves to the DLQ
	// VisibilitySeconds must be at least 6 × the consumer's timeout (checked by a test).
	VisibilitySeconds int
	// FedBy, when set, is the EventBridge rule that puts events on the queue (another system
	// publishes them); nil for queues our own functions send to.
	FedBy *EventRule
}

// EventRule matches EventBridge events on the account's default bus by source and detail-type and
// delivers each to the queue in our envelope, through an input transformer:
// {"type": <detail-type>, "dedupeId": <id>, "payload": {"eventId", "time", "source", "detail"}}.
type EventRule struct {
	Source      string
	DetailTypes []string
}

// RuleInputPaths and RuleInputTemplate are the input transformer of every EventRule.
var (
	RuleInputPaths = map[string]string{"id": "$.id", "type": "$.detail-type", "time": "$.time",
		"source": "$.source", "detail": "$.detail"}
	RuleInputTemplate = `{"type": <type>, "dedupeId": <id>, "payload": {"eventId": <id>, "time": <time>, "source": <source>, "detail": <detail>}}`
)

// RuleLogicalID is the logical id of the EventBridge rule feeding q ("LearningEventsRule").
func (q QueueDef) RuleLogicalID() string { return Pascal(q.Name) + "Rule" }

// RuleDLQLogicalID is the queue keeping the events the rule could not put on q after EventBridge's
// retries (q unreachable or refusing, for RuleMaxEventAgeSeconds). It is not q's own DLQ: these
// are raw EventBridge events, not our envelope, and are re-sent with `aws events put-events`.
func (q QueueDef) RuleDLQLogicalID() string { return Pascal(q.Name) + "RuleDeadLetterQueue" }

// EventBridge's retry policy of a rule's target: its defaults (24 hours, 185 attempts), written out
// so that a reader of the template sees when an event goes to the rule's DLQ.
const (
	RuleMaxEventAgeSeconds = 86400
	RuleMaxRetryAttempts   = 185
)

// EnvVar names of the queue's URL for producers.
func (q QueueDef) EnvVar() string { return "QUEUE_URL_" + upper(q.Name) }

// DLQName is the dead-letter queue's name.
func (q QueueDef) DLQName() string { return q.Name + "-dlq" }

// DLQEnvVar names the variable holding the URL of the queue's dead-letter queue, set for functions
// with InspectQueues.
func (q QueueDef) DLQEnvVar() string { return "DLQ_URL_" + upper(q.Name) }

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - ('a' - 'A')
		case c == '-':
			b[i] = '_'
		}
	}
	return string(b)
}

// Area is one business area: its functions live in its package and it may contribute hooks (Stripe
// event handlers, queue message handlers) to the frame functions named in Hooks. Each area is
// declared in its own file of this package.
type Area struct {
	Name    string // "billing"
	Package string // Go package under the module, e.g. "shared/billing"
	// Hooks lists host functions (Host: true) the area contributes to. For a host "stripe-webhook"
	// the area's package exports StripeWebhookHooks (see shared/webhook and shared/queue).
	Hooks []string
	// HookPackages names, per host, a package of the area (under the module) holding that host's
	// hook function when it is not the area's package — so a host links only what its hooks need.
	HookPackages map[string]string
	Functions    []Function
	Queues       []QueueDef
}

// HookPackage is the package holding the area's hook function for host.
func (a Area) HookPackage(host string) string {
	if p, ok := a.HookPackages[host]; ok {
		return p
	}
	return a.Package
}

// HookFunc is the name of the Go function an area exports for a host ("StripeWebhookHooks").
func HookFunc(host string) string { return Pascal(host) + "Hooks" }

// Constructor is the Go function that builds the function's handler ("NewCreateRefund").
func (f Function) Constructor() string { return "New" + Pascal(f.Name) }

// GoPackage is the package path (under the module) of the function's constructor.
func (f Function) GoPackage() string {
	if f.Package != "" {
		return f.Package
	}
	if a, ok := AreaByName(f.Area); ok {
		return a.Package
	}
	return ""
}

// Areas lists the declared areas, in declaration (file) order.
var Areas []Area

// declare adds an area and its functions and queues; called from each area file's init.
func declare(a Area) {
	if a.Package == "" {
		a.Package = "shared/" + a.Name
	}
	for i := range a.Functions {
		a.Functions[i].Area = a.Name
	}
	Areas = append(Areas, a)
	Functions = append(Functions, a.Functions...)
	Queues = append(Queues, a.Queues...)
}

// AreaByName returns the declared area.
func AreaByName(name string) (Area, bool) {
	for _, a := range Areas {
		if a.Name == name {
			return a, true
		}
	}
	return Area{}, false
}

// HooksFor lists the areas contributing hooks to host, in declaration order.
func HooksFor(host string) []Area {
	var out []Area
	for _, a := range Areas {
		for _, h := range a.Hooks {
			if h == host {
				out = append(out, a)
			}
		}
	}
	return out
}

// ByName returns the function with that name.
func ByName(name string) (Function, bool) {
	for _, f := range Functions {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// MustByName is ByName for wiring code; it panics on an unknown name (a programming error).
func MustByName(name string) Function {
	f, ok := ByName(name)
	if !ok {
		panic(fmt.Sprintf("manifest: no function %q", name))
	}
	return f
}

// QueueByName returns the queue definition with that name.
func QueueByName(name string) (QueueDef, bool) {
	for _, q := range Queues {
		if q.Name == name {
			return q, true
		}
	}
	return QueueDef{}, false
}

// Names returns all function names, sorted.
func Names() []string {
	names := make([]string, 0, len(Functions))
	for _, f := range Functions {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	return names
}

// Of returns the functions with the given trigger kind, in manifest order.
func Of(kind TriggerKind) []Function {
	var out []Function
	for _, f := range Functions {
		if f.Trigger.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}
