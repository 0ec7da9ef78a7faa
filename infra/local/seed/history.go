package seed

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"time"

	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/store"
)

// DefaultHistoryDays is the history `make seed` leaves: 90 days, today's being the job's own.
const DefaultHistoryDays = 90

// Tier prices the demo MRR is made of (shared/billing/tiers: Pro and Enterprise, monthly).
const (
	proPriceCents        = 999
	enterprisePriceCents = 9900
)

// growthDays is how many days the demo business takes to grow from its start to its size now
// (the default history's demo days).
const growthDays = DefaultHistoryDays - 1

// startLevel is the demo business's size at its start, as a share of today's.
const startLevel = 0.4

// Today is what the demo history leads to: today's real numbers, read from GET /admin/metrics
// after everything else is seeded (TodayFrom). Each demo series grows towards its value, so the
// charts continue into today's real snapshot instead of falling off a cliff on their last point.
type Today struct {
	Pro, Enterprise int64 // live subscriptions per paid tier
	// The 30-day payments window.
	PaymentsSucceeded, PaymentsFailed int64
	RevenueCents, RefundedCents       int64
	// The marketplace's month to date: paid sales and their GMV.
	Sales, GMVCents int64
	// Tokens issued and redeemed over 30 days, and all balances now.
	TokensIssued, TokensRedeemed, TokensOutstanding int64
	LicensesActive, SeatsSold, SeatsUsed            int64
	SLAMet, SLABreached                             int64 // support's SLA outcomes over 30 days
}

// TodayFrom takes the demo history's targets from GET /admin/metrics' answer.
func TodayFrom(m billing.Metrics) Today {
	return Today{Pro: m.ActiveSubscriptions["pro"], Enterprise: m.ActiveSubscriptions["enterprise"],
		PaymentsSucceeded: m.Payments.Succeeded, PaymentsFailed: m.Payments.Failed,
		RevenueCents: m.Payments.RevenueCents, RefundedCents: m.Payments.RefundedCents,
		Sales: m.Marketplace.Sales, GMVCents: m.Marketplace.GMVCents,
		TokensIssued: m.Tokens.Issued, TokensRedeemed: m.Tokens.Redeemed, TokensOutstanding: m.Tokens.Outstanding,
		LicensesActive: m.Enterprise.LicensesActive, SeatsSold: m.Enterprise.SeatsSold, SeatsUsed: m.Enterprise.SeatsUsed,
		SLAMet: m.Support.SLAMet, SLABreached: m.Support.SLABreached}
}

// DemoHistory is the demo metrics of the days-1 days before today's UTC day, oldest first (today
// is never among them: its snapshot is the billing-cycle job's). A plausible growing business that
// ends at today's real numbers: every series grows from about 40 % of its value in `to` up to it
// (a straight line over growthDays days, ±1 % of fixed noise), so yesterday is within a few percent
// of today. The invariants of the job's snapshots hold on every day: MRR = the tier counts × their
// prices, the churn identity, rates from their counts, the marketplace's 70/30 split and its month
// to date restarting on the 1st. Each day's numbers depend only on `to` and how many days before
// today it is, so every run on one day with the same numbers writes the same values.
func DemoHistory(today time.Time, days int, to Today) []billing.Snapshot {
	day0 := today.UTC().Truncate(24 * time.Hour)
	var out []billing.Snapshot
	for k := days - 1; k >= 1; k-- {
		out = append(out, demoDay(day0.AddDate(0, 0, -k), k, to))
	}
	return out
}

// level is the business's size k days before today as a share of today's: startLevel
// growthDays or more days before, rising in a straight line to 1 today.
func level(k int) float64 {
	g := math.Min(1, math.Max(0, 1-float64(k)/float64(growthDays)))
	return startLevel + (1-startLevel)*g
}

// noise is a fixed pseudo-random number in [0, 1) for (k, what).
func noise(k int, what string) float64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(what + "#" + strconv.Itoa(k)))
	return float64(h.Sum64()%1_000_000) / 1_000_000
}

// jitter is a fixed factor within ±1 % for (k, what): a weekly growth of about 5 % stays visible.
func jitter(k int, what string) float64 { return 1 + 0.02*(noise(k, what)-0.5) }

func round(x float64) int64 { return int64(math.Round(x)) }

// towards is target scaled to its size k days before today, with what's noise.
func towards(target int64, k int, what string) int64 {
	return round(float64(target) * level(k) * jitter(k, what))
}

