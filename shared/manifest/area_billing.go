package manifest

// Billing: subscription tiers, entitlements, the subscription lifecycle and its metrics (seed section 2).
func init() {
	declare(Area{
		Name:  "billing",
		Hooks: []string{StripeWebhook, BuildPersonalExport, ErasePersonalData},
		Functions: []Function{
			// The tier catalogue needs no table: its own package keeps the DynamoDB client out of it.
			{Name: "list-tiers", Summary: "List subscription tiers and their features", Package: "shared/billing/tiers",
				Trigger: route("GET", "/tiers"), Auth: Public},
			// Both also record a seat holder's monthly activity for their license's usage (writes).
			{Name: "get-subscription", Summary: "The caller's subscription, status and entitlements",
				Trigger: route("GET", "/subscription"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}},
			{Name: "check-feature", Summary: "Whether the caller may use a feature, and why",
				Trigger: route("GET", "/features/{feature}"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}},
			{Name: "create-checkout", Summary: "Start a Stripe Checkout Session for a paid tier", RateLimit: &RateLimit{PerMinute: 10, PerHour: 30}, // per user: a Stripe Checkout Session per request (decision 0077)
				Trigger: route("POST", "/subscription/checkout"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}, Stripe: true},
			{Name: "create-portal-session", Summary: "Open the Stripe Customer Portal",
				Trigger: route("POST", "/subscription/portal"), Auth: User, Table: []string{GetItem}, Stripe: true},
			{Name: "change-subscription", Summary: "Upgrade now with proration, or downgrade at period end",
				Trigger: route("PUT", "/subscription"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}, Stripe: true},
			{Name: "cancel-subscription", Summary: "Cancel at period end",
				Trigger: route("DELETE", "/subscription"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}, Stripe: true},
			{Name: "resume-subscription", Summary: "Undo a pending cancellation",
				Trigger: route("POST", "/subscription/resume"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}, Stripe: true},
			{Name: "get-metrics", Summary: "MRR, paying customers, churn and payment success (admin)",
				Trigger: route("GET", "/admin/metrics"), Auth: Admin, Table: []string{GetItem, Query, QueryIndex}},
			// The console's charts (issue 20): one Query of the SNAPSHOT partition between two days.
			{Name: "get-metrics-history", Summary: "Daily metrics snapshots over a range of days (admin)",
				Trigger: route("GET", "/admin/metrics/history"), Auth: Admin, Table: []string{Query}, Cursors: true},
			{Name: "billing-cycle", Summary: "Daily: reconcile with Stripe, end lapsed access, check duplicate subscriptions, snapshot metrics",
				Trigger: Trigger{Kind: Schedule, Expression: "cron(15 0 * * ? *)"}, Auth: Internal,
				TimeoutSeconds: 300, MemoryMB: 512, Table: []string{GetItem, Query, QueryIndex, PutItem, UpdateItem}, Stripe: true},
		},
	})
}
