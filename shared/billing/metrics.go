package billing

import (
	"context"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/rewards/tokenmetrics"
	"github.com/liberation/monetization/shared/store"
)

// MetricsWindowDays is the window of churn, payment success rate and dispute amounts.
const MetricsWindowDays = 30

// Currency of every tier price, and so of MRR.
const Currency = "usd"

// ChurnDefinition is the churn formula, as the metrics response states it.
const ChurnDefinition = "rateBasisPoints = churnedPaying ÷ payingAtStart over the window (at most 10000): " +
	"customers paying when the window started who stopped paying inside it. Customers who became paying and " +
	"stopped inside the window are counted in joinedAndLeft, not in the rate. payingAtStart = payingCustomers − " +
	"newPaying + churnedPaying + joinedAndLeft."

// Metrics is the answer of GET /admin/metrics. Rates are integer basis points (1 % = 100 bp,
// 99.9 % = 9990 bp) and null when their denominator is zero. See docs/decisions/0010 and 0037.
//
// Paying, MRR and the per-tier counts are as of AsOf under the same rules as feature checks: a
// subscription whose access ended by a time rule (past_due beyond paid-through + grace, a
// cancellation past its period end) is not counted even before the billing-cycle job has written
// that; LapsedAwaitingJob says how many such subscriptions the read set aside.
type Metrics struct {
	AsOf                time.Time        `json:"asOf"`
	Currency            string           `json:"currency"`
	MRRCents            int64            `json:"mrrCents"`
	PayingCustomers     int64            `json:"payingCustomers"`
	ActiveSubscriptions map[string]int64 `json:"activeSubscriptions"` // per paid tier
	LapsedAwaitingJob   int64            `json:"lapsedAwaitingJob"`
	Window              Window           `json:"window"`
	Churn               Churn            `json:"churn"`
	Payments            PaymentStats     `json:"payments"`
	Disputes            DisputeStats     `json:"disputes"`
	Enterprise          EnterpriseStats  `json:"enterprise"`
	// Marketplace is the course marketplace in the current calendar month (its own route,
	// GET /admin/marketplace/metrics, answers any month).
	Marketplace mktmetrics.Metrics `json:"marketplace"`
	// Tokens is the token rewards programme over the window: tokens issued and redeemed, and the
	// outstanding balance (the liability) now (its own route, GET /admin/tokens/metrics, takes days).
	Tokens tokenmetrics.Metrics `json:"tokens"`
	// Support is the support desk's SLA over the window (both targets, every tier and priority).
	Support        SupportStats `json:"support"`
	LatestSnapshot *string      `json:"latestSnapshot"` // date of the newest daily snapshot
}

// SupportStats is the share of support SLA targets met over the window: first-reply and
// resolution targets of every tier and priority together, each counted on the day it was met or
// breached — the sum of GET /admin/support/sla's rows over the same days, read by support's own
// reader (slametrics.ReadTotals). SLAMetPercent has one decimal and is null when nothing was decided.
type SupportStats struct {
	SLAMet        int64    `json:"slaMet" dynamodbav:"slaMet"`
	SLABreached   int64    `json:"slaBreached" dynamodbav:"slaBreached"`
	SLAMetPercent *float64 `json:"slaMetPercent" dynamodbav:"slaMetPercent,omitempty"`
}

// EnterpriseStats are the enterprise licenses (licensing keeps the gauges in the transactions that
// change them): licenses active now (activated, not suspended, not expired), the seats they sell and
// the seats taken, and the true-up of the last closed month (overage seat-days and the number of
// licenses with an overage line), written by the monthly usage report.
type EnterpriseStats struct {
	LicensesActive int64       `json:"licensesActive"`
	SeatsSold      int64       `json:"seatsSold"`
	SeatsUsed      int64       `json:"seatsUsed"`
	TrueUp         TrueUpStats `json:"trueUp"`
}

// TrueUpStats is one closed month's overage.
type TrueUpStats struct {
	Month           string `json:"month"` // yyyy-mm
	OverageSeatDays int64  `json:"overageSeatDays"`
	Lines           int64  `json:"lines"`
}

