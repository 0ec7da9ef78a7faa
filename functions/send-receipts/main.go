// Command send-receipts consumes the receipts queue and e-mails receipts.
package main

import (
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/platform"
)

func main() { platform.Start("send-receipts", payments.HandleSendReceipts) }
