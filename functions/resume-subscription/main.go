// Command resume-subscription serves POST /subscription/resume.
package main

import (
	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/platform"
)

func main() { platform.Start("resume-subscription", billing.HandleResumeSubscription) }
