package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/auth"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/metric"
)

// RequestCounter counts a user's requests to a function in fixed windows: one more request if the
// window holding now has counted fewer than limit (ok), and when that window ends. store.Store
// implements it with one conditional UpdateItem per window (decision 0077).
type RequestCounter interface {
	TakeRequest(ctx context.Context, function, userID string, window time.Duration, limit int64,
		now time.Time) (ok bool, resets time.Time, err error)
}

// RetryAfterHeader is the response header of a 429: whole seconds until the window that refused
// the request ends.
const RetryAfterHeader = "retry-after"

// RateLimited applies fn's per-user limit (manifest RateLimit) in front of next, the function's
// Route: over the limit the caller gets 429 rate_limited with Retry-After and nothing else runs; a
// counter that cannot be reached is a 503 (the limit is never skipped). A request without a caller
// goes on to next, whose frame answers 401. platform.Build applies it to every HTTP function whose
// manifest entry has a RateLimit, so no handler can forget it.
func RateLimited(fn manifest.Function, c RequestCounter, now func() time.Time, base *slog.Logger, next Lambda) Lambda {
	if fn.RateLimit == nil {
		return next
	}
	type window struct {
		d     time.Duration
		limit int64
	}
	var windows []window
	if n := fn.RateLimit.PerMinute; n > 0 {
		windows = append(windows, window{time.Minute, int64(n)})
	}
	if n := fn.RateLimit.PerHour; n > 0 {
		windows = append(windows, window{time.Hour, int64(n)})
	}
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		var claims map[string]string
		if a := ev.RequestContext.Authorizer; a != nil && a.JWT != nil {
			claims = a.JWT.Claims
		}
		p, ok := auth.FromClaims(claims)
		if !ok {
			return next(ctx, ev)
		}
		start := time.Now()
		at := now()
		for _, w := range windows {
			ok, resets, err := c.TakeRequest(ctx, fn.Name, p.UserID, w.d, w.limit, at)
			if err == nil && ok {
				continue
			}
			log := base.With("requestId", ev.RequestContext.RequestID, "route", ev.RouteKey, "userId", p.UserID)
			attrs := []any{"ms", time.Since(start).Milliseconds()}
			if err != nil {
				out := encode(Response{}, apperr.Wrap(err, apperr.Unavailable, "try again shortly"), ev.RequestContext.RequestID)
				log.Error("request failed", append(attrs, "status", out.StatusCode, "code", apperr.Unavailable,
					"err", "rate limit counter: "+err.Error())...)
				return out, nil
			}
			secs := int64((resets.Sub(at) + time.Second - 1) / time.Second)
			secs = max(secs, 1)
			out := encode(Response{}, apperr.New(apperr.RateLimited, "too many requests to this route: at most %d per %s; retry after %d seconds",
				w.limit, windowName(w.d), secs), ev.RequestContext.RequestID)
			out.Headers[RetryAfterHeader] = strconv.FormatInt(secs, 10)
			log.Info("request refused", append(attrs, "status", http.StatusTooManyRequests, "code", apperr.RateLimited,
				"reason", "rate limit", "window", windowName(w.d), "retryAfter", secs)...)
			metric.Emit(ctx, log, fn.Name, metric.RateLimited, 1)
			return out, nil
		}
		return next(ctx, ev)
	}
}

func windowName(d time.Duration) string {
	if d == time.Hour {
		return "hour"
	}
	return "minute"
}
