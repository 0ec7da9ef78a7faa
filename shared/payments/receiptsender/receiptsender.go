// Package receiptsender wires payments' mailer into the receipts-queue consumer (send-receipts):
// receipts, refund notices and dunning e-mails, exactly one e-mail per dedupe id; and payments'
// eraser, which renders the person's documents again, into the erasure host (erase-personal-data).
// It is its own package so that only those two functions link the PDF library
// (receipts/receiptpdf); every other payments function (and every area that calls payments) stays
// without it.
package receiptsender

import (
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/privacy"
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

// ErasePersonalDataHooks registers payments' eraser with the erasure host (docs/privacy.md), with
// the PDF renderer for the documents it renders again.
func ErasePersonalDataHooks(rt *platform.Runtime, r *privacy.Registry) error {
	return payments.ErasureHooks(receiptpdf.Render)(rt, r)
}
