package payments

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/idempotency/idemtest"
	"github.com/liberation/monetization/shared/mail/mailtest"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/receipts"
	"github.com/liberation/monetization/shared/receipts/receiptpdf"
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
	p := Payment{ID: "pay_01ARZ3NDEKTSV4RRFFQ69G5FAV", UserID: "u1", AmountCents: 999, Currency: "usd",
		RefundedCents: 300, PaidAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	rc := receiptOf(p, "a@example.com", receipts.DefaultBranding)
	if rc.RefundedCents != 0 || rc.Number != "LIB-01ARZ3NDEKTSV4RRFFQ69G5FAV" {
		t.Fatalf("receipt %+v: a receipt is the payment as paid", rc)
	}
	r, err := receiptDocument(receiptpdf.Render, rc, p)
	if err != nil {
		t.Fatal(err)
	}
	ref := Refund{ID: "re_9", AmountCents: 300, CreatedAt: p.PaidAt.Add(time.Hour)}
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

// mailerWorld is a Mailer over the fake ledger holding one payment of u1.
type mailerWorld struct {
	ledger *fakeLedger
	claims *idemtest.Store
	docs   *fakeDocs
	sent   *mailtest.Recorder
	m      *Mailer
	p      Payment
}

func newMailerWorld() *mailerWorld {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	w := &mailerWorld{ledger: newFakeLedger(), claims: idemtest.New(clk), docs: newFakeDocs(), sent: &mailtest.Recorder{}}
	w.m = &Mailer{Source: w.ledger, Claims: w.claims, Docs: w.docs, Mail: w.sent, From: "Liberation <receipts@liberation.local>",
		Render: receiptpdf.Render}
	w.p = w.ledger.put(Payment{ID: newPaymentID(clk.Now()), UserID: "u1", Kind: PaymentKindSubscription,
		Status: PaymentSucceeded, AmountCents: 999, Currency: "usd", Description: "1 × Pro", InvoiceNumber: "INV-7",
		PaidAt: clk.Now(), CreatedAt: clk.Now()})
	return w
}

func (w *mailerWorld) receipt(t *testing.T) queue.Message {
	return msg(t, MsgReceipt, ReceiptDedupeID(w.p.ID), ReceiptJob{UserID: "u1", PaymentID: w.p.ID})
}

// Messages that no retry can fix are dropped (acknowledged) without an e-mail.
func TestMailerDropsWhatNoRetryCanFix(t *testing.T) {
	w := newMailerWorld()
	for name, m := range map[string]queue.Message{
		"receipt not JSON":        {Type: MsgReceipt, DedupeID: "d1", Payload: []byte("{")},
		"receipt without payment": msg(t, MsgReceipt, "d2", ReceiptJob{UserID: "u1"}),
		"receipt without user":    msg(t, MsgReceipt, "d3", ReceiptJob{PaymentID: w.p.ID}),
		"notice without refund":   msg(t, MsgRefundReceipt, "d4", ReceiptJob{UserID: "u1", PaymentID: w.p.ID}),
		"dunning not JSON":        {Type: MsgDunning, DedupeID: "d5", Payload: []byte("[")},
		"dunning without invoice": msg(t, MsgDunning, "d6", DunningJob{UserID: "u1"}),
		"unknown type":            msg(t, "coupon", "d7", ReceiptJob{UserID: "u1", PaymentID: w.p.ID}),
	} {
		if err := w.m.Handle(context.Background(), m); err != nil {
			t.Errorf("%s: %v, want it dropped", name, err)
		}
	}
	if len(w.sent.Sent()) != 0 || len(w.docs.objs) != 0 {
		t.Fatalf("%d e-mails, %d documents", len(w.sent.Sent()), len(w.docs.objs))
	}
	// A message without a dedupe id cannot be sent exactly once: it is an error, not an e-mail.
	noID := w.receipt(t)
	noID.DedupeID = ""
	if err := w.m.Handle(context.Background(), noID); !apperr.Is(err, apperr.Invalid) || len(w.sent.Sent()) != 0 {
		t.Fatalf("no dedupe id: %v", err)
	}
}

// A failed send releases its claim, so the SQS retry sends the e-mail — once.
func TestMailerRetriesAFailedSend(t *testing.T) {
	w := newMailerWorld()
	w.ledger.emails["u1"] = "ada@example.com"
	ctx := context.Background()
	w.sent.Fail = errors.New("smtp down")
	if err := w.m.Handle(ctx, w.receipt(t)); err == nil {
		t.Fatal("a failed send was acknowledged")
	}
	if st := w.claims.Status(emailScope, ReceiptDedupeID(w.p.ID)); st == idempotency.InProgress || st == idempotency.Completed {
		t.Fatalf("claim %q after a failed send, want it released", st)
	}
	w.sent.Fail = nil
	for i := 0; i < 2; i++ {
		if err := w.m.Handle(ctx, w.receipt(t)); err != nil {
			t.Fatal(err)
		}
	}
	sent := w.sent.Sent()
	if len(sent) != 1 || sent[0].To != "ada@example.com" || sent[0].From != w.m.From {
		t.Fatalf("sent %+v", sent)
	}
	// The receipt number is the invoice's, in the attachment's name and the stored document.
	if a := sent[0].Attachments; len(a) != 1 || a[0].Filename != "receipt-INV-7.pdf" || !bytes.Contains(a[0].Data, []byte("INV-7")) {
		t.Fatalf("attachment %+v", a)
	}
	if w.docs.puts[ReceiptObjectKey("u1", w.p.ID)] != 1 {
		t.Fatalf("stored %v", w.docs.puts)
	}
}

// Without an address the receipt cannot be sent: the message fails (and is retried) until the
// user has one; a payment not recorded yet fails it too.
func TestMailerNeedsAnAddressAndThePayment(t *testing.T) {
	w := newMailerWorld()
	ctx := context.Background()
	if err := w.m.Handle(ctx, w.receipt(t)); !apperr.Is(err, apperr.Unprocessable) {
		t.Fatalf("no address: %v", err)
	}
	missing := msg(t, MsgReceipt, "receipt#other", ReceiptJob{UserID: "u1", PaymentID: newPaymentID(time.Now())})
	if err := w.m.Handle(ctx, missing); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown payment: %v", err)
	}
	notice := msg(t, MsgRefundReceipt, "refund#re_x", ReceiptJob{UserID: "u1", PaymentID: w.p.ID, RefundID: "re_x"})
	w.ledger.emails["u1"] = "ada@example.com"
	if err := w.m.Handle(ctx, notice); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown refund: %v", err)
	}
	if len(w.sent.Sent()) != 0 {
		t.Fatal("an e-mail went out")
	}
	if err := w.m.Handle(ctx, w.receipt(t)); err != nil || len(w.sent.Sent()) != 1 {
		t.Fatalf("once the address is known: %v", err)
	}
}

