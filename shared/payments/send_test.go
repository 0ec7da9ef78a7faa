package payments

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/idempotency/idemtest"
	"github.com/liberation/monetization/shared/mail/mailtest"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/receipts"
	"github.com/liberation/monetization/shared/receipts/receiptpdf"
	"github.com/liberation/monetization/shared/store"
)

func msg(t *testing.T, typ, dedupe string, job any) queue.Message {
	t.Helper()
	b, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	return queue.Message{Type: typ, DedupeID: dedupe, Payload: b}
}

// The receipt message stores the receipt; a refund notice stores its own credit note and never
// touches the receipt, however the two interleave.
func TestReceiptAndCreditNoteDocuments(t *testing.T) {
	w := newWorld(t)
	res, err := w.create("k1", 1000)
	if err != nil {
		t.Fatal(err)
	}
	docs, sent := newFakeDocs(), &mailtest.Recorder{}
	m := &Mailer{Source: w.ledger, Claims: idemtest.New(clock.NewFake(w.clock.Now())), Docs: docs, Mail: sent, From: "r@liberation.local", Render: receiptpdf.Render}
	w.ledger.emails["u1"] = "ada@example.com"
	ctx := context.Background()
	receiptKey := ReceiptObjectKey("u1", w.p.ID)
	noteKey := CreditNoteObjectKey("u1", w.p.ID, res.Refund.ID)

	// The refund notice first (delivery order is not guaranteed), then the receipt, then both again.
	refundMsg := msg(t, MsgRefundReceipt, RefundDedupeID(res.Refund.ID), ReceiptJob{UserID: "u1", PaymentID: w.p.ID, RefundID: res.Refund.ID})
	receiptMsg := msg(t, MsgReceipt, ReceiptDedupeID(w.p.ID), ReceiptJob{UserID: "u1", PaymentID: w.p.ID})
	for _, mm := range []queue.Message{refundMsg, receiptMsg, refundMsg, receiptMsg} {
		if err := m.Handle(ctx, mm); err != nil {
			t.Fatal(err)
		}
	}
	if len(sent.Sent()) != 2 {
		t.Fatalf("%d e-mails, want 2 (one per dedupe id)", len(sent.Sent()))
	}
	if docs.puts[receiptKey] != 1 || docs.puts[noteKey] != 1 || len(docs.objs) != 2 {
		t.Fatalf("stored %v: each document once, at its own key", docs.puts)
	}
	notice, receipt := sent.Sent()[0], sent.Sent()[1]
	if a := notice.Attachments; len(a) != 1 || a[0].Filename != "credit-note-re_1.pdf" || !bytes.Equal(a[0].Data, docs.objs[noteKey]) ||
		!bytes.Contains(a[0].Data, []byte("CREDIT NOTE")) || !bytes.Contains(a[0].Data, []byte("-$10.00")) {
		t.Fatalf("refund notice attachment %+v", a)
	}
	if a := receipt.Attachments; len(a) != 1 || !bytes.Equal(a[0].Data, docs.objs[receiptKey]) ||
		!bytes.Contains(a[0].Data, []byte("RECEIPT")) || bytes.Contains(a[0].Data, []byte("Refunded")) {
		t.Fatalf("receipt attachment: the receipt shows the payment as paid")
	}
	if notice.Headers[DedupeHeader] != "refund#re_1" || !contains(notice.Subject, "refund of $10.00") {
		t.Fatalf("notice %q %v", notice.Subject, notice.Headers)
	}
	if p, _ := w.ledger.GetPayment(ctx, "u1", w.p.ID); p.ReceiptKey != receiptKey {
		t.Fatalf("receiptKey %q", p.ReceiptKey)
	}
	// A second refund gets a second credit note; the receipt stays as it was.
	before := append([]byte(nil), docs.objs[receiptKey]...)
	res2, err := w.create("k2", 500)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Handle(ctx, msg(t, MsgRefundReceipt, RefundDedupeID(res2.Refund.ID), ReceiptJob{UserID: "u1", PaymentID: w.p.ID, RefundID: res2.Refund.ID})); err != nil {
		t.Fatal(err)
	}
	if docs.puts[receiptKey] != 1 || !bytes.Equal(docs.objs[receiptKey], before) || docs.puts[CreditNoteObjectKey("u1", w.p.ID, "re_2")] != 1 {
		t.Fatalf("stored %v", docs.puts)
	}
}

func TestDocumentSelection(t *testing.T) {
	p := store.Payment{ID: "pay_01ARZ3NDEKTSV4RRFFQ69G5FAV", UserID: "u1", AmountCents: 999, Currency: "usd",
		RefundedCents: 300, PaidAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	rc := receiptOf(p, "a@example.com", receipts.DefaultBranding)
	if rc.RefundedCents != 0 || rc.Number != "LIB-01ARZ3NDEKTSV4RRFFQ69G5FAV" {
		t.Fatalf("receipt %+v: a receipt is the payment as paid", rc)
	}
	r, err := receiptDocument(receiptpdf.Render, rc, p)
	if err != nil {
		t.Fatal(err)
	}
	ref := store.Refund{ID: "re_9", AmountCents: 300, CreatedAt: p.PaidAt.Add(time.Hour)}
	c, err := creditNoteDocument(receiptpdf.Render, rc, p, ref)
	if err != nil {
		t.Fatal(err)
	}
	if r.Key != "receipts/u1/"+p.ID+".pdf" || c.Key != "receipts/u1/"+p.ID+"/credit-notes/re_9.pdf" || r.Key == c.Key {
		t.Fatalf("keys %q %q", r.Key, c.Key)
	}
	if r.object().ContentDisposition != `inline; filename="receipt-LIB-01ARZ3NDEKTSV4RRFFQ69G5FAV.pdf"` ||
		c.object().ContentType != "application/pdf" {
		t.Fatalf("objects %+v %+v", r.object(), c.object())
	}
}
