// Command check-feature serves GET /features/{feature}.
package main

import (
	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/platform"
)

func main() { platform.Start("check-feature", billing.HandleCheckFeature) }