type failingDocs struct{ *fakeDocs }

func (failingDocs) Exists(context.Context, string) (bool, error) {
	return false, apperr.New(apperr.Unavailable, "s3 down")
}

// An e-mail goes out only with its document stored and rendered.
func TestMailerNeedsItsDocument(t *testing.T) {
	w := newMailerWorld()
	w.ledger.emails["u1"] = "ada@example.com"
	w.m.Docs = failingDocs{w.docs}
	if err := w.m.Handle(context.Background(), w.receipt(t)); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("bucket down: %v", err)
	}
	w.m.Docs = w.docs
	w.m.Render = func(receipts.Layout) ([]byte, error) { return nil, errors.New("font missing") }
	if err := w.m.Handle(context.Background(), w.receipt(t)); err == nil {
		t.Fatal("sent without a rendered receipt")
	}
	if len(w.sent.Sent()) != 0 {
		t.Fatal("an e-mail went out")
	}
	if p, _ := w.ledger.GetPayment(context.Background(), "u1", w.p.ID); p.ReceiptKey != "" {
		t.Fatalf("receipt key %q recorded for a document never stored", p.ReceiptKey)
	}
}

// A dunning notice goes to the invoice's address, else the profile's.
func TestDunningEmail(t *testing.T) {
	w := newMailerWorld()
	w.ledger.emails["u1"] = "profile@example.com"
	next := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	job := DunningJob{UserID: "u1", InvoiceID: "in_1", InvoiceNumber: "INV-1", Attempt: 1, AmountCents: 1250, Currency: "eur",
		NextAttemptAt: &next, HostedInvoiceURL: "https://invoice.stripe.com/i/1", UpdatePaymentURL: "https://app.example/account/billing"}
	if err := w.m.Handle(context.Background(), msg(t, MsgDunning, DunningDedupeID("in_1", 1), job)); err != nil {
		t.Fatal(err)
	}
	job.Email, job.Attempt = "invoice@example.com", 2
	if err := w.m.Handle(context.Background(), msg(t, MsgDunning, DunningDedupeID("in_1", 2), job)); err != nil {
		t.Fatal(err)
	}
	sent := w.sent.Sent()
	if len(sent) != 2 || sent[0].To != "profile@example.com" || sent[1].To != "invoice@example.com" {
		t.Fatalf("sent to %+v", sent)
	}
	for _, want := range []string{"€12.50", "INV-1", job.HostedInvoiceURL, job.UpdatePaymentURL} {
		if !strings.Contains(sent[0].Text, want) || !strings.Contains(sent[0].HTML, want) {
			t.Errorf("dunning e-mail lacks %q", want)
		}
	}
	if len(sent[0].Attachments) != 0 || sent[0].Headers[DedupeHeader] != "dunning#in_1#1" {
		t.Fatalf("dunning e-mail %+v", sent[0].Headers)
	}
}

