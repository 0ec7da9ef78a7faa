package registry

import (
	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/webhook"
)

func init() {
	register("list-tiers", entry(billing.HandleListTiers))
	register("get-subscription", entry(billing.HandleGetSubscription))
	register("check-feature", entry(billing.HandleCheckFeature))
	register("create-checkout", entry(billing.HandleCreateCheckout))
	register("create-portal-session", entry(billing.HandleCreatePortalSession))
	register("change-subscription", entry(billing.HandleChangeSubscription))
	register("cancel-subscription", entry(billing.HandleCancelSubscription))
	register("resume-subscription", entry(billing.HandleResumeSubscription))
	register("get-metrics", entry(billing.HandleGetMetrics))
	register("stripe-webhook", entry(webhook.HandleStripeWebhook))
	register("billing-cycle", entry(billing.HandleBillingCycle))
}
