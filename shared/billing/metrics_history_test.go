package billing

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/store"
)

// GET /admin/metrics/history runs here over dynamoRepo on a real table (in process; moto with the
// integration tag), so the cursor, the key range and the decoding of old items are DynamoDB's.

var historyToday = time.Date(2026, 3, 10, 0, 15, 0, 0, time.UTC)

// oldSnapshot is the snapshot item as the billing-cycle job wrote it before issue 20.
type oldSnapshot struct {
	PK                     string           `dynamodbav:"PK"`
	SK                     string           `dynamodbav:"SK"`
	Type                   string           `dynamodbav:"type"`
	Day                    string           `dynamodbav:"day"`
	Currency               string           `dynamodbav:"currency"`
	MRRCents               int64            `dynamodbav:"mrrCents"`
	PayingCustomers        int64            `dynamodbav:"payingCustomers"`
	ActiveSubscriptions    map[string]int64 `dynamodbav:"activeSubscriptions"`
	ChurnedPaying30d       int64            `dynamodbav:"churnedPaying30d"`
	PayingAtStart30d       int64            `dynamodbav:"payingAtStart30d"`
	ChurnRateBasisPoints   *int64           `dynamodbav:"churnRateBasisPoints,omitempty"`
	PaymentsSucceeded30d   int64            `dynamodbav:"paymentsSucceeded30d"`
	PaymentsFailed30d      int64            `dynamodbav:"paymentsFailed30d"`
	SuccessRateBasisPoints *int64           `dynamodbav:"successRateBasisPoints,omitempty"`
	CreatedAt              time.Time        `dynamodbav:"createdAt"`
}

type historyFixture struct {
	st *store.Store
	h  httpapi.Lambda
}

func newHistoryFixture(t *testing.T) historyFixture {
	t.Helper()
	clk := clock.NewFake(historyToday)
	st := newTestStore(t, clk)
	return historyFixture{st: st, h: HandleGetMetricsHistory(fn("get-metrics-history"), dynamoRepo{st}, clk)}
}

// fullSnapshot is a day's snapshot with every section, its numbers derived from n.
func fullSnapshot(day time.Time, n int64) Snapshot {
	s := SnapshotForDay(day)
	s.MRRCents, s.PayingCustomers, s.ActiveSubscriptions = 1000*n, n, map[string]int64{TierPro: n, TierEnterprise: 1}
	s.PaymentsSucceeded30d, s.PaymentsFailed30d = 999*n, n
	s.SuccessRateBasisPoints = basisPoints(999*n, 1000*n)
	s.ChurnedPaying30d, s.PayingAtStart30d, s.ChurnRateBasisPoints = 1, 100, basisPoints(1, 100)
	revenue, refunded := 5000*n, 100*n
	s.PaymentsRevenue30dCents, s.PaymentsRefunded30dCents = &revenue, &refunded
	s.Marketplace = &SnapshotMarketplace{Period: day.Format("2006-01"), Sales: n, GMVCents: 2000 * n,
		PlatformRevenueCents: 600 * n, InstructorEarningsCents: 1400 * n, PaidOutCents: 700 * n, Payouts: 2, RefundedCents: 50}
	s.Tokens = &SnapshotTokens{Issued: 300 * n, Redeemed: 40 * n, Outstanding: 9000 + n}
	s.Enterprise = &SnapshotEnterprise{LicensesActive: 3, SeatsSold: 50, SeatsUsed: 30 + n}
	pct := 94.7
	s.Support = &SupportStats{SLAMet: 18, SLABreached: 1, SLAMetPercent: &pct}
	return s
}

func (f historyFixture) write(t *testing.T, snaps ...Snapshot) {
	t.Helper()
	for _, s := range snaps {
		if ok, err := WriteSnapshot(context.Background(), f.st, s); err != nil || !ok {
			t.Fatalf("write %s: %v %v", s.Day, ok, err)
		}
	}
}

func (f historyFixture) get(t *testing.T, admin bool, query map[string]string) (int, MetricsHistory, map[string]any) {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{QueryStringParameters: query, Headers: map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: nextReqID(),
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{
					"sub": "ops", "email": "ops@example.com", "email_verified": "true"}}}}}
	if admin {
		ev.RequestContext.Authorizer.JWT.Claims["cognito:groups"] = "[admin]"
	}
	resp, err := f.h(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var body MetricsHistory
	var raw map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &raw); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	_ = json.Unmarshal([]byte(resp.Body), &body)
	return resp.StatusCode, body, raw
}

func daysOf(h MetricsHistory) []string {
	var out []string
	for _, d := range h.Days {
		out = append(out, d.Day)
	}
	return out
}

