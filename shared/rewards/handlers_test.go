package rewards

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/httpapi/httpapitest"
	"github.com/liberation/monetization/shared/idempotency/idemtest"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
	"github.com/liberation/monetization/shared/rewards/tokenmetrics"
)

// world is the area on its in-memory ports: the real handlers and flows over memRepo, a fake clock
// and in-memory idempotency records.
type world struct {
	repo *memRepo
	clk  *clock.Fake
	d    *Deps
	reqs int
}

func newWorld() *world {
	clk := clock.NewFake(monday)
	repo := newMemRepo()
	return &world{repo: repo, clk: clk, d: (&Deps{Clock: clk, Claims: idemtest.New(clk), Fn: "rewards-test"}).With(repo)}
}

// req is one HTTP call: the caller, what they send and what they expect.
type req struct {
	user  string
	admin bool
	group string
	path  map[string]string
	query map[string]string
	body  any
	key   string // Idempotency-Key
}

// call invokes the handler built by h for function name as API Gateway would, and returns the status,
// the error code (if any) and decodes a success body into out.
func (w *world) call(t *testing.T, h func(manifest.Function, *Deps) httpapi.Lambda, name string, q req, out any) (int, apperr.Code) {
	t.Helper()
	w.reqs++
	claims := map[string]string{"sub": q.user, "email": q.user + "@example.com", "email_verified": "true"}
	switch {
	case q.admin:
		claims["cognito:groups"] = "[admin]"
	case q.group != "":
		claims["cognito:groups"] = "[" + q.group + "]"
	}
	ev := events.APIGatewayV2HTTPRequest{PathParameters: q.path, QueryStringParameters: q.query,
		Headers: map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: fmt.Sprintf("req-%d", w.reqs),
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}}}
	if q.user == "" {
		ev.RequestContext.Authorizer = nil
	}
	if q.key != "" {
		ev.Headers[httpapi.IdempotencyHeader] = q.key
	}
	if q.body != nil {
		b, _ := json.Marshal(q.body)
		ev.Body = string(b)
	}
	return httpapitest.Serve(t, h(manifest.MustByName(name), w.d), ev, out)
}

// must is call that expects status want.
func (w *world) must(t *testing.T, h func(manifest.Function, *Deps) httpapi.Lambda, name string, q req, want int, out any) {
	t.Helper()
	if st, code := w.call(t, h, name, q, out); st != want {
		t.Fatalf("%s by %s: status %d (%s), want %d", name, q.user, st, code, want)
	}
}

// grantTo gives user n available tokens by an admin adjustment.
func (w *world) grantTo(t *testing.T, user string, n int64) {
	t.Helper()
	w.reqs++
	w.must(t, HandleAdjustTokens, "adjust-tokens", req{user: "root", admin: true, key: fmt.Sprintf("grant-%d", w.reqs),
		body: AdjustmentRequest{UserID: user, Amount: n, Reason: "test grant"}}, http.StatusCreated, nil)
}