// Window is the inclusive range of days the rates cover.
type Window struct {
	From string `json:"from"`
	To   string `json:"to"`
	Days int    `json:"days"`
}

// Churn over the window (see ChurnDefinition).
type Churn struct {
	ChurnedPaying   int64  `json:"churnedPaying"` // paying at the window's start, stopped inside it
	JoinedAndLeft   int64  `json:"joinedAndLeft"` // became paying and stopped inside the window
	NewPaying       int64  `json:"newPaying"`     // became paying inside the window
	PayingAtStart   int64  `json:"payingAtStart"`
	RateBasisPoints *int64 `json:"rateBasisPoints"`
	Definition      string `json:"definition"`
}

// PaymentStats over the window: succeeded ÷ (succeeded + failed).
type PaymentStats struct {
	Succeeded              int64  `json:"succeeded"`
	Failed                 int64  `json:"failed"`
	SuccessRateBasisPoints *int64 `json:"successRateBasisPoints"`
	RevenueCents           int64  `json:"revenueCents"`
	RefundedCents          int64  `json:"refundedCents"`
}

// DisputeStats are dispute amounts over the window, each on the day it happened: opened, closed
// lost, closed won (one dispute may be opened in the window and closed after it, or the reverse).
type DisputeStats struct {
	OpenedCents int64 `json:"openedCents"`
	LostCents   int64 `json:"lostCents"`
	WonCents    int64 `json:"wonCents"`
}

// basisPoints is num/den in basis points, rounded half up; nil when den is not positive.
func basisPoints(num, den int64) *int64 {
	if den <= 0 {
		return nil
	}
	bp := (num*10000 + den/2) / den
	return &bp
}

// churnOf computes churn from the paying count now and the window's day-counter sums. Counters
// written before churnedJoined# existed count every churn as a customer paying at the start; the
// rate is capped at 100 % so such a window can never report more.
func churnOf(payingNow int64, sums map[string]int64, from time.Time) Churn {
	all := sums[store.CtrChurnedPaying]
	var joinedLeft int64
	fromDay := dayOf(from)
	for k, v := range sums {
		if d, ok := strings.CutPrefix(k, store.CtrChurnedJoinedPrefix); ok && d >= fromDay {
			joinedLeft += v
		}
	}
	joinedLeft = min(max(joinedLeft, 0), max(all, 0))
	c := Churn{ChurnedPaying: all - joinedLeft, JoinedAndLeft: joinedLeft, NewPaying: sums[store.CtrNewPaying],
		Definition: ChurnDefinition}
	c.PayingAtStart = payingNow - c.NewPaying + all
	if bp := basisPoints(c.ChurnedPaying, c.PayingAtStart); bp != nil {
		*bp = min(max(*bp, 0), 10000)
		c.RateBasisPoints = bp
	}
	return c
}

// Bounds of the metrics read's look at subscriptions whose access ended since their last write.
const metricsMaxPages = 5

