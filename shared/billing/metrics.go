package billing

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// MetricsWindowDays is the window of churn and payment success rate.
const MetricsWindowDays = 30

// Currency of every tier price, and so of MRR.
const Currency = "usd"

// Metrics is the answer of GET /admin/metrics. Rates are integer basis points (1 % = 100 bp,
// 99.9 % = 9990 bp) and null when their denominator is zero. See docs/decisions/0010.
type Metrics struct {
	AsOf                time.Time        `json:"asOf"`
	Currency            string           `json:"currency"`
	MRRCents            int64            `json:"mrrCents"`
	PayingCustomers     int64            `json:"payingCustomers"`
	ActiveSubscriptions map[string]int64 `json:"activeSubscriptions"` // per paid tier
	Window              Window           `json:"window"`
	Churn               Churn            `json:"churn"`
	Payments            PaymentStats     `json:"payments"`
	LatestSnapshot      *string          `json:"latestSnapshot"` // date of the newest daily snapshot
}

// Window is the inclusive range of days the rates cover.
type Window struct {
	From string `json:"from"`
	To   string `json:"to"`
	Days int    `json:"days"`
}

// Churn over the window: churnedPaying ÷ payingAtStart, where payingAtStart = payingCustomers −
// newPaying + churnedPaying (the paying count at the window's start, derived from the counters).
type Churn struct {
	ChurnedPaying   int64  `json:"churnedPaying"`
	NewPaying       int64  `json:"newPaying"`
	PayingAtStart   int64  `json:"payingAtStart"`
	RateBasisPoints *int64 `json:"rateBasisPoints"`
}

// PaymentStats over the window: succeeded ÷ (succeeded + failed).
type PaymentStats struct {
	Succeeded              int64  `json:"succeeded"`
	Failed                 int64  `json:"failed"`
	SuccessRateBasisPoints *int64 `json:"successRateBasisPoints"`
	RevenueCents           int64  `json:"revenueCents"`
	RefundedCents          int64  `json:"refundedCents"`
}

// basisPoints is num/den in basis points, rounded half up; nil when den is not positive.
func basisPoints(num, den int64) *int64 {
	if den <= 0 {
		return nil
	}
	bp := (num*10000 + den/2) / den
	return &bp
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func counters(item map[string]types.AttributeValue) map[string]int64 {
	out := map[string]int64{}
	for k, v := range item {
		if n, ok := v.(*types.AttributeValueMemberN); ok {
			if x, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
				out[k] = x
			}
		}
	}
	return out
}

