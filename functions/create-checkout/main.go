// Command create-checkout serves POST /subscription/checkout.
package main

import (
	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/platform"
)

func main() { platform.Start("create-checkout", billing.HandleCreateCheckout) }
