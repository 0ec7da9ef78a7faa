package payments

import (
	"context"
	"fmt"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/receipts"
	"github.com/liberation/monetization/shared/store"
)

// Audit actions of an erasure's changes to kept records.
const (
	ActionErasePayment = "payment.erased"
	ActionEraseRefund  = "refund.erased"
	ActionEraseDispute = "dispute.erased"
)

// ErasureHooks returns the hook registering payments' eraser with the erasure host (docs/privacy.md,
// decision 0087), re-rendering documents with render. The host links it through
// receiptsender.ErasePersonalDataHooks, so that only the functions that render documents link the
// PDF library (receipts/receiptpdf). The host's bucket must be the versioned S3 bucket (s3blob),
// which removes old versions.
func ErasureHooks(render Renderer) func(rt *platform.Runtime, r *privacy.Registry) error {
	return func(rt *platform.Runtime, r *privacy.Registry) error {
		b, err := blob.From(rt)
		if err != nil {
			return err
		}
		docs, ok := b.(ErasureDocuments)
		if !ok {
			return apperr.New(apperr.Internal, "payments' eraser needs a bucket that removes old versions (%T does not)", b)
		}
		s := store.Open(rt)
		r.RegisterEraser("payments", PersonalDataEraser(privacy.Reader{S: s}, Repo{S: s}, docs, render, rt.Clock))
		return nil
	}
}

// PersonalDataEraser erases payments' data about a person. Payments, refunds and disputes are
// financial records: they are kept, with their amounts, ids and dates, marked erasedAs the
// pseudonym; a payment's address (customerEmail) becomes the pseudonym's and the card it was paid
// with ("Visa •••• 4242") goes. The documents showing the person — the receipt (billed to their
// address, their card) and each refund's credit note, kept ReceiptsDays for the tax authorities —
// are rendered again from the erased payment (billed to the pseudonym's address, no card, in the
// platform's branding: an organisation's white label came from the seat the erasure frees), over
// the same key, and every older version the bucket keeps is removed. A document that was never
// rendered is not created; its key's old versions, if any, go all the same.
//
// Each record is one transaction with its audit record, over the record as read; the documents go
// first, so a step interrupted between the two finds the record not yet erased and renders them
// again (the same bytes: rendering is deterministic). A record already erased is left alone.
//
// Hold: while a dispute of a payment is open (not won, lost or warning_closed), the payment, its
// receipt, its refunds with their credit notes and its disputes stay as they are (the evidence);
// the dispute's row reports the hold, and a later run, after it closed, erases them.
func PersonalDataEraser(rd privacy.Reader, ledger ErasureLedger, docs ErasureDocuments, render Renderer, clk clock.Clock) privacy.Eraser {
	e := &paymentsEraser{rd: rd, ledger: ledger, docs: docs, render: render, clock: clk}
	rows := func(typ, prefix string) func(privacy.ErasureSubject) privacy.Source {
		return func(s privacy.ErasureSubject) privacy.Source {
			return rd.Partition(typ, store.UserPK(s.UserID), prefix)
		}
	}
	return privacy.Phases(
		privacy.EachRow(rows("payment", store.PaymentPrefix), e.payment),
		privacy.EachRow(rows("refund", store.RefundsPrefix), e.refund),
		privacy.EachRow(rows("dispute", store.DisputePrefix), e.dispute),
	)
}

type paymentsEraser struct {
	rd     privacy.Reader
	ledger ErasureLedger
	docs   ErasureDocuments
	render Renderer
	clock  clock.Clock
}

// erasure is what a kept record's change writes: the audit record names the pseudonym (target) and
// the record by its ids and amounts (details), never the person.
func (e *paymentsEraser) erasure(s privacy.ErasureSubject, action string, details map[string]string) Erasure {
	return Erasure{Pseudonym: s.Pseudonym, PseudonymEmail: s.PseudonymEmail(), At: e.clock.Now().UTC(),
		Audit: audit.Entry{Actor: privacy.ActorErasure, Action: action, Target: s.PseudonymTarget(), RequestID: s.RequestID,
			Details: details}}
}

// erased is the payment as its documents show it once erased: the pseudonym's address, no card.
func erased(p Payment, s privacy.ErasureSubject) (Payment, receipts.Receipt) {
	p.CustomerEmail, p.PaymentMethod = s.PseudonymEmail(), ""
	return p, receiptOf(p, s.PseudonymEmail(), receipts.DefaultBranding)
}

// rewrite renders a stored document again over the same key, then removes every older version and
// delete marker of the key. A key with no current object gets nothing new.
func (e *paymentsEraser) rewrite(ctx context.Context, key string, doc func() (document, error)) error {
	exists, err := e.docs.Exists(ctx, key)
	if err != nil {
		return err
	}
	if exists {
		d, err := doc()
		if err != nil {
			return err
		}
		d.Key = key
		if err := e.docs.Put(ctx, d.object(), d.PDF); err != nil {
			return err
		}
	}
	_, err = e.docs.PurgeOldVersions(ctx, key)
	return err
}

