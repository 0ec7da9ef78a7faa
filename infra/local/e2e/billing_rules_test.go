//go:build integration

package e2e

// Issue 5's billing money-safety proofs, end to end through the local gateway (API Gateway v2
// events, JWT authorizer, the webhook's function URL, the local jobs endpoint) against moto and
// stripe-mock. Each of these failed on the code before the fix; the comment on each says how.

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/infra/local/stripefake"
	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/stripeapi"
)

type featureView struct {
	Allowed bool   `json:"allowed"`
	Tier    string `json:"tier"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
}

type metricsView struct {
	MRRCents            int64            `json:"mrrCents"`
	PayingCustomers     int64            `json:"payingCustomers"`
	ActiveSubscriptions map[string]int64 `json:"activeSubscriptions"`
	LapsedAwaitingJob   int64            `json:"lapsedAwaitingJob"`
	Churn               struct {
		ChurnedPaying   int64  `json:"churnedPaying"`
		JoinedAndLeft   int64  `json:"joinedAndLeft"`
		NewPaying       int64  `json:"newPaying"`
		PayingAtStart   int64  `json:"payingAtStart"`
		RateBasisPoints *int64 `json:"rateBasisPoints"`
		Definition      string `json:"definition"`
	} `json:"churn"`
}

type cycleReportView struct {
	Checked            int `json:"checked"`
	Reconciled         int `json:"reconciled"`
	ReconcileSkipped   int `json:"reconcileSkipped"`
	SkippedUnreachable int `json:"skippedUnreachable"`
	Expired            int `json:"expired"`
}

func uniq(prefix string) string { return prefix + "-" + strconv.FormatInt(time.Now().UnixNano(), 36) }

// past_due beyond paid-through + grace is Free and not in MRR, although Stripe moved
// current_period_end a month ahead at the failed renewal. (Before: Pro until current_period_end, and
// counted in MRR.)
func TestPastDueBeyondGraceIsFreeAndNotInMRR(t *testing.T) {
	h := Start(t)
	now := time.Now().Truncate(time.Second)
	admin := h.Token(t, uniq("root"), "ops@example.com", "admin")
	users := map[string]time.Time{uniq("lapsed"): now.Add(-5 * 24 * time.Hour), uniq("in-grace"): now.Add(-24 * time.Hour)}
	var lapsed, inGrace string
	for u, paid := range users {
		if paid.Before(now.Add(-3 * 24 * time.Hour)) {
			lapsed = u
		} else {
			inGrace = u
		}
		start := paid.AddDate(0, -1, 0)
		// Paid for [start, paid); renewed at `paid`, the charge failed: past_due for [paid, paid+1 month).
		post(t, h, stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: u, Created: start,
			PeriodStart: start, PeriodEnd: paid}))
		post(t, h, stripeevents.MustBuild(stripeevents.InvoicePaid, stripeevents.Options{UserID: u, Created: start,
			PeriodStart: start, PeriodEnd: paid}))
		post(t, h, stripeevents.MustBuild(stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: u, Created: paid.Add(time.Hour),
			Status: "past_due", PeriodStart: paid, PeriodEnd: paid.AddDate(0, 1, 0)}))
	}
	feature := func(u string) featureView {
		return getJSON[featureView](t, h, "/features/pro-courses", h.Token(t, u, u+"@example.com"))
	}
	if f := feature(lapsed); f.Allowed || f.Tier != "free" || f.Status != "past_due" ||
		!strings.Contains(f.Reason, "grace ended at "+users[lapsed].Add(3*24*time.Hour).UTC().Format(time.RFC3339)) {
		t.Errorf("past_due beyond paid-through + grace: %+v", f)
	}
	if f := feature(inGrace); !f.Allowed || f.Tier != "pro" {
		t.Errorf("past_due within grace: %+v", f)
	}
	if s := getJSON[subscriptionView](t, h, "/subscription", h.Token(t, lapsed, "")); s.Tier != "free" || s.Status != "past_due" {
		t.Errorf("GET /subscription: %+v", s)
	}
	m := getJSON[metricsView](t, h, "/admin/metrics", admin)
	if m.MRRCents != 999 || m.PayingCustomers != 1 || m.ActiveSubscriptions["pro"] != 1 {
		t.Errorf("metrics count the lapsed subscription: %+v", m)
	}
}

// stripeFaults is a minimal fault-injecting proxy in front of stripe-mock: requests whose path is in
// fail get a 500 (stripe-mock never sees them); everything else is forwarded.
type stripeFaults struct {
	mu   sync.Mutex
	fail map[string]bool
	hits map[string]int
}

func (f *stripeFaults) set(path string, failing bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[path] = failing
}

func (f *stripeFaults) hitsOf(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[path]
}

// useStripeFaults points every function of the harness at a fault proxy in front of stripe-mock.
func useStripeFaults(t *testing.T, h *Harness) *stripeFaults {
	t.Helper()
	target, err := url.Parse(h.Env.Getenv(manifest.EnvStripeAPIBase))
	if err != nil || target.Host == "" {
		t.Fatalf("no stripe-mock address in %s: %q", manifest.EnvStripeAPIBase, h.Env.Getenv(manifest.EnvStripeAPIBase))
	}
	f := &stripeFaults{fail: map[string]bool{}, hits: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.hits[r.URL.Path]++
		failing := f.fail[r.URL.Path]
		f.mu.Unlock()
		if failing {
			w.Header().Set("content-type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"error":{"type":"api_error","message":"injected fault"}}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	stripeapi.Open(h.Env.Runtime).Set(stripefake.Client(localtest.StripeKey, srv.URL,
		&http.Transport{DialContext: (&net.Dialer{}).DialContext}))
	return f
}

// A failing Stripe read during the billing-cycle job leaves the subscription exactly as it was, and
// Stripe's later word is applied. (Before: the job expired it to a "canceled" of its own, which then
// blocked every later event for the subscription: a paying customer turned permanently Free.)
func TestBillingCycleWithFailingStripeReadLeavesSubscription(t *testing.T) {
	h := Start(t)
	faults := useStripeFaults(t, h)
	u := uniq("unreachable")
	subID := stripeevents.SubscriptionIDFor(u)
	now := time.Now().Truncate(time.Second)
	ended := now.Add(-2 * time.Hour)
	post(t, h, stripeevents.MustBuild(stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: u,
		Created: ended.AddDate(0, 0, -10), PeriodStart: ended.AddDate(0, -1, 0), PeriodEnd: ended, CancelAtPeriodEnd: true}))
	before, err := records.Records{S: h.Env.Store()}.GetSubscription(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}

	faults.set("/v1/subscriptions/"+subID, true)
	res := h.RunJob(t, "billing-cycle")
	var rep cycleReportView
	if err := json.Unmarshal(res.Result, &rep); err != nil {
		t.Fatalf("report %s: %v", res.Result, err)
	}
	if rep.SkippedUnreachable != 1 || rep.Expired != 0 || rep.Reconciled != 0 || faults.hitsOf("/v1/subscriptions/"+subID) != 1 {
		t.Fatalf("report %s; Stripe reads %d", res.Result, faults.hitsOf("/v1/subscriptions/"+subID))
	}
	after, err := records.Records{S: h.Env.Store()}.GetSubscription(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	if after.Version != before.Version || after.Status != "active" || !after.CancelAtPeriodEnd {
		t.Fatalf("the job changed a subscription it could not read from Stripe:\nbefore %+v\nafter  %+v", before, after)
	}

	// The customer resumed in the portal and Stripe renewed: its event is applied.
	post(t, h, stripeevents.MustBuild(stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: u,
		Created: now, PeriodStart: ended, PeriodEnd: ended.AddDate(0, 1, 0)}))
	tok := h.Token(t, u, u+"@example.com")
	if s := getJSON[subscriptionView](t, h, "/subscription", tok); s.Tier != "pro" || s.Status != "active" || s.CancelAtPeriodEnd {
		t.Fatalf("Stripe's later state was not applied: %+v", s)
	}
	if f := getJSON[featureView](t, h, "/features/pro-courses", tok); !f.Allowed {
		t.Fatalf("feature after renewal: %+v", f)
	}
}

// Checkout is refused while the user has an unpaid subscription (not ended at Stripe; paying the
// open invoice in the portal restores it). (Before: unpaid grants Free, so a second subscription
// was started and the customer would have been billed twice.)
func TestCheckoutRefusedWhileUnpaid(t *testing.T) {
	h := Start(t)
	u := uniq("unpaid")
	tok := h.Token(t, u, u+"@example.com")
	post(t, h, stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, stripeevents.Options{UserID: u, Created: time.Now().AddDate(0, -2, 0)}))
	post(t, h, stripeevents.MustBuild(stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: u, Status: "unpaid",
		Created: time.Now().Add(-time.Hour)}))
	body := map[string]string{"tier": "pro", "successUrl": "https://app.example.com/ok", "cancelUrl": "https://app.example.com/no"}
	status, raw, _ := h.Do(t, http.MethodPost, "/subscription/checkout", tok, body)
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if status != http.StatusConflict || json.Unmarshal(raw, &e) != nil || e.Error.Code != "conflict" ||
		!strings.Contains(e.Error.Message, "status unpaid") || !strings.Contains(e.Error.Message, "POST /subscription/portal") {
		t.Fatalf("checkout with an unpaid subscription: %d %s", status, raw)
	}
	// The portal is where it is settled.
	status, raw, _ = h.Do(t, http.MethodPost, "/subscription/portal", tok, map[string]string{"returnUrl": "https://app.example.com/account"})
	if status != http.StatusOK || !strings.Contains(string(raw), `"url":"https://`) {
		t.Fatalf("portal: %d %s", status, raw)
	}
}

