package marketplace

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/stripeapi"
)

// stripeServer answers the Stripe API calls the marketplace's adapter makes, in process, and records
// what each POST sent (its form and idempotency key): the adapter's requests and its reading of
// Stripe's answers and errors, with nothing started.
type stripeServer struct {
	mu    sync.Mutex
	posts map[string]posted // by path
	gets  []string
}

type posted struct {
	form url.Values
	key  string
}

func stripeError(w http.ResponseWriter, status int, code, msg string) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"type": "invalid_request_error", "code": code, "message": msg}})
}

func list(url string, data ...map[string]any) map[string]any {
	if data == nil {
		data = []map[string]any{}
	}
	return map[string]any{"object": "list", "url": url, "has_more": false, "data": data}
}

func (s *stripeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		stripeError(w, 400, "parameter_invalid", err.Error())
		return
	}
	s.mu.Lock()
	if r.Method == http.MethodPost {
		s.posts[r.URL.Path] = posted{form: r.PostForm, key: r.Header.Get("Idempotency-Key")}
	} else {
		s.gets = append(s.gets, r.URL.Path+"?"+r.URL.RawQuery)
	}
	s.mu.Unlock()
	q := r.URL.Query()
	var body any
	switch p := r.URL.Path; {
	case p == "/v1/checkout/sessions":
		body = map[string]any{"id": "cs_new", "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/cs_new",
			"expires_at": 1800000000, "status": "open"}
	case p == "/v1/checkout/sessions/cs_open/expire":
		body = map[string]any{"id": "cs_open", "object": "checkout.session", "status": "expired"}
	case p == "/v1/checkout/sessions/cs_done/expire":
		body = map[string]any{"id": "cs_done", "object": "checkout.session", "status": "complete"}
	case strings.HasSuffix(p, "/expire"):
		stripeError(w, 400, "", "Only Checkout Sessions with a status of open can be expired.")
		return
	case p == "/v1/checkout/sessions/cs_paid":
		body = map[string]any{"id": "cs_paid", "object": "checkout.session", "status": "complete"}
	case p == "/v1/checkout/sessions/cs_gone":
		body = map[string]any{"id": "cs_gone", "object": "checkout.session", "status": "expired"}
	case p == "/v1/refunds" && r.Method == http.MethodPost:
		body = map[string]any{"id": "re_new", "object": "refund", "status": "succeeded"}
	case p == "/v1/refunds":
		body = list(p,
			map[string]any{"id": "re_1", "object": "refund", "amount": 500, "status": "succeeded", "created": 1700000000,
				"charge": q.Get("charge"), "payment_intent": q.Get("payment_intent")},
			map[string]any{"id": "re_other", "object": "refund", "amount": 900, "status": "succeeded", "charge": "ch_other",
				"payment_intent": "pi_other"})
	case p == "/v1/disputes":
		body = list(p,
			map[string]any{"id": "dp_1", "object": "dispute", "amount": 999, "status": "needs_response",
				"charge": q.Get("charge"), "payment_intent": q.Get("payment_intent")},
			map[string]any{"id": "dp_other", "object": "dispute", "amount": 1, "status": "lost", "payment_intent": "pi_other"})
	case p == "/v1/accounts/acct_on":
		body = map[string]any{"id": "acct_on", "object": "account", "payouts_enabled": true}
	case p == "/v1/accounts":
		body = map[string]any{"id": "acct_new", "object": "account"}
	case p == "/v1/account_links":
		body = map[string]any{"object": "account_link", "url": "https://connect.stripe.com/setup/e/acct_new", "expires_at": 1800000300}
	case p == "/v1/coupons/REWARD20":
		body = map[string]any{"id": "REWARD20", "object": "coupon", "valid": true, "percent_off": 20, "metadata": map[string]any{"userId": "ana"}}
	case p == "/v1/coupons/SPENT":
		body = map[string]any{"id": "SPENT", "object": "coupon", "valid": false, "percent_off": 10, "metadata": map[string]any{}}
	case strings.HasPrefix(p, "/v1/coupons/"):
		stripeError(w, 404, "resource_missing", "No such coupon")
		return
	case p == "/v1/transfers" && r.Method == http.MethodPost:
		if r.PostForm.Get("destination") == "acct_closed" {
			stripeError(w, 400, "account_invalid", "The destination account is closed.")
			return
		}
		body = map[string]any{"id": "tr_new", "object": "transfer"}
	case p == "/v1/transfers":
		body = list(p, map[string]any{"id": "tr_1", "object": "transfer", "transfer_group": "po_paid",
			"metadata": map[string]any{"payoutId": "po_paid"}, "reversed": true})
	default:
		stripeError(w, 404, "resource_missing", "unknown path "+p)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func (s *stripeServer) post(t *testing.T, path string) posted {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.posts[path]
	if !ok {
		t.Fatalf("nothing posted to %s", path)
	}
	return p
}

func newStripeServer(t *testing.T) (*stripeServer, StripePort) {
	s := &stripeServer{posts: map[string]posted{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, NewStripePort(stripeapi.New("sk_test_unit", srv.URL, 10*time.Second))
}

// The Stripe adapter: what each call sends (parameters, metadata, idempotency keys derived from our
// own ids) and how it reads Stripe's answers and refusals.
func TestStripePort(t *testing.T) {
	ctx := context.Background()
	srv, port := newStripeServer(t)

	t.Run("CourseCheckout", func(t *testing.T) {
		exp := time.Unix(1800000000, 0).UTC()
		cs, err := port.CourseCheckout(ctx, CheckoutInput{UserID: "ana", Email: "ana@example.com", CourseID: "crs_1",
			InstructorID: "ins", Title: "Go", PriceCents: 1999, SuccessURL: "https://app/ok", CancelURL: "https://app/no",
			Operation: "op-1", CouponID: "REWARD20", ExpiresAt: exp})
		if err != nil || cs.ID != "cs_new" || cs.URL == "" || !cs.ExpiresAt.Equal(exp) {
			t.Fatalf("%+v %v", cs, err)
		}
		p := srv.post(t, "/v1/checkout/sessions")
		f := p.form
		for k, want := range map[string]string{"mode": "payment", "client_reference_id": "ana", "customer_email": "ana@example.com",
			"metadata[userId]": "ana", "metadata[courseId]": "crs_1", "metadata[instructorId]": "ins", "metadata[recordedBy]": "marketplace",
			"metadata[couponId]": "REWARD20", "payment_intent_data[metadata][courseId]": "crs_1",
			"line_items[0][price_data][unit_amount]": "1999", "line_items[0][price_data][currency]": "usd",
			"line_items[0][price_data][product_data][name]": "Go", "discounts[0][coupon]": "REWARD20", "expires_at": "1800000000",
			"success_url": "https://app/ok", "cancel_url": "https://app/no"} {
			if got := f.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		if p.key != stripeapi.Key("course-checkout", "ana", "crs_1", "op-1") {
			t.Errorf("idempotency key %q", p.key)
		}
	})

	t.Run("ExpireCheckout", func(t *testing.T) {
		for id, want := range map[string]error{"cs_open": nil, "cs_done": ErrCheckoutComplete, "cs_paid": ErrCheckoutComplete, "cs_gone": nil} {
			if err := port.ExpireCheckout(ctx, id); err != want {
				t.Errorf("%s: %v, want %v", id, err, want)
			}
		}
		if err := port.ExpireCheckout(ctx, "cs_unknown"); err == nil {
			t.Error("a session Stripe does not know")
		}
		if p := srv.post(t, "/v1/checkout/sessions/cs_open/expire"); p.key != stripeapi.Key("expire-checkout", "cs_open") {
			t.Errorf("idempotency key %q", p.key)
		}
	})

	t.Run("RefundPurchase", func(t *testing.T) {
		id, err := port.RefundPurchase(ctx, RefundInput{PaymentIntentID: "pi_1", Reason: "duplicate_purchase", SaleID: "sale_1",
			BuyerID: "ana", Key: "refund-dup-sale_1"})
		if err != nil || id != "re_new" {
			t.Fatalf("%s %v", id, err)
		}
		p := srv.post(t, "/v1/refunds")
		if p.form.Get("payment_intent") != "pi_1" || p.form.Get("charge") != "" || p.form.Get("reason") != "duplicate" ||
			p.form.Get("metadata[saleId]") != "sale_1" || p.form.Get("metadata[requestedBy]") != "marketplace" || p.key != "refund-dup-sale_1" {
			t.Fatalf("refund sent %v (key %q)", p.form, p.key)
		}
		if _, err := port.RefundPurchase(ctx, RefundInput{ChargeID: "ch_1", PaymentIntentID: "pi_1", Reason: RejectedCurrency, Key: "k2"}); err != nil {
			t.Fatal(err)
		}
		if p := srv.post(t, "/v1/refunds"); p.form.Get("charge") != "ch_1" || p.form.Get("payment_intent") != "" ||
			p.form.Get("reason") != "requested_by_customer" {
			t.Fatalf("refund by charge sent %v", p.form)
		}
	})

	t.Run("Lists", func(t *testing.T) {
		refunds, err := port.ChargeRefunds(ctx, "ch_1", "pi_1")
		if err != nil || len(refunds) != 1 || refunds[0].ID != "re_1" || refunds[0].AmountCents != 500 || !refunds[0].Counts() ||
			!refunds[0].Created.Equal(time.Unix(1700000000, 0)) {
			t.Fatalf("refunds of a charge: %+v %v", refunds, err)
		}
		disputes, err := port.ChargeDisputes(ctx, "", "pi_1")
		if err != nil || len(disputes) != 1 || disputes[0] != (StripeDispute{ID: "dp_1", Status: "needs_response", AmountCents: 999}) {
			t.Fatalf("disputes of a PaymentIntent: %+v %v", disputes, err)
		}
		srv.mu.Lock()
		gets := strings.Join(srv.gets, " ")
		srv.mu.Unlock()
		if !strings.Contains(gets, "/v1/refunds?limit=100&charge=ch_1") || !strings.Contains(gets, "/v1/disputes?limit=100&payment_intent=pi_1") {
			t.Fatalf("lists asked: %s", gets)
		}
		if _, err := port.ChargeRefunds(ctx, "", ""); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("refunds of nothing: %v", err)
		}
		if _, err := port.ChargeDisputes(ctx, "", ""); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("disputes of nothing: %v", err)
		}
	})

	t.Run("Coupons", func(t *testing.T) {
		c, err := port.Coupon(ctx, "REWARD20")
		if err != nil || c != (Coupon{ID: "REWARD20", Valid: true, UserID: "ana", PercentOff: 20}) {
			t.Fatalf("%+v %v", c, err)
		}
		if c, err := port.Coupon(ctx, "SPENT"); err != nil || c.Valid {
			t.Fatalf("a spent coupon: %+v %v", c, err)
		}
		if _, err := port.Coupon(ctx, "NOPE"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("an unknown coupon: %v", err)
		}
	})

	t.Run("Connect", func(t *testing.T) {
		id, err := port.ExpressAccount(ctx, "ins", "ins@example.com")
		if err != nil || id != "acct_new" {
			t.Fatalf("%s %v", id, err)
		}
		p := srv.post(t, "/v1/accounts")
		if p.form.Get("type") != "express" || p.form.Get("metadata[userId]") != "ins" || p.form.Get("email") != "ins@example.com" ||
			p.form.Get("capabilities[transfers][requested]") != "true" || p.key != stripeapi.Key("connect-account", "ins") {
			t.Fatalf("account sent %v (key %q)", p.form, p.key)
		}
		link, exp, err := port.OnboardingLink(ctx, "acct_new", "https://app/refresh", "https://app/return", "op-2")
		if err != nil || link == "" || !exp.Equal(time.Unix(1800000300, 0)) {
			t.Fatalf("link %s %v %v", link, exp, err)
		}
		if p := srv.post(t, "/v1/account_links"); p.form.Get("type") != "account_onboarding" || p.form.Get("account") != "acct_new" ||
			p.key != stripeapi.Key("account-link", "acct_new", "op-2") {
			t.Fatalf("link sent %v (key %q)", p.form, p.key)
		}
		if on, err := port.AccountPayoutsEnabled(ctx, "acct_on"); err != nil || !on {
			t.Fatalf("payouts enabled: %v %v", on, err)
		}
		if _, err := port.AccountPayoutsEnabled(ctx, "acct_unknown"); err == nil {
			t.Fatal("an unknown account")
		}
	})

	t.Run("Transfers", func(t *testing.T) {
		in := TransferInput{PayoutID: "po_1", InstructorID: "ins", Period: "2026-11", AccountID: "acct_on", Currency: "usd", AmountCents: 7000}
		id, err := port.Transfer(ctx, in)
		if err != nil || id != "tr_new" {
			t.Fatalf("%s %v", id, err)
		}
		p := srv.post(t, "/v1/transfers")
		if p.form.Get("amount") != "7000" || p.form.Get("destination") != "acct_on" || p.form.Get("transfer_group") != "po_1" ||
			p.form.Get("metadata[period]") != "2026-11" || p.form.Get("metadata[payoutId]") != "po_1" || p.key != stripeapi.Key("payout", "po_1") {
			t.Fatalf("transfer sent %v (key %q)", p.form, p.key)
		}
		in.AccountID = "acct_closed"
		if _, err := port.Transfer(ctx, in); stripeapi.KindOf(err) != stripeapi.Definite {
			t.Fatalf("a refused transfer: %v (kind %v)", err, stripeapi.KindOf(err))
		}
		if id, found, err := port.FindTransfer(ctx, "po_paid"); err != nil || !found || id != "tr_1" {
			t.Fatalf("a reversed transfer is still found: %s %v %v", id, found, err)
		}
		if _, found, err := port.FindTransfer(ctx, "po_none"); err != nil || found {
			t.Fatalf("a transfer of another payout: %v %v", found, err)
		}
	})
}
