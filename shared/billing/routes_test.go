package billing

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/store"
)

// The routes' decisions over the in-memory fakes: what each answers and what it asks Stripe.

func (w *world) checkout(set Settings) httpapi.Lambda {
	return HandleCreateCheckout(fn("create-checkout"), checkoutDeps{subs: w.repo, customers: w.repo, audit: w.repo,
		idem: w.idem, stripe: w.stripe, settings: set})
}

func (w *world) plan() planDeps { return planDeps{life: w.life, idem: w.idem, stripe: w.stripe} }

const checkoutBody = `{"tier":"pro","successUrl":"https://app.example.com/ok","cancelUrl":"https://app.example.com/no"}`

// One live subscription per user: checkout is refused while the stored Stripe subscription has not
// ended, whatever it grants now (an unpaid one grants nothing, yet a second one would double-bill).
func TestCheckoutRefusedWhileASubscriptionIsOpen(t *testing.T) {
	for _, status := range []string{StatusIncomplete, StatusTrialing, StatusActive, StatusPastDue, StatusUnpaid, StatusPaused} {
		t.Run(status, func(t *testing.T) {
			w := newWorld(t)
			w.mustDeliver(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-open", Status: status, Created: t0})
			code, body := call(t, w.checkout(testSettings), "u-open", checkoutBody, callOpts{})
			want := "you already have a subscription (status " + status + "); manage it in the billing portal (POST /subscription/portal)"
			if code != http.StatusConflict || !strings.HasPrefix(errMessage(body), want) {
				t.Fatalf("%d %v", code, body)
			}
			if n := w.stripe.count(); n != 0 {
				t.Fatalf("a refused checkout called Stripe %d times", n)
			}
		})
	}
	for _, status := range []string{StatusCanceled, StatusIncompleteExpired} {
		t.Run(status, func(t *testing.T) {
			w := newWorld(t)
			w.mustDeliver(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-ended", Status: status, Created: t0})
			if code, body := call(t, w.checkout(testSettings), "u-ended", checkoutBody, callOpts{}); code != http.StatusCreated ||
				!strings.HasPrefix(body["sessionId"].(string), "cs_test_") {
				t.Fatalf("%d %v", code, body)
			}
		})
	}
}

func TestCheckoutAsksStripeForOneCustomerAndASession(t *testing.T) {
	w := newWorld(t)
	h := w.checkout(testSettings)
	for i := 0; i < 2; i++ {
		if code, body := call(t, h, "u-1", checkoutBody, callOpts{}); code != http.StatusCreated {
			t.Fatalf("call %d: %d %v", i, code, body)
		}
	}
	cus := w.stripe.called("CreateCustomer")
	if len(cus) != 1 || cus[0].Key != "customer-u-1" || cus[0].Params.(*stripe.CustomerParams).Metadata["userId"] != "u-1" {
		t.Fatalf("customers %+v", cus)
	}
	sessions := w.stripe.called("CreateCheckoutSession")
	if len(sessions) != 2 || sessions[0].Key == sessions[1].Key || !strings.HasPrefix(sessions[0].Key, "checkout-r") {
		t.Fatalf("sessions %+v", sessions)
	}
	p := sessions[0].Params.(*stripe.CheckoutSessionParams)
	if *p.Mode != "subscription" || *p.Customer != "cus_u-1" || *p.ClientReferenceID != "u-1" ||
		*p.LineItems[0].Price != stripeevents.DefaultPricePro || p.SubscriptionData.Metadata["userId"] != "u-1" {
		t.Fatalf("session params %+v", p)
	}
}

// captureStdout runs build with os.Stdout going to a buffer: httpapi.Route's logger writes there.
func captureStdout(t *testing.T, build func() httpapi.Lambda) (httpapi.Lambda, func() string) {
	t.Helper()
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = wr
	h := build()
	os.Stdout = saved
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() { _, _ = io.Copy(&buf, r); close(done) }()
	return h, func() string { wr.Close(); <-done; return buf.String() }
}

// Without APP_URL (never defaulted to localhost outside local development) the redirect routes
// answer 500 and log a message naming the variable; nothing reaches Stripe.
func TestRedirectRoutesWithoutAppURL(t *testing.T) {
	w := newWorld(t)
	if _, err := w.repo.LinkStripeCustomer(t.Context(), "u-p", "p@example.com", "cus_p"); err != nil {
		t.Fatal(err)
	}
	noApp := testSettings
	noApp.AppURL, noApp.AppOrigins = "", nil
	for name, c := range map[string]struct {
		build func() httpapi.Lambda
		body  string
	}{
		"checkout": {func() httpapi.Lambda { return w.checkout(noApp) }, checkoutBody},
		"portal": {func() httpapi.Lambda {
			return HandleCreatePortalSession(fn("create-portal-session"), portalDeps{customers: w.repo, stripe: w.stripe, settings: noApp})
		}, `{"returnUrl":"http://localhost:5173/account"}`},
	} {
		t.Run(name, func(t *testing.T) {
			h, logs := captureStdout(t, c.build)
			code, body := call(t, h, "u-p", c.body, callOpts{})
			out := logs()
			if code != http.StatusInternalServerError || strings.Contains(errMessage(body), "localhost") {
				t.Fatalf("%d %v", code, body)
			}
			if !strings.Contains(out, "configuration: APP_URL is not set") {
				t.Fatalf("log does not name the missing variable:\n%s", out)
			}
			if n := w.stripe.count(); n != 0 {
				t.Fatalf("Stripe called %d times", n)
			}
		})
	}
}

func TestCheckFeatureAppliesTheGraceOnRead(t *testing.T) {
	w := newWorld(t)
	seedPastDue(t, w, "u-f")
	h := HandleCheckFeature(fn("check-feature"), w.repo, fakeSeats{}, testRules, w.clock)
	check := func() map[string]any {
		code, body := call(t, h, "u-f", "", callOpts{path: map[string]string{"feature": FeatureProCourses}})
		if code != http.StatusOK {
			t.Fatalf("%d %v", code, body)
		}
		return body
	}
	graceEnd := t0.Add(testRules.Grace)
	w.clock.Set(graceEnd.Add(-time.Minute))
	if b := check(); b["allowed"] != true || b["tier"] != TierPro || b["accessUntil"] != graceEnd.Format(time.RFC3339) ||
		b["paidThrough"] != t0.Format(time.RFC3339) {
		t.Fatalf("within grace: %v", b)
	}
	w.clock.Set(graceEnd)
	b := check()
	if b["allowed"] != false || b["tier"] != TierFree || b["status"] != StatusPastDue || b["requiredTier"] != TierPro ||
		b["reason"] != "requires the Pro tier; payment is past due; paid through 2026-03-01T12:00:00Z, grace ended at 2026-03-04T12:00:00Z: the Free tier" {
		t.Fatalf("beyond grace (period ends %v): %v", w.repo.sub("u-f").CurrentPeriodEnd, b)
	}
	// GET /subscription says the same, and names the subscribed tier.
	code, v := call(t, HandleGetSubscription(fn("get-subscription"), w.repo, fakeSeats{}, testRules, w.clock), "u-f", "", callOpts{})
	if code != http.StatusOK || v["tier"] != TierFree || v["subscribedTier"] != TierPro || v["status"] != StatusPastDue {
		t.Fatalf("%d %v", code, v)
	}
}

func TestPlanChangeDecisions(t *testing.T) {
	w := newWorld(t)
	const u = "u-plan"
	end := t0.AddDate(0, 0, 20)
	change := HandleChangeSubscription(fn("change-subscription"), w.plan())
	cancel := HandleCancelSubscription(fn("cancel-subscription"), w.plan())
	resume := HandleResumeSubscription(fn("resume-subscription"), w.plan())

	for name, h := range map[string]httpapi.Lambda{"change": change, "cancel": cancel, "resume": resume} {
		if code, body := call(t, h, u, `{"tier":"enterprise"}`, callOpts{}); code != http.StatusUnprocessableEntity {
			t.Fatalf("%s without a subscription: %d %v", name, code, body)
		}
	}
	w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: u, Created: t0, PeriodStart: t0.AddDate(0, 0, -10), PeriodEnd: end})
	subID := stripeevents.SubscriptionIDFor(u)

	code, body := call(t, change, u, `{"tier":"enterprise"}`, callOpts{})
	up := w.stripe.called("UpdateSubscription")
	if code != 200 || body["tier"] != TierEnterprise || len(up) != 1 || up[0].ID != subID || !strings.HasPrefix(up[0].Key, "upgrade-"+subID+"-enterprise-v") {
		t.Fatalf("upgrade: %d %v %+v", code, body, up)
	}
	if p := up[0].Params.(*stripe.SubscriptionParams); *p.ProrationBehavior != "always_invoice" ||
		*p.PaymentBehavior != "error_if_incomplete" || *p.Items[0].Price != stripeevents.DefaultPriceEnterprise {
		t.Fatalf("upgrade params %+v", p)
	}
	if g := w.repo.gaugeSnapshot(); g[store.GaugeMRRCents] != 9900 || g["subs_enterprise"] != 1 {
		t.Fatalf("gauges after upgrade %v", g)
	}

	code, body = call(t, change, u, `{"tier":"pro"}`, callOpts{})
	if code != 200 || body["tier"] != TierEnterprise || body["pendingTier"] != TierPro ||
		len(w.stripe.called("CreateSchedule")) != 1 || len(w.stripe.called("UpdateSchedule")) != 1 {
		t.Fatalf("downgrade: %d %v", code, body)
	}
	phases := w.stripe.called("UpdateSchedule")[0].Params.(*stripe.SubscriptionScheduleParams).Phases
	if *phases[0].EndDate != end.Unix() || *phases[1].Items[0].Price != stripeevents.DefaultPricePro {
		t.Fatalf("phases %+v %+v", phases[0], phases[1])
	}

	code, body = call(t, cancel, u, "", callOpts{})
	if code != 200 || body["cancelAtPeriodEnd"] != true || body["accessUntil"] != end.Format(time.RFC3339) ||
		len(w.stripe.called("ReleaseSchedule")) != 1 {
		t.Fatalf("cancel: %d %v", code, body)
	}
	code, body = call(t, resume, u, "", callOpts{})
	last := w.stripe.called("UpdateSubscription")
	if code != 200 || body["cancelAtPeriodEnd"] != false || *last[len(last)-1].Params.(*stripe.SubscriptionParams).CancelAtPeriodEnd {
		t.Fatalf("resume: %d %v", code, body)
	}

	// A past_due subscription beyond its grace grants nothing to change: 422, Stripe untouched.
	seedPastDue(t, w, "u-lapsed")
	w.clock.Set(t0.Add(testRules.Grace + time.Hour))
	n := w.stripe.count()
	if code, body := call(t, change, "u-lapsed", `{"tier":"enterprise"}`, callOpts{}); code != http.StatusUnprocessableEntity {
		t.Fatalf("change of a lapsed subscription: %d %v", code, body)
	}
	if w.stripe.count() != n {
		t.Fatal("a refused change called Stripe")
	}
}

