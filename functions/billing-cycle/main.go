// Command billing-cycle is the daily billing-cycle job (EventBridge schedule).
package main

import (
	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/platform"
)

func main() { platform.Start("billing-cycle", billing.HandleBillingCycle) }
