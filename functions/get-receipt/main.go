// Command get-receipt serves GET /payments/{paymentId}/receipt.
package main

import (
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/platform"
)

func main() { platform.Start("get-receipt", payments.HandleGetReceipt) }
