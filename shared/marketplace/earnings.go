package marketplace

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/manifest"
)

// Earnings is the body of GET /instructors/me/earnings.
type Earnings struct {
	Currency       string  `json:"currency"`
	PendingCents   int64   `json:"pendingCents"`
	AvailableCents int64   `json:"availableCents"`
	HeldCents      int64   `json:"heldCents"`
	PaidCents      int64   `json:"paidCents"`
	BalanceCents   int64   `json:"balanceCents"`  // pending + available + held; negative after a clawback
	NextReleaseAt  *string `json:"nextReleaseAt"` // when the oldest pending sale's share becomes available
	NextPayoutAt   string  `json:"nextPayoutAt"`
	MinimumCents   int64   `json:"payoutMinimumCents"`
	PayoutsEnabled bool    `json:"payoutsEnabled"`
}

func wireGetEarnings(w wiring) (httpapi.Lambda, error) { return HandleGetEarnings(w.rt.Fn, w.d), nil }

// HandleGetEarnings serves GET /instructors/me/earnings.
func HandleGetEarnings(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		if err := requireInstructor(r.Principal); err != nil {
			return httpapi.Response{}, err
		}
		me := r.Principal.UserID
		b, err := d.Books.Balance(ctx, me)
		if err != nil {
			return httpapi.Response{}, err
		}
		prof, err := d.Books.Instructor(ctx, me)
		if err != nil {
			return httpapi.Response{}, err
		}
		now := d.Clock.Now()
		out := Earnings{Currency: Currency, PendingCents: b.Pending, AvailableCents: b.Available, HeldCents: b.Held,
			PaidCents: b.Paid, BalanceCents: b.Balance(), NextPayoutAt: rfc3339(nextPayoutAt(now)),
			MinimumCents: d.PayoutMinimum, PayoutsEnabled: prof.PayoutsEnabled}
		if b.Pending > 0 {
			next, err := nextRelease(ctx, d, me, now)
			if err != nil {
				return httpapi.Response{}, err
			}
			out.NextReleaseAt = next
		}
		return httpapi.OK(out), nil
	})
}

// nextRelease finds the oldest unreleased sale of the instructor's last refund window (sale ids are
// time ordered, so this is a bounded slice of the partition read oldest first).
func nextRelease(ctx context.Context, d *Deps, instructorID string, now time.Time) (*string, error) {
	t, err := d.Courses.NextRelease(ctx, instructorID, now.Add(-RefundWindow-48*time.Hour))
	if err != nil || t == nil {
		return nil, err
	}
	s := rfc3339(*t)
	return &s, nil
}

// idFloor is the smallest id part (ULID) of time t: every id made at t or later sorts after it.
func idFloor(t time.Time) string { return ids.ULID(t)[:10] + "0000000000000000" }

// SaleView is a sale as its instructor sees it: the amount paid and its split.
type SaleView struct {
	ID                   string  `json:"id"`
	CourseID             string  `json:"courseId"`
	CourseTitle          string  `json:"courseTitle"`
	AmountCents          int64   `json:"amountCents"`
	Currency             string  `json:"currency"`
	InstructorShareCents int64   `json:"instructorShareCents"`
	PlatformShareCents   int64   `json:"platformShareCents"`
	RefundedCents        int64   `json:"refundedCents"`
	InstructorNetCents   int64   `json:"instructorNetCents"` // share minus reversals
	PlatformNetCents     int64   `json:"platformNetCents"`
	HeldCents            int64   `json:"heldCents"`
	Status               string  `json:"status"`
	SoldAt               string  `json:"soldAt"`
	ReleaseAt            string  `json:"releaseAt"`
	ReleasedAt           *string `json:"releasedAt,omitempty"`
}

func saleView(s Sale, instructorID string) SaleView {
	v := SaleView{ID: s.ID, CourseID: s.CourseID, CourseTitle: s.CourseTitle, AmountCents: s.Amount, Currency: s.Currency,
		PlatformShareCents: s.Platform, RefundedCents: s.Refunded, PlatformNetCents: s.PlatformNet(), Status: s.Status,
		SoldAt: rfc3339(s.SoldAt), ReleaseAt: rfc3339(s.ReleaseAt)}
	for _, sh := range s.Shares {
		if sh.PayeeID == instructorID {
			v.InstructorShareCents, v.InstructorNetCents, v.HeldCents = sh.Cents, sh.Cents-sh.Reversed, sh.Held
		}
	}
	if s.ReleasedAt != nil {
		r := rfc3339(*s.ReleasedAt)
		v.ReleasedAt = &r
	}
	return v
}

// SaleList is the body of GET /instructors/me/sales (httpapi.ListPage writes it).
type SaleList struct {
	Sales      []SaleView `json:"sales"`
	NextCursor string     `json:"nextCursor,omitempty"`
}

func wireListSales(w wiring) (httpapi.Lambda, error) { return HandleListSales(w.rt.Fn, w.d), nil }

// HandleListSales serves GET /instructors/me/sales: newest first.
func HandleListSales(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		if err := requireInstructor(r.Principal); err != nil {
			return httpapi.Response{}, err
		}
		me := r.Principal.UserID
		return httpapi.ListPage(ctx, r, "sales", listLimits, pageOf(d.Courses.Sales, me),
			func(s Sale) SaleView { return saleView(s, me) })
	})
}

func wireListMyPayouts(w wiring) (httpapi.Lambda, error) {
	return HandleListMyPayouts(w.rt.Fn, w.d), nil
}

// HandleListMyPayouts serves GET /instructors/me/payouts: newest period first.
func HandleListMyPayouts(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		if err := requireInstructor(r.Principal); err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.ListPage(ctx, r, "payouts", listLimits, pageOf(d.Courses.InstructorPayouts, r.Principal.UserID), payoutView)
	})
}

func wireGetMarketplaceMetrics(w wiring) (httpapi.Lambda, error) {
	return HandleGetMarketplaceMetrics(w.rt.Fn, w.d), nil
}

// HandleGetMarketplaceMetrics serves GET /admin/marketplace/metrics?period=YYYY-MM (admin; default
// this month).
func HandleGetMarketplaceMetrics(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		period, err := periodParam(r, d)
		if err != nil {
			return httpapi.Response{}, err
		}
		m, err := d.Courses.Metrics(ctx, period)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(m), nil
	})
}
