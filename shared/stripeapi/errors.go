package stripeapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
)

// Kind says what a failed Stripe call means for the operation it attempted.
type Kind int

const (
	// Definite: Stripe answered and refused (a 4xx other than 409 and 429). Nothing happened.
	Definite Kind = iota + 1
	// Declined: a card error. Nothing was charged.
	Declined
	// RateLimited: Stripe answered 429. Nothing happened; try again later.
	RateLimited
	// Ambiguous: no answer (timeout, connection error, passed deadline), a 5xx, or a 409 (the same
	// idempotency key is still being processed). The operation may have happened at Stripe.
	Ambiguous
)

func (k Kind) String() string {
	switch k {
	case Definite:
		return "definite"
	case Declined:
		return "declined"
	case RateLimited:
		return "rate_limited"
	case Ambiguous:
		return "ambiguous"
	}
	return "unknown"
}

// Failure is a classified Stripe error.
type Failure struct {
	Kind   Kind
	Status int    // HTTP status, 0 without an answer
	Code   string // Stripe's error code or type, for logs and operators
	Err    error
}

func (f *Failure) Error() string {
	return fmt.Sprintf("stripe %s failure (status %d, %s): %v", f.Kind, f.Status, f.Code, f.Err)
}

func (f *Failure) Unwrap() error { return f.Err }

// Classify sorts a stripe-go error. Anything that is not an answer from Stripe is Ambiguous.
func Classify(err error) *Failure {
	if err == nil {
		return nil
	}
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	var se *stripe.Error
	if !errors.As(err, &se) {
		return &Failure{Kind: Ambiguous, Err: err, Code: "no_answer"}
	}
	code := string(se.Code)
	if code == "" {
		code = string(se.Type)
	}
	out := &Failure{Status: se.HTTPStatusCode, Code: code, Err: err}
	switch {
	case se.HTTPStatusCode == 0 || se.HTTPStatusCode >= 500 || se.HTTPStatusCode == http.StatusConflict:
		out.Kind = Ambiguous
	case se.HTTPStatusCode == http.StatusTooManyRequests:
		out.Kind = RateLimited
	case se.Type == stripe.ErrorTypeCard:
		out.Kind = Declined
	default:
		out.Kind = Definite
	}
	return out
}

// KindOf returns the kind of a Stripe call's error (0 for nil).
func KindOf(err error) Kind {
	if f := Classify(err); f != nil {
		return f.Kind
	}
	return 0
}

// IsAmbiguous reports whether err leaves the outcome of the Stripe call unknown.
func IsAmbiguous(err error) bool { return KindOf(err) == Ambiguous }

// Error turns a Stripe call's error into a caller-safe apperr, wrapping the classified Failure so
// callers can still ask IsAmbiguous: a definite refusal is a 422 naming what was refused, a declined
// card a 422, an idempotency-key misuse a 409, a rate limit or an ambiguous failure a 503.
func Error(err error, what string) error {
	f := Classify(err)
	if f == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		f.Kind = Ambiguous
	}
	var se *stripe.Error
	isIdem := errors.As(err, &se) && se.Type == stripe.ErrorTypeIdempotency
	switch {
	case isIdem && f.Kind == Definite:
		return apperr.Wrap(f, apperr.Conflict, "%s: a different request is using this operation; retry", what)
	case f.Kind == Declined:
		return apperr.Wrap(f, apperr.Unprocessable, "%s: the payment was declined", what)
	case f.Kind == Definite:
		return apperr.Wrap(f, apperr.Unprocessable, "%s was refused by the payment provider (%s)", what, f.Code)
	}
	return apperr.Wrap(f, apperr.Unavailable, "%s failed", what)
}
