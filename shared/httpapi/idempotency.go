package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/idempotency"
)

// IdempotencyHeader is the request header a caller sets to make a POST safe to retry.
const IdempotencyHeader = "idempotency-key"

// Idempotency settings: a completed response is replayed for 24 h; a claim older than
// idempotencyInFlight (longer than any HTTP function's timeout) may be taken over by a retry.
const (
	idempotencyTTL      = 24 * time.Hour
	idempotencyInFlight = 35 * time.Second
)

// Idempotent makes a handler honour the Idempotency-Key header: the first request with a key runs
// and its response (success or business error) is stored; a retry with the same key and body gets
// the stored response with header "idempotent-replayed: true"; the same key with a different body
// is a 422; a retry while the first is still running is a 409. Keys are scoped per function and
// user, so one user's key never collides with another's. Without the header the handler just runs;
// a header that is present but not a valid key (see CheckIdempotencyKey) is a 400.
func Idempotent(s idempotency.Store, function string, h Handler) Handler {
	return idempotent(s, function, h, false)
}

// IdempotentRequired is Idempotent for routes where a retry without a key would repeat an
// operation that must happen once (a refund): a request without the header is a 400 naming it.
func IdempotentRequired(s idempotency.Store, function string, h Handler) Handler {
	return idempotent(s, function, h, true)
}

// MaxIdempotencyKeyLength is the longest key accepted (Stripe's limit too).
const MaxIdempotencyKeyLength = 255

// CheckIdempotencyKey reports whether key is acceptable: 1 to 255 printable ASCII characters
// (0x20–0x7E), not only spaces. The message of the error names the header.
func CheckIdempotencyKey(key string) error {
	switch {
	case strings.TrimSpace(key) == "":
		return apperr.New(apperr.Invalid, "Idempotency-Key must not be empty")
	case len(key) > MaxIdempotencyKeyLength:
		return apperr.New(apperr.Invalid, "Idempotency-Key must be at most %d characters", MaxIdempotencyKeyLength)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return apperr.New(apperr.Invalid, "Idempotency-Key must be printable ASCII")
		}
	}
	return nil
}

func idempotent(s idempotency.Store, function string, h Handler, required bool) Handler {
	return func(ctx context.Context, r *Request) (Response, error) {
		key, present := r.Event.Headers[IdempotencyHeader]
		if !present {
			if required {
				return Response{}, apperr.New(apperr.Invalid, "the Idempotency-Key header is required on this route")
			}
			return h(ctx, r)
		}
		if err := CheckIdempotencyKey(key); err != nil {
			return Response{}, err
		}
		body, err := r.Body()
		if err != nil {
			return Response{}, err
		}
		scope := function + "#" + r.Principal.UserID
		hash := idempotency.Hash([]byte(r.Event.RawPath), []byte(r.Event.RawQueryString), body)
		prior, err := s.BeginIdempotent(ctx, scope, key, hash, idempotencyInFlight, idempotencyTTL)
		if err != nil {
			return Response{}, err
		}
		if prior != nil {
			return Response{Status: prior.StatusCode, Body: json.RawMessage(prior.Result),
				Headers: map[string]string{"idempotent-replayed": "true"}}, nil
		}
		resp, err := h(ctx, r)
		code := apperr.CodeOf(err)
		// Failures that may succeed on retry (our bugs, dependencies down, races) release the key;
		// answers that a retry would repeat (validation, business rules) are stored like successes.
		if err != nil && (code == apperr.Internal || code == apperr.Unavailable || code == apperr.Conflict) {
			_ = s.ReleaseIdempotent(context.WithoutCancel(ctx), scope, key)
			return resp, err
		}
		status, stored := resp.Status, resp.Body
		if err != nil {
			status = apperr.Status(code)
			stored = ErrorBody{ErrorDetail{code, apperr.PublicMessage(err), r.ID}}
		}
		if status == 0 {
			status = http.StatusOK
		}
		b, mErr := json.Marshal(stored)
		if mErr != nil {
			return resp, err
		}
		if cErr := s.CompleteIdempotent(context.WithoutCancel(ctx), scope, key, status, string(b)); cErr != nil {
			r.Log.Warn("idempotency record not completed", "err", cErr.Error())
		}
		return resp, err
	}
}
