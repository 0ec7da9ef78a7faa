package receipts

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func sample() Receipt {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 1, 0)
	return Receipt{
		Number: "INV-0042", PaymentID: "pay_01TEST", Date: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		BilledTo: "ada@example.com", Description: "Pro plan", Kind: "subscription",
		AmountCents: 999, Currency: "usd", PaymentMethod: "Visa •••• 4242",
		PeriodStart: &start, PeriodEnd: &end,
	}
}

func TestReceiptEmail(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e, err := ReceiptEmail(sample())
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range []string{e.Subject, e.Text, e.HTML} {
			if !strings.Contains(part, "$9.99") {
				t.Errorf("missing amount in %q", part)
			}
		}
		for _, want := range []string{"INV-0042", "ada@example.com", "Pro plan", "Visa •••• 4242", "March 1, 2026 – April 1, 2026"} {
			if !strings.Contains(e.Text, want) || !strings.Contains(e.HTML, want) {
				t.Errorf("missing %q", want)
			}
		}
		if strings.Contains(e.Text, "Refunded") {
			t.Error("no refund line expected")
		}
	})
	t.Run("HTMLEscapesUserText", func(t *testing.T) {
		r := sample()
		r.Description = `<script>alert("x")</script> & co`
		r.BilledTo = `"><img src=x onerror=alert(1)>@example.com`
		e, err := ReceiptEmail(r)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(e.HTML, "<script>") || strings.Contains(e.HTML, "<img") {
			t.Fatalf("user text not escaped:\n%s", e.HTML)
		}
		if !strings.Contains(e.HTML, "&lt;script&gt;") || !strings.Contains(e.HTML, "&amp; co") {
			t.Fatalf("escaped text missing:\n%s", e.HTML)
		}
		// The plain-text part shows the text as written.
		if !strings.Contains(e.Text, `<script>alert("x")</script> & co`) {
			t.Fatal("text part altered user text")
		}
	})
	t.Run("SubjectHasNoLineBreaks", func(t *testing.T) {
		r := sample()
		r.Number = "A\r\nBcc: evil@example.com"
		e, err := ReceiptEmail(r)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(e.Subject, "\r\n") {
			t.Fatalf("subject %q", e.Subject)
		}
	})
	t.Run("Refunded", func(t *testing.T) {
		r := sample()
		r.RefundedCents = 300
		e, _ := ReceiptEmail(r)
		if !strings.Contains(e.Text, "Refunded:       $3.00") || !strings.Contains(e.Text, "Net:            $6.99") {
			t.Fatalf("refund lines missing:\n%s", e.Text)
		}
	})
}

func TestBranding(t *testing.T) {
	r := sample()
	r.Branding = Branding{ProductName: "Acme Academy", Color: "red;background:url(x)", SupportEmail: "help@acme.test"}
	e, err := ReceiptEmail(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.Subject, "Acme Academy") || !strings.Contains(e.HTML, "help@acme.test") {
		t.Fatal("branding not applied")
	}
	if strings.Contains(e.HTML, "url(x)") || !strings.Contains(e.HTML, DefaultBranding.Color) {
		t.Fatal("invalid colour must fall back to the default")
	}
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

func TestRefundEmail(t *testing.T) {
	r := sample()
	r.RefundedCents = 400
	e, err := RefundEmail(Refund{Receipt: r, RefundID: "re_123", AmountCents: 400, Date: r.Date.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.Subject, "$4.00") || !strings.Contains(e.Text, "re_123") || !strings.Contains(e.HTML, "March 3, 2026") {
		t.Fatalf("refund e-mail: %+v", e)
	}
}

func TestDunningEmail(t *testing.T) {
	next := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   Dunning
		want []string
	}{
		{"WithRetry", Dunning{AmountCents: 999, Currency: "usd", Attempt: 1, NextAttempt: &next,
			PayURL: "https://invoice.stripe.com/i/x", UpdateURL: "https://app/billing"},
			[]string{"$9.99", "March 4, 2026", "https://invoice.stripe.com/i/x", "https://app/billing"}},
		{"NoRetry", Dunning{AmountCents: 9900, Currency: "usd", Attempt: 4, UpdateURL: "https://app/billing"},
			[]string{"$99.00", "will not retry"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := DunningEmail(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(e.Text, w) || !strings.Contains(e.HTML, w) {
					t.Errorf("missing %q", w)
				}
			}
		})
	}
	e, _ := DunningEmail(Dunning{AmountCents: 1, Currency: "usd", UpdateURL: "javascript:alert(1)"})
	if strings.Contains(e.HTML, `href="javascript:`) {
		t.Fatal("unsafe URL not filtered")
	}
}

func TestCreditNotePDF(t *testing.T) {
	r := sample()
	r.RefundedCents = 999 // ignored: a credit note shows the payment as paid and this one refund
	c := CreditNote{Receipt: r, Number: "CN-re_123", RefundID: "re_123", AmountCents: 300,
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

// Every interpolated value of every HTML e-mail is escaped, and only http(s)/mailto links survive.
func TestHTMLEscapesEveryValue(t *testing.T) {
	hostile := `<b onmouseover="x">&'`
	r := sample()
	r.Number, r.Description, r.BilledTo, r.PaymentMethod = hostile, hostile, hostile, hostile
	r.RefundedCents = 100
	r.Branding = Branding{ProductName: hostile, SupportEmail: hostile}
	next := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	emails := map[string]func() (Email, error){
		"receipt": func() (Email, error) { return ReceiptEmail(r) },
		"refund": func() (Email, error) {
			return RefundEmail(Refund{Receipt: r, RefundID: hostile, AmountCents: 100, Date: r.Date})
		},
		"dunning": func() (Email, error) {
			return DunningEmail(Dunning{Branding: r.Branding, InvoiceNumber: hostile, AmountCents: 1, Currency: "usd",
				NextAttempt: &next, PayURL: `https://x.test/"><script>`, UpdateURL: "data:text/html,<script>"})
		},
	}
	for name, f := range emails {
		e, err := f()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(e.HTML, "<b ") || strings.Contains(e.HTML, "<script") || strings.Contains(e.HTML, `"x"`) ||
			strings.Contains(e.HTML, "data:") {
			t.Errorf("%s: unescaped input in HTML:\n%s", name, e.HTML)
		}
		if !strings.Contains(e.HTML, "&lt;b onmouseover=&#34;x&#34;&gt;&amp;&#39;") {
			t.Errorf("%s: escaped value missing:\n%s", name, e.HTML)
		}
		if !strings.Contains(e.Text, hostile) {
			t.Errorf("%s: the text part must show values as written", name)
		}
	}
}

func TestRefundEmailNamesTheCreditNote(t *testing.T) {
	e, err := RefundEmail(Refund{Receipt: sample(), RefundID: "re_1", AmountCents: 100, Date: sample().Date})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.Text, "credit note is\nattached") || !strings.Contains(e.HTML, "The credit note is attached.") {
		t.Fatalf("refund notice does not announce its credit note:\n%s", e.Text)
	}
}
