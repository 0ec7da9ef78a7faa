// Package apperr is the one error type of the system. Every error that reaches a caller carries a
// Code; one table maps codes to HTTP statuses, and only Internal hides its message.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
)

// Code classifies an error for callers.
type Code string

const (
	Invalid              Code = "invalid"                // 400: malformed or failing validation
	Unauthenticated      Code = "unauthenticated"        // 401: no or bad credentials
	Forbidden            Code = "forbidden"              // 403: authenticated, not allowed
	NotFound             Code = "not_found"              // 404: absent, or not the caller's
	MethodNotAllowed     Code = "method_not_allowed"     // 405: local gateway endpoints only (API Gateway answers 404)
	Conflict             Code = "conflict"               // 409: state changed underneath, duplicate, key reuse
	TooLarge             Code = "payload_too_large"      // 413: body over the limit
	UnsupportedMediaType Code = "unsupported_media_type" // 415: a body not labelled application/json
	Unprocessable        Code = "unprocessable"          // 422: well-formed but breaks a business rule
	HeadersTooLarge      Code = "headers_too_large"      // 431: request line and headers over the limit
	RateLimited          Code = "rate_limited"           // 429
	Internal             Code = "internal"               // 500: our fault; message never shown
	NotImplemented       Code = "not_implemented"        // 501: local gateway: a function without a handler yet
	Unavailable          Code = "unavailable"            // 503: a dependency (Stripe, AWS) failed
)

var statuses = map[Code]int{
	Invalid:              http.StatusBadRequest,
	Unauthenticated:      http.StatusUnauthorized,
	Forbidden:            http.StatusForbidden,
	NotFound:             http.StatusNotFound,
	MethodNotAllowed:     http.StatusMethodNotAllowed,
	Conflict:             http.StatusConflict,
	TooLarge:             http.StatusRequestEntityTooLarge,
	UnsupportedMediaType: http.StatusUnsupportedMediaType,
	Unprocessable:        http.StatusUnprocessableEntity,
	HeadersTooLarge:      http.StatusRequestHeaderFieldsTooLarge,
	RateLimited:          http.StatusTooManyRequests,
	Internal:             http.StatusInternalServerError,
	NotImplemented:       http.StatusNotImplemented,
	Unavailable:          http.StatusServiceUnavailable,
}

// Error is an error with a code, a message safe to show the caller, and an optional cause that is
// logged but never shown.
type Error struct {
	Code    Code
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a caller-safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with a code and caller-safe message around a cause.
func Wrap(err error, code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// CodeOf returns the code of the outermost *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// Codes lists every code, in order of status.
func Codes() []Code {
	out := make([]Code, 0, len(statuses))
	for c := range statuses {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Code) int { return statuses[a] - statuses[b] })
	return out
}

// Status returns the HTTP status for a code.
func Status(code Code) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// PublicMessage is what a caller may see: the message for known codes, a fixed text otherwise.
func PublicMessage(err error) string {
	var e *Error
	if !errors.As(err, &e) || e.Code == Internal {
		return "Internal error."
	}
	if e.Code == Unavailable {
		return "A dependency is unavailable; try again shortly."
	}
	return e.Message
}
