package billing

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/stripeapi"
)

// stripeServer is Stripe's HTTP API in process, as far as billing's port uses it: each request is
// recorded and answered with an object of the path's kind, or with the error an id in the path
// names ("declined" a card error, "gone" a missing resource, "down" a 500 Stripe says not to retry).
type stripeServer struct {
	mu   sync.Mutex
	reqs []stripeRequest
}

type stripeRequest struct {
	Method, Path, Key string
	Form              map[string]string
}

func (s *stripeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	form := map[string]string{}
	for k, v := range r.PostForm {
		form[k] = v[0]
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, stripeRequest{r.Method, r.URL.Path, r.Header.Get("Idempotency-Key"), form})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	answer := func(status int, body map[string]any) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
	switch {
	case strings.Contains(r.URL.Path, "/declined"):
		answer(http.StatusPaymentRequired, map[string]any{"error": map[string]any{"type": "card_error", "code": "card_declined", "message": "Your card was declined."}})
		return
	case strings.Contains(r.URL.Path, "/gone"):
		answer(http.StatusNotFound, map[string]any{"error": map[string]any{"type": "invalid_request_error", "code": "resource_missing", "message": "No such object"}})
		return
	case strings.Contains(r.URL.Path, "/down"):
		w.Header().Set("Stripe-Should-Retry", "false")
		answer(http.StatusInternalServerError, map[string]any{"error": map[string]any{"type": "api_error", "message": "Something went wrong"}})
		return
	}
	objects := map[string]map[string]any{
		"/v1/customers":                                  {"id": "cus_new", "object": "customer"},
		"/v1/checkout/sessions":                          {"id": "cs_new", "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/cs_new"},
		"/v1/billing_portal/sessions":                    {"id": "bps_new", "object": "billing_portal.session", "url": "https://billing.stripe.com/p/session/bps_new"},
		"/v1/subscriptions/sub_1":                        {"id": "sub_1", "object": "subscription", "status": "active"},
		"/v1/subscription_schedules":                     {"id": "sub_sched_new", "object": "subscription_schedule"},
		"/v1/subscription_schedules/sub_sched_1":         {"id": "sub_sched_1", "object": "subscription_schedule"},
		"/v1/subscription_schedules/sub_sched_1/release": {"id": "sub_sched_1", "object": "subscription_schedule", "status": "released"},
	}
	obj, ok := objects[r.URL.Path]
	if !ok {
		answer(http.StatusNotFound, map[string]any{"error": map[string]any{"type": "invalid_request_error", "message": "unknown path " + r.URL.Path}})
		return
	}
	answer(http.StatusOK, obj)
}

func (s *stripeServer) last() stripeRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs[len(s.reqs)-1]
}

func newStripePort(t *testing.T) (stripePort, *stripeServer) {
	t.Helper()
	srv := &stripeServer{}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return stripePort{stripeapi.New("sk_test_unit", ts.URL, 10*time.Second)}, srv
}

// Each call of the port is one request to its endpoint: writes carry our idempotency key (never
// one of stripe-go's), reads none; Stripe's objects come back decoded.
func TestStripePortRequests(t *testing.T) {
	ctx := context.Background()
	p, srv := newStripePort(t)
	check := func(what string, err error, method, path, key string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if r := srv.last(); r.Method != method || r.Path != path || r.Key != key {
			t.Fatalf("%s: %s %s key %q, want %s %s key %q", what, r.Method, r.Path, r.Key, method, path, key)
		}
	}
	cus, err := p.CreateCustomer(ctx, &stripe.CustomerParams{Email: stripe.String("u1@example.com"),
		Metadata: map[string]string{"userId": "u1"}}, "customer-u1")
	check("customer", err, http.MethodPost, "/v1/customers", "customer-u1")
	if f := srv.last().Form; cus.ID != "cus_new" || f["email"] != "u1@example.com" || f["metadata[userId]"] != "u1" {
		t.Fatalf("customer %+v, form %v", cus, f)
	}
	cs, err := p.CreateCheckoutSession(ctx, &stripe.CheckoutSessionParams{Mode: stripe.String("subscription"),
		Customer: stripe.String("cus_new")}, "checkout-r1")
	check("checkout", err, http.MethodPost, "/v1/checkout/sessions", "checkout-r1")
	if cs.ID != "cs_new" || cs.URL == "" || srv.last().Form["customer"] != "cus_new" {
		t.Fatalf("session %+v", cs)
	}
	ps, err := p.CreatePortalSession(ctx, &stripe.BillingPortalSessionParams{Customer: stripe.String("cus_new")}, "portal-r2")
	check("portal", err, http.MethodPost, "/v1/billing_portal/sessions", "portal-r2")
	if ps.URL != "https://billing.stripe.com/p/session/bps_new" {
		t.Fatalf("portal %+v", ps)
	}
	sub, err := p.GetSubscription(ctx, "sub_1")
	check("read subscription", err, http.MethodGet, "/v1/subscriptions/sub_1", "")
	if sub.ID != "sub_1" || sub.Status != stripe.SubscriptionStatusActive {
		t.Fatalf("subscription %+v", sub)
	}
	_, err = p.UpdateSubscription(ctx, "sub_1", &stripe.SubscriptionParams{CancelAtPeriodEnd: stripe.Bool(true)}, "cancel-sub_1-free-v3")
	check("update subscription", err, http.MethodPost, "/v1/subscriptions/sub_1", "cancel-sub_1-free-v3")
	if srv.last().Form["cancel_at_period_end"] != "true" {
		t.Fatalf("form %v", srv.last().Form)
	}
	sched, err := p.GetSchedule(ctx, "sub_sched_1")
	check("read schedule", err, http.MethodGet, "/v1/subscription_schedules/sub_sched_1", "")
	if sched.ID != "sub_sched_1" {
		t.Fatalf("schedule %+v", sched)
	}
	sched, err = p.CreateSchedule(ctx, &stripe.SubscriptionScheduleParams{FromSubscription: stripe.String("sub_1")}, "schedule-sub_1-pro-v3")
	check("create schedule", err, http.MethodPost, "/v1/subscription_schedules", "schedule-sub_1-pro-v3")
	if sched.ID != "sub_sched_new" || srv.last().Form["from_subscription"] != "sub_1" {
		t.Fatalf("schedule %+v", sched)
	}
	_, err = p.UpdateSchedule(ctx, "sub_sched_1", &stripe.SubscriptionScheduleParams{EndBehavior: stripe.String("release")}, "schedule-phases-sub_1-pro-v3")
	check("update schedule", err, http.MethodPost, "/v1/subscription_schedules/sub_sched_1", "schedule-phases-sub_1-pro-v3")
	err = p.ReleaseSchedule(ctx, "sub_sched_1", "release-sub_1-sub_sched_1-v4")
	check("release schedule", err, http.MethodPost, "/v1/subscription_schedules/sub_sched_1/release", "release-sub_1-sub_sched_1-v4")
}

