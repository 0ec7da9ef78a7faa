// Command create-refund serves POST /admin/refunds.
package main

import (
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/platform"
)

func main() { platform.Start("create-refund", payments.HandleCreateRefund) }
