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
	"github.com/liberation/monetization/shared/store"
)

// TokenMetrics is GET /admin/tokens/metrics (shared/rewards/tokenmetrics, which GET /admin/metrics
// reads too).
type TokenMetrics = tokenmetrics.Metrics

// ReadTokenMetrics reads the programme's metrics of the last days UTC days (today included).
func (d *Deps) ReadTokenMetrics(ctx context.Context, days int) (TokenMetrics, error) {
	return tokenmetrics.Read(ctx, d.Store, d.Clock.Now(), days)
}

// HandleGetTokenMetrics serves GET /admin/tokens/metrics?days=1..90 (default 30).
func HandleGetTokenMetrics(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, getTokenMetrics(d.Clock, d.Store))
}

// getTokenMetrics reads the metric items through the store (tokenmetrics' queries, which
// GET /admin/metrics shares; not one of the area's ports).
func getTokenMetrics(clk clock.Clock, st *store.Store) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		days := 30
		if s, present := r.Event.QueryStringParameters["days"]; present {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 90 {
				return httpapi.Response{}, apperr.New(apperr.Invalid, "days must be an integer from 1 to 90")
			}
			days = n
		}
		m, err := tokenmetrics.Read(ctx, st, clk.Now(), days)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(m), nil
	}
}

func weekOf(t time.Time) string { return leaderboard.WeekID(t) }
