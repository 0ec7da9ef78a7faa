package slametrics

import (
	"context"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/support/sla"
)

// Read sums the day items of the days asked, bounds included, and nothing else; Totals adds every
// tier with targets, priority and target, with the share in percent to one decimal — null when
// nothing was decided, and counters of a tier without targets (free) or unknown names ignored.
func TestReadAndTotals(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	day := func(d int) time.Time { return time.Date(2026, 5, d, 23, 59, 0, 0, time.UTC) }
	add := func(at time.Time, deltas map[string]int64) {
		t.Helper()
		if err := s.Transact(ctx, store.Append(nil, store.AddCounters(store.SLAStatsKey(at), deltas))); err != nil {
			t.Fatal(err)
		}
	}
	enterpriseMet := Name(sla.TierEnterprise, sla.Urgent, sla.FirstReply, Met)
	proBreached := Name(sla.TierPro, sla.Low, sla.Resolution, Breached)
	add(day(9), map[string]int64{enterpriseMet: 40})
	add(day(10), map[string]int64{enterpriseMet: 2, proBreached: 1, Name(sla.TierFree, sla.Low, sla.FirstReply, Met): 9, "other": 5})
	add(day(12), map[string]int64{enterpriseMet: 1})
	add(day(13), map[string]int64{proBreached: 30})

	total, err := Read(ctx, s, day(10), day(12))
	if err != nil {
		t.Fatal(err)
	}
	if total[enterpriseMet] != 3 || total[proBreached] != 1 || total["other"] != 5 {
		t.Fatalf("read %v", total)
	}
	c := Totals(total)
	if c.Met != 3 || c.Breached != 1 || c.MetPercent == nil || *c.MetPercent != 75 {
		t.Fatalf("totals %+v", c)
	}
	if enterpriseMet != "enterprise_urgent_firstReply_met" {
		t.Fatalf("counter name %q: support's items carry this shape", enterpriseMet)
	}

	// Two-thirds rounds to one decimal.
	if c := Totals(map[string]int64{enterpriseMet: 2, proBreached: 1}); *c.MetPercent != 66.7 {
		t.Fatalf("2 of 3: %v", *c.MetPercent)
	}
	none, err := ReadTotals(ctx, s, day(20), day(25))
	if err != nil || none.Met != 0 || none.Breached != 0 || none.MetPercent != nil {
		t.Fatalf("no outcomes: %+v %v", none, err)
	}
}
