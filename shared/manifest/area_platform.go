package manifest

// Host functions of the shared frames, named so areas can list them in Area.Hooks.
const (
	StripeWebhook = "stripe-webhook"
	SendReceipts  = "send-receipts"
)

// WebhookReservedConcurrency is the Stripe webhook's reserved concurrency: 1,000 (the account's
// default) leaves 980 for the other functions; 20 executions at a p99 of ~1 s (DynamoDB transactions
// and at most one Stripe call per event) are >= 20 events/s, ~400/s at the measured 30-45 ms, far above
// Stripe's delivery rate for this platform even at a month-start billing run (decision 0078).
const WebhookReservedConcurrency = 20

// FactsQueue carries facts one area tells the others (shared/facts): course.purchased,
// course.refunded, review.published, subscription.renewed. Producers send after their own write;
// the apply-facts host runs the hooks of the areas listing it in Area.Hooks (ApplyFactsHooks).
const FactsQueue = "facts"

// Platform: the frames areas plug into. The Stripe webhook verifies, dedupes and dispatches each
// event to every area that registered a hook for its type (shared/webhook); apply-facts does the
// same for facts (shared/queue).
func init() {
	declare(Area{
		Name: "platform",
		Queues: []QueueDef{
			// Consumer timeout 30 s → visibility 180 s.
			{Name: FactsQueue, MaxReceiveCount: 5, VisibilitySeconds: 180},
		},
		Functions: []Function{
			{Name: StripeWebhook, Summary: "Verify and apply Stripe events", Package: "shared/webhook", Host: true,
				Trigger: Trigger{Kind: FunctionURL, Method: "POST", Path: "/webhooks/stripe"}, Auth: Signed,
				Table: []string{GetItem, Query, QueryIndex, PutItem, UpdateItem}, Sends: []string{ReceiptsQueue, FactsQueue}, Stripe: true, WebhookSecret: true,
				// A flood of unsigned requests is throttled (429, which Stripe retries) at this many
				// concurrent executions; the other functions keep the account's rest (decision 0078).
				ReservedConcurrency: WebhookReservedConcurrency},
			{Name: ApplyFacts, Summary: "Apply facts from other areas (purchases, refunds, reviews, renewals)",
				Package: "shared/queue", Host: true,
				Trigger: Trigger{Kind: Queue, Queue: FactsQueue, BatchSize: 10}, Auth: Internal,
				TimeoutSeconds: 30, Table: []string{GetItem, PutItem, UpdateItem}},
		},
	})
}
