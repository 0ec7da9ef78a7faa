package receipts

import (
	"bytes"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/money"
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

// PDF renders the one-page receipt of a payment as it was paid. The output is deterministic for a
// given Receipt (creation date is the receipt date), so re-rendering after a retry writes the same
// bytes. Page streams are left uncompressed: a receipt is a few kilobytes and its text stays
// searchable and testable.
func PDF(r Receipt) ([]byte, error) {
	v := receiptView(r)
	d := doc{b: v.B, title: "RECEIPT", docTitle: v.B.ProductName + " receipt " + v.Number, date: r.Date,
		head: [][2]string{{"Receipt number", v.Number}, {"Date paid", v.Date}, {"Billed to", v.BilledTo}},
		desc: v.Description, amount: v.Amount, totals: []total{{"Amount paid", v.Amount, true}},
		footer: "Thank you for learning with " + v.B.ProductName + ". Questions about this receipt? " +
			"Write to " + v.B.SupportEmail + " and quote the receipt number. Payments are processed by Stripe; " +
			"we never see or store your card details."}
	if v.PaymentMethod != "" {
		d.head = append(d.head, [2]string{"Payment method", v.PaymentMethod})
	}
	if v.Period != "" {
		d.desc += "\n" + v.Period
	}
	if v.Refunded != "" {
		d.totals = append(d.totals, total{"Refunded", "-" + v.Refunded, false}, total{"Net", v.Net, true})
	}
	return d.render()
}

// CreditNotePDF renders the one-page credit note of a refund, deterministic like PDF.
func CreditNotePDF(c CreditNote) ([]byte, error) {
	r := c.Receipt
	r.RefundedCents = 0
	v := receiptView(r)
	refund := money.Format(c.AmountCents, r.Currency)
	d := doc{b: v.B, title: "CREDIT NOTE", docTitle: v.B.ProductName + " credit note " + c.Number, date: c.Date,
		head: [][2]string{{"Credit note number", c.Number}, {"Date refunded", c.Date.UTC().Format(dateLayout)},
			{"Refund", c.RefundID}, {"For receipt", v.Number}, {"Billed to", v.BilledTo}},
		desc: "Refund of: " + v.Description, amount: "-" + refund,
		totals: []total{{"Original amount", v.Amount, false}, {"Refunded", "-" + refund, true}},
		footer: "This credit note records a refund to your original payment method; it reaches your account in " +
			"5-10 business days, depending on your bank. Questions? Write to " + v.B.SupportEmail +
			" and quote the credit note number."}
	return d.render()
}

// doc is the layout receipts and credit notes share: a branded band, key facts, one described line
// with its amount, and totals.
type doc struct {
	b               Branding
	title, docTitle string
	date            time.Time
	head            [][2]string
	desc, amount    string
	totals          []total
	footer          string
}

type total struct {
	label, value string
	bold         bool
}

func (d doc) render() ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(false)
	pdf.SetCatalogSort(true) // deterministic object order: the same document always gives the same bytes
	pdf.SetCreationDate(d.date.UTC())
	pdf.SetModificationDate(d.date.UTC())
	pdf.SetTitle(d.docTitle, true)
	pdf.SetAuthor(d.b.ProductName, true)
	// Core fonts are cp1252; translate UTF-8 (€, £, ¥, –, •) and let the rest become "?".
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.AddPage()
	pdf.SetMargins(20, 20, 20)

	red, green, blue := hexColor(d.b.Color)
	pdf.SetFillColor(red, green, blue)
	pdf.Rect(0, 0, 210, 28, "F")
	pdf.SetTextColor(255, 255, 255)
	pdf.SetFont("Helvetica", "B", 20)
	pdf.SetXY(20, 9)
	pdf.CellFormat(120, 10, tr(d.b.ProductName), "", 0, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 12)
	pdf.CellFormat(50, 10, d.title, "", 1, "R", false, 0, "")

	pdf.SetTextColor(17, 17, 17)
	pdf.SetY(40)
	for _, kv := range d.head {
		pdf.SetFont("Helvetica", "", 11)
		pdf.CellFormat(55, 8, tr(kv[0]), "", 0, "L", false, 0, "")
		pdf.MultiCell(115, 8, tr(kv[1]), "", "L", false)
	}

	pdf.Ln(6)
	pdf.SetDrawColor(200, 200, 200)
	pdf.Line(20, pdf.GetY(), 190, pdf.GetY())
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "B", 11)
	pdf.CellFormat(130, 8, "Description", "", 0, "L", false, 0, "")
	pdf.CellFormat(40, 8, "Amount", "", 1, "R", false, 0, "")
	pdf.SetFont("Helvetica", "", 11)
	y := pdf.GetY()
	pdf.MultiCell(130, 6, tr(d.desc), "", "L", false)
	yAfter := pdf.GetY()
	pdf.SetXY(150, y)
	pdf.CellFormat(40, 6, tr(d.amount), "", 1, "R", false, 0, "")
	pdf.SetY(yAfter + 4)
	pdf.Line(20, pdf.GetY(), 190, pdf.GetY())
	pdf.Ln(4)

	for _, t := range d.totals {
		style := ""
		if t.bold {
			style = "B"
		}
		pdf.SetFont("Helvetica", style, 11)
		pdf.CellFormat(130, 8, tr(t.label), "", 0, "R", false, 0, "")
		pdf.CellFormat(40, 8, tr(t.value), "", 1, "R", false, 0, "")
	}

	pdf.SetY(-40)
	pdf.SetFont("Helvetica", "", 9)
	pdf.SetTextColor(110, 110, 110)
	pdf.MultiCell(170, 5, tr(d.footer), "", "C", false)

	if err := pdf.Error(); err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, "render %s PDF", strings.ToLower(d.title))
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, "write %s PDF", strings.ToLower(d.title))
	}
	return buf.Bytes(), nil
}

func hexColor(c string) (int, int, int) {
	if !validColor(c) {
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
