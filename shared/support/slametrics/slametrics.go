// Package slametrics names support's SLA statistics and reads them: a small package with no mail,
// queue or licensing dependency, so billing's metrics (GET /admin/metrics and the billing-cycle
// job's daily snapshot) can include support's SLA by importing it, as they do the marketplace's
// (mktmetrics) and the tokens' (tokenmetrics) readers (docs/decisions/0097).
//
// The counters live on SLASTATS/DAY#<date> (store.SLAStatsKey): one per tier, priority, target and
// outcome, changed only inside the transaction that decides the outcome (shared/support).
package slametrics

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/support/sla"
)

// Outcomes of a target, counted once in the statistics.
const (
	Met      = "met"
	Breached = "breached"
)

// Tiers are the tiers with SLA targets, in the report's order.
var Tiers = []string{sla.TierEnterprise, sla.TierPro}

// Name is the statistics counter of an outcome: "<tier>_<priority>_<target>_<met|breached>".
func Name(tier, priority, target, outcome string) string {
	return strings.Join([]string{tier, priority, target, outcome}, "_")
}

// Counts are met and breached outcomes and the share met.
type Counts struct {
	Met        int64    `json:"met"`
	Breached   int64    `json:"breached"`
	MetPercent *float64 `json:"metPercent"` // null when nothing completed or breached
}

// Add adds o's outcomes (Finish computes the share after the last Add).
func (c *Counts) Add(o Counts) { c.Met += o.Met; c.Breached += o.Breached }

// Finish sets MetPercent, met ÷ (met + breached) in percent with one decimal; nil when none.
func (c *Counts) Finish() {
	c.MetPercent = nil
	if total := c.Met + c.Breached; total > 0 {
		p := math.Round(float64(c.Met)*1000/float64(total)) / 10
		c.MetPercent = &p
	}
}

// Of is one tier × priority × target's outcomes in summed counters (not finished).
func Of(total map[string]int64, tier, priority, target string) Counts {
	return Counts{Met: total[Name(tier, priority, target, Met)], Breached: total[Name(tier, priority, target, Breached)]}
}

// Totals are every tier with targets, priority and target together, finished: the rows of GET
// /admin/support/sla added up.
func Totals(total map[string]int64) Counts {
	var c Counts
	for _, tier := range Tiers {
		for _, p := range sla.Priorities {
			for _, target := range sla.Targets {
				c.Add(Of(total, tier, p, target))
			}
		}
	}
	c.Finish()
	return c
}

// ReadTotals reads the days from..to (one bounded Query) and answers their Totals.
func ReadTotals(ctx context.Context, s *store.Store, from, to time.Time) (Counts, error) {
	total, err := Read(ctx, s, from, to)
	if err != nil {
		return Counts{}, err
	}
	return Totals(total), nil
}
