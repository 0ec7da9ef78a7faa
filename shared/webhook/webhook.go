// Package webhook is the Stripe webhook frame: a Lambda function URL whose only authentication is
// Stripe's signature over the raw body. It verifies the event and its API version, dedupes it by
// event id, and hands it to every area hook registered for its type. It never imports an area:
// areas register hooks (Router.On) and the generated main passes each area's hooks to NewHost.
//
// Each hook prepares with reads only and returns the work to do (nil when the event changes
// nothing for that area), so an event that changes nothing stores nothing, not even its dedupe
// record. The works of one event run in registration order; if one fails the dedupe claim is
// released and Stripe delivers the event again, so every work must be idempotent (docs/decisions/0007).
package webhook

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stripe/stripe-go/v76"
	stripewebhook "github.com/stripe/stripe-go/v76/webhook"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
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

// Outcomes reported in the response body (and logs). Areas may report their own reasons for an
// event that changes nothing ("unknown user", "not ours").
const (
	OutcomeApplied = "applied"
	OutcomeIgnored = "ignored" // no area handles the type
)

// Work is an event's effect for one area.
type Work func(ctx context.Context) error

// Hook prepares one event for one area with reads only. It returns nil work and a short reason
// (safe to show Stripe) when the event changes nothing for the area. An apperr.Invalid error means
// the event's object is not understood (400); any other error is retried by Stripe (500).
type Hook func(ctx context.Context, ev *stripe.Event) (Work, string, error)

// Router maps event types to the hooks areas registered. Several areas may handle one type.
type Router struct{ hooks map[stripe.EventType][]Hook }

// On registers h for events of type t.
func (r *Router) On(t stripe.EventType, h Hook) {
	if r.hooks == nil {
		r.hooks = map[stripe.EventType][]Hook{}
	}
	r.hooks[t] = append(r.hooks[t], h)
}

// Types lists the handled event types, sorted: the endpoint's enabled_events.
func (r *Router) Types() []string {
	out := make([]string, 0, len(r.hooks))
	for t := range r.hooks {
		out = append(out, string(t))
	}
	sort.Strings(out)
	return out
}

// Hooks is what an area contributes to the webhook: it registers its event types.
type Hooks func(rt *platform.Runtime, r *Router) error

// Handler is the function URL handler signature.
type Handler func(context.Context, events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error)

// Config is what the frame needs besides the hooks.
type Config struct {
	Dedupe idempotency.Store // remembers which events were applied (store.Store in production)
	// Secret returns the webhook signing secret (read on first use). It may list several,
	// comma-separated: the account endpoint's and the Connect endpoint's (Connect events such as
	// account.updated come from an endpoint of their own, with its own secret), or an old and a new
	// one while a secret is rolled. A signature valid for any of them is accepted.
	Secret func(ctx context.Context) (string, error)
	// InFlight is how long a claimed event blocks a concurrent delivery of the same event (longer
	// than the function's timeout, so a crashed attempt can be redelivered).
	InFlight time.Duration
	Log      *slog.Logger
}

// NewHost builds the stripe-webhook function from the hooks of every area that handles events.
func NewHost(hooks ...Hooks) func(*platform.Runtime) (Handler, error) {
	return func(rt *platform.Runtime) (Handler, error) {
		var r Router
		for _, h := range hooks {
			if err := h(rt, &r); err != nil {
				return nil, err
			}
		}
		return New(Config{
			Dedupe: store.Open(rt),
			Secret: func(ctx context.Context) (string, error) {
				return rt.Secrets.Get(ctx, manifest.EnvWebhookSecret, manifest.EnvWebhookParam)
			},
			InFlight: time.Duration(rt.Fn.Timeout())*time.Second + 5*time.Second,
			Log:      rt.Log,
		}, &r), nil
	}
}

// New returns the handler for a router.
func New(cfg Config, r *Router) Handler {
	h := &handler{cfg: cfg, r: r}
	return h.serve
}

type handler struct {
	cfg Config
	r   *Router
}

func (h *handler) serve(ctx context.Context, req events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	start := time.Now()
	log := h.cfg.Log.With("requestId", req.RequestContext.RequestID)
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
	secret, err := h.cfg.Secret(ctx)
	if err != nil {
		(*log).Error("webhook secret unavailable", "err", err.Error())
		return http.StatusInternalServerError, "error"
	}
	// The API version is checked here rather than inside stripe-go so that a mismatch is reported as
	// such: the endpoint must be pinned to stripe-go v76's version, or the objects would not parse
	// as the types we read. Stripe retries the refused event once the endpoint is fixed.
	var ev stripe.Event
	for _, s := range strings.Split(secret, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		ev, err = stripewebhook.ConstructEventWithOptions(payload, sig, s,
			stripewebhook.ConstructEventOptions{Tolerance: Tolerance, IgnoreAPIVersionMismatch: true})
		if err == nil || errors.Is(err, stripewebhook.ErrTooOld) {
			break
		}
	}
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

	hooks := h.r.hooks[ev.Type]
	if len(hooks) == 0 {
		return http.StatusOK, OutcomeIgnored
	}
	var works []Work
	outcome := ""
	for _, hook := range hooks {
		w, why, err := hook(ctx, &ev)
		switch {
		case err != nil && apperr.CodeOf(err) == apperr.Invalid:
			(*log).Error("event object not understood", "err", err.Error())
			return http.StatusBadRequest, "malformed object"
		case err != nil:
			(*log).Error("event preparation failed", "err", err.Error())
			return http.StatusInternalServerError, "error"
		case w != nil:
			works = append(works, w)
		case outcome == "":
			outcome = why
		}
	}
	if len(works) == 0 {
		if outcome == "" {
			outcome = OutcomeIgnored
		}
		return http.StatusOK, outcome
	}

	prior, err := h.cfg.Dedupe.BeginIdempotent(ctx, DedupeScope, ev.ID, idempotency.Hash([]byte(ev.ID)), h.cfg.InFlight, dedupeTTL)
	switch {
	case apperr.Is(err, apperr.Conflict):
		return http.StatusConflict, "in progress"
	case err != nil:
		(*log).Error("dedupe record failed", "err", err.Error())
		return http.StatusInternalServerError, "error"
	case prior != nil:
		return http.StatusOK, "duplicate"
	}
	for _, w := range works {
		if err := w(ctx); err != nil {
			(*log).Error("event not applied; Stripe will retry", "code", apperr.CodeOf(err), "err", err.Error())
			if rErr := h.cfg.Dedupe.ReleaseIdempotent(context.WithoutCancel(ctx), DedupeScope, ev.ID); rErr != nil {
				(*log).Error("dedupe record not released", "err", rErr.Error())
			}
			return http.StatusInternalServerError, "error"
		}
	}
	if err := h.cfg.Dedupe.CompleteIdempotent(context.WithoutCancel(ctx), DedupeScope, ev.ID, http.StatusOK, `{"received":true}`); err != nil {
		(*log).Warn("dedupe record not completed", "err", err.Error())
	}
	return http.StatusOK, OutcomeApplied
}

// Decode parses the event's object into v (a *stripe.Invoice, *stripe.Subscription, …). A missing
// or unparseable object is an apperr.Invalid (the webhook answers 400).
func Decode(ev *stripe.Event, v any) error {
	if ev.Data == nil || len(ev.Data.Raw) == 0 {
		return apperr.New(apperr.Invalid, "event has no object")
	}
	if err := json.Unmarshal(ev.Data.Raw, v); err != nil {
		return apperr.Wrap(err, apperr.Invalid, "event object does not parse")
	}
	return nil
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