// brandsOf brands u-org's mail as their organisation's and fails for u-down.
type brandsOf struct{}

func (brandsOf) BrandFor(_ context.Context, userID, mailFrom string) (receipts.Branding, string, error) {
	switch userID {
	case "u-org":
		return receipts.Branding{ProductName: "Acme Academy", Color: "#112233", SupportEmail: "help@acme.example"}, "Acme Academy <" + mailFrom + ">", nil
	case "u-down":
		return receipts.Branding{}, "", apperr.New(apperr.Unavailable, "read failed")
	}
	return receipts.DefaultBranding, mailFrom, nil
}

// What a member of a branded organisation receives carries the organisation's brand; when the
// brand cannot be read the message is retried rather than sent unbranded.
func TestMailerBrands(t *testing.T) {
	w := newMailerWorld()
	w.m.Brands, w.m.From = brandsOf{}, "receipts@liberation.local"
	ctx := context.Background()
	job := DunningJob{UserID: "u-org", Email: "ada@acme.example", InvoiceID: "in_1", Attempt: 1, AmountCents: 999, Currency: "usd",
		UpdatePaymentURL: "https://app.example/account/billing"}
	if err := w.m.Handle(ctx, msg(t, MsgDunning, "dunning#in_1#1", job)); err != nil {
		t.Fatal(err)
	}
	job.UserID = "u-down"
	if err := w.m.Handle(ctx, msg(t, MsgDunning, "dunning#in_2#1", job)); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("brand unreadable: %v", err)
	}
	sent := w.sent.Sent()
	if len(sent) != 1 || sent[0].From != "Acme Academy <receipts@liberation.local>" || !strings.Contains(sent[0].HTML, "Acme Academy") ||
		!strings.Contains(sent[0].Text, "help@acme.example") {
		t.Fatalf("sent %+v", sent)
	}
}