// 30-day churn never exceeds 100 %: customers who joined and left inside the window are reported
// apart. (Before: one paying customer and three short-lived ones gave 3 ÷ 1 = 30000 bp.)
func TestChurnNeverAbove100Percent(t *testing.T) {
	h := Start(t)
	now := time.Now().Truncate(time.Second)
	admin := h.Token(t, uniq("root"), "ops@example.com", "admin")
	old := uniq("loyal")
	post(t, h, stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: old,
		Created: now.AddDate(0, 0, -40), PeriodStart: now.AddDate(0, 0, -10), PeriodEnd: now.AddDate(0, 0, 20)}))
	for i := 0; i < 3; i++ {
		u := uniq("brief-" + strconv.Itoa(i))
		post(t, h, stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: u, Created: now.AddDate(0, 0, -10)}))
		post(t, h, stripeevents.MustBuild(stripeevents.CustomerSubscriptionDeleted, stripeevents.Options{UserID: u, Created: now.AddDate(0, 0, -5)}))
	}
	m := getJSON[metricsView](t, h, "/admin/metrics", admin)
	c := m.Churn
	if c.ChurnedPaying != 0 || c.JoinedAndLeft != 3 || c.NewPaying != 3 || c.PayingAtStart != 1 || c.RateBasisPoints == nil ||
		*c.RateBasisPoints != 0 || !strings.Contains(c.Definition, "churnedPaying ÷ payingAtStart") {
		t.Fatalf("churn %+v (rate %v)", c, deref(c.RateBasisPoints))
	}
	// The one customer paying at the window's start leaves: 100 %, not more.
	post(t, h, stripeevents.MustBuild(stripeevents.CustomerSubscriptionDeleted, stripeevents.Options{UserID: old, Created: now.Add(-time.Minute)}))
	c = getJSON[metricsView](t, h, "/admin/metrics", admin).Churn
	if c.ChurnedPaying != 1 || c.JoinedAndLeft != 3 || c.PayingAtStart != 1 || c.RateBasisPoints == nil || *c.RateBasisPoints != 10000 {
		t.Fatalf("churn after the loyal customer left %+v (rate %v)", c, deref(c.RateBasisPoints))
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
