package receiptpdf

import (
	"bytes"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/receipts"
)

func sample() receipts.Receipt {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 1, 0)
	return receipts.Receipt{
		Number: "INV-0042", PaymentID: "pay_01TEST", Date: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		BilledTo: "ada@example.com", Description: "Pro plan", Kind: "subscription",
		AmountCents: 999, Currency: "usd", PaymentMethod: "Visa •••• 4242",
		PeriodStart: &start, PeriodEnd: &end,
	}
}

// PDF renders a receipt's layout.
func PDF(r receipts.Receipt) ([]byte, error) { return Render(receipts.ReceiptLayout(r)) }

// CreditNotePDF renders a credit note's layout.
func CreditNotePDF(c receipts.CreditNote) ([]byte, error) {
	return Render(receipts.CreditNoteLayout(c))
}

func TestPDF(t *testing.T) {
	r := sample()
	r.RefundedCents = 250
	b, err := PDF(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", b[:16])
	}
	for _, want := range []string{"$9.99", "$2.50", "$7.49", "INV-0042", "ada@example.com", "Pro plan"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("PDF lacks %q", want)
		}
	}
	again, _ := PDF(r)
	if !bytes.Equal(b, again) {
		t.Error("PDF rendering is not deterministic")
	}
	r.Currency = "eur"
	r.Description = "Cours – “Go” ✓"
	if _, err := PDF(r); err != nil {
		t.Fatalf("non-Latin text: %v", err)
	}
}

func TestCreditNotePDF(t *testing.T) {
	r := sample()
	r.RefundedCents = 999 // ignored: a credit note shows the payment as paid and this one refund
	c := receipts.CreditNote{Receipt: r, Number: "CN-re_123", RefundID: "re_123", AmountCents: 300,
		Date: time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)}
	b, err := CreditNotePDF(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"%PDF-", "CREDIT NOTE", "CN-re_123", "re_123", "INV-0042", "-$3.00", "$9.99", "March 3, 2026", "Pro plan"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("credit note lacks %q", want)
		}
	}
	if bytes.Contains(b, []byte("$6.99")) || bytes.Contains(b, []byte("-$9.99")) {
		t.Error("credit note shows the payment's refunded total instead of this refund")
	}
	if again, _ := CreditNotePDF(c); !bytes.Equal(b, again) {
		t.Error("credit note rendering is not deterministic")
	}
	receipt, _ := PDF(sample())
	if bytes.Equal(b, receipt) || bytes.Contains(receipt, []byte("CREDIT NOTE")) {
		t.Error("the credit note and the receipt must be different documents")
	}
}

// go test -run '^$' -bench . -benchmem ./shared/receipts/receiptpdf/
func BenchmarkReceiptPDF(b *testing.B) {
	r := sample()
	for b.Loop() {
		if _, err := PDF(r); err != nil {
			b.Fatal(err)
		}
	}
}
