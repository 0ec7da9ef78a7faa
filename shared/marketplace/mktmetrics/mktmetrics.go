// Package mktmetrics names the marketplace's metric counters and reads them: a small package with
// no Stripe or S3 dependency, so GET /admin/metrics (billing) can include a marketplace section by
// importing it (docs/decisions/0061).
//
// The counters live on METRICS/MKT#CURRENT (gauges) and METRICS/MKT#DAY#<date> (day counters) and
// change only inside the transaction of the fact they count.
package mktmetrics

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/store"
)

// Gauges (METRICS/MKT#CURRENT): totals now.
const (
	GaugePublishedCourses = "publishedCourses"
	GaugePending          = "pendingCents"   // instructors' pending earnings, all together
	GaugeAvailable        = "availableCents" // released, not yet paid (negative balances included)
	GaugeHeld             = "heldCents"      // held by open disputes
	GaugePaid             = "paidCents"      // paid out since the beginning
)

// Day counters (METRICS/MKT#DAY#<date>).
const (
	CtrSales              = "sales"
	CtrFreeEnrollments    = "freeEnrollments"
	CtrGMV                = "gmvCents"                // amount of course sales
	CtrPlatformRevenue    = "platformRevenueCents"    // platform shares minus their reversals
	CtrInstructorEarnings = "instructorEarningsCents" // instructor shares minus their reversals
	CtrRefunded           = "refundedCents"           // course-sale refunds
	CtrDisputeLost        = "disputeLostCents"        // course-sale disputes lost
	CtrReleased           = "releasedCents"           // moved from pending to available
	CtrPaidOut            = "paidOutCents"            // transferred to instructors
	CtrPayouts            = "payouts"                 // transfers made
	CtrReviews            = "reviews"                 // reviews written (not replaced)
	CtrDuplicateSales     = "duplicateSales"          // second payments for a course the buyer held (refunded)
	CtrRejectedSales      = "rejectedSales"           // purchases in a currency we do not sell in (refunded)
	CtrParkedEvents       = "parkedEvents"            // refund/dispute events that arrived before their sale
)

// Metrics is the marketplace's section of the admin metrics for a period (a calendar month).
type Metrics struct {
	Period           string `json:"period"`
	From             string `json:"from"`
	To               string `json:"to"`
	Currency         string `json:"currency"`
	PublishedCourses int64  `json:"publishedCourses"`
	// Of the period.
	Sales                   int64 `json:"sales"`
	FreeEnrollments         int64 `json:"freeEnrollments"`
	GMVCents                int64 `json:"gmvCents"`
	PlatformRevenueCents    int64 `json:"platformRevenueCents"`
	InstructorEarningsCents int64 `json:"instructorEarningsCents"`
	RefundedCents           int64 `json:"refundedCents"`
	DisputeLostCents        int64 `json:"disputeLostCents"`
	ReleasedCents           int64 `json:"releasedCents"`
	PaidOutCents            int64 `json:"paidOutCents"`
	Payouts                 int64 `json:"payouts"`
	DuplicateSales          int64 `json:"duplicateSales"` // refunded automatically
	RejectedSales           int64 `json:"rejectedSales"`  // refunded automatically (currency)
	// Now (all instructors together).
	Earnings Earnings `json:"instructorEarnings"`
}

// Earnings are the instructors' buckets, all together, now.
type Earnings struct {
	PendingCents   int64 `json:"pendingCents"`
	AvailableCents int64 `json:"availableCents"`
	HeldCents      int64 `json:"heldCents"`
	PaidCents      int64 `json:"paidCents"`
}

// PeriodBounds returns the first and last day of period "YYYY-MM".
func PeriodBounds(period string) (time.Time, time.Time, error) {
	from, err := time.Parse("2006-01", period)
	if err != nil {
		return time.Time{}, time.Time{}, apperr.New(apperr.Invalid, "period must be YYYY-MM")
	}
	return from, from.AddDate(0, 1, -1), nil
}

// Read returns the marketplace metrics of period: the gauges (one GetItem) and the period's day
// counters (one Query of at most 31 items). It never scans.
func Read(ctx context.Context, s *store.Store, period string) (Metrics, error) {
	return read(ctx, dynamoCounters{s}, period)
}

// counters is where the marketplace's counters are read: dynamoCounters (repo_metrics.go, the only
// file of the package with DynamoDB inputs) in production, a fake in unit tests; the contract test
// runs the same cases on both.
type counters interface {
	// Gauges reads the gauges (METRICS/MKT#CURRENT); none yet is an empty map.
	Gauges(ctx context.Context) (map[string]int64, error)
	// Days reads the day counters of the days from..to (inclusive), one map per day that has any.
	Days(ctx context.Context, from, to time.Time) ([]map[string]int64, error)
}

func read(ctx context.Context, c counters, period string) (Metrics, error) {
	from, to, err := PeriodBounds(period)
	if err != nil {
		return Metrics{}, err
	}
	m := Metrics{Period: period, From: from.Format("2006-01-02"), To: to.Format("2006-01-02"), Currency: "usd"}
	g, err := c.Gauges(ctx)
	if err != nil {
		return m, err
	}
	m.PublishedCourses = g[GaugePublishedCourses]
	m.Earnings = Earnings{PendingCents: g[GaugePending], AvailableCents: g[GaugeAvailable], HeldCents: g[GaugeHeld], PaidCents: g[GaugePaid]}
	days, err := c.Days(ctx, from, to)
	if err != nil {
		return m, err
	}
	sum := map[string]int64{}
	for _, day := range days {
		for k, v := range day {
			sum[k] += v
		}
	}
	m.Sales, m.FreeEnrollments, m.GMVCents = sum[CtrSales], sum[CtrFreeEnrollments], sum[CtrGMV]
	m.PlatformRevenueCents, m.InstructorEarningsCents = sum[CtrPlatformRevenue], sum[CtrInstructorEarnings]
	m.RefundedCents, m.DisputeLostCents, m.ReleasedCents = sum[CtrRefunded], sum[CtrDisputeLost], sum[CtrReleased]
	m.PaidOutCents, m.Payouts = sum[CtrPaidOut], sum[CtrPayouts]
	m.DuplicateSales, m.RejectedSales = sum[CtrDuplicateSales], sum[CtrRejectedSales]
	return m, nil
}