// readMetrics computes the metrics at now from the gauges, the window's day counters (one Query),
// the subscriptions whose access ended by a time rule since they were written (see pendingLapses)
// and the newest snapshot (one Query). It never scans.
func readMetrics(ctx context.Context, r metricsReader, due dueLister, rules Rules, now time.Time, maxPages int) (Metrics, error) {
	now = now.UTC()
	m := Metrics{AsOf: now, Currency: Currency, ActiveSubscriptions: map[string]int64{}}
	g, err := r.Gauges(ctx)
	if err != nil {
		return m, err
	}
	if g == nil {
		g = map[string]int64{}
	}
	from, to := now.AddDate(0, 0, -(MetricsWindowDays-1)), now
	m.Window = Window{From: dayOf(from), To: dayOf(to), Days: MetricsWindowDays}
	sum, err := r.DaySums(ctx, from, to)
	if err != nil {
		return m, err
	}
	if sum == nil {
		sum = map[string]int64{}
	}
	// What the billing-cycle job will write for each lapse, computed by the same function as its
	// write, applied here so the read is as of now.
	truncated, err := pendingLapses(ctx, due, rules.Grace, now, maxPages, func(prev, next Subscription, at time.Time) {
		m.LapsedAwaitingJob++
		gd, dd := metricDeltas(prev, next, at)
		for k, v := range gd {
			g[k] += v
		}
		if d := dayOf(at); d >= m.Window.From && d <= m.Window.To {
			for k, v := range dd {
				sum[k] += v
			}
		}
	})
	if err != nil {
		return m, err
	}
	if truncated {
		logging.From(ctx).Warn("metrics: more lapsed subscriptions than one read looks at; run the billing-cycle job")
	}
	m.MRRCents, m.PayingCustomers = g[store.GaugeMRRCents], g[store.GaugePayingCustomers]
	for _, t := range Tiers() {
		if t.PriceCents > 0 {
			m.ActiveSubscriptions[t.ID] = g[store.GaugeSubsPrefix+t.ID]
		}
	}
	m.Churn = churnOf(m.PayingCustomers, sum, from)
	m.Payments = PaymentStats{Succeeded: sum[store.CtrPaymentsSucceeded], Failed: sum[store.CtrPaymentsFailed],
		RevenueCents: sum[store.CtrRevenueCents], RefundedCents: sum[store.CtrRefundedCents]}
	m.Payments.SuccessRateBasisPoints = basisPoints(m.Payments.Succeeded, m.Payments.Succeeded+m.Payments.Failed)
	m.Disputes = DisputeStats{OpenedCents: sum[store.CtrDisputedCents], LostCents: sum[store.CtrDisputeLostCents],
		WonCents: sum[store.CtrDisputeWonCents]}
	if m.Marketplace, err = r.Marketplace(ctx, now.Format("2006-01")); err != nil {
		return m, err
	}
	if m.Tokens, err = r.Tokens(ctx, now, MetricsWindowDays); err != nil {
		return m, err
	}
	lastMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format("2006-01")
	mc, err := r.MonthCounters(ctx, lastMonth)
	if err != nil {
		return m, err
	}
	m.Enterprise = EnterpriseStats{LicensesActive: g[store.GaugeEntLicensesActive], SeatsSold: g[store.GaugeEntSeatsSold],
		SeatsUsed: g[store.GaugeEntSeatsUsed], TrueUp: TrueUpStats{Month: lastMonth,
			OverageSeatDays: mc[store.CtrEntOverageSeatDays], Lines: mc[store.CtrEntTrueUpLines]}}
	sla, err := r.SLA(ctx, from, to)
	if err != nil {
		return m, err
	}
	m.Support = SupportStats{SLAMet: sla.Met, SLABreached: sla.Breached, SLAMetPercent: sla.MetPercent}
	latest, err := r.LatestSnapshot(ctx)
	if err != nil {
		return m, err
	}
	if latest != "" {
		m.LatestSnapshot = &latest
	}
	return m, nil
}

// dueQuery is one of the billing-cycle job's lists: subscriptions with status whose ReviewAt is
// before `before`.
type dueQuery struct {
	status string
	before time.Time
}

// dueQueries are the subscriptions whose stored state may be out of date at now: an active or
// trialing one past its period end (a renewal, a cancellation or a failure we may not have heard
// of), a past_due one past paid-through + grace (its tier lapses now unless Stripe says otherwise).
func dueQueries(now time.Time, grace time.Duration) []dueQuery {
	return []dueQuery{{StatusActive, now}, {StatusTrialing, now}, {StatusPastDue, now.Add(-grace)}}
}

// pendingLapses calls f for each due subscription whose stored Tier is more than it entitles to at
// now (access ended by a time rule since its last write), with the item it would become and the
// day the end is counted on. It reports whether it stopped at maxPages for some status.
func pendingLapses(ctx context.Context, due dueLister, grace time.Duration, now time.Time, maxPages int,
	f func(prev, next Subscription, at time.Time)) (bool, error) {
	truncated := false
	for _, q := range dueQueries(now, grace) {
		trunc, err := due.EachDue(ctx, q.status, q.before, maxPages, func(s Subscription) error {
			next := s
			if next.Tier = AccessAt(s, now, grace).Tier; next.Tier == s.Tier {
				return nil
			}
			at := now
			if end := accessEndedAt(s, grace); !end.IsZero() && !now.Before(end) {
				at = end
			}
			f(s, next, at)
			return nil
		})
		if err != nil {
			return false, err
		}
		truncated = truncated || trunc
	}
	return truncated, nil
}

