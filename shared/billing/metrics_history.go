package billing

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
)

// GET /admin/metrics/history: the billing-cycle job's daily snapshots over a range of days, for the
// console's charts (issue 20).
const (
	HistoryDefaultDays = 90  // the range without from/to: the 90 days ending today
	HistoryMaxDays     = 366 // the longest range one request may name (a leap year)
	historyLimitDef    = 100
	historyLimitMax    = 366 // a whole range fits one page
)

// HistoryDay is one day's snapshot as the history route answers it. Its paths mirror GET
// /admin/metrics (mrrCents, churn.rateBasisPoints, payments.successRateBasisPoints,
// marketplace.gmvCents, tokens.issued, enterprise.seatsUsed, support.slaMetPercent). Sections a
// snapshot written before issue 20 lacks are null (payments.revenueCents and refundedCents,
// marketplace, tokens, enterprise, support).
type HistoryDay struct {
	Day                 string               `json:"day"`
	Currency            string               `json:"currency"`
	MRRCents            int64                `json:"mrrCents"`
	PayingCustomers     int64                `json:"payingCustomers"`
	ActiveSubscriptions map[string]int64     `json:"activeSubscriptions"`
	Churn               HistoryChurn         `json:"churn"`
	Payments            HistoryPayments      `json:"payments"`
	Disputes            DisputeStats         `json:"disputes"`
	Marketplace         *SnapshotMarketplace `json:"marketplace"`
	Tokens              *SnapshotTokens      `json:"tokens"`
	Enterprise          *SnapshotEnterprise  `json:"enterprise"`
	Support             *SupportStats        `json:"support"`
	// Source is "seed" on a demo day written by `make seed`; absent on the job's days.
	Source    string `json:"source,omitempty"`
	CreatedAt string `json:"createdAt"`
}

// HistoryChurn is a snapshot's churn over its 30-day window (see ChurnDefinition).
type HistoryChurn struct {
	ChurnedPaying   int64  `json:"churnedPaying"`
	JoinedAndLeft   int64  `json:"joinedAndLeft"`
	NewPaying       int64  `json:"newPaying"`
	PayingAtStart   int64  `json:"payingAtStart"`
	RateBasisPoints *int64 `json:"rateBasisPoints"`
}

// HistoryPayments are a snapshot's payments over its 30-day window.
type HistoryPayments struct {
	Succeeded              int64  `json:"succeeded"`
	Failed                 int64  `json:"failed"`
	SuccessRateBasisPoints *int64 `json:"successRateBasisPoints"`
	RevenueCents           *int64 `json:"revenueCents"`
	RefundedCents          *int64 `json:"refundedCents"`
}

// MetricsHistory is the body of GET /admin/metrics/history.
type MetricsHistory struct {
	Currency   string       `json:"currency"`
	Days       []HistoryDay `json:"days"`
	NextCursor string       `json:"nextCursor,omitempty"`
}

func historyDayOf(s Snapshot) HistoryDay {
	active := s.ActiveSubscriptions
	if active == nil {
		active = map[string]int64{}
	}
	return HistoryDay{Day: s.Day, Currency: s.Currency, MRRCents: s.MRRCents, PayingCustomers: s.PayingCustomers,
		ActiveSubscriptions: active,
		Churn: HistoryChurn{ChurnedPaying: s.ChurnedPaying30d, JoinedAndLeft: s.JoinedAndLeft30d, NewPaying: s.NewPaying30d,
			PayingAtStart: s.PayingAtStart30d, RateBasisPoints: s.ChurnRateBasisPoints},
		Payments: HistoryPayments{Succeeded: s.PaymentsSucceeded30d, Failed: s.PaymentsFailed30d,
			SuccessRateBasisPoints: s.SuccessRateBasisPoints, RevenueCents: s.PaymentsRevenue30dCents,
			RefundedCents: s.PaymentsRefunded30dCents},
		Disputes: DisputeStats{OpenedCents: s.DisputesOpened30dCents, LostCents: s.DisputesLost30dCents,
			WonCents: s.DisputesWon30dCents},
		Marketplace: s.Marketplace, Tokens: s.Tokens, Enterprise: s.Enterprise, Support: s.Support,
		Source: s.Source, CreatedAt: s.CreatedAt.UTC().Format(time.RFC3339)}
}

// historyRange reads from and to (YYYY-MM-DD, inclusive; by default the HistoryDefaultDays days
// ending today UTC): a malformed day, from after to or more than HistoryMaxDays days is a 400.
func historyRange(r *httpapi.Request, today time.Time) (from, to string, err error) {
	day := func(name string, def time.Time) (time.Time, error) {
		s, present := r.Event.QueryStringParameters[name]
		if !present {
			return def, nil // absent: the default; present and empty is malformed
		}
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return time.Time{}, apperr.New(apperr.Invalid, "%s must be a date YYYY-MM-DD", name)
		}
		return d, nil
	}
	today = today.UTC().Truncate(24 * time.Hour)
	t, err := day("to", today)
	if err != nil {
		return "", "", err
	}
	f, err := day("from", t.AddDate(0, 0, -(HistoryDefaultDays-1)))
	if err != nil {
		return "", "", err
	}
	if f.After(t) {
		return "", "", apperr.New(apperr.Invalid, "from must not be after to")
	}
	if days := int(t.Sub(f)/(24*time.Hour)) + 1; days > HistoryMaxDays {
		return "", "", apperr.New(apperr.Invalid, "the range from..to must not exceed %d days (it has %d)", HistoryMaxDays, days)
	}
	return f.Format(time.DateOnly), t.Format(time.DateOnly), nil
}

func wireGetMetricsHistory(w wiring) (httpapi.Lambda, error) {
	return HandleGetMetricsHistory(w.rt.Fn, w.repo, w.rt.Clock), nil
}

// HandleGetMetricsHistory serves GET /admin/metrics/history (admin only): the daily snapshots of
// from..to, oldest first, limit per page (default 100, at most 366) with the cursor of the previous
// page. A day without a snapshot (the job did not run) is simply absent.
func HandleGetMetricsHistory(fn manifest.Function, snaps snapshotHistory, clk clock.Clock) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		from, to, err := historyRange(r, clk.Now())
		if err != nil {
			return httpapi.Response{}, err
		}
		limit, err := r.Limit(historyLimitDef, historyLimitMax)
		if err != nil {
			return httpapi.Response{}, err
		}
		page, err := snaps.Snapshots(ctx, from, to, limit, r.Query("cursor"))
		if err != nil {
			return httpapi.Response{}, err
		}
		body := MetricsHistory{Currency: Currency, Days: make([]HistoryDay, len(page.Items)), NextCursor: page.NextCursor}
		for i, s := range page.Items {
			body.Days[i] = historyDayOf(s)
		}
		return httpapi.OK(body), nil
	})
}