func TestMetricsRoute(t *testing.T) {
	w := newWorld(t)
	now := t0
	old := now.AddDate(0, 0, -40)
	w.clock.Set(old)
	w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "m-old", Created: old, PeriodEnd: now.AddDate(0, 0, 20)})
	// Ten customers who joined and left inside the window.
	for i := 0; i < 10; i++ {
		u := "m-new-" + itoa(int64(i))
		w.clock.Set(now.AddDate(0, 0, -10))
		w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: u, Created: now.AddDate(0, 0, -10)})
		w.mustDeliver(t, stripeevents.CustomerSubscriptionDeleted, stripeevents.Options{UserID: u, Created: now.AddDate(0, 0, -5)})
	}
	w.repo.addDay(now.AddDate(0, 0, -3), map[string]int64{store.CtrDisputedCents: 1999, store.CtrPaymentsSucceeded: 9, store.CtrPaymentsFailed: 1})
	w.repo.addDay(now, map[string]int64{store.CtrDisputeLostCents: 999, store.CtrDisputeWonCents: 1000})
	w.repo.addDay(old, map[string]int64{store.CtrDisputedCents: 5000}) // outside the window
	// Enterprise licensing's gauges and the last closed month's true-up (t0 is in March).
	w.repo.mu.Lock()
	w.repo.gauges[store.GaugeEntLicensesActive], w.repo.gauges[store.GaugeEntSeatsSold], w.repo.gauges[store.GaugeEntSeatsUsed] = 2, 35, 31
	w.repo.months = map[string]map[string]int64{"2026-02": {store.CtrEntOverageSeatDays: 42, store.CtrEntTrueUpLines: 1},
		"2026-01": {store.CtrEntOverageSeatDays: 7}}
	w.repo.marketplace = mktmetrics.Metrics{PublishedCourses: 50, GMVCents: 9990, PlatformRevenueCents: 3000}
	w.repo.tokensIssued = 1234
	w.repo.mu.Unlock()
	w.clock.Set(now)
	h := HandleGetMetrics(fn("get-metrics"), w.repo, w.repo, testRules, w.clock)
	if code, _ := call(t, h, "not-admin", "", callOpts{}); code != http.StatusForbidden {
		t.Fatalf("non-admin: %d", code)
	}
	code, m := call(t, h, "admin", "", callOpts{admin: true})
	if code != 200 {
		t.Fatalf("%d %v", code, m)
	}
	raw, _ := json.Marshal(map[string]any{"churn": m["churn"], "disputes": m["disputes"], "payingCustomers": m["payingCustomers"],
		"mrrCents": m["mrrCents"], "payments": m["payments"], "enterprise": m["enterprise"]})
	mk, _ := m["marketplace"].(map[string]any)
	if mk["period"] != "2026-03" || mk["publishedCourses"] != float64(50) || mk["gmvCents"] != float64(9990) ||
		mk["platformRevenueCents"] != float64(3000) {
		t.Fatalf("marketplace section: %v", m["marketplace"])
	}
	if tk, _ := m["tokens"].(map[string]any); tk["issued"] != float64(1234) || tk["to"] != now.Format("2006-01-02") ||
		tk["from"] != now.AddDate(0, 0, 1-MetricsWindowDays).Format("2006-01-02") {
		t.Fatalf("tokens section over the metrics window: %v", m["tokens"])
	}
	want := `{"churn":{"churnedPaying":0,"definition":"` + ChurnDefinition + `","joinedAndLeft":10,"newPaying":10,"payingAtStart":1,"rateBasisPoints":0},` +
		`"disputes":{"lostCents":999,"openedCents":1999,"wonCents":1000},` +
		`"enterprise":{"licensesActive":2,"seatsSold":35,"seatsUsed":31,"trueUp":{"lines":1,"month":"2026-02","overageSeatDays":42}},"mrrCents":999,` +
		`"payingCustomers":1,"payments":{"failed":1,"refundedCents":0,"revenueCents":0,"succeeded":9,"successRateBasisPoints":9000}}`
	if string(raw) != want {
		t.Fatalf("metrics\n got %s\nwant %s", raw, want)
	}
}

