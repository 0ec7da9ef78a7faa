// Package receiptsender wires payments' mailer into the receipts-queue consumer (send-receipts):
// receipts, refund notices and dunning e-mails, exactly one e-mail per dedupe id. It is its own
// package so that only that function links the PDF library (receipts/receiptpdf); every other
// payments function (and every area that calls payments) stays without it.
package receiptsender

import (
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/receipts/receiptpdf"
)

// SendReceiptsHooks registers payments' messages with the receipts-queue consumer.
func SendReceiptsHooks(rt *platform.Runtime, r *queue.Router) error {
	m, err := payments.NewMailer(rt, receiptpdf.Render)
	if err != nil {
		return err
	}
	for _, t := range payments.MessageTypes {
		r.On(t, m.Handle)
	}
	return nil
}