func wireGetMetrics(w wiring) (httpapi.Lambda, error) {
	return HandleGetMetrics(w.rt.Fn, w.repo, w.repo, w.set.Rules, w.rt.Clock), nil
}

// HandleGetMetrics serves GET /admin/metrics (admin only).
func HandleGetMetrics(fn manifest.Function, r metricsReader, due dueLister, rules Rules, clk clock.Clock) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, req *httpapi.Request) (httpapi.Response, error) {
		m, err := readMetrics(ctx, r, due, rules, clk.Now(), metricsMaxPages)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(m), nil
	})
}

// Snapshot is the billing-cycle job's record of a day's metrics (written once per day, the first
// write wins), taken from the Metrics the job reads. The fields added for the console (issue 20:
// payments revenue and refunds, marketplace, tokens, enterprise, support) are pointers: an item
// written before them reads them as nil, which GET /admin/metrics/history answers as null — never a
// zero that did not happen (docs/data-model.md).
type Snapshot struct {
	PK                     string           `dynamodbav:"PK"`
	SK                     string           `dynamodbav:"SK"`
	Type                   string           `dynamodbav:"type"`
	Day                    string           `dynamodbav:"day"`
	Currency               string           `dynamodbav:"currency"`
	MRRCents               int64            `dynamodbav:"mrrCents"`
	PayingCustomers        int64            `dynamodbav:"payingCustomers"`
	ActiveSubscriptions    map[string]int64 `dynamodbav:"activeSubscriptions"`
	ChurnedPaying30d       int64            `dynamodbav:"churnedPaying30d"`
	JoinedAndLeft30d       int64            `dynamodbav:"joinedAndLeft30d"`
	NewPaying30d           int64            `dynamodbav:"newPaying30d"`
	PayingAtStart30d       int64            `dynamodbav:"payingAtStart30d"`
	ChurnRateBasisPoints   *int64           `dynamodbav:"churnRateBasisPoints,omitempty"`
	PaymentsSucceeded30d   int64            `dynamodbav:"paymentsSucceeded30d"`
	PaymentsFailed30d      int64            `dynamodbav:"paymentsFailed30d"`
	SuccessRateBasisPoints *int64           `dynamodbav:"successRateBasisPoints,omitempty"`
	DisputesOpened30dCents int64            `dynamodbav:"disputesOpened30dCents"`
	DisputesLost30dCents   int64            `dynamodbav:"disputesLost30dCents"`
	DisputesWon30dCents    int64            `dynamodbav:"disputesWon30dCents"`
	// Added for the console (issue 20); nil on items written before.
	PaymentsRevenue30dCents  *int64               `dynamodbav:"paymentsRevenue30dCents,omitempty"`
	PaymentsRefunded30dCents *int64               `dynamodbav:"paymentsRefunded30dCents,omitempty"`
	Marketplace              *SnapshotMarketplace `dynamodbav:"marketplace,omitempty"` // month to date
	Tokens                   *SnapshotTokens      `dynamodbav:"tokens,omitempty"`      // window; outstanding now
	Enterprise               *SnapshotEnterprise  `dynamodbav:"enterprise,omitempty"`  // now
	Support                  *SupportStats        `dynamodbav:"support,omitempty"`     // SLA over the window
	// Source says who wrote a snapshot the billing-cycle job did not: SnapshotSourceSeed for the
	// demo history `make seed` writes (infra/local/seed); empty (absent) for the job's own days.
	Source    string    `dynamodbav:"source,omitempty"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
}

// SnapshotSourceSeed is Snapshot.Source of a demo day written by `make seed`.
const SnapshotSourceSeed = "seed"

// SnapshotMarketplace is the course marketplace's month to date (the snapshot day's calendar
// month, Metrics.Marketplace): sales, GMV, the platform's commission, the instructors' share, the
// payouts made and the course-sale refunds.
type SnapshotMarketplace struct {
	Period                  string `json:"period" dynamodbav:"period"` // YYYY-MM
	Sales                   int64  `json:"sales" dynamodbav:"sales"`
	GMVCents                int64  `json:"gmvCents" dynamodbav:"gmvCents"`
	PlatformRevenueCents    int64  `json:"platformRevenueCents" dynamodbav:"platformRevenueCents"`
	InstructorEarningsCents int64  `json:"instructorEarningsCents" dynamodbav:"instructorEarningsCents"`
	PaidOutCents            int64  `json:"paidOutCents" dynamodbav:"paidOutCents"`
	Payouts                 int64  `json:"payouts" dynamodbav:"payouts"`
	RefundedCents           int64  `json:"refundedCents" dynamodbav:"refundedCents"`
}

// SnapshotTokens are the token rewards issued and redeemed over the metrics window and the
// outstanding balance (all users) at the snapshot.
type SnapshotTokens struct {
	Issued      int64 `json:"issued" dynamodbav:"issued"`
	Redeemed    int64 `json:"redeemed" dynamodbav:"redeemed"`
	Outstanding int64 `json:"outstanding" dynamodbav:"outstanding"`
}

// SnapshotEnterprise are the enterprise licensing gauges at the snapshot.
type SnapshotEnterprise struct {
	LicensesActive int64 `json:"licensesActive" dynamodbav:"licensesActive"`
	SeatsSold      int64 `json:"seatsSold" dynamodbav:"seatsSold"`
	SeatsUsed      int64 `json:"seatsUsed" dynamodbav:"seatsUsed"`
}

// SnapshotForDay is an empty snapshot of a UTC day with its key, type, currency and creation time
// set: the seed's demo history and the tests fill in the numbers and write it with WriteSnapshot.
func SnapshotForDay(day time.Time) Snapshot {
	k := store.SnapshotKey(day)
	return Snapshot{PK: k.PK, SK: k.SK, Type: "snapshot", Day: k.SK, Currency: Currency,
		ActiveSubscriptions: map[string]int64{}, CreatedAt: day.UTC()}
}

func snapshotOf(m Metrics, now time.Time) Snapshot {
	s := SnapshotForDay(now)
	s.Currency = m.Currency
	s.MRRCents, s.PayingCustomers, s.ActiveSubscriptions = m.MRRCents, m.PayingCustomers, m.ActiveSubscriptions
	s.ChurnedPaying30d, s.JoinedAndLeft30d, s.NewPaying30d = m.Churn.ChurnedPaying, m.Churn.JoinedAndLeft, m.Churn.NewPaying
	s.PayingAtStart30d, s.ChurnRateBasisPoints = m.Churn.PayingAtStart, m.Churn.RateBasisPoints
	s.PaymentsSucceeded30d, s.PaymentsFailed30d = m.Payments.Succeeded, m.Payments.Failed
	s.SuccessRateBasisPoints = m.Payments.SuccessRateBasisPoints
	s.DisputesOpened30dCents, s.DisputesLost30dCents, s.DisputesWon30dCents = m.Disputes.OpenedCents, m.Disputes.LostCents, m.Disputes.WonCents
	revenue, refunded := m.Payments.RevenueCents, m.Payments.RefundedCents
	s.PaymentsRevenue30dCents, s.PaymentsRefunded30dCents = &revenue, &refunded
	mk := m.Marketplace
	s.Marketplace = &SnapshotMarketplace{Period: mk.Period, Sales: mk.Sales, GMVCents: mk.GMVCents,
		PlatformRevenueCents: mk.PlatformRevenueCents, InstructorEarningsCents: mk.InstructorEarningsCents,
		PaidOutCents: mk.PaidOutCents, Payouts: mk.Payouts, RefundedCents: mk.RefundedCents}
	s.Tokens = &SnapshotTokens{Issued: m.Tokens.Issued, Redeemed: m.Tokens.Redeemed, Outstanding: m.Tokens.Outstanding}
	s.Enterprise = &SnapshotEnterprise{LicensesActive: m.Enterprise.LicensesActive, SeatsSold: m.Enterprise.SeatsSold,
		SeatsUsed: m.Enterprise.SeatsUsed}
	sup := m.Support
	s.Support = &sup
	s.CreatedAt = now.UTC()
	return s
}
