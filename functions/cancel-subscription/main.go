// Command cancel-subscription serves DELETE /subscription.
package main

import (
	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/platform"
)

func main() { platform.Start("cancel-subscription", billing.HandleCancelSubscription) }
