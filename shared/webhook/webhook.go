// Package webhook is the Stripe webhook: a Lambda function URL whose only authentication is Stripe's
// signature over the raw body. It verifies the event, dedupes it by event id, and applies it so that
// duplicates and any arrival order end in the same state (docs/decisions/0007).
package webhook

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stripe/stripe-go/v76"
	stripewebhook "github.com/stripe/stripe-go/v76/webhook"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
)

// Limits and settings.
const (
	// MaxBodyBytes bounds the event body (Stripe events are a few KB; large lists are truncated by
	// Stripe well below this).
	MaxBodyBytes = 512 << 10
	// Tolerance is the largest accepted age of a signature timestamp.
	Tolerance = 300 * time.Second
	// DedupeScope is the idempotency scope of Stripe event ids.
	DedupeScope = "stripe-event"
	// dedupeTTL keeps processed event ids well past Stripe's 3-day retry window.
	dedupeTTL = 30 * 24 * time.Hour
	// SignatureHeader is the header carrying Stripe's signature (function URLs lower-case headers).
	SignatureHeader = "stripe-signature"
)

// Handler is the function URL handler signature.
type Handler func(context.Context, events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error)

// Payments are the payments package's entry points the webhook calls (replaceable in tests).
type Payments struct {
	InvoicePaid          func(ctx context.Context, d *platform.Deps, userID string, inv *stripe.Invoice, eventID string) error
	InvoicePaymentFailed func(ctx context.Context, d *platform.Deps, userID string, inv *stripe.Invoice, eventID string) error
	CheckoutPayment      func(ctx context.Context, d *platform.Deps, userID string, s *stripe.CheckoutSession, eventID string) error
	ChargeRefunded       func(ctx context.Context, d *platform.Deps, ch *stripe.Charge, eventID string) error
	Dispute              func(ctx context.Context, d *platform.Deps, dp *stripe.Dispute, eventID string) error
}

// DefaultPayments are the real implementations in shared/payments.
func DefaultPayments() Payments {
	return Payments{
		InvoicePaid:          payments.ApplyInvoicePaid,
		InvoicePaymentFailed: payments.ApplyInvoicePaymentFailed,
		CheckoutPayment:      payments.ApplyCheckoutPayment,
		ChargeRefunded:       payments.ApplyChargeRefunded,
		Dispute:              payments.ApplyDispute,
	}
}

// HandleStripeWebhook is the stripe-webhook function's handler.
func HandleStripeWebhook(fn manifest.Function, d *platform.Deps) Handler {
	return New(fn, d, DefaultPayments(), logging.New(os.Stdout, fn.Name))
}

// New builds the handler with explicit payments entry points and logger.
func New(fn manifest.Function, d *platform.Deps, p Payments, log *slog.Logger) Handler {
	h := &handler{d: d, p: p, log: log, inFlight: time.Duration(fn.Timeout())*time.Second + 5*time.Second}
	return h.serve
}

type handler struct {
	d        *platform.Deps
	p        Payments
	log      *slog.Logger
	inFlight time.Duration
}

// work is a verified event's effect, prepared by a read-only step so that an event that will change
// nothing (unknown type or user) stores nothing, not even its dedupe record.
type work func(ctx context.Context) error

func (h *handler) serve(ctx context.Context, req events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	start := time.Now()
	log := h.log.With("requestId", req.RequestContext.RequestID)
	status, outcome := h.handle(logging.With(ctx, log), req, &log)
	log.Info("stripe event", "status", status, "outcome", outcome, "ms", time.Since(start).Milliseconds())
	body, _ := json.Marshal(map[string]any{"received": status < 300, "outcome": outcome})
	return events.LambdaFunctionURLResponse{StatusCode: status, Body: string(body),
		Headers: map[string]string{"content-type": "application/json", "cache-control": "no-store"}}, nil
}

