package manifest

// Queue names.
const (
	ReceiptsQueue = "receipts"
)

// Queues lists every SQS queue. Each gets a DLQ named "<name>-dlq".
var Queues = []QueueDef{
	// Receipt and dunning e-mails. Consumer timeout 30 s → visibility 180 s.
	{Name: ReceiptsQueue, MaxReceiveCount: 5, VisibilitySeconds: 180},
}

var (
	readOnly  = []string{GetItem, Query}
	readWrite = []string{GetItem, Query, PutItem, UpdateItem, ConditionCheckItem}
)

func route(method, path string) Trigger { return Trigger{Kind: HTTP, Method: method, Path: path} }

// Functions lists every Lambda function. Order is the order in docs and templates.
var Functions = []Function{
	// --- Subscriptions (seed section 2) ---
	{Name: "list-tiers", Summary: "List subscription tiers and their features",
		Trigger: route("GET", "/tiers"), Auth: Public},
	{Name: "get-subscription", Summary: "The caller's subscription, status and entitlements",
		Trigger: route("GET", "/subscription"), Auth: User, Table: readOnly},
	{Name: "check-feature", Summary: "Whether the caller may use a feature, and why",
		Trigger: route("GET", "/features/{feature}"), Auth: User, Table: readOnly},
	{Name: "create-checkout", Summary: "Start a Stripe Checkout Session for a paid tier",
		Trigger: route("POST", "/subscription/checkout"), Auth: User, Table: readWrite, Stripe: true},
	{Name: "create-portal-session", Summary: "Open the Stripe Customer Portal",
		Trigger: route("POST", "/subscription/portal"), Auth: User, Table: readOnly, Stripe: true},
	{Name: "change-subscription", Summary: "Upgrade now with proration, or downgrade at period end",
		Trigger: route("PUT", "/subscription"), Auth: User, Table: readWrite, Stripe: true},
	{Name: "cancel-subscription", Summary: "Cancel at period end",
		Trigger: route("DELETE", "/subscription"), Auth: User, Table: readWrite, Stripe: true},
	{Name: "resume-subscription", Summary: "Undo a pending cancellation",
		Trigger: route("POST", "/subscription/resume"), Auth: User, Table: readWrite, Stripe: true},

	// --- Payments (seed section 1) ---
	{Name: "list-payments", Summary: "The caller's payments, newest first",
		Trigger: route("GET", "/payments"), Auth: User, Table: readOnly},
	{Name: "get-payment", Summary: "One of the caller's payments",
		Trigger: route("GET", "/payments/{paymentId}"), Auth: User, Table: readOnly},
	{Name: "get-receipt", Summary: "A short-lived link to a payment's receipt PDF",
		Trigger: route("GET", "/payments/{paymentId}/receipt"), Auth: User, Table: readOnly,
		Bucket: []string{"s3:GetObject"}},
	{Name: "create-refund", Summary: "Refund a payment in full or in part (admin)",
		Trigger: route("POST", "/admin/refunds"), Auth: Admin, Table: readWrite, Stripe: true},
	{Name: "get-metrics", Summary: "MRR, paying customers, churn and payment success (admin)",
		Trigger: route("GET", "/admin/metrics"), Auth: Admin, Table: readOnly},

	// --- Machine callers ---
	{Name: "stripe-webhook", Summary: "Verify and apply Stripe events",
		Trigger: Trigger{Kind: FunctionURL, Method: "POST", Path: "/webhooks/stripe"}, Auth: Signed,
		Table: readWrite, Sends: []string{ReceiptsQueue}, WebhookSecret: true},
	{Name: "send-receipts", Summary: "Render receipts (HTML, text, PDF), store the PDF, e-mail the user",
		Trigger: Trigger{Kind: Queue, Queue: ReceiptsQueue, BatchSize: 10}, Auth: Internal,
		TimeoutSeconds: 30, Table: readWrite, Bucket: []string{"s3:PutObject", "s3:GetObject"}, Email: true},
	{Name: "billing-cycle", Summary: "Daily: reconcile with Stripe, expire cancellations, snapshot MRR and churn",
		Trigger: Trigger{Kind: Schedule, Expression: "cron(15 0 * * ? *)"}, Auth: Internal,
		TimeoutSeconds: 300, MemoryMB: 512, Table: readWrite, Stripe: true},
}

// Defaults applied where a Function leaves sizing unset.
const (
	DefaultTimeoutSeconds = 10
	DefaultMemoryMB       = 256
)

// Timeout returns the function's timeout in seconds.
func (f Function) Timeout() int {
	if f.TimeoutSeconds == 0 {
		return DefaultTimeoutSeconds
	}
	return f.TimeoutSeconds
}

// Memory returns the function's memory in MB.
func (f Function) Memory() int {
	if f.MemoryMB == 0 {
		return DefaultMemoryMB
	}
	return f.MemoryMB
}