// Stripe's failures through the port: a refusal is a 422 naming what was refused, a declined card a
// 422, a 5xx an ambiguous 503; without a Stripe client (a function whose manifest entry does not
// declare Stripe) every call is a 500 that says so.
func TestStripePortFailures(t *testing.T) {
	ctx := context.Background()
	p, _ := newStripePort(t)
	for what, c := range map[string]struct {
		call      func() error
		code      apperr.Code
		message   string
		ambiguous bool
	}{
		"declined": {func() error {
			_, err := p.UpdateSubscription(ctx, "declined", &stripe.SubscriptionParams{}, "upgrade-x")
			return err
		}, apperr.Unprocessable, "changing the subscription: the payment was declined", false},
		"missing": {func() error { _, err := p.GetSubscription(ctx, "gone"); return err },
			apperr.Unprocessable, "reading the subscription was refused by the payment provider (resource_missing)", false},
		"schedule missing": {func() error { _, err := p.GetSchedule(ctx, "gone"); return err },
			apperr.Unprocessable, "reading the subscription schedule was refused by the payment provider (resource_missing)", false},
		"release missing": {func() error { return p.ReleaseSchedule(ctx, "gone", "release-x") },
			apperr.Unprocessable, "undoing the scheduled downgrade was refused by the payment provider (resource_missing)", false},
		"down": {func() error {
			_, err := p.UpdateSchedule(ctx, "down", &stripe.SubscriptionScheduleParams{}, "schedule-x")
			return err
		}, apperr.Unavailable, "scheduling the downgrade failed", true},
	} {
		err := c.call()
		if apperr.CodeOf(err) != c.code || !strings.Contains(err.Error(), c.message) || stripeapi.IsAmbiguous(err) != c.ambiguous {
			t.Fatalf("%s: %v (ambiguous %v)", what, err, stripeapi.IsAmbiguous(err))
		}
	}

	none := stripePort{}
	for what, call := range map[string]func() error{
		"CreateCustomer": func() error { _, err := none.CreateCustomer(ctx, &stripe.CustomerParams{}, "k"); return err },
		"CreateCheckoutSession": func() error {
			_, err := none.CreateCheckoutSession(ctx, &stripe.CheckoutSessionParams{}, "k")
			return err
		},
		"CreatePortalSession": func() error {
			_, err := none.CreatePortalSession(ctx, &stripe.BillingPortalSessionParams{}, "k")
			return err
		},
		"GetSubscription": func() error { _, err := none.GetSubscription(ctx, "sub_1"); return err },
		"UpdateSubscription": func() error {
			_, err := none.UpdateSubscription(ctx, "sub_1", &stripe.SubscriptionParams{}, "k")
			return err
		},
		"GetSchedule": func() error { _, err := none.GetSchedule(ctx, "s"); return err },
		"CreateSchedule": func() error {
			_, err := none.CreateSchedule(ctx, &stripe.SubscriptionScheduleParams{}, "k")
			return err
		},
		"UpdateSchedule": func() error {
			_, err := none.UpdateSchedule(ctx, "s", &stripe.SubscriptionScheduleParams{}, "k")
			return err
		},
		"ReleaseSchedule": func() error { return none.ReleaseSchedule(ctx, "s", "k") },
	} {
		if err := call(); apperr.CodeOf(err) != apperr.Internal || !strings.Contains(err.Error(), "declare Stripe in its manifest entry") {
			t.Fatalf("%s without a client: %v", what, err)
		}
	}
}
