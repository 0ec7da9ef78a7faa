package support

import (
	"context"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/support/sla"
	"github.com/liberation/monetization/shared/support/slametrics"
)

// The SLA totals billing's metrics read (slametrics.ReadTotals) are the rows of GET
// /admin/support/sla over the same days added up, read by the same reader as support's SLAStats;
// outcomes outside the days are not counted.
func TestSLATotalsAreTheReportRowsAddedUp(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, nil)
	day := func(d int) time.Time { return time.Date(2026, 3, d, 9, 0, 0, 0, time.UTC) }
	add := func(at time.Time, deltas map[string]int64) {
		t.Helper()
		if err := s.Transact(ctx, store.Append(nil, store.AddCounters(store.SLAStatsKey(at), deltas))); err != nil {
			t.Fatal(err)
		}
	}
	add(day(1), map[string]int64{statName(sla.TierPro, sla.Normal, sla.FirstReply, OutcomeMet): 100}) // before the range
	add(day(2), map[string]int64{statName(sla.TierPro, sla.High, sla.FirstReply, OutcomeMet): 3,
		statName(sla.TierEnterprise, sla.Urgent, sla.Resolution, OutcomeBreached): 1})
	add(day(5), map[string]int64{statName(sla.TierEnterprise, sla.Low, sla.Resolution, OutcomeMet): 2,
		statName(sla.TierPro, sla.Normal, sla.FirstReply, OutcomeBreached): 1})
	add(day(6), map[string]int64{statName(sla.TierPro, sla.Normal, sla.FirstReply, OutcomeBreached): 50}) // after it

	c, err := slametrics.ReadTotals(ctx, s, day(2), day(5))
	if err != nil {
		t.Fatal(err)
	}
	if c.Met != 5 || c.Breached != 2 || c.MetPercent == nil || *c.MetPercent != 71.4 {
		t.Fatalf("totals %+v (percent %v), want 5 met, 2 breached, 71.4 %%", c, c.MetPercent)
	}
	total, err := (&dynamoRepo{s}).SLAStats(ctx, day(2), day(5))
	if err != nil {
		t.Fatal(err)
	}
	var rows Counts
	for _, row := range buildReport(4, day(2), day(5), total).Rows {
		rows.Add(row.Counts)
	}
	rows.Finish()
	if rows.Met != c.Met || rows.Breached != c.Breached || *rows.MetPercent != *c.MetPercent {
		t.Fatalf("report rows add up to %+v, totals %+v", rows, c)
	}
}