// subscribers k days before today: Pro and Enterprise.
func subscribers(k int, to Today) (pro, enterprise int64) {
	return towards(to.Pro, k, "pro"), towards(to.Enterprise, k, "ent")
}

// dailySales are the marketplace's paid course sales of a day k days before today: today's month
// to date spread evenly over the month's days so far, scaled to that day's size.
func dailySales(k int, today time.Time, to Today) float64 {
	return float64(to.Sales) / float64(today.Day()) * level(k) * jitter(k, "sales")
}

// salesOver are the sales of the n days ending k days before today.
func salesOver(k, n int, today time.Time, to Today) float64 {
	total := 0.0
	for j := 0; j < n; j++ {
		total += dailySales(k+j, today, to)
	}
	return total
}

// defaultSaleCents is the average paid price when today has no sale to take it from.
const defaultSaleCents = 2650

// avgSaleCents is today's average paid price (GMV / sales).
func (to Today) avgSaleCents() int64 {
	if to.Sales <= 0 || to.GMVCents <= 0 {
		return defaultSaleCents
	}
	return to.GMVCents / to.Sales
}

// ratio is num/den within [0, 1] (def when den is 0).
func ratio(num, den int64, def float64) float64 {
	if den <= 0 {
		return def
	}
	return math.Min(1, math.Max(0, float64(num)/float64(den)))
}

// basisPoints is num/den in basis points, rounded half up (billing's rule); nil when den is 0.
func basisPoints(num, den int64) *int64 {
	if den <= 0 {
		return nil
	}
	bp := (num*10000 + den/2) / den
	return &bp
}

func demoDay(day time.Time, k int, to Today) billing.Snapshot {
	today := day.AddDate(0, 0, k)
	s := billing.SnapshotForDay(day)
	pro, ent := subscribers(k, to)
	s.ActiveSubscriptions = map[string]int64{"pro": pro, "enterprise": ent}
	s.PayingCustomers = pro + ent
	s.MRRCents = pro*proPriceCents + ent*enterprisePriceCents

	// Churn over the 30 days before: about 1 % of those paying then; the identity of
	// billing.ChurnDefinition holds (payingAtStart = paying − new + churned + joinedAndLeft).
	p0, e0 := subscribers(k+30, to)
	s.PayingAtStart30d = p0 + e0
	s.ChurnedPaying30d = round(float64(s.PayingAtStart30d) * (0.007 + 0.006*noise(k, "churn")))
	s.JoinedAndLeft30d = round(2 * noise(k, "joinedLeft") * math.Min(1, float64(s.PayingCustomers)/300))
	s.NewPaying30d = max(0, s.PayingCustomers-s.PayingAtStart30d+s.ChurnedPaying30d+s.JoinedAndLeft30d)
	s.PayingAtStart30d = s.PayingCustomers - s.NewPaying30d + s.ChurnedPaying30d + s.JoinedAndLeft30d
	s.ChurnRateBasisPoints = basisPoints(s.ChurnedPaying30d, s.PayingAtStart30d)

	// Payments over 30 days, scaled from today's window; failures and refunds in today's
	// proportions (about one payment in a thousand fails when today has none to go by).
	s.PaymentsSucceeded30d = towards(to.PaymentsSucceeded, k, "succeeded")
	s.PaymentsFailed30d = round(float64(s.PaymentsSucceeded30d) * ratio(to.PaymentsFailed, to.PaymentsSucceeded+to.PaymentsFailed, 0.001))
	s.SuccessRateBasisPoints = basisPoints(s.PaymentsSucceeded30d, s.PaymentsSucceeded30d+s.PaymentsFailed30d)
	revenue := towards(to.RevenueCents, k, "revenue")
	refunded := round(float64(revenue) * ratio(to.RefundedCents, to.RevenueCents, 0))
	s.PaymentsRevenue30dCents, s.PaymentsRefunded30dCents = &revenue, &refunded
	if noise(k, "dispute") < 0.12 && s.PaymentsSucceeded30d > 0 {
		s.DisputesOpened30dCents = 2995
	}

	// The marketplace month to date: the days of the month so far; instructors are paid on the
	// 2nd for what was released of the month before.
	dom := day.Day()
	sales := round(salesOver(k, dom, today, to))
	gmv := sales * to.avgSaleCents()
	instructor := gmv * ledger.InstructorBasisPoints / 10000
	mk := &billing.SnapshotMarketplace{Period: day.Format("2006-01"), Sales: sales, GMVCents: gmv,
		PlatformRevenueCents: gmv - instructor, InstructorEarningsCents: instructor,
		RefundedCents: round(float64(gmv) * 0.01 * noise(k, "mkRefund"))}
	if dom >= 2 {
		prevDays := day.AddDate(0, 0, -dom).Day() // the last day of the month before
		lastMonth := round(salesOver(k+dom, prevDays, today, to)) * to.avgSaleCents() * ledger.InstructorBasisPoints / 10000
		if lastMonth > 0 {
			mk.Payouts, mk.PaidOutCents = int64(len(seedInstructors)), lastMonth*8/10
		}
	}
	s.Marketplace = mk

	issued := towards(to.TokensIssued, k, "issued")
	s.Tokens = &billing.SnapshotTokens{Issued: issued,
		Redeemed:    round(float64(issued) * ratio(to.TokensRedeemed, to.TokensIssued, 0) * jitter(k, "redeemed")),
		Outstanding: towards(to.TokensOutstanding, k, "outstanding")}
	s.Tokens.Redeemed = min(s.Tokens.Redeemed, issued)

	// Licenses are whole: one at least once today has one; seats sold come with them.
	licenses := towards(to.LicensesActive, k, "licenses")
	if to.LicensesActive > 0 {
		licenses = max(1, licenses)
	}
	sold := round(float64(to.SeatsSold) * ratio(licenses, to.LicensesActive, 0))
	s.Enterprise = &billing.SnapshotEnterprise{LicensesActive: licenses, SeatsSold: sold,
		SeatsUsed: min(sold, towards(to.SeatsUsed, k, "seats"))}

	met, breached := towards(to.SLAMet, k, "slaMet"), towards(to.SLABreached, k, "slaBreached")
	s.Support = &billing.SupportStats{SLAMet: met, SLABreached: breached}
	if met+breached > 0 {
		pct := math.Round(float64(met)*1000/float64(met+breached)) / 10
		s.Support.SLAMetPercent = &pct
	}

	s.Source = billing.SnapshotSourceSeed
	s.CreatedAt = day.Add(24*time.Hour - time.Second)
	return s
}

