package registry

import "github.com/liberation/monetization/shared/payments"

func init() {
	register("list-payments", entry(payments.HandleListPayments))
	register("get-payment", entry(payments.HandleGetPayment))
	register("get-receipt", entry(payments.HandleGetReceipt))
	register("create-refund", entry(payments.HandleCreateRefund))
	register("send-receipts", entry(payments.HandleSendReceipts))
}