// Without from/to the route answers the 90 days ending today, oldest first; a day outside them or
// without a snapshot is absent. A snapshot written before issue 20 still reads: its new sections
// are null, never zero.
func TestMetricsHistoryDefaultRangeAndOldItems(t *testing.T) {
	f := newHistoryFixture(t)
	day := func(d int) time.Time { return historyToday.AddDate(0, 0, d) }
	demo := fullSnapshot(day(-89), 2) // a day of `make seed`'s demo history: marked by its source
	demo.Source = SnapshotSourceSeed
	f.write(t, fullSnapshot(day(-90), 1), demo, fullSnapshot(day(0), 3), fullSnapshot(day(1), 4))
	old := oldSnapshot{PK: "SNAPSHOT", SK: day(-30).Format(time.DateOnly), Type: "snapshot", Day: day(-30).Format(time.DateOnly),
		Currency: "usd", MRRCents: 4242, PayingCustomers: 7, ChurnedPaying30d: 1, PayingAtStart30d: 8,
		ChurnRateBasisPoints: basisPoints(1, 8), PaymentsSucceeded30d: 20, SuccessRateBasisPoints: basisPoints(20, 20), CreatedAt: day(-30)}
	if err := f.st.Put(context.Background(), old, "", nil, nil); err != nil {
		t.Fatal(err)
	}

	code, h, raw := f.get(t, true, nil)
	if code != http.StatusOK {
		t.Fatalf("%d %v", code, raw)
	}
	want := []string{"2025-12-11", "2026-02-08", "2026-03-10"}
	if got := daysOf(h); strings.Join(got, ",") != strings.Join(want, ",") || h.Currency != "usd" || h.NextCursor != "" {
		t.Fatalf("days %v (want %v), currency %q, cursor %q", got, want, h.Currency, h.NextCursor)
	}
	if _, ok := raw["nextCursor"]; ok {
		t.Fatal("nextCursor on the last page")
	}

	days := raw["days"].([]any)
	// The demo day says so; the job's days (and older items) carry no source at all.
	if src, ok := days[0].(map[string]any)["source"]; !ok || src != "seed" {
		t.Fatalf("the seed's day: source %v (present %v), want \"seed\"", src, ok)
	}
	oldDay := days[1].(map[string]any)
	if _, ok := oldDay["source"]; ok {
		t.Fatalf("an item without a source answers one: %v", oldDay["source"])
	}
	for _, k := range []string{"marketplace", "tokens", "enterprise", "support"} {
		if v, ok := oldDay[k]; !ok || v != nil {
			t.Fatalf("old item's %s = %v (present %v), want null", k, v, ok)
		}
	}
	pay := oldDay["payments"].(map[string]any)
	if pay["revenueCents"] != nil || pay["refundedCents"] != nil || pay["succeeded"] != float64(20) || pay["successRateBasisPoints"] != float64(10000) {
		t.Fatalf("old item's payments %v", pay)
	}
	if oldDay["mrrCents"] != float64(4242) || oldDay["churn"].(map[string]any)["rateBasisPoints"] != float64(1250) {
		t.Fatalf("old item %v", oldDay)
	}
	if as, ok := oldDay["activeSubscriptions"].(map[string]any); !ok || len(as) != 0 {
		t.Fatalf("old item without tiers: activeSubscriptions %v", oldDay["activeSubscriptions"])
	}

	// Today's full snapshot answers every section with what was written.
	newest, _ := json.Marshal(days[2])
	wantNewest := `{"activeSubscriptions":{"enterprise":1,"pro":3},"churn":{"churnedPaying":1,"joinedAndLeft":0,"newPaying":0,"payingAtStart":100,"rateBasisPoints":100},` +
		`"createdAt":"2026-03-10T00:15:00Z","currency":"usd","day":"2026-03-10","disputes":{"lostCents":0,"openedCents":0,"wonCents":0},` +
		`"enterprise":{"licensesActive":3,"seatsSold":50,"seatsUsed":33},` +
		`"marketplace":{"gmvCents":6000,"instructorEarningsCents":4200,"paidOutCents":2100,"payouts":2,"period":"2026-03","platformRevenueCents":1800,"refundedCents":50,"sales":3},` +
		`"mrrCents":3000,"payingCustomers":3,"payments":{"failed":3,"refundedCents":300,"revenueCents":15000,"succeeded":2997,"successRateBasisPoints":9990},` +
		`"support":{"slaBreached":1,"slaMet":18,"slaMetPercent":94.7},"tokens":{"issued":900,"outstanding":9003,"redeemed":120}}`
	if string(newest) != wantNewest {
		t.Fatalf("today's entry\n got %s\nwant %s", newest, wantNewest)
	}

	if code, _, _ := f.get(t, false, nil); code != http.StatusForbidden {
		t.Fatalf("non-admin: %d", code)
	}
}