// IsDemo tells a demo day written by the seed from a real snapshot: its source (decision 0095).
func IsDemo(s billing.Snapshot) bool { return s.Source == billing.SnapshotSourceSeed }

// writeHistory writes the demo days with billing's own conditional write: a day that has a
// snapshot (a real one, or one of an earlier seed) is left as it is.
func writeHistory(ctx context.Context, st *store.Store, snaps []billing.Snapshot) (written, kept int, err error) {
	for _, snap := range snaps {
		ok, err := billing.WriteSnapshot(ctx, st, snap)
		if err != nil {
			return written, kept, fmt.Errorf("history %s: %w", snap.Day, err)
		}
		if ok {
			written++
		} else {
			kept++
		}
	}
	return written, kept, nil
}

// history reads today's real metrics, writes the demo days before today shaped to lead to them,
// then runs the billing-cycle job: today's real snapshot, taken from everything seeded above (the
// job writes it once a day).
func (s *seeder) history() error {
	// Today's real numbers, now that everything else is seeded: the demo days lead up to them.
	var m billing.Metrics
	if _, err := s.do("GET", "/admin/metrics", s.token(AdminID, "admin"), nil, &m); err != nil {
		return err
	}
	snaps := DemoHistory(s.now, s.cfg.HistoryDays, TodayFrom(m))
	h := History{}
	if len(snaps) > 0 {
		h.From, h.To = snaps[0].Day, snaps[len(snaps)-1].Day
	}
	if s.cfg.Store == nil {
		h.Skipped = "no table given: no demo history written"
	} else {
		var err error
		if h.Written, h.Kept, err = writeHistory(s.ctx, s.cfg.Store, snaps); err != nil {
			return err
		}
	}
	res, err := s.job("billing-cycle")
	if err != nil {
		return err
	}
	var cycle struct {
		SnapshotWritten bool `json:"snapshotWritten"`
	}
	if len(res) > 0 {
		if err := json.Unmarshal(res, &cycle); err != nil {
			return fmt.Errorf("billing-cycle's report: %w", err)
		}
	}
	h.TodayWritten = cycle.SnapshotWritten
	s.rep.History = h
	if h.Skipped != "" {
		fmt.Fprintf(s.cfg.Out, "history: %s; today's snapshot written now: %t\n", h.Skipped, h.TodayWritten)
	} else {
		fmt.Fprintf(s.cfg.Out, "history: %s..%s: %d demo days written, %d kept; today's snapshot written now: %t\n",
			h.From, h.To, h.Written, h.Kept, h.TodayWritten)
	}
	return nil
}
