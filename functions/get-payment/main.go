// Command get-payment serves GET /payments/{paymentId}.
package main

import (
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/platform"
)

func main() { platform.Start("get-payment", payments.HandleGetPayment) }
