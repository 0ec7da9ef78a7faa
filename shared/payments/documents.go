package payments

import (
	"context"

	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/receipts"
)

// ReceiptObjectKey is where a payment's receipt PDF lives in the bucket.
func ReceiptObjectKey(userID, paymentID string) string {
	return manifest.ReceiptsPrefix + userID + "/" + paymentID + ".pdf"
}

// CreditNoteObjectKey is where the credit note of one refund of a payment lives: its own object,
// next to the receipt, never the receipt's key.
func CreditNoteObjectKey(userID, paymentID, refundID string) string {
	return manifest.ReceiptsPrefix + userID + "/" + paymentID + "/credit-notes/" + refundID + ".pdf"
}

// document is a rendered PDF and where it is stored.
type document struct {
	Key      string
	Filename string // the attachment's and download's file name
	PDF      []byte
}

func (d document) object() blob.Object {
	return blob.Object{Key: d.Key, ContentType: "application/pdf", ContentDisposition: `inline; filename="` + d.Filename + `"`}
}

// Brander says how what a user receives is branded: their organisation's white label when they
// hold a seat of an Enterprise license with branding set, else the platform's. It returns the
// receipts' branding and the From header on the sending address mailFrom.
type Brander interface {
	BrandFor(ctx context.Context, userID, mailFrom string) (receipts.Branding, string, error)
}

// platformBrand brands everything as the platform (tests, and the zero Mailer).
type platformBrand struct{}

// BrandFor implements Brander.
func (platformBrand) BrandFor(_ context.Context, _, mailFrom string) (receipts.Branding, string, error) {
	return receipts.DefaultBranding, mailFrom, nil
}

// licenseBrands reads organisations' branding (licensing's, over the table).
type licenseBrands struct{ r licensing.Reader }

// BrandFor implements Brander.
func (l licenseBrands) BrandFor(ctx context.Context, userID, mailFrom string) (receipts.Branding, string, error) {
	b, err := licensing.BrandingFor(ctx, l.r, userID)
	if err != nil {
		return receipts.Branding{}, "", err // retried by SQS rather than sent unbranded
	}
	if !b.Custom {
		return receipts.DefaultBranding, mailFrom, nil
	}
	br := b.Brand() // validated when stored, re-checked here
	return receipts.Branding{ProductName: br.Name, Color: br.PrimaryColor, SupportEmail: br.SupportEmail, LogoURL: br.LogoURL},
		b.From(mailFrom), nil
}

func receiptNumber(p Payment) string {
	if p.InvoiceNumber != "" {
		return p.InvoiceNumber
	}
	return "LIB-" + p.ID[len(PaymentIDPrefix)+1:]
}

// receiptOf is the payment as it was paid: refunds are the credit notes' business, so the receipt
// renders the same whenever it is rendered.
func receiptOf(p Payment, to string, b receipts.Branding) receipts.Receipt {
	return receipts.Receipt{
		Branding: b, Number: receiptNumber(p), PaymentID: p.ID, Date: p.PaidAt, BilledTo: to,
		Description: p.Description, Kind: p.Kind, AmountCents: p.AmountCents, Currency: p.Currency,
		PaymentMethod: p.PaymentMethod, PeriodStart: p.PeriodStart, PeriodEnd: p.PeriodEnd,
	}
}

// Renderer draws a document's layout as a PDF (receiptpdf.Render; only the function that renders
// documents links the PDF library, so it is passed in rather than imported here).
type Renderer func(receipts.Layout) ([]byte, error)

// receiptDocument is the payment's receipt PDF.
func receiptDocument(render Renderer, rc receipts.Receipt, p Payment) (document, error) {
	pdf, err := render(receipts.ReceiptLayout(rc))
	if err != nil {
		return document{}, err
	}
	return document{Key: ReceiptObjectKey(p.UserID, p.ID), Filename: "receipt-" + rc.Number + ".pdf", PDF: pdf}, nil
}

// creditNoteDocument is the credit note of one refund of the payment.
func creditNoteDocument(render Renderer, rc receipts.Receipt, p Payment, ref Refund) (document, error) {
	number := "CN-" + ref.ID
	pdf, err := render(receipts.CreditNoteLayout(receipts.CreditNote{Receipt: rc, Number: number, RefundID: ref.ID,
		AmountCents: ref.AmountCents, Date: ref.CreatedAt}))
	if err != nil {
		return document{}, err
	}
	return document{Key: CreditNoteObjectKey(p.UserID, p.ID, ref.ID), Filename: "credit-note-" + ref.ID + ".pdf", PDF: pdf}, nil
}
