// Command list-payments serves GET /payments.
package main

import (
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/platform"
)

func main() { platform.Start("list-payments", payments.HandleListPayments) }