// ReadMetrics computes the metrics at now from the gauges, the window's day counters (one Query)
// and the newest snapshot (one Query). It never scans.
func ReadMetrics(ctx context.Context, s *store.Store, now time.Time) (Metrics, error) {
	m := Metrics{AsOf: now.UTC(), Currency: Currency, ActiveSubscriptions: map[string]int64{}}
	cur, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: store.MetricsCurrentKey().Item()})
	if err != nil {
		return m, apperr.Wrap(err, apperr.Unavailable, "read failed")
	}
	g := counters(cur.Item)
	m.MRRCents, m.PayingCustomers = g[store.GaugeMRRCents], g[store.GaugePayingCustomers]
	for _, t := range Tiers() {
		if t.PriceCents > 0 {
			m.ActiveSubscriptions[t.ID] = g[store.GaugeSubsPrefix+t.ID]
		}
	}

	from, to := now.AddDate(0, 0, -(MetricsWindowDays-1)), now
	m.Window = Window{From: day(from), To: day(to), Days: MetricsWindowDays}
	dayKey := func(t time.Time) string { return store.MetricsDayKey(t).SK }
	days, err := queryAllRaw(ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(store.MetricsCurrentKey().PK), ":from": store.S(dayKey(from)), ":to": store.S(dayKey(to)),
		},
	})
	if err != nil {
		return m, err
	}
	var sum = map[string]int64{}
	for _, it := range days {
		for k, v := range counters(it) {
			sum[k] += v
		}
	}
	m.Churn = Churn{ChurnedPaying: sum[store.CtrChurnedPaying], NewPaying: sum[store.CtrNewPaying]}
	m.Churn.PayingAtStart = m.PayingCustomers - m.Churn.NewPaying + m.Churn.ChurnedPaying
	m.Churn.RateBasisPoints = basisPoints(m.Churn.ChurnedPaying, m.Churn.PayingAtStart)
	m.Payments = PaymentStats{Succeeded: sum[store.CtrPaymentsSucceeded], Failed: sum[store.CtrPaymentsFailed],
		RevenueCents: sum[store.CtrRevenueCents], RefundedCents: sum[store.CtrRefundedCents]}
	m.Payments.SuccessRateBasisPoints = basisPoints(m.Payments.Succeeded, m.Payments.Succeeded+m.Payments.Failed)

	snapPK := store.SnapshotKey(now).PK
	latest, err := s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                &s.Table,
		KeyConditionExpression:   aws.String("PK = :pk"),
		ExpressionAttributeNames: map[string]string{"#sk": manifest.AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(snapPK),
		},
		ProjectionExpression: aws.String("#sk"),
		ScanIndexForward:     aws.Bool(false),
		Limit:                aws.Int32(1),
	})
	if err != nil {
		return m, apperr.Wrap(err, apperr.Unavailable, "query failed")
	}
	if len(latest.Items) == 1 {
		if sk, ok := latest.Items[0][manifest.AttrSK].(*types.AttributeValueMemberS); ok {
			d := sk.Value
			m.LatestSnapshot = &d
		}
	}
	return m, nil
}

func queryAllRaw(ctx context.Context, s *store.Store, in *dynamodb.QueryInput) ([]map[string]types.AttributeValue, error) {
	in.TableName = &s.Table
	var out []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(s.DB, in)
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Unavailable, "query failed")
		}
		out = append(out, res.Items...)
	}
	return out, nil
}

// HandleGetMetrics serves GET /admin/metrics (admin only).
func HandleGetMetrics(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		m, err := ReadMetrics(ctx, d.Store, d.Clock.Now())
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(m), nil
	})
}

// Snapshot is the billing-cycle job's record of a day's metrics (written once per day).
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
	NewPaying30d           int64            `dynamodbav:"newPaying30d"`
	PayingAtStart30d       int64            `dynamodbav:"payingAtStart30d"`
	ChurnRateBasisPoints   *int64           `dynamodbav:"churnRateBasisPoints,omitempty"`
	PaymentsSucceeded30d   int64            `dynamodbav:"paymentsSucceeded30d"`
	PaymentsFailed30d      int64            `dynamodbav:"paymentsFailed30d"`
	SuccessRateBasisPoints *int64           `dynamodbav:"successRateBasisPoints,omitempty"`
	CreatedAt              time.Time        `dynamodbav:"createdAt"`
}

func snapshotOf(m Metrics, now time.Time) Snapshot {
	k := store.SnapshotKey(now)
	return Snapshot{PK: k.PK, SK: k.SK, Type: "snapshot", Day: k.SK, Currency: m.Currency,
		MRRCents: m.MRRCents, PayingCustomers: m.PayingCustomers, ActiveSubscriptions: m.ActiveSubscriptions,
		ChurnedPaying30d: m.Churn.ChurnedPaying, NewPaying30d: m.Churn.NewPaying, PayingAtStart30d: m.Churn.PayingAtStart,
		ChurnRateBasisPoints: m.Churn.RateBasisPoints, PaymentsSucceeded30d: m.Payments.Succeeded,
		PaymentsFailed30d: m.Payments.Failed, SuccessRateBasisPoints: m.Payments.SuccessRateBasisPoints,
		CreatedAt: now.UTC()}
}
