package manifest

// Host functions of the shared frames, named so areas can list them in Area.Hooks.
const (
	StripeWebhook = "stripe-webhook"
	SendReceipts  = "send-receipts"
)

// Platform: the frames areas plug into. The Stripe webhook verifies, dedupes and dispatches each
// event to every area that registered a hook for its type (shared/webhook).
func init() {
	declare(Area{
		Name: "platform",
		Functions: []Function{
			{Name: StripeWebhook, Summary: "Verify and apply Stripe events", Package: "shared/webhook", Host: true,
				Trigger: Trigger{Kind: FunctionURL, Method: "POST", Path: "/webhooks/stripe"}, Auth: Signed,
				Table: readWrite, Sends: []string{ReceiptsQueue}, Stripe: true, WebhookSecret: true},
		},
	})
}
