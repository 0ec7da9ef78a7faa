// Command stripe-webhook is the Stripe webhook (Lambda function URL).
package main

import (
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/webhook"
)

func main() { platform.Start("stripe-webhook", webhook.HandleStripeWebhook) }
