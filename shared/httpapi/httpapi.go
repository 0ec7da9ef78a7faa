// Package httpapi is the request handling every HTTP function shares: authorisation from the JWT
// authorizer's claims, strict JSON decoding, one error shape, and structured request logs.
package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/auth"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
)

// MaxBodyBytes bounds every request body (API Gateway allows 10 MB; our bodies are small).
const MaxBodyBytes = 64 << 10

// Request is what a handler sees.
type Request struct {
	Event     *events.APIGatewayV2HTTPRequest
	Principal auth.Principal // zero for public routes
	ID        string         // API Gateway request id
	Log       *slog.Logger
}

// Response is what a handler returns; Body is marshalled as JSON.
type Response struct {
	Status  int
	Body    any
	Headers map[string]string
}

// JSON is a response with a status and a body.
func JSON(status int, body any) Response { return Response{Status: status, Body: body} }

// OK is a 200 response.
func OK(body any) Response { return JSON(http.StatusOK, body) }

// Handler is a route's logic.
type Handler func(ctx context.Context, r *Request) (Response, error)

// Lambda is the signature lambda.Start receives for an HTTP API (payload 2.0) function.
type Lambda func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Route wraps a handler with the function's authorisation, logging and error mapping.
func Route(fn manifest.Function, h Handler) Lambda {
	base := logging.New(os.Stdout, fn.Name)
	return RouteWithLogger(fn, base, h)
}

// RouteWithLogger is Route with an explicit logger (tests capture logs with it).
func RouteWithLogger(fn manifest.Function, base *slog.Logger, h Handler) Lambda {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		start := time.Now()
		reqID := ev.RequestContext.RequestID
		log := base.With("requestId", reqID, "route", ev.RouteKey)
		r := &Request{Event: &ev, ID: reqID}
		resp, err := authorize(fn, r)
		if r.Principal.UserID != "" {
			log = log.With("userId", r.Principal.UserID)
		}
		r.Log = log
		if err == nil {
			// The frame refuses what no handler may see: a body that is not labelled JSON.
			err = checkContentType(r)
		}
		if err == nil {
			resp, err = safeCall(logging.With(ctx, log), h, r)
		}
		out := encode(resp, err, reqID)
		attrs := []any{"status", out.StatusCode, "ms", time.Since(start).Milliseconds()}
		switch {
		case err != nil && out.StatusCode >= 500:
			log.Error("request failed", append(attrs, "code", apperr.CodeOf(err), "err", err.Error())...)
		case err != nil:
			log.Info("request refused", append(attrs, "code", apperr.CodeOf(err), "reason", apperr.PublicMessage(err))...)
		default:
			log.Info("request", attrs...)
		}
		return out, nil
	}
}

func safeCall(ctx context.Context, h Handler, r *Request) (resp Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = apperr.New(apperr.Internal, "panic: %v", p)
		}
	}()
	return h(ctx, r)
}

func authorize(fn manifest.Function, r *Request) (Response, error) {
	if fn.Auth == manifest.Public {
		return Response{}, nil
	}
	var claims map[string]string
	if a := r.Event.RequestContext.Authorizer; a != nil && a.JWT != nil {
		claims = a.JWT.Claims
	}
	p, ok := auth.FromClaims(claims)
	if !ok {
		return Response{}, apperr.New(apperr.Unauthenticated, "a valid bearer token is required")
	}
	r.Principal = p
	if fn.Auth == manifest.Admin && !p.IsAdmin() {
		return Response{}, apperr.New(apperr.Forbidden, "this route is for administrators")
	}
	if !fn.InGroups(p.Groups) {
		return Response{}, apperr.New(apperr.Forbidden, "this route is for the %s group", strings.Join(fn.Groups, " or "))
	}
	return Response{}, nil
}

// ErrorBody is the wire shape of every error.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code      apperr.Code `json:"code"`
	Message   string      `json:"message"`
	RequestID string      `json:"requestId"`
}

var baseHeaders = map[string]string{
	"content-type":           "application/json",
	"cache-control":          "no-store",
	"x-content-type-options": "nosniff",
}

func encode(resp Response, err error, reqID string) events.APIGatewayV2HTTPResponse {
	if err != nil {
		code := apperr.CodeOf(err)
		resp = Response{Status: apperr.Status(code), Body: ErrorBody{ErrorDetail{code, apperr.PublicMessage(err), reqID}}}
	}
	if resp.Status == 0 {
		resp.Status = http.StatusOK
	}
	headers := make(map[string]string, len(baseHeaders)+len(resp.Headers))
	for k, v := range baseHeaders {
		headers[k] = v
	}
	for k, v := range resp.Headers {
		headers[strings.ToLower(k)] = v
	}
	out := events.APIGatewayV2HTTPResponse{StatusCode: resp.Status, Headers: headers}
	if resp.Body != nil && resp.Status != http.StatusNoContent {
		b, mErr := json.Marshal(resp.Body)
		if mErr != nil {
			out.StatusCode = http.StatusInternalServerError
			b, _ = json.Marshal(ErrorBody{ErrorDetail{apperr.Internal, "Internal error.", reqID}})
		}
		out.Body = string(b)
	}
	return out
}

// Body returns the raw request body, base64-decoded when API Gateway marked it so.
func (r *Request) Body() ([]byte, error) {
	if len(r.Event.Body) > MaxBodyBytes*4/3+4 {
		return nil, apperr.New(apperr.TooLarge, "request body is larger than %d bytes", MaxBodyBytes)
	}
	b := []byte(r.Event.Body)
	if r.Event.IsBase64Encoded {
		var err error
		if b, err = base64.StdEncoding.DecodeString(r.Event.Body); err != nil {
			return nil, apperr.New(apperr.Invalid, "request body is not valid base64")
		}
	}
	if len(b) > MaxBodyBytes {
		return nil, apperr.New(apperr.TooLarge, "request body is larger than %d bytes", MaxBodyBytes)
	}
	return b, nil
}

// PathParam returns a path parameter.
func (r *Request) PathParam(name string) string { return r.Event.PathParameters[name] }

// Query returns a query-string parameter.
func (r *Request) Query(name string) string { return r.Event.QueryStringParameters[name] }

// Header returns a header (HTTP API v2 lower-cases header names).
func (r *Request) Header(name string) string { return r.Event.Headers[strings.ToLower(name)] }

// Limit parses the "limit" query parameter: def when absent, 400 outside 1..max (an empty
// "limit=" is present and not a number, so it is a 400 too).
func (r *Request) Limit(def, max int) (int32, error) {
	s, present := r.Event.QueryStringParameters["limit"]
	if !present {
		return int32(def), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, apperr.New(apperr.Invalid, "limit must be an integer from 1 to %d", max)
	}
	return int32(n), nil
}
