package receipts

import (
	"bytes"
	"strings"

	"github.com/go-pdf/fpdf"

	"github.com/liberation/monetization/shared/apperr"
)

// PDF renders the one-page receipt. The output is deterministic for a given Receipt (creation date
// is the receipt date), so re-rendering after a retry writes the same bytes. Page streams are left
// uncompressed: a receipt is a few kilobytes and its text stays searchable and testable.
func PDF(r Receipt) ([]byte, error) {
	v := receiptView(r)
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(false)
	pdf.SetCatalogSort(true) // deterministic object order: the same receipt always gives the same bytes
	pdf.SetCreationDate(r.Date.UTC())
	pdf.SetModificationDate(r.Date.UTC())
	pdf.SetTitle(v.B.ProductName+" receipt "+v.Number, true)
	pdf.SetAuthor(v.B.ProductName, true)
	// Core fonts are cp1252; translate UTF-8 (€, £, ¥, –, •) and let the rest become "?".
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.AddPage()
	pdf.SetMargins(20, 20, 20)

	red, green, blue := hexColor(v.B.Color)
	pdf.SetFillColor(red, green, blue)
	pdf.Rect(0, 0, 210, 28, "F")
	pdf.SetTextColor(255, 255, 255)
	pdf.SetFont("Helvetica", "B", 20)
	pdf.SetXY(20, 9)
	pdf.CellFormat(120, 10, tr(v.B.ProductName), "", 0, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 12)
	pdf.CellFormat(50, 10, "RECEIPT", "", 1, "R", false, 0, "")

	pdf.SetTextColor(17, 17, 17)
	pdf.SetY(40)
	row := func(label, value string, bold bool) {
		style := ""
		if bold {
			style = "B"
		}
		pdf.SetFont("Helvetica", style, 11)
		pdf.CellFormat(55, 8, tr(label), "", 0, "L", false, 0, "")
		pdf.MultiCell(115, 8, tr(value), "", "L", false)
	}
	row("Receipt number", v.Number, false)
	row("Date paid", v.Date, false)
	row("Billed to", v.BilledTo, false)
	if v.PaymentMethod != "" {
		row("Payment method", v.PaymentMethod, false)
	}

	pdf.Ln(6)
	pdf.SetDrawColor(200, 200, 200)
	pdf.Line(20, pdf.GetY(), 190, pdf.GetY())
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "B", 11)
	pdf.CellFormat(130, 8, "Description", "", 0, "L", false, 0, "")
	pdf.CellFormat(40, 8, "Amount", "", 1, "R", false, 0, "")
	pdf.SetFont("Helvetica", "", 11)
	desc := v.Description
	if v.Period != "" {
		desc += "\n" + v.Period
	}
	y := pdf.GetY()
	pdf.MultiCell(130, 6, tr(desc), "", "L", false)
	yAfter := pdf.GetY()
	pdf.SetXY(150, y)
	pdf.CellFormat(40, 6, tr(v.Amount), "", 1, "R", false, 0, "")
	pdf.SetY(yAfter + 4)
	pdf.Line(20, pdf.GetY(), 190, pdf.GetY())
	pdf.Ln(4)

	total := func(label, value string, bold bool) {
		style := ""
		if bold {
			style = "B"
		}
		pdf.SetFont("Helvetica", style, 11)
		pdf.CellFormat(130, 8, tr(label), "", 0, "R", false, 0, "")
		pdf.CellFormat(40, 8, tr(value), "", 1, "R", false, 0, "")
	}
	total("Amount paid", v.Amount, true)
	if v.Refunded != "" {
		total("Refunded", "-"+v.Refunded, false)
		total("Net", v.Net, true)
	}

	pdf.SetY(-40)
	pdf.SetFont("Helvetica", "", 9)
	pdf.SetTextColor(110, 110, 110)
	pdf.MultiCell(170, 5, tr("Thank you for learning with "+v.B.ProductName+". Questions about this receipt? "+
		"Write to "+v.B.SupportEmail+" and quote the receipt number. Payments are processed by Stripe; "+
		"we never see or store your card details."), "", "C", false)

	if err := pdf.Error(); err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, "render receipt PDF")
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, "write receipt PDF")
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