// held reports a payment with a dispute still open: its records and documents wait. The payment
// flags its first dispute (Disputed) and follows the latest one's status; the person's dispute
// rows are read too, should the payment have more than one.
func (e *paymentsEraser) held(ctx context.Context, p Payment) (bool, error) {
	if !p.Disputed {
		return false, nil
	}
	if !disputeClosed(p.DisputeStatus) {
		return true, nil
	}
	rows, err := e.rd.All(ctx, store.UserPK(p.UserID), store.DisputePrefix)
	if err != nil {
		return false, err
	}
	for _, d := range rows {
		if privacy.Str(d, "paymentId") == p.ID && !disputeClosed(privacy.Str(d, "status")) {
			return true, nil
		}
	}
	return false, nil
}

func (e *paymentsEraser) payment(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	id := privacy.Str(row, "id")
	var out privacy.RowResult
	err := store.RetryOnConflict(ctx, "erase a payment", func() error {
		out = privacy.RowResult{}
		p, err := e.ledger.GetPayment(ctx, s.UserID, id)
		if apperr.Is(err, apperr.NotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if p.ErasedAs != "" {
			return nil
		}
		if held, err := e.held(ctx, p); err != nil || held {
			return err // the open dispute's row reports the hold
		}
		keys := []string{ReceiptObjectKey(p.UserID, p.ID)}
		if p.ReceiptKey != "" && p.ReceiptKey != keys[0] {
			keys = append(keys, p.ReceiptKey)
		}
		pe, rc := erased(p, s)
		for _, k := range keys {
			if err := e.rewrite(ctx, k, func() (document, error) { return receiptDocument(e.render, rc, pe) }); err != nil {
				return err
			}
		}
		if err := e.ledger.ErasePayment(ctx, p, e.erasure(s, ActionErasePayment, map[string]string{
			"paymentId": p.ID, "amountCents": itoa(p.AmountCents), "currency": p.Currency})); err != nil {
			return err
		}
		out.Changed = true
		return nil
	})
	return out, err
}

func (e *paymentsEraser) refund(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	payID, id := privacy.Str(row, "paymentId"), privacy.Str(row, "id")
	var out privacy.RowResult
	err := store.RetryOnConflict(ctx, "erase a refund", func() error {
		out = privacy.RowResult{}
		ref, err := e.ledger.Refund(ctx, s.UserID, payID, id)
		if apperr.Is(err, apperr.NotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if ref.ErasedAs != "" {
			return nil
		}
		// The credit note is rendered from its payment. A refund is written with its payment in one
		// transaction and payments are never deleted, so one without is a broken table: the
		// erasure fails (and says which refund) rather than leave the note as it is.
		p, err := e.ledger.GetPayment(ctx, s.UserID, payID)
		if apperr.Is(err, apperr.NotFound) {
			return apperr.New(apperr.Internal, "refund %s has no payment %s", id, payID)
		}
		if err != nil {
			return err
		}
		if held, err := e.held(ctx, p); err != nil || held {
			return err
		}
		pe, rc := erased(p, s)
		if err := e.rewrite(ctx, CreditNoteObjectKey(s.UserID, payID, id), func() (document, error) {
			return creditNoteDocument(e.render, rc, pe, ref)
		}); err != nil {
			return err
		}
		if err := e.ledger.EraseRefund(ctx, ref, e.erasure(s, ActionEraseRefund, map[string]string{
			"refundId": id, "paymentId": payID, "amountCents": itoa(ref.AmountCents), "currency": ref.Currency})); err != nil {
			return err
		}
		out.Changed = true
		return nil
	})
	return out, err
}

func (e *paymentsEraser) dispute(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	id := privacy.Str(row, "id")
	var out privacy.RowResult
	err := store.RetryOnConflict(ctx, "erase a dispute", func() error {
		out = privacy.RowResult{}
		d, err := e.ledger.Dispute(ctx, s.UserID, id)
		if apperr.Is(err, apperr.NotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.ErasedAs != "" {
			return nil
		}
		if !disputeClosed(d.Status) {
			out.Holds = []privacy.Hold{{Reason: privacy.HoldOpenDispute, Ref: "dispute:" + d.ID,
				What: fmt.Sprintf("payment %s, its receipt, its refunds and their credit notes keep the person's data until the dispute closes", d.PaymentID)}}
			return nil
		}
		// Another dispute of the same payment still open holds this one too (that one reports it).
		switch p, err := e.ledger.GetPayment(ctx, s.UserID, d.PaymentID); {
		case apperr.Is(err, apperr.NotFound):
		case err != nil:
			return err
		default:
			if held, err := e.held(ctx, p); err != nil || held {
				return err
			}
		}
		if err := e.ledger.EraseDispute(ctx, d, e.erasure(s, ActionEraseDispute, map[string]string{
			"disputeId": id, "paymentId": d.PaymentID, "amountCents": itoa(d.AmountCents), "currency": d.Currency})); err != nil {
			return err
		}
		out.Changed = true
		return nil
	})
	return out, err
}
