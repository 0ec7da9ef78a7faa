// Package receiptpdf renders receipts' layouts (receipts.ReceiptLayout, CreditNoteLayout) as PDFs
// with fpdf. It is its own package so that only the function that renders documents (the
// receipts-queue consumer) links the PDF library.
package receiptpdf

import (
	"bytes"
	"strings"

	"codeberg.org/go-pdf/fpdf"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/receipts"
)

// Render draws a document's layout as a one-page A4 PDF. The output is deterministic for a given
// layout (creation date is the layout's date, objects in a fixed order), so re-rendering after a
// retry writes the same bytes. Page streams are left uncompressed: a receipt is a few kilobytes and
// its text stays searchable and testable.
func Render(d receipts.Layout) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(false)
	pdf.SetCatalogSort(true) // deterministic object order: the same document always gives the same bytes
	pdf.SetCreationDate(d.Date.UTC())
	pdf.SetModificationDate(d.Date.UTC())
	pdf.SetTitle(d.DocTitle, true)
	pdf.SetAuthor(d.Brand.ProductName, true)
	// Core fonts are cp1252; translate UTF-8 (€, £, ¥, –, •) and let the rest become "?".
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.AddPage()
	pdf.SetMargins(20, 20, 20)

	red, green, blue := d.RGB()
	pdf.SetFillColor(red, green, blue)
	pdf.Rect(0, 0, 210, 28, "F")
	pdf.SetTextColor(255, 255, 255)
	pdf.SetFont("Helvetica", "B", 20)
	pdf.SetXY(20, 9)
	pdf.CellFormat(120, 10, tr(d.Brand.ProductName), "", 0, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 12)
	pdf.CellFormat(50, 10, d.Title, "", 1, "R", false, 0, "")

	pdf.SetTextColor(17, 17, 17)
	pdf.SetY(40)
	for _, kv := range d.Head {
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
	pdf.MultiCell(130, 6, tr(d.Desc), "", "L", false)
	yAfter := pdf.GetY()
	pdf.SetXY(150, y)
	pdf.CellFormat(40, 6, tr(d.Amount), "", 1, "R", false, 0, "")
	pdf.SetY(yAfter + 4)
	pdf.Line(20, pdf.GetY(), 190, pdf.GetY())
	pdf.Ln(4)

	for _, t := range d.Totals {
		style := ""
		if t.Bold {
			style = "B"
		}
		pdf.SetFont("Helvetica", style, 11)
		pdf.CellFormat(130, 8, tr(t.Label), "", 0, "R", false, 0, "")
		pdf.CellFormat(40, 8, tr(t.Value), "", 1, "R", false, 0, "")
	}

	pdf.SetY(-40)
	pdf.SetFont("Helvetica", "", 9)
	pdf.SetTextColor(110, 110, 110)
	pdf.MultiCell(170, 5, tr(d.Footer), "", "C", false)

	if err := pdf.Error(); err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, "render %s PDF", strings.ToLower(d.Title))
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, "write %s PDF", strings.ToLower(d.Title))
	}
	return buf.Bytes(), nil
}
