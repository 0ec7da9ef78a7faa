// Package webhook is the Stripe webhook frame: a Lambda function URL whose only authentication is
// Stripe's signature over the raw body. It verifies the event and its API version, dedupes it by
// event id, and hands it to every area hook registered for its type. It never imports an area:
// areas register hooks (Router.On) and the generated main passes each area's hooks to NewHost.
//
// Each hook prepares with reads only and returns the work to do (nil when the event changes
// nothing for that area), so an event that changes nothing stores nothing, not even its dedupe
// record. The works of one event run in registration order; if one fails the dedupe claim is
// released and Stripe delivers the event again, so every work must be idempotent (docs/decisions/0007).
//
// Events from connected accounts (Connect; they carry `account`) reach only the hooks an area
// registered for Connect (Router.OnConnect), and only for accounts an area knows
// (Router.ConnectAccounts): a connected account can create objects of its own — checkout sessions,
// charges — whose events must never be taken for the platform's (docs/decisions/0077).
package webhook

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stripe/stripe-go/v76"
	stripewebhook "github.com/stripe/stripe-go/v76/webhook"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
)

// Limits and settings.
const (
	// MaxBodyBytes bounds the event body (Stripe events are a few KB; large lists are truncated by
	// Stripe well below this).
	MaxBodyBytes = 512 << 10
	// Tolerance is the largest accepted age of a signature timestamp, and how far in the future one
	// may be (stripe-go checks only the past: a captured signature stamped ahead would stay
	// replayable until its time passed).
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
	// OutcomeFuture: the signature's timestamp is more than Tolerance ahead of our clock (400).
	OutcomeFuture = "future signature"
	// OutcomeConnectType: a connected account's event of a type no area registered for Connect
	// (200: retrying cannot change the answer; counted and logged).
	OutcomeConnectType = "connect type not handled"
	// OutcomeUnknownAccount: a Connect event of a handled type for an account no area knows (403:
	// Stripe retries, which applies it if the account was being stored; counted and logged).
	OutcomeUnknownAccount = "unknown account"
)

// Work is an event's effect for one area.
type Work func(ctx context.Context) error

// Hook prepares one event for one area with reads only. It returns nil work and a short reason
// (safe to show Stripe) when the event changes nothing for the area. An apperr.Invalid error means
// the event's object is not understood (400); any other error is retried by Stripe (500).
type Hook func(ctx context.Context, ev *stripe.Event) (Work, string, error)

// KnownAccount tells whether a connected account is one an area knows (for the marketplace: an
// instructor's stored Connect account). ev is the verified event, which the area may read to find
// the account's owner. An error is retried by Stripe (500).
type KnownAccount func(ctx context.Context, accountID string, ev *stripe.Event) (bool, error)

// Router maps event types to the hooks areas registered. Several areas may handle one type.
// Events of the platform account and events of connected accounts have separate maps.
type Router struct {
	hooks    map[stripe.EventType][]Hook
	connect  map[stripe.EventType][]Hook
	accounts []KnownAccount
}

// On registers h for the platform account's events of type t (events without `account`).
func (r *Router) On(t stripe.EventType, h Hook) { r.hooks = on(r.hooks, t, h) }

// OnConnect registers h for connected accounts' events of type t (events with `account`, from the
// Connect endpoint). They reach h only for an account some ConnectAccounts function knows.
func (r *Router) OnConnect(t stripe.EventType, h Hook) { r.connect = on(r.connect, t, h) }

// ConnectAccounts adds a way to know connected accounts: an account is known when any says so.
func (r *Router) ConnectAccounts(k KnownAccount) { r.accounts = append(r.accounts, k) }

func on(m map[stripe.EventType][]Hook, t stripe.EventType, h Hook) map[stripe.EventType][]Hook {
	if m == nil {
		m = map[stripe.EventType][]Hook{}
	}
	m[t] = append(m[t], h)
	return m
}

// Types lists the handled event types of the platform account, sorted: the account endpoint's
// enabled_events.
func (r *Router) Types() []string { return types(r.hooks) }

// ConnectTypes lists the handled event types of connected accounts, sorted: the Connect
// endpoint's enabled_events.
func (r *Router) ConnectTypes() []string { return types(r.connect) }

