package payments

import (
	"context"
	"net/http"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
)

// Refund reasons an admin may give (Stripe's own set).
var refundReasons = map[string]bool{"duplicate": true, "fraudulent": true, "requested_by_customer": true}

// CreateRefundRequest is the body of POST /admin/refunds.
type CreateRefundRequest struct {
	PaymentID   string `json:"paymentId"`
	AmountCents *int64 `json:"amountCents,omitempty"` // omitted: refund everything still refundable
	Reason      string `json:"reason"`
}

// Validate checks the request's shape; amounts against the payment are checked later (422).
func (r *CreateRefundRequest) Validate() error {
	if !ValidPaymentID(r.PaymentID) {
		return apperr.New(apperr.Invalid, "paymentId is not a valid payment id")
	}
	if r.AmountCents != nil && *r.AmountCents < 1 {
		return apperr.New(apperr.Invalid, "amountCents must be a positive whole number of cents")
	}
	if !refundReasons[r.Reason] {
		return apperr.New(apperr.Invalid, "reason must be one of duplicate, fraudulent, requested_by_customer")
	}
	return nil
}

// RefundView is a refund as the API shows it.
type RefundView struct {
	ID          string `json:"id"`
	PaymentID   string `json:"paymentId"`
	AmountCents int64  `json:"amountCents"`
	Currency    string `json:"currency"`
	Status      string `json:"status"`
	Reason      string `json:"reason,omitempty"`
	CreatedAt   string `json:"createdAt"`
}

func refundView(r Refund) RefundView {
	return RefundView{ID: r.ID, PaymentID: r.PaymentID, AmountCents: r.AmountCents, Currency: r.Currency,
		Status: r.Status, Reason: r.Reason, CreatedAt: rfc3339(r.CreatedAt)}
}

// CreateRefundResponse is the 201 body.
type CreateRefundResponse struct {
	Refund  RefundView  `json:"refund"`
	Payment PaymentView `json:"payment"`
}

func wireCreateRefund(rt *platform.Runtime) (httpapi.Lambda, error) {
	f, err := refunderOf(rt)
	if err != nil {
		return nil, err
	}
	return HandleCreateRefund(rt.Fn, store.Open(rt), f), nil
}

// HandleCreateRefund serves POST /admin/refunds (admin only; Idempotency-Key required): see
// Refunder.Create. The key names the refund operation, so every retry — within the frame's 24 h
// replay, or any time later — resumes the same operation and never refunds twice.
func HandleCreateRefund(fn manifest.Function, claims idempotency.Store, refunds *Refunder) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.IdempotentRequired(claims, fn.Name,
		func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
			var req CreateRefundRequest
			if err := r.Decode(&req); err != nil {
				return httpapi.Response{}, err
			}
			opID := operationID(fn.Name, r.Principal.UserID, r.Header(httpapi.IdempotencyHeader))
			res, err := refunds.Create(ctx, req, opID, r.Principal.UserID, r.ID)
			if err != nil {
				return httpapi.Response{}, err
			}
			return httpapi.JSON(http.StatusCreated, res), nil
		}))
}

// operationID names one refund operation: derived from the admin's Idempotency-Key (scoped to the
// function and the admin, as the key is), so a retry reuses it — and Stripe's idempotency key and
// metadata.operationId with it.
func operationID(function, actor, idemKey string) string {
	return "rop_" + idempotency.Hash([]byte(function), []byte(actor), []byte(idemKey))[:32]
}
