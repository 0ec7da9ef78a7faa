// Command list-tiers serves GET /tiers.
package main

import (
	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/platform"
)

func main() { platform.Start("list-tiers", billing.HandleListTiers) }