func types(m map[stripe.EventType][]Hook) []string {
	out := make([]string, 0, len(m))
	for t := range m {
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
	// Function names the metric's dimension (metric.WebhookEventsRefused).
	Function string
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
			Function: rt.Fn.Name,
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
	// stripe-go v76 refuses only a timestamp older than the tolerance (webhook/client.go,
	// validatePayload: time.Since(t) > tolerance, on the same wall clock as here); one ahead by more
	// than the tolerance is refused here, after the signature proved the header is Stripe's.
	if ts, ok := signatureTime(sig); !ok || time.Until(ts) > Tolerance {
		(*log).Warn("event rejected", "reason", OutcomeFuture, "eventId", ev.ID)
		return http.StatusBadRequest, OutcomeFuture
	}
	if ev.APIVersion != stripe.APIVersion {
		(*log).Error("event rejected: API version mismatch; pin the endpoint", "eventId", ev.ID,
			"apiVersion", ev.APIVersion, "want", stripe.APIVersion)
		return http.StatusBadRequest, "api version mismatch"
	}
	*log = (*log).With("eventId", ev.ID, "eventType", string(ev.Type))
	ctx = logging.With(ctx, *log)
	h.emitLag(ctx, *log, &ev, time.Now()) // a measurement on the wall clock the signature check used

	hooks := h.r.hooks[ev.Type]
	if ev.Account != "" {
		*log = (*log).With("account", ev.Account)
		ctx = logging.With(ctx, *log)
		var status int
		var refused string
		if hooks, status, refused = h.connectHooks(ctx, &ev, *log); refused != "" {
			return status, refused
		}
	}
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

// connectHooks returns the hooks of a connected account's event, or the answer that refuses it.
// The type is checked first (no read), then the account: an unhandled type is a 200 — Stripe would
// redeliver it for days to the same answer — and an unknown account a 403, which Stripe retries:
// an instructor's account.updated may come before the account is stored (connect-instructor stores
// it after Stripe created it), and the retry then applies it (docs/decisions/0077).
func (h *handler) connectHooks(ctx context.Context, ev *stripe.Event, log *slog.Logger) ([]Hook, int, string) {
	hooks := h.r.connect[ev.Type]
	if len(hooks) == 0 {
		h.refused(ctx, log, OutcomeConnectType)
		return nil, http.StatusOK, OutcomeConnectType
	}
	for _, known := range h.r.accounts {
		ok, err := known(ctx, ev.Account, ev)
		if err != nil {
			log.Error("connected account lookup failed", "err", err.Error())
			return nil, http.StatusInternalServerError, "error"
		}
		if ok {
			return hooks, 0, ""
		}
	}
	h.refused(ctx, log, OutcomeUnknownAccount)
	return nil, http.StatusForbidden, OutcomeUnknownAccount
}

func (h *handler) refused(ctx context.Context, log *slog.Logger, reason string) {
	log.Warn("connect event refused", "reason", reason)
	metric.Emit(ctx, log, h.cfg.Function, metric.WebhookEventsRefused, 1)
}

// signatureTime reads the header's timestamp as stripe-go does (the last `t=`).
func signatureTime(header string) (time.Time, bool) {
	var ts time.Time
	ok := false
	for _, pair := range strings.Split(header, ",") {
		k, v, found := strings.Cut(pair, "=")
		if !found || k != "t" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		ts, ok = time.Unix(n, 0), true
	}
	return ts, ok
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

// OtherEventType is the EventType dimension of the lag of an event type no area handles (a bounded
// set of dimension values: one per handled type, plus this one).
const OtherEventType = "other"

// emitLag reports how long Stripe took to deliver a verified event (now − event.created, in
// milliseconds), per event type and rolled up (metric.WebhookLag; the alarm watches the rollup's
// p99). A redelivery after a failure counts with its full lag: that delay is what the alarm is for.
func (h *handler) emitLag(ctx context.Context, log *slog.Logger, ev *stripe.Event, now time.Time) {
	if ev.Created <= 0 {
		return
	}
	lag := now.Sub(time.Unix(ev.Created, 0)).Milliseconds()
	if lag < 0 {
		lag = 0 // Stripe's clock ahead of ours by a little: no negative delays on the dashboard
	}
	typ := string(ev.Type)
	if len(h.r.hooks[ev.Type]) == 0 && len(h.r.connect[ev.Type]) == 0 {
		typ = OtherEventType
	}
	metric.Record(ctx, log, metric.Point{Name: metric.WebhookLag, Unit: metric.Milliseconds, Value: lag,
		Dims: []metric.Dim{{Name: metric.DimEventType, Value: typ}}})
}
