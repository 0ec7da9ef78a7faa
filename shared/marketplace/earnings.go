package marketplace

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/store"
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
	floor := store.SalePrefix + prefixSale + idFloor(now.Add(-RefundWindow-48*time.Hour))
	in := &dynamodb.QueryInput{
		TableName:              &d.Store.Table,
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		FilterExpression:       aws.String("released = :f"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.InstructorBalanceKey(instructorID).PK),
			":from": store.S(floor), ":to": store.S(store.SalePrefix + "~"), ":f": &types.AttributeValueMemberBOOL{Value: false}},
		ProjectionExpression: aws.String("releaseAt"),
	}
	p := dynamodb.NewQueryPaginator(d.Store.DB, in)
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		var sales []Sale
		if err := unmarshalList(res.Items, &sales); err != nil {
			return nil, err
		}
		if len(sales) > 0 {
			s := rfc3339(sales[0].ReleaseAt)
			return &s, nil
		}
	}
	return nil, nil
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

// SaleList is the body of GET /instructors/me/sales.
type SaleList struct {
	Sales      []SaleView `json:"sales"`
	NextCursor string     `json:"nextCursor,omitempty"`
}

// HandleListSales serves GET /instructors/me/sales: newest first.
func HandleListSales(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		if err := requireInstructor(r.Principal); err != nil {
			return httpapi.Response{}, err
		}
		limit, err := r.Limit(defaultListLimit, maxListLimit)
		if err != nil {
			return httpapi.Response{}, err
		}
		me := r.Principal.UserID
		page, err := store.QueryPage[Sale](ctx, d.Store, "sales#"+me, partitionSlice(store.InstructorBalanceKey(me).PK, store.SalePrefix), limit, r.Query("cursor"))
		if err != nil {
			return httpapi.Response{}, err
		}
		out := SaleList{Sales: make([]SaleView, 0, len(page.Items)), NextCursor: page.NextCursor}
		for _, s := range page.Items {
			out.Sales = append(out.Sales, saleView(s, me))
		}
		return httpapi.OK(out), nil
	})
}

// HandleListMyPayouts serves GET /instructors/me/payouts: newest period first.
func HandleListMyPayouts(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		if err := requireInstructor(r.Principal); err != nil {
			return httpapi.Response{}, err
		}
		limit, err := r.Limit(defaultListLimit, maxListLimit)
		if err != nil {
			return httpapi.Response{}, err
		}
		me := r.Principal.UserID
		page, err := store.QueryPage[Payout](ctx, d.Store, "payouts#"+me, partitionSlice(store.InstructorBalanceKey(me).PK, store.PayoutPrefix), limit, r.Query("cursor"))
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(payoutList(page)), nil
	})
}

// partitionSlice queries one partition's items of one kind, newest (highest sort key) first.
func partitionSlice(pk, prefix string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :pre)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(pk), ":pre": store.S(prefix)},
		ScanIndexForward:          aws.Bool(false),
	}
}

// HandleGetMarketplaceMetrics serves GET /admin/marketplace/metrics?period=YYYY-MM (admin; default
// this month).
func HandleGetMarketplaceMetrics(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		period, err := periodParam(r, d)
		if err != nil {
			return httpapi.Response{}, err
		}
		m, err := mktmetrics.Read(ctx, d.Store, period)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(m), nil
	})
}
