package registry

import "github.com/liberation/monetization/shared/billing"

func init() {
	register("list-tiers", entry(billing.HandleListTiers))
}