// A malformed day, from after to, a range over 366 days, a bad limit and a bad cursor are 400s with
// a message saying which; 366 days is allowed.
func TestMetricsHistoryRefusesBadRanges(t *testing.T) {
	f := newHistoryFixture(t)
	for _, tc := range []struct {
		query   map[string]string
		message string
	}{
		{map[string]string{"from": "2026-3-01"}, "from must be a date YYYY-MM-DD"},
		{map[string]string{"to": "2026-02-30"}, "to must be a date YYYY-MM-DD"},
		{map[string]string{"to": "yesterday"}, "to must be a date YYYY-MM-DD"},
		{map[string]string{"to": ""}, "to must be a date YYYY-MM-DD"},
		{map[string]string{"from": ""}, "from must be a date YYYY-MM-DD"},
		{map[string]string{"from": "2026-03-10T00:00:00Z"}, "from must be a date YYYY-MM-DD"},
		{map[string]string{"from": "2026-03-10", "to": "2026-03-09"}, "from must not be after to"},
		{map[string]string{"from": "2026-04-01"}, "from must not be after to"}, // after the default to (today)
		{map[string]string{"from": "2025-03-09", "to": "2026-03-10"}, "the range from..to must not exceed 366 days (it has 367)"},
		{map[string]string{"limit": "0"}, "limit must be an integer from 1 to 366"},
		{map[string]string{"limit": "367"}, "limit must be an integer from 1 to 366"},
		{map[string]string{"limit": "ten"}, "limit must be an integer from 1 to 366"},
		{map[string]string{"cursor": "forged.cursor"}, "cursor is invalid"},
	} {
		code, _, raw := f.get(t, true, tc.query)
		if code != http.StatusBadRequest || errMessage(raw) != tc.message {
			t.Errorf("%v: %d %q, want 400 %q", tc.query, code, errMessage(raw), tc.message)
		}
	}
	for _, q := range []map[string]string{{"from": "2025-03-10", "to": "2026-03-10"}, {"from": "2026-03-10", "to": "2026-03-10"},
		{"limit": "366"}, {"to": "2024-02-29"}} {
		if code, h, raw := f.get(t, true, q); code != http.StatusOK || len(h.Days) != 0 {
			t.Errorf("%v: %d %v", q, code, raw)
		}
	}
}

// Pages follow each other by cursor, oldest first, and together hold every day of the range once;
// a cursor only continues the range it was minted for.
func TestMetricsHistoryPagesByCursor(t *testing.T) {
	f := newHistoryFixture(t)
	var want []string
	for d := 1; d <= 7; d++ {
		day := time.Date(2026, 2, d, 0, 15, 0, 0, time.UTC)
		f.write(t, fullSnapshot(day, int64(d)))
		want = append(want, day.Format(time.DateOnly))
	}
	rng := map[string]string{"from": "2026-02-01", "to": "2026-02-28", "limit": "3"}
	var got []string
	var sizes []int
	cursor := ""
	for page := 0; ; page++ {
		if page > 4 {
			t.Fatal("too many pages")
		}
		q := map[string]string{"from": rng["from"], "to": rng["to"], "limit": rng["limit"]}
		if cursor != "" {
			q["cursor"] = cursor
		}
		code, h, raw := f.get(t, true, q)
		if code != http.StatusOK {
			t.Fatalf("page %d: %d %v", page, code, raw)
		}
		got, sizes = append(got, daysOf(h)...), append(sizes, len(h.Days))
		if h.NextCursor == "" {
			break
		}
		// The cursor of this range is refused for another range.
		other := map[string]string{"from": "2026-02-02", "to": "2026-02-28", "cursor": h.NextCursor}
		if code, _, raw := f.get(t, true, other); code != http.StatusBadRequest || errMessage(raw) != "cursor is invalid" {
			t.Fatalf("cursor on another range: %d %v", code, raw)
		}
		cursor = h.NextCursor
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || sizes[0] != 3 || sizes[1] != 3 {
		t.Fatalf("paged %v in pages of %v, want %v", got, sizes, want)
	}
	// The range bounds are inclusive and nothing outside them is read.
	_, h, _ := f.get(t, true, map[string]string{"from": "2026-02-02", "to": "2026-02-05"})
	if strings.Join(daysOf(h), ",") != "2026-02-02,2026-02-03,2026-02-04,2026-02-05" {
		t.Fatalf("inner range: %v", daysOf(h))
	}
}

// WriteSnapshot writes a day once: a second write of the same day leaves the first.
func TestWriteSnapshotFirstWins(t *testing.T) {
	f := newHistoryFixture(t)
	day := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	f.write(t, fullSnapshot(day, 1))
	if ok, err := WriteSnapshot(context.Background(), f.st, fullSnapshot(day, 2)); ok || err != nil {
		t.Fatalf("second write: %v %v", ok, err)
	}
	_, h, _ := f.get(t, true, map[string]string{"from": "2026-02-01", "to": "2026-02-01"})
	if len(h.Days) != 1 || h.Days[0].MRRCents != 1000 {
		t.Fatalf("after two writes: %+v", h.Days)
	}
}
