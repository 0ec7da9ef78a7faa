package rewards

import (
	"context"
	"strconv"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
	"github.com/liberation/monetization/shared/rewards/tokenmetrics"
)

// TokenMetrics is GET /admin/tokens/metrics (shared/rewards/tokenmetrics, which GET /admin/metrics
// reads too).
type TokenMetrics = tokenmetrics.Metrics

func wireGetTokenMetrics(w wiring) (httpapi.Lambda, error) {
	return HandleGetTokenMetrics(w.rt.Fn, w.d), nil
}

// HandleGetTokenMetrics serves GET /admin/tokens/metrics?days=1..90 (default 30).
func HandleGetTokenMetrics(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, getTokenMetrics(d.Clock, d.metrics()))
}

// getTokenMetrics sums the metric items read through the Metrics port (tokenmetrics' read, which
// GET /admin/metrics shares).
func getTokenMetrics(clk clock.Clock, src Metrics) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		days := 30
		if s, present := r.Event.QueryStringParameters["days"]; present {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 90 {
				return httpapi.Response{}, apperr.New(apperr.Invalid, "days must be an integer from 1 to 90")
			}
			days = n
		}
		m, err := tokenmetrics.ReadFrom(ctx, src, clk.Now(), days)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(m), nil
	}
}

func weekOf(t time.Time) string { return leaderboard.WeekID(t) }
