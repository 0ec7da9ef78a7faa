// Command get-metrics serves GET /admin/metrics.
package main

import (
	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/platform"
)

func main() { platform.Start("get-metrics", billing.HandleGetMetrics) }