func (w *world) account(t *testing.T, user string) Account {
	t.Helper()
	a, err := w.repo.Account(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestBalanceAndTransactionsPageNewestFirst(t *testing.T) {
	w := newWorld()
	for i := 0; i < 5; i++ {
		w.grantTo(t, "ana", int64(10*(i+1)))
	}
	var b BalanceView
	w.must(t, HandleGetTokenBalance, "get-token-balance", req{user: "ana"}, 200, &b)
	if b.Balance != 150 || b.Available != 150 || b.LifetimeEarned != 150 || b.EarnedThisWeek != 150 || b.Week != "2026-W06" {
		t.Fatalf("balance %+v", b)
	}
	var none BalanceView
	w.must(t, HandleGetTokenBalance, "get-token-balance", req{user: "nobody"}, 200, &none)
	if none != (BalanceView{Week: "2026-W06"}) {
		t.Fatalf("a user who never earned: %+v", none)
	}
	type txPage struct {
		Transactions []EntryView `json:"transactions"`
		NextCursor   string      `json:"nextCursor"`
	}
	var seqs []int64
	cursor := ""
	for pages := 0; ; pages++ {
		var p txPage
		q := map[string]string{"limit": "2"}
		if cursor != "" {
			q["cursor"] = cursor
		}
		w.must(t, HandleListTokenTransactions, "list-token-transactions", req{user: "ana", query: q}, 200, &p)
		for _, e := range p.Transactions {
			seqs = append(seqs, e.Seq)
			if e.Kind != KindAdjust || e.Rule != RuleAdminAdjustment || e.Reason != "test grant" {
				t.Fatalf("entry %+v", e)
			}
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
		if pages > 5 {
			t.Fatal("the cursor never ends")
		}
	}
	if fmt.Sprint(seqs) != "[5 4 3 2 1]" {
		t.Fatalf("seqs %v", seqs)
	}
	for _, bad := range []string{"0", "101", "x", ""} {
		if st, code := w.call(t, HandleListTokenTransactions, "list-token-transactions", req{user: "ana", query: map[string]string{"limit": bad}}, nil); st != 400 || code != apperr.Invalid {
			t.Errorf("limit %q: %d %s", bad, st, code)
		}
	}
	if st, code := w.call(t, HandleGetTokenBalance, "get-token-balance", req{}, nil); st != 401 || code != apperr.Unauthenticated {
		t.Fatalf("anonymous: %d %s", st, code)
	}
}

func TestAdminAdjustments(t *testing.T) {
	w := newWorld()
	type adjusted struct {
		UserID      string      `json:"userId"`
		Transaction EntryView   `json:"transaction"`
		Balance     BalanceView `json:"balance"`
	}
	var a adjusted
	w.must(t, HandleAdjustTokens, "adjust-tokens", req{user: "root", admin: true, key: "k1",
		body: AdjustmentRequest{UserID: "ben", Amount: 300, Reason: "  goodwill  "}}, 201, &a)
	if a.UserID != "ben" || a.Transaction.Delta != 300 || a.Transaction.Reason != "goodwill" || a.Balance.Available != 300 {
		t.Fatalf("grant %+v", a)
	}
	// The same key and body replays the answer; the tokens moved once.
	var again adjusted
	w.must(t, HandleAdjustTokens, "adjust-tokens", req{user: "root", admin: true, key: "k1",
		body: AdjustmentRequest{UserID: "ben", Amount: 300, Reason: "  goodwill  "}}, 201, &again)
	if again.Transaction.ID != a.Transaction.ID || w.account(t, "ben").Balance != 300 {
		t.Fatalf("replayed: %+v, balance %d", again, w.account(t, "ben").Balance)
	}
	w.must(t, HandleAdjustTokens, "adjust-tokens", req{user: "root", admin: true, key: "k2",
		body: AdjustmentRequest{UserID: "ben", Amount: -100, Reason: "correction"}}, 201, &a)
	if a.Balance.Balance != 200 || a.Transaction.Delta != -100 {
		t.Fatalf("deduction %+v", a)
	}
	if n := len(w.repo.audits); n != 2 || w.repo.audits[1].Action != "tokens.adjust" || w.repo.audits[1].Details["amount"] != "-100" {
		t.Fatalf("audit %+v", w.repo.audits)
	}
	for name, c := range map[string]struct {
		q    req
		st   int
		code apperr.Code
	}{
		"deduction below zero": {req{user: "root", admin: true, key: "k3", body: AdjustmentRequest{UserID: "ben", Amount: -201, Reason: "too much"}}, 409, apperr.Conflict},
		"no key":               {req{user: "root", admin: true, body: AdjustmentRequest{UserID: "ben", Amount: 1, Reason: "why not"}}, 400, apperr.Invalid},
		"zero":                 {req{user: "root", admin: true, key: "k4", body: AdjustmentRequest{UserID: "ben", Reason: "nothing"}}, 400, apperr.Invalid},
		"too large":            {req{user: "root", admin: true, key: "k5", body: AdjustmentRequest{UserID: "ben", Amount: MaxAdjustment + 1, Reason: "a lot"}}, 400, apperr.Invalid},
		"bad user":             {req{user: "root", admin: true, key: "k6", body: AdjustmentRequest{UserID: "a#b", Amount: 1, Reason: "hash"}}, 400, apperr.Invalid},
		"short reason":         {req{user: "root", admin: true, key: "k7", body: AdjustmentRequest{UserID: "ben", Amount: 1, Reason: "x"}}, 400, apperr.Invalid},
		"not an admin":         {req{user: "ben", key: "k8", body: AdjustmentRequest{UserID: "ben", Amount: 1, Reason: "for me"}}, 403, apperr.Forbidden},
	} {
		if st, code := w.call(t, HandleAdjustTokens, "adjust-tokens", c.q, nil); st != c.st || code != c.code {
			t.Errorf("%s: %d %s, want %d %s", name, st, code, c.st, c.code)
		}
	}
	if b := w.account(t, "ben"); b.Balance != 200 || b.Seq != 2 {
		t.Fatalf("refused adjustments moved tokens: %+v", b)
	}
	// Another admin key reused after the replay window still moves nothing twice: the guard says so.
	w.repo.guards[gk("ben", RuleAdminAdjustment, "adj:root:k9")] = earnItem{UserID: "ben", Rule: RuleAdminAdjustment, SourceID: "adj:root:k9", Version: 1}
	if st, code := w.call(t, HandleAdjustTokens, "adjust-tokens", req{user: "root", admin: true, key: "k9",
		body: AdjustmentRequest{UserID: "ben", Amount: 5, Reason: "again"}}, nil); st != 409 || code != apperr.Conflict {
		t.Fatalf("a used key: %d %s", st, code)
	}
}

type redPage struct {
	Redemptions []RedemptionView `json:"redemptions"`
	NextCursor  string           `json:"nextCursor"`
}

type adminRedPage struct {
	Redemptions []AdminRedemptionView `json:"redemptions"`
	NextCursor  string                `json:"nextCursor"`
}

var shipTo = &Address{Name: "Ana Lee", Line1: "1 Main St", City: "Springfield", PostalCode: "12345", Country: "US"}

func TestRedemptionRoutes(t *testing.T) {
	w := newWorld()
	w.grantTo(t, "ana", 3000)
	var coupon, merch RedemptionView
	w.must(t, HandleCreateRedemption, "create-redemption", req{user: "ana", key: "r1",
		body: RedemptionRequest{RewardID: rewardcatalog.CourseCoupon}}, 201, &coupon)
	w.clk.Advance(time.Minute)
	w.must(t, HandleCreateRedemption, "create-redemption", req{user: "ana", key: "r2",
		body: RedemptionRequest{RewardID: rewardcatalog.Merchandise, Shipping: shipTo}}, 201, &merch)
	if coupon.Status != Pending || coupon.Cost != 500 || merch.Shipping == nil || merch.Shipping.City != "Springfield" {
		t.Fatalf("created %+v %+v", coupon, merch)
	}
	if a := w.account(t, "ana"); a.Held != 2500 || a.Available != 500 || a.Balance != 3000 {
		t.Fatalf("after holds %+v", a)
	}
	bad := *shipTo
	bad.Country = "usa"
	for name, c := range map[string]struct {
		body RedemptionRequest
		st   int
		code apperr.Code
	}{
		"no reward":         {RedemptionRequest{}, 400, apperr.Invalid},
		"unknown reward":    {RedemptionRequest{RewardID: "yacht"}, 400, apperr.Invalid},
		"merch unshipped":   {RedemptionRequest{RewardID: rewardcatalog.Merchandise}, 400, apperr.Invalid},
		"coupon shipped":    {RedemptionRequest{RewardID: rewardcatalog.CourseCoupon, Shipping: shipTo}, 400, apperr.Invalid},
		"bad country":       {RedemptionRequest{RewardID: rewardcatalog.Merchandise, Shipping: &bad}, 400, apperr.Invalid},
		"empty city":        {RedemptionRequest{RewardID: rewardcatalog.Merchandise, Shipping: &Address{Name: "A", Line1: "l", PostalCode: "1", Country: "US"}}, 400, apperr.Invalid},
		"not enough tokens": {RedemptionRequest{RewardID: rewardcatalog.SubscriptionCredit}, 409, apperr.Conflict},
	} {
		if st, code := w.call(t, HandleCreateRedemption, "create-redemption", req{user: "ana", key: "bad-" + name, body: c.body}, nil); st != c.st || code != c.code {
			t.Errorf("%s: %d %s, want %d %s", name, st, code, c.st, c.code)
		}
	}
	if a := w.account(t, "ana"); a.Held != 2500 {
		t.Fatalf("refused requests held tokens: %+v", a)
	}
	// Mine, newest first, a page at a time.
	var p1, p2 redPage
	w.must(t, HandleListMyRedemptions, "list-my-redemptions", req{user: "ana", query: map[string]string{"limit": "1"}}, 200, &p1)
	if len(p1.Redemptions) != 1 || p1.Redemptions[0].ID != merch.ID || p1.NextCursor == "" {
		t.Fatalf("page 1 %+v", p1)
	}
	w.must(t, HandleListMyRedemptions, "list-my-redemptions", req{user: "ana", query: map[string]string{"limit": "1", "cursor": p1.NextCursor}}, 200, &p2)
	if len(p2.Redemptions) != 1 || p2.Redemptions[0].ID != coupon.ID || p2.NextCursor != "" {
		t.Fatalf("page 2 %+v", p2)
	}
	var other redPage
	w.must(t, HandleListMyRedemptions, "list-my-redemptions", req{user: "ben"}, 200, &other)
	if len(other.Redemptions) != 0 {
		t.Fatalf("ben sees %+v", other)
	}
	// Cancel: only the owner, only while pending; the hold is released once.
	path := map[string]string{"redemptionId": coupon.ID}
	for name, c := range map[string]struct {
		q    req
		st   int
		code apperr.Code
	}{
		"malformed id":   {req{user: "ana", path: map[string]string{"redemptionId": "rdm_nope"}}, 400, apperr.Invalid},
		"another's":      {req{user: "ben", path: path}, 404, apperr.NotFound},
		"unknown to all": {req{user: "ana", path: map[string]string{"redemptionId": "rdm_01HZZZZZZZZZZZZZZZZZZZZZZZ"}}, 404, apperr.NotFound},
	} {
		if st, code := w.call(t, HandleCancelRedemption, "cancel-redemption", c.q, nil); st != c.st || code != c.code {
			t.Errorf("%s: %d %s, want %d %s", name, st, code, c.st, c.code)
		}
	}
	var cancelled RedemptionView
	w.must(t, HandleCancelRedemption, "cancel-redemption", req{user: "ana", path: path}, 200, &cancelled)
	if cancelled.Status != Cancelled {
		t.Fatalf("cancelled %+v", cancelled)
	}
	if st, code := w.call(t, HandleCancelRedemption, "cancel-redemption", req{user: "ana", path: path}, nil); st != 409 || code != apperr.Conflict {
		t.Fatalf("cancelled twice: %d %s", st, code)
	}
	if a := w.account(t, "ana"); a.Held != 2000 || a.Available != 1000 || a.Balance != 3000 {
		t.Fatalf("after cancel %+v", a)
	}
	// The admin's queue by status, oldest change first.
	var pending, cancelledList adminRedPage
	w.must(t, HandleListRedemptions, "list-redemptions", req{user: "root", admin: true}, 200, &pending)
	if len(pending.Redemptions) != 1 || pending.Redemptions[0].ID != merch.ID || pending.Redemptions[0].UserID != "ana" {
		t.Fatalf("pending %+v", pending)
	}
	w.must(t, HandleListRedemptions, "list-redemptions", req{user: "root", admin: true, query: map[string]string{"status": "cancelled"}}, 200, &cancelledList)
	if len(cancelledList.Redemptions) != 1 || cancelledList.Redemptions[0].ID != coupon.ID {
		t.Fatalf("cancelled %+v", cancelledList)
	}
	for _, q := range []map[string]string{{"status": ""}, {"status": "lost"}, {"limit": "0"}} {
		if st, code := w.call(t, HandleListRedemptions, "list-redemptions", req{user: "root", admin: true, query: q}, nil); st != 400 || code != apperr.Invalid {
			t.Errorf("%v: %d %s", q, st, code)
		}
	}
	if st, _ := w.call(t, HandleListRedemptions, "list-redemptions", req{user: "ana"}, nil); st != 403 {
		t.Fatalf("a learner lists the queue: %d", st)
	}
	if n := len(w.repo.audits); n != 4 { // one grant, two creations, one cancel
		t.Fatalf("audits %d: %+v", n, w.repo.audits)
	}
}

func TestMetricsRouteRefusesBadDays(t *testing.T) {
	w := newWorld()
	for _, days := range []string{"0", "91", "x", ""} {
		if st, code := w.call(t, HandleGetTokenMetrics, "get-token-metrics", req{user: "root", admin: true, query: map[string]string{"days": days}}, nil); st != 400 || code != apperr.Invalid {
			t.Errorf("days %q: %d %s", days, st, code)
		}
	}
	if weekOf(monday) != "2026-W06" {
		t.Fatal(weekOf(monday))
	}
}

// The metrics route sums the counters the movements kept, over the days asked for (30 by default).
func TestMetricsRouteSumsTheCounters(t *testing.T) {
	w := newWorld()
	w.grantTo(t, "ana", 700)
	w.grantTo(t, "ben", 300)
	var red RedemptionView
	w.must(t, HandleCreateRedemption, "create-redemption", req{user: "ana", key: "r1", body: RedemptionRequest{RewardID: rewardcatalog.CourseCoupon}}, 201, &red)
	var m TokenMetrics
	w.must(t, HandleGetTokenMetrics, "get-token-metrics", req{user: "root", admin: true, query: map[string]string{"days": "7"}}, 200, &m)
	want := TokenMetrics{From: "2026-01-27", To: "2026-02-02", Issued: 1000, Held: 500, Outstanding: 1000, OutstandingHeld: 500,
		OutstandingAvail: 500}
	if m != want {
		t.Fatalf("metrics %+v\nwant    %+v", m, want)
	}
	w.clk.Advance(24 * time.Hour)
	w.must(t, HandleGetTokenMetrics, "get-token-metrics", req{user: "root", admin: true}, 200, &m)
	if m.From != "2026-01-05" || m.To != "2026-02-03" || m.Issued != 1000 || m.Outstanding != 1000 {
		t.Fatalf("the default 30 days: %+v", m)
	}
	w.must(t, HandleGetTokenMetrics, "get-token-metrics", req{user: "root", admin: true, query: map[string]string{"days": "1"}}, 200, &m)
	if m.Issued != 0 || m.Held != 0 || m.Outstanding != 1000 {
		t.Fatalf("a day without movements still owes the balances: %+v", m)
	}
	if got, err := tokenmetrics.ReadFrom(bg, w.d.metrics(), w.d.Clock.Now(), 2); err != nil || got.Issued != 1000 || got.From != "2026-02-02" {
		t.Fatalf("ReadTokenMetrics %+v %v", got, err)
	}
	if st, _ := w.call(t, HandleGetTokenMetrics, "get-token-metrics", req{user: "ana"}, nil); st != 403 {
		t.Fatalf("a learner reads the metrics: %d", st)
	}
}