func TestCheckoutValidation(t *testing.T) {
	w := newWorld(t)
	h := w.checkout(testSettings)
	ok := func(tier string) string {
		return `{"tier":"` + tier + `","successUrl":"https://app.example.com/ok","cancelUrl":"https://app.example.com/no"}`
	}
	tests := []struct {
		name, body string
		status     int
		message    string // "" when the message is httpapi's, not billing's
	}{
		{"ErrTierRequired", `{"successUrl":"https://app.example.com/ok","cancelUrl":"https://app.example.com/no"}`, 400, "tier is required"},
		{"ErrTierUnknown", ok("gold"), 400, "tier must be one of pro, enterprise"},
		{"ErrTierFree", ok("free"), 422, "the Free tier needs no checkout"},
		{"ErrHTTPNotLocal", `{"tier":"pro","successUrl":"http://app.example.com/ok","cancelUrl":"https://app.example.com/no"}`, 400,
			"successUrl must use https (http is allowed only for localhost)"},
		{"ErrRelativeURL", `{"tier":"pro","successUrl":"/ok","cancelUrl":"https://app.example.com/no"}`, 400, "successUrl must be an absolute URL"},
		{"ErrCancelMissing", `{"tier":"pro","successUrl":"https://app.example.com/ok"}`, 400, "cancelUrl is required"},
		{"ErrURLTooLong", `{"tier":"pro","successUrl":"https://app.example.com/` + strings.Repeat("a", 3000) + `","cancelUrl":"https://app.example.com/no"}`, 400,
			"successUrl must be at most 2048 characters"},
		{"ErrUnknownField", `{"tier":"pro","successUrl":"https://app.example.com/ok","cancelUrl":"https://app.example.com/no","price":1}`, 400, ""},
		// Only the web app's origins (ALLOWED_ORIGINS + APP_URL): no open redirect through Stripe.
		{"ErrSuccessOffOrigin", `{"tier":"pro","successUrl":"https://evil.example/ok","cancelUrl":"https://app.example.com/no"}`, 400,
			"successUrl must be on the web app's origin (https://app.example.com, http://localhost:5173)"},
		{"ErrCancelOffOrigin", `{"tier":"pro","successUrl":"https://app.example.com/ok","cancelUrl":"https://app.example.com.evil.example/no"}`, 400,
			"cancelUrl must be on the web app's origin (https://app.example.com, http://localhost:5173)"},
		{"ErrOtherPort", `{"tier":"pro","successUrl":"https://app.example.com:8443/ok","cancelUrl":"https://app.example.com/no"}`, 400,
			"successUrl must be on the web app's origin (https://app.example.com, http://localhost:5173)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(t, h, "u-v", tc.body, callOpts{})
			if status != tc.status || (tc.message != "" && errMessage(body) != tc.message) {
				t.Fatalf("%d %q, want %d %q", status, errMessage(body), tc.status, tc.message)
			}
		})
	}
	if n := w.stripe.count(); n != 0 {
		t.Fatalf("refused checkouts called Stripe %d times", n)
	}
	if code, body := call(t, h, "u-v", ok("enterprise"), callOpts{}); code != http.StatusCreated {
		t.Fatalf("valid: %d %v", code, body)
	}
	if p := w.stripe.called("CreateCheckoutSession")[0].Params.(*stripe.CheckoutSessionParams); *p.LineItems[0].Price != stripeevents.DefaultPriceEnterprise {
		t.Fatalf("price %s", *p.LineItems[0].Price)
	}
}
