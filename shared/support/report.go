package support

import (
	"context"
	"strconv"
	"time"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/support/sla"
	"github.com/liberation/monetization/shared/support/slametrics"
)

// Counts are met and breached outcomes and the share met (slametrics', which billing's metrics
// read too).
type Counts = slametrics.Counts

// SLARow is one tier × priority of the report.
type SLARow struct {
	Tier       string `json:"tier"`
	Priority   string `json:"priority"`
	Counts            // both targets together
	FirstReply Counts `json:"firstReply"`
	Resolution Counts `json:"resolution"`
}

// SLAReport is GET /admin/support/sla.
type SLAReport struct {
	Days int      `json:"days"`
	From string   `json:"from"`
	To   string   `json:"to"`
	Rows []SLARow `json:"rows"`
}

// buildReport sums the daily statistics items into rows for every tier with targets × priority.
func buildReport(days int, from, to time.Time, total map[string]int64) SLAReport {
	rep := SLAReport{Days: days, From: from.Format("2006-01-02"), To: to.Format("2006-01-02"), Rows: []SLARow{}}
	for _, tier := range slametrics.Tiers {
		for i := len(sla.Priorities) - 1; i >= 0; i-- {
			p := sla.Priorities[i]
			row := SLARow{Tier: tier, Priority: p}
			for _, target := range sla.Targets {
				c := slametrics.Of(total, tier, p, target)
				row.Counts.Add(c)
				c.Finish()
				if target == sla.FirstReply {
					row.FirstReply = c
				} else {
					row.Resolution = c
				}
			}
			row.Counts.Finish()
			rep.Rows = append(rep.Rows, row)
		}
	}
	return rep
}

func wireGetSupportSlaReport(w wiring) (httpapi.Lambda, error) {
	return w.route(handleReport(w.Clock, w.Repo))
}

// handleReport serves GET /admin/support/sla?days=30 (1–365): the share of targets met per tier and
// priority, over outcomes counted in the last days (a target counts on the day it was met or
// breached).
func handleReport(clk clock.Clock, stats slaStats) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		days := 30
		if s := r.Query("days"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 365 {
				return httpapi.Response{}, invalid("days", "must be an integer from 1 to 365")
			}
			days = n
		}
		to := clk.Now().UTC()
		from := to.AddDate(0, 0, -(days - 1))
		total, err := stats.SLAStats(ctx, from, to)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(buildReport(days, from, to, total)), nil
	}
}