// handle returns the status and a short outcome word (safe to show Stripe: no internals).
func (h *handler) handle(ctx context.Context, req events.LambdaFunctionURLRequest, log **slog.Logger) (int, string) {
	if m := req.RequestContext.HTTP.Method; m != "" && m != http.MethodPost {
		return http.StatusMethodNotAllowed, "method not allowed"
	}
	payload, err := rawBody(req)
	if err != nil {
		(*log).Warn("unreadable body", "err", err.Error())
		return http.StatusBadRequest, "bad body"
	}
	sig := header(req.Headers, SignatureHeader)
	if sig == "" {
		return http.StatusBadRequest, "missing signature"
	}
	secret, err := h.d.WebhookSecret(ctx)
	if err != nil {
		(*log).Error("webhook secret unavailable", "err", err.Error())
		return http.StatusInternalServerError, "error"
	}
	// The API version is checked here rather than inside stripe-go so that a mismatch is reported as
	// such: the endpoint must be pinned to stripe-go v76's version, or the objects would not parse
	// as the types we read. Stripe retries the refused event once the endpoint is fixed.
	ev, err := stripewebhook.ConstructEventWithOptions(payload, sig, secret,
		stripewebhook.ConstructEventOptions{Tolerance: Tolerance, IgnoreAPIVersionMismatch: true})
	if err != nil {
		(*log).Warn("event rejected", "reason", verifyReason(err))
		return http.StatusBadRequest, verifyReason(err)
	}
	if ev.APIVersion != stripe.APIVersion {
		(*log).Error("event rejected: API version mismatch; pin the endpoint", "eventId", ev.ID,
			"apiVersion", ev.APIVersion, "want", stripe.APIVersion)
		return http.StatusBadRequest, "api version mismatch"
	}
	*log = (*log).With("eventId", ev.ID, "eventType", string(ev.Type))
	ctx = logging.With(ctx, *log)

	w, outcome, err := h.prepare(ctx, ev)
	switch {
	case err != nil && apperr.CodeOf(err) == apperr.Invalid:
		(*log).Error("event object not understood", "err", err.Error())
		return http.StatusBadRequest, "malformed object"
	case err != nil:
		(*log).Error("event preparation failed", "err", err.Error())
		return http.StatusInternalServerError, "error"
	case w == nil:
		return http.StatusOK, outcome
	}

	prior, err := h.d.Store.BeginIdempotent(ctx, DedupeScope, ev.ID, store.HashPayload([]byte(ev.ID)), h.inFlight, dedupeTTL)
	switch {
	case apperr.Is(err, apperr.Conflict):
		return http.StatusConflict, "in progress"
	case err != nil:
		(*log).Error("dedupe record failed", "err", err.Error())
		return http.StatusInternalServerError, "error"
	case prior != nil:
		return http.StatusOK, "duplicate"
	}
	if err := w(ctx); err != nil {
		(*log).Error("event not applied; Stripe will retry", "code", apperr.CodeOf(err), "err", err.Error())
		if rErr := h.d.Store.ReleaseIdempotent(context.WithoutCancel(ctx), DedupeScope, ev.ID); rErr != nil {
			(*log).Error("dedupe record not released", "err", rErr.Error())
		}
		return http.StatusInternalServerError, "error"
	}
	if err := h.d.Store.CompleteIdempotent(context.WithoutCancel(ctx), DedupeScope, ev.ID, http.StatusOK, `{"received":true}`); err != nil {
		(*log).Warn("dedupe record not completed", "err", err.Error())
	}
	return http.StatusOK, outcome
}

func rawBody(req events.LambdaFunctionURLRequest) ([]byte, error) {
	if len(req.Body) > MaxBodyBytes*4/3+4 {
		return nil, errors.New("body too large")
	}
	b := []byte(req.Body)
	if req.IsBase64Encoded {
		var err error
		if b, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return nil, errors.New("body is not valid base64")
		}
	}
	if len(b) > MaxBodyBytes {
		return nil, errors.New("body too large")
	}
	if len(b) == 0 {
		return nil, errors.New("empty body")
	}
	return b, nil
}

// header reads a header whatever its case (function URLs deliver lower-case names).
func header(h map[string]string, name string) string {
	if v, ok := h[name]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func verifyReason(err error) string {
	switch {
	case errors.Is(err, stripewebhook.ErrTooOld):
		return "stale signature"
	case errors.Is(err, stripewebhook.ErrNoValidSignature), errors.Is(err, stripewebhook.ErrInvalidHeader),
		errors.Is(err, stripewebhook.ErrNotSigned):
		return "invalid signature"
	}
	return "invalid event" // signed, but not an event
}
