// Command change-subscription serves PUT /subscription.
package main

import (
	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/platform"
)

func main() { platform.Start("change-subscription", billing.HandleChangeSubscription) }
