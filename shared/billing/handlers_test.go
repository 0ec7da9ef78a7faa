//go:build integration

package billing

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/store"
)

func TestGetSubscription(t *testing.T) {
	e := newEnv(t)
	h := HandleGetSubscription(fn("get-subscription"), e.repo, licenseSeats{e.Store()}, e.set.Rules, e.life.clock)

	t.Run("NoSubscriptionIsFree", func(t *testing.T) {
		status, body := call(t, h, "u-none", "", callOpts{})
		if status != http.StatusOK || body["tier"] != TierFree || body["status"] != StatusNone || body["currentPeriodEnd"] != nil {
			t.Fatalf("%d %v", status, body)
		}
		if ents := body["entitlements"].([]any); len(ents) != 4 {
			t.Fatalf("free entitlements = %v", ents)
		}
	})
	t.Run("Pro", func(t *testing.T) {
		end := e.life.clock.Now().Add(10 * 24 * time.Hour).Truncate(time.Second)
		seed(t, e, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-pro", PeriodEnd: end})
		status, body := call(t, h, "u-pro", "", callOpts{})
		if status != http.StatusOK || body["tier"] != TierPro || body["status"] != StatusActive ||
			body["currentPeriodEnd"] != end.UTC().Format(time.RFC3339) || body["cancelAtPeriodEnd"] != false {
			t.Fatalf("%d %v", status, body)
		}
		if ents := body["entitlements"].([]any); len(ents) != 8 {
			t.Fatalf("pro entitlements = %v", ents)
		}
	})
}

func TestCheckoutCreatesOneCustomer(t *testing.T) {
	e := newEnv(t)
	h := HandleCreateCheckout(fn("create-checkout"), e.checkoutDeps())
	body := `{"tier":"pro","successUrl":"https://app.example.com/ok","cancelUrl":"http://localhost:5173/cancel"}`
	for i := 0; i < 2; i++ {
		status, out := call(t, h, "u-1", body, callOpts{})
		if status != http.StatusCreated || !strings.HasPrefix(out["sessionId"].(string), "cs_") || out["url"] == "" {
			t.Fatalf("call %d: %d %v", i, status, out)
		}
	}
	customers := e.stripe.Posts("/v1/customers")
	if len(customers) != 1 {
		t.Fatalf("customers created = %d, want 1", len(customers))
	}
	if c := customers[0]; c.Key != "customer-u-1" || c.Form.Get("metadata[userId]") != "u-1" || c.Form.Get("email") != "u-1@example.com" {
		t.Fatalf("customer request = %+v", c)
	}
	sessions := e.stripe.Posts("/v1/checkout/sessions")
	if len(sessions) != 2 {
		t.Fatalf("sessions = %d", len(sessions))
	}
	u, err := e.repo.GetUser(context.Background(), "u-1")
	if err != nil || u.StripeCustomerID == "" {
		t.Fatalf("customer not linked: %+v %v", u, err)
	}
	for _, s := range sessions {
		f := s.Form
		if f.Get("mode") != "subscription" || f.Get("customer") != u.StripeCustomerID || f.Get("client_reference_id") != "u-1" ||
			f.Get("metadata[userId]") != "u-1" || f.Get("subscription_data[metadata][userId]") != "u-1" ||
			f.Get("subscription_data[metadata][tier]") != "pro" || f.Get("line_items[0][price]") != "price_pro_monthly" ||
			!strings.HasPrefix(s.Key, "checkout-") {
			t.Fatalf("session request = %+v", s)
		}
	}
	if sessions[0].Key == sessions[1].Key {
		t.Fatal("two requests shared a Stripe idempotency key")
	}
}

func TestPortal(t *testing.T) {
	e := newEnv(t)
	h := HandleCreatePortalSession(fn("create-portal-session"), portalDeps{customers: e.repo, stripe: e.port, settings: e.set})
	body := `{"returnUrl":"https://app.example.com/account"}`
	if status, out := call(t, h, "u-p", body, callOpts{}); status != http.StatusUnprocessableEntity {
		t.Fatalf("without customer: %d %v", status, out)
	}
	if _, err := e.repo.LinkStripeCustomer(context.Background(), "u-p", "p@example.com", "cus_portal"); err != nil {
		t.Fatal(err)
	}
	status, out := call(t, h, "u-p", body, callOpts{})
	if status != http.StatusOK || !strings.HasPrefix(out["url"].(string), "https://") {
		t.Fatalf("%d %v", status, out)
	}
	reqs := e.stripe.Posts("/v1/billing_portal/sessions")
	if len(reqs) != 1 || reqs[0].Form.Get("customer") != "cus_portal" || reqs[0].Form.Get("return_url") != "https://app.example.com/account" || reqs[0].Key == "" {
		t.Fatalf("portal requests = %+v", reqs)
	}
	for _, bad := range []string{"http://evil.example/", "https://evil.example/account"} {
		if status, _ := call(t, h, "u-p", `{"returnUrl":"`+bad+`"}`, callOpts{}); status != http.StatusBadRequest {
			t.Fatalf("return url %s: %d, want 400", bad, status)
		}
	}
}

func TestUpgradeDowngradeCancelResume(t *testing.T) {
	e := newEnv(t)
	clk := e.WithFakeClock()
	change := HandleChangeSubscription(fn("change-subscription"), e.plan())
	cancel := HandleCancelSubscription(fn("cancel-subscription"), e.plan())
	resume := HandleResumeSubscription(fn("resume-subscription"), e.plan())
	end := clk.Now().Add(20 * 24 * time.Hour).Truncate(time.Second)
	const u = "u-life"
	subID := stripeevents.SubscriptionIDFor(u)

	t.Run("ErrNoSubscription", func(t *testing.T) {
		for _, h := range []struct {
			name string
			st   int
		}{{"change", 422}, {"cancel", 422}, {"resume", 422}} {
			var status int
			switch h.name {
			case "change":
				status, _ = call(t, change, u, `{"tier":"enterprise"}`, callOpts{})
			case "cancel":
				status, _ = call(t, cancel, u, "", callOpts{})
			default:
				status, _ = call(t, resume, u, "", callOpts{})
			}
			if status != h.st {
				t.Fatalf("%s: %d, want %d", h.name, status, h.st)
			}
		}
	})

	seed(t, e, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: u, PeriodEnd: end})
	if g := gauges(t, e); g[store.GaugeMRRCents] != 999 || g[store.GaugePayingCustomers] != 1 {
		t.Fatalf("gauges after seed: %v", g)
	}

	t.Run("ErrSameTier", func(t *testing.T) {
		if status, body := call(t, change, u, `{"tier":"pro"}`, callOpts{}); status != 422 {
			t.Fatalf("%d %v", status, body)
		}
		if status, _ := call(t, change, u, `{"tier":"platinum"}`, callOpts{}); status != 400 {
			t.Fatalf("unknown tier: %d", status)
		}
	})

	t.Run("UpgradeNowWithProration", func(t *testing.T) {
		status, body := call(t, change, u, `{"tier":"enterprise"}`, callOpts{})
		if status != 200 || body["tier"] != TierEnterprise {
			t.Fatalf("%d %v", status, body)
		}
		reqs := e.stripe.Posts("/v1/subscriptions/" + subID)
		if len(reqs) != 1 {
			t.Fatalf("subscription updates = %d", len(reqs))
		}
		f := reqs[0].Form
		if f.Get("proration_behavior") != "always_invoice" || f.Get("items[0][price]") != "price_enterprise_monthly" ||
			f.Get("items[0][id]") == "" || f.Get("payment_behavior") != "error_if_incomplete" || !strings.HasPrefix(reqs[0].Key, "upgrade-") {
			t.Fatalf("update = %+v", reqs[0])
		}
		s := mustSub(t, e, u)
		if s.Tier != TierEnterprise || s.PriceID != "price_enterprise_monthly" {
			t.Fatalf("stored %+v", s)
		}
		if g := gauges(t, e); g[store.GaugeMRRCents] != 9900 || g[store.GaugePayingCustomers] != 1 || g["subs_pro"] != 0 || g["subs_enterprise"] != 1 {
			t.Fatalf("gauges after upgrade: %v", g)
		}
		if n := auditCount(t, e, clk.Now(), "subscription.upgrade"); n != 1 {
			t.Fatalf("upgrade audits = %d", n)
		}
	})

	t.Run("DowngradeAtPeriodEnd", func(t *testing.T) {
		status, body := call(t, change, u, `{"tier":"pro"}`, callOpts{})
		if status != 200 || body["tier"] != TierEnterprise || body["pendingTier"] != TierPro {
			t.Fatalf("%d %v", status, body)
		}
		if n := len(e.stripe.Posts("/v1/subscription_schedules")); n != 2 { // create from subscription + set phases
			t.Fatalf("schedule calls = %d", n)
		}
		upd := e.stripe.Posts("/v1/subscription_schedules/")
		f := upd[len(upd)-1].Form
		if f.Get("phases[0][items][0][price]") != "price_enterprise_monthly" || f.Get("phases[0][end_date]") != itoa(end.Unix()) ||
			f.Get("phases[1][items][0][price]") != "price_pro_monthly" || f.Get("end_behavior") != "release" {
			t.Fatalf("phases = %v", f)
		}
		s := mustSub(t, e, u)
		if s.Tier != TierEnterprise || s.PendingTier != TierPro || s.ScheduleID == "" {
			t.Fatalf("stored %+v", s)
		}
		if g := gauges(t, e); g[store.GaugeMRRCents] != 9900 {
			t.Fatalf("MRR must not change before the period ends: %v", g)
		}
	})

	t.Run("UndoDowngrade", func(t *testing.T) {
		status, body := call(t, change, u, `{"tier":"enterprise"}`, callOpts{})
		if status != 200 || body["pendingTier"] != nil {
			t.Fatalf("%d %v", status, body)
		}
		if n := len(e.stripe.Posts("/v1/subscription_schedules/")); n < 2 || !strings.HasSuffix(e.stripe.Posts("/v1/subscription_schedules/")[n-1].Path, "/release") {
			t.Fatal("schedule not released")
		}
	})

	t.Run("Cancel", func(t *testing.T) {
		status, body := call(t, cancel, u, "", callOpts{})
		if status != 200 || body["cancelAtPeriodEnd"] != true || body["tier"] != TierEnterprise || body["accessUntil"] == nil {
			t.Fatalf("%d %v", status, body)
		}
		reqs := e.stripe.Posts("/v1/subscriptions/" + subID)
		last := reqs[len(reqs)-1]
		if last.Form.Get("cancel_at_period_end") != "true" || !strings.HasPrefix(last.Key, "cancel-") {
			t.Fatalf("cancel request = %+v", last)
		}
		n := len(e.stripe.All())
		if status, body := call(t, cancel, u, "", callOpts{}); status != 200 || body["cancelAtPeriodEnd"] != true {
			t.Fatalf("second cancel: %d %v", status, body)
		}
		if len(e.stripe.All()) != n {
			t.Fatal("canceling twice called Stripe twice")
		}
		if status, _ := call(t, change, u, `{"tier":"pro"}`, callOpts{}); status != 422 {
			t.Fatalf("downgrade while canceling: %d", status)
		}
	})

	t.Run("Resume", func(t *testing.T) {
		status, body := call(t, resume, u, "", callOpts{})
		if status != 200 || body["cancelAtPeriodEnd"] != false {
			t.Fatalf("%d %v", status, body)
		}
		reqs := e.stripe.Posts("/v1/subscriptions/" + subID)
		if last := reqs[len(reqs)-1]; last.Form.Get("cancel_at_period_end") != "false" {
			t.Fatalf("resume request = %+v", last)
		}
		if status, _ := call(t, resume, u, "", callOpts{}); status != 422 {
			t.Fatalf("resume with nothing to resume: %d", status)
		}
	})

	t.Run("ToFreeCancelsAtPeriodEnd", func(t *testing.T) {
		status, body := call(t, change, u, `{"tier":"free"}`, callOpts{})
		if status != 200 || body["cancelAtPeriodEnd"] != true {
			t.Fatalf("%d %v", status, body)
		}
	})

	t.Run("ErrResumeAfterEnd", func(t *testing.T) {
		clk.Set(end.Add(time.Minute))
		if status, body := call(t, resume, u, "", callOpts{}); status != 422 {
			t.Fatalf("%d %v", status, body)
		}
		s := mustSub(t, e, u)
		if a := AccessAt(s, clk.Now(), e.set.Grace); a.Tier != TierFree {
			t.Fatalf("access after the end = %+v", a)
		}
	})
}

func (e *testEnv) checkoutDeps() checkoutDeps {
	return checkoutDeps{subs: e.repo, customers: e.repo, audit: e.repo, idem: e.repo, stripe: e.port, settings: e.set}
}
