package manifest

// Host functions of the shared frames, named so areas can list them in Area.Hooks.
const (
	StripeWebhook = "stripe-webhook"
	SendReceipts  = "send-receipts"
)

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
				Table: readWrite, Sends: []string{ReceiptsQueue, FactsQueue}, Stripe: true, WebhookSecret: true},
			{Name: ApplyFacts, Summary: "Apply facts from other areas (purchases, refunds, reviews, renewals)",
				Package: "shared/queue", Host: true,
				Trigger: Trigger{Kind: Queue, Queue: FactsQueue, BatchSize: 10}, Auth: Internal,
				TimeoutSeconds: 30, Table: readWrite},
		},
	})
}
