// Command create-portal-session serves POST /subscription/portal.
package main

import (
	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/platform"
)

func main() { platform.Start("create-portal-session", billing.HandleCreatePortalSession) }
