package receipts

import (
	"strings"
	"time"

	"github.com/liberation/monetization/shared/money"
	"github.com/liberation/monetization/shared/notify"
)

// CreditNote is the document of one refund: how much of which receipt was refunded, and when. It
// is its own PDF, so the receipt itself stays the record of the payment as it was made.
type CreditNote struct {
	Receipt     Receipt // the payment as paid (its RefundedCents is ignored)
	Number      string  // the credit note's own number
	RefundID    string
	AmountCents int64
	Date        time.Time
}

// Layout is what a one-page document (a receipt, a credit note) shows, in the order the PDF
// renderer (receipts/receiptpdf, the only package that links the PDF library) draws it: a band in
// the brand's colour with its name and the title, key facts, one described line with its amount,
// totals and a footer. Values are plain text; the renderer never interprets them.
type Layout struct {
	Brand    Branding // with defaults applied
	Title    string   // "RECEIPT", "CREDIT NOTE"
	DocTitle string   // the PDF's title metadata
	Date     time.Time
	Head     [][2]string // label, value
	Desc     string
	Amount   string
	Totals   []Total
	Footer   string
}

// Total is one line of a document's totals.
type Total struct {
	Label, Value string
	Bold         bool
}

// ReceiptLayout is the receipt of a payment as it was paid. Rendering it is deterministic (the
// creation date is the receipt date), so re-rendering after a retry writes the same bytes.
func ReceiptLayout(r Receipt) Layout {
	v := receiptView(r)
	d := Layout{Brand: v.B, Title: "RECEIPT", DocTitle: v.B.ProductName + " receipt " + v.Number, Date: r.Date,
		Head: [][2]string{{"Receipt number", v.Number}, {"Date paid", v.Date}, {"Billed to", v.BilledTo}},
		Desc: v.Description, Amount: v.Amount, Totals: []Total{{"Amount paid", v.Amount, true}},
		Footer: "Thank you for learning with " + v.B.ProductName + ". Questions about this receipt? " +
			"Write to " + v.B.SupportEmail + " and quote the receipt number. Payments are processed by Stripe; " +
			"we never see or store your card details."}
	if v.PaymentMethod != "" {
		d.Head = append(d.Head, [2]string{"Payment method", v.PaymentMethod})
	}
	if v.Period != "" {
		d.Desc += "\n" + v.Period
	}
	if v.Refunded != "" {
		d.Totals = append(d.Totals, Total{"Refunded", "-" + v.Refunded, false}, Total{"Net", v.Net, true})
	}
	return d
}

// CreditNoteLayout is the credit note of one refund.
func CreditNoteLayout(c CreditNote) Layout {
	r := c.Receipt
	r.RefundedCents = 0
	v := receiptView(r)
	refund := money.Format(c.AmountCents, r.Currency)
	return Layout{Brand: v.B, Title: "CREDIT NOTE", DocTitle: v.B.ProductName + " credit note " + c.Number, Date: c.Date,
		Head: [][2]string{{"Credit note number", c.Number}, {"Date refunded", c.Date.UTC().Format(dateLayout)},
			{"Refund", c.RefundID}, {"For receipt", v.Number}, {"Billed to", v.BilledTo}},
		Desc: "Refund of: " + v.Description, Amount: "-" + refund,
		Totals: []Total{{"Original amount", v.Amount, false}, {"Refunded", "-" + refund, true}},
		Footer: "This credit note records a refund to your original payment method; it reaches your account in " +
			"5-10 business days, depending on your bank. Questions? Write to " + v.B.SupportEmail +
			" and quote the credit note number."}
}

// RGB is the brand colour of a layout as red, green and blue (the default for a malformed one).
func (l Layout) RGB() (int, int, int) { return hexColor(l.Brand.Color) }

func hexColor(c string) (int, int, int) {
	if !notify.ValidColor(c) {
		c = DefaultBranding.Color
	}
	val := func(s string) int {
		n := 0
		for _, r := range strings.ToLower(s) {
			n *= 16
			switch {
			case r >= '0' && r <= '9':
				n += int(r - '0')
			default:
				n += int(r-'a') + 10
			}
		}
		return n
	}
	return val(c[1:3]), val(c[3:5]), val(c[5:7])
}
