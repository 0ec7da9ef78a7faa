package manifest

// ReceiptsQueue carries receipt, refund-notice and dunning e-mails.
const ReceiptsQueue = "receipts"

// ResolveRefunds is the job that resolves stale refund reservations (its alarm names it).
const ResolveRefunds = "resolve-refunds"

// Payments: payment records, refunds, disputes, history and receipts (seed section 1).
// ReceiptsPrefix is where receipt and credit-note PDFs live in the bucket
// (payments.ReceiptObjectKey, payments.CreditNoteObjectKey).
const ReceiptsPrefix = "receipts/"

// ReceiptsDays is how long the bucket keeps a receipt or credit note (a lifecycle rule on
// ReceiptsPrefix, docs/privacy.md "Retention"): ten years, the longest period the tax laws of the
// platform's markets ask invoices to be kept (e.g. Germany's §147 AO, France's Code de commerce
// L123-22); the payment records in the table keep the amounts beyond that.
const ReceiptsDays = 3653

func init() {
	declare(Area{
		Name:  "payments",
		Hooks: []string{StripeWebhook, SendReceipts, BuildPersonalExport, ErasePersonalData},
		// The receipts consumer and the erasure host (which renders the person's documents again)
		// alone render PDFs: their hooks live apart, so no other function links the PDF library.
		HookPackages: map[string]string{SendReceipts: "shared/payments/receiptsender",
			ErasePersonalData: "shared/payments/receiptsender"},
		Queues: []QueueDef{
			// Consumer timeout 30 s → visibility 180 s.
			{Name: ReceiptsQueue, MaxReceiveCount: 5, VisibilitySeconds: 180},
		},
		Functions: []Function{
			{Name: "list-payments", Summary: "The caller's payments, newest first",
				Trigger: route("GET", "/payments"), Auth: User, Table: []string{Query}, Cursors: true},
			// The console's "find a user's payments" (issue 20): the same Query and cursor as GET /payments.
			{Name: "list-user-payments", Summary: "A user's payments, newest first (admin)",
				Trigger: route("GET", "/admin/users/{userId}/payments"), Auth: Admin, Table: []string{Query}, Cursors: true},
			{Name: "get-payment", Summary: "One of the caller's payments",
				Trigger: route("GET", "/payments/{paymentId}"), Auth: User, Table: []string{GetItem}},
			{Name: "get-receipt", Summary: "A short-lived link to a payment's receipt PDF",
				Trigger: route("GET", "/payments/{paymentId}/receipt"), Auth: User, Table: []string{GetItem},
				Bucket: []string{"s3:GetObject"}, BucketPrefix: ReceiptsPrefix},
			{Name: "create-refund", Summary: "Refund a payment in full or in part (admin)",
				Trigger: route("POST", "/admin/refunds"), Auth: Admin, Table: []string{GetItem, Query, QueryIndex, PutItem, UpdateItem}, Stripe: true,
				Sends: []string{ReceiptsQueue}},
			// Resolves refund reservations older than 15 minutes from Stripe's list of the charge's
			// refunds (docs/decisions/0030): hourly, so none stays pending much past an hour.
			{Name: ResolveRefunds, Summary: "Hourly: resolve refund reservations older than 15 minutes from Stripe's records",
				Trigger: Trigger{Kind: Schedule, Expression: "cron(5 * * * ? *)"}, Auth: Internal,
				TimeoutSeconds: 120, Table: []string{GetItem, Query, QueryIndex, PutItem, UpdateItem}, Stripe: true,
				Sends: []string{ReceiptsQueue}},
			{Name: SendReceipts, Summary: "Render receipts (HTML, text, PDF), store the PDF, e-mail the user",
				Package: "shared/queue", Host: true,
				Trigger: Trigger{Kind: Queue, Queue: ReceiptsQueue, BatchSize: 10}, Auth: Internal,
				TimeoutSeconds: 30, Table: []string{GetItem, PutItem, UpdateItem}, Bucket: []string{"s3:PutObject", "s3:GetObject"},
				BucketPrefix: ReceiptsPrefix, Email: true},
		},
	})
}
