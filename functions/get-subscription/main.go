// Command get-subscription serves GET /subscription.
package main

import (
	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/platform"
)

func main() { platform.Start("get-subscription", billing.HandleGetSubscription) }
