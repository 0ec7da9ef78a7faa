package billing

import (
	"time"

	"github.com/liberation/monetization/shared/store"
)

// payingTier is the tier counted in MRR for a stored item ("" when not paying). It depends on stored
// fields only (Tier already reflects the time rules at the write), so the gauges change exactly
// when an item write changes it.
func payingTier(s Subscription) string {
	if s.Exists() && payingStatus(s.Status) && s.Tier != TierFree && s.Tier != "" {
		return s.Tier
	}
	return ""
}

// liveTier is the tier counted in "active subscriptions per tier" ("" when none).
func liveTier(s Subscription) string {
	if s.Exists() && grantsByStatus(s.Status) && s.Tier != TierFree && s.Tier != "" {
		return s.Tier
	}
	return ""
}

func tierPrice(id string) int64 {
	if t, ok := TierByID(id); ok {
		return t.PriceCents
	}
	return 0
}

// metricDeltas are the gauge and day-counter changes of moving from prev to next, the fact
// happening at `at`. A customer who stops paying less than MetricsWindowDays after becoming paying
// is also counted under CtrChurnedJoinedPrefix+<that day>, so churn can set aside customers who
// joined and left inside its window (docs/decisions/0037).
func metricDeltas(prev, next Subscription, at time.Time) (gauges, day map[string]int64) {
	gauges, day = map[string]int64{}, map[string]int64{}
	pp, np := payingTier(prev), payingTier(next)
	if pp != np {
		gauges[store.GaugeMRRCents] += tierPrice(np) - tierPrice(pp)
		switch {
		case pp == "":
			gauges[store.GaugePayingCustomers]++
			day[store.CtrNewPaying]++
		case np == "":
			gauges[store.GaugePayingCustomers]--
			day[store.CtrChurnedPaying]++
			if joined := prev.PayingSince; !joined.IsZero() && day0(joined).After(day0(at).AddDate(0, 0, -MetricsWindowDays)) {
				day[store.CtrChurnedJoinedPrefix+dayOf(joined)]++
			}
		}
	}
	if pl, nl := liveTier(prev), liveTier(next); pl != nl {
		if pl != "" {
			gauges[store.GaugeSubsPrefix+pl]--
		}
		if nl != "" {
			gauges[store.GaugeSubsPrefix+nl]++
		}
	}
	return gauges, day
}

func dayOf(t time.Time) string { return t.UTC().Format("2006-01-02") }

// day0 is the start (00:00 UTC) of t's day.
func day0(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
