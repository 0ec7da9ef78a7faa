package payments

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
)

// List limits for GET /payments.
var listLimits = httpapi.Limits{Default: 20, Max: 100}

// ReceiptLinkTTL is how long a presigned receipt URL works.
const ReceiptLinkTTL = 5 * time.Minute

// PaymentView is a payment as its owner sees it; internal keys and Stripe bookkeeping stay inside.
type PaymentView struct {
	ID               string `json:"id"`
	AmountCents      int64  `json:"amountCents"`
	Currency         string `json:"currency"`
	Status           string `json:"status"`
	Kind             string `json:"kind"`
	Description      string `json:"description"`
	RefundedCents    int64  `json:"refundedCents"`
	Disputed         bool   `json:"disputed"`
	DisputeStatus    string `json:"disputeStatus,omitempty"` // Stripe's: needs_response, …, won, lost
	CreatedAt        string `json:"createdAt"`
	ReceiptAvailable bool   `json:"receiptAvailable"`
	InvoiceID        string `json:"invoiceId,omitempty"`
}

func paymentView(p Payment) PaymentView {
	return PaymentView{ID: p.ID, AmountCents: p.AmountCents, Currency: p.Currency, Status: p.Status, Kind: p.Kind,
		Description: p.Description, RefundedCents: p.RefundedCents, Disputed: p.Disputed, DisputeStatus: p.DisputeStatus,
		CreatedAt: rfc3339(p.CreatedAt), ReceiptAvailable: p.ReceiptKey != "", InvoiceID: p.InvoiceID}
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ListPaymentsResponse is the body of GET /payments.
type ListPaymentsResponse struct {
	Payments   []PaymentView `json:"payments"`
	NextCursor string        `json:"nextCursor,omitempty"`
}

func wireListPayments(rt *platform.Runtime) (httpapi.Lambda, error) {
	return HandleListPayments(rt.Fn, repoOf(rt)), nil
}

// HandleListPayments serves GET /payments: the caller's payments, newest first, cursor-paginated.
func HandleListPayments(fn manifest.Function, payments PaymentReader) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		return httpapi.ListPage(ctx, r, "payments", listLimits,
			func(ctx context.Context, limit int32, cursor string) ([]Payment, string, error) {
				page, err := payments.ListPayments(ctx, r.Principal.UserID, limit, cursor)
				return page.Items, page.NextCursor, err
			}, paymentView)
	})
}

// callerPayment reads the caller's payment named by the path; another user's id is a 404.
func callerPayment(ctx context.Context, payments PaymentReader, r *httpapi.Request) (Payment, error) {
	id := r.PathParam("paymentId")
	if !ValidPaymentID(id) {
		return Payment{}, apperr.New(apperr.Invalid, "paymentId is not a valid payment id")
	}
	p, err := payments.GetPayment(ctx, r.Principal.UserID, id)
	if apperr.Is(err, apperr.NotFound) {
		return Payment{}, apperr.New(apperr.NotFound, "payment not found")
	}
	return p, err
}

func wireGetPayment(rt *platform.Runtime) (httpapi.Lambda, error) {
	return HandleGetPayment(rt.Fn, repoOf(rt)), nil
}

// HandleGetPayment serves GET /payments/{paymentId}.
func HandleGetPayment(fn manifest.Function, payments PaymentReader) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		p, err := callerPayment(ctx, payments, r)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(paymentView(p)), nil
	})
}

// ReceiptLink is the body of GET /payments/{paymentId}/receipt.
type ReceiptLink struct {
	URL       string `json:"url"`
	ExpiresAt string `json:"expiresAt"`
}

func wireGetReceipt(rt *platform.Runtime) (httpapi.Lambda, error) {
	blobs, err := blob.From(rt)
	if err != nil {
		return nil, err
	}
	return HandleGetReceipt(rt.Fn, repoOf(rt), blobs, rt.Clock), nil
}

// HandleGetReceipt serves GET /payments/{paymentId}/receipt: a presigned S3 GET URL for the PDF,
// valid five minutes. 409 while the receipt has not been rendered yet.
func HandleGetReceipt(fn manifest.Function, payments PaymentReader, links Presigner, clk clock.Clock) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		p, err := callerPayment(ctx, payments, r)
		if err != nil {
			return httpapi.Response{}, err
		}
		if p.ReceiptKey == "" {
			return httpapi.Response{}, apperr.New(apperr.Conflict, "the receipt for this payment is still being prepared; try again in a minute")
		}
		now := clk.Now()
		url, err := links.PresignGet(ctx, blob.Object{Key: p.ReceiptKey, ContentType: "application/pdf",
			ContentDisposition: `inline; filename="receipt-` + p.ID + `.pdf"`}, ReceiptLinkTTL)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(ReceiptLink{URL: url, ExpiresAt: rfc3339(now.Add(ReceiptLinkTTL))}), nil
	})
}
