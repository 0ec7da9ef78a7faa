package slametrics

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/store"
)

// Read sums the SLA statistics day items of the UTC days from..to, inclusive: at most 366 small
// items, one bounded Query of raw items (the counters are dynamic names). It is the reader of GET
// /admin/support/sla (support's dynamoRepo.SLAStats) and of billing's metrics.
func Read(ctx context.Context, s *store.Store, from, to time.Time) (map[string]int64, error) {
	return store.SumNumbersBetween(ctx, s, store.SLAStatsPK, store.SLAStatsKey(from).SK, store.SLAStatsKey(to).SK)
}
