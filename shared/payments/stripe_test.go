package payments

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

	"github.com/liberation/monetization/shared/stripeapi"
)

// stripeRefundsAPI answers Stripe's refund endpoints in process, as the API documents them (form
// bodies, list pages with has_more and starting_after), and remembers what it was sent.
type stripeRefundsAPI struct {
	mu       sync.Mutex
	creates  []url.Values
	keys     []string
	lists    []url.Values
	refunds  []map[string]any // every refund, oldest first
	pageSize int
}

func (s *stripeRefundsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	answer := func(status int, body any) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/refunds":
		_ = r.ParseForm()
		s.creates, s.keys = append(s.creates, r.PostForm), append(s.keys, r.Header.Get("Idempotency-Key"))
		switch r.PostForm.Get("amount") {
		case "400":
			answer(http.StatusBadRequest, map[string]any{"error": map[string]any{"type": "invalid_request_error",
				"code": "charge_already_refunded", "message": "Charge ch_1 has already been refunded."}})
			return
		case "204":
			answer(http.StatusOK, map[string]any{"object": "refund"}) // an answer without a refund
			return
		}
		md := map[string]string{}
		for k, v := range r.PostForm {
			if strings.HasPrefix(k, "metadata[") {
				md[strings.TrimSuffix(strings.TrimPrefix(k, "metadata["), "]")] = v[0]
			}
		}
		rf := map[string]any{"id": "re_new", "object": "refund", "amount": json.Number(r.PostForm.Get("amount")), "currency": "USD",
			"status": "succeeded", "reason": r.PostForm.Get("reason"), "metadata": md, "created": 1772366400,
			"charge": nilIfEmpty(r.PostForm.Get("charge")), "payment_intent": nilIfEmpty(r.PostForm.Get("payment_intent"))}
		answer(http.StatusOK, rf)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/refunds":
		q := r.URL.Query()
		s.lists = append(s.lists, q)
		if q.Get("charge") == "ch_missing" {
			answer(http.StatusNotFound, map[string]any{"error": map[string]any{"type": "invalid_request_error",
				"code": "resource_missing", "message": "No such charge: 'ch_missing'"}})
			return
		}
		var match []map[string]any
		for i := len(s.refunds) - 1; i >= 0; i-- { // newest first
			rf := s.refunds[i]
			if q.Get("charge") != "" && rf["charge"] == q.Get("charge") || q.Get("payment_intent") != "" && rf["payment_intent"] == q.Get("payment_intent") {
				match = append(match, rf)
			}
		}
		if after := q.Get("starting_after"); after != "" {
			for i, rf := range match {
				if rf["id"] == after {
					match = match[i+1:]
					break
				}
			}
		}
		more := len(match) > s.pageSize
		if more {
			match = match[:s.pageSize]
		}
		answer(http.StatusOK, map[string]any{"object": "list", "url": "/v1/refunds", "has_more": more, "data": match})
	default:
		answer(http.StatusNotFound, map[string]any{"error": map[string]any{"type": "invalid_request_error", "message": "unknown"}})
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func newStripeRefundsAPI(t *testing.T) (*stripeRefundsAPI, RefundGateway) {
	api := &stripeRefundsAPI{pageSize: 2}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return api, StripeGateway(stripeapi.New("sk_test_unit", srv.URL, 10*time.Second))
}

// The refund order goes to Stripe as its form — the charge (else the PaymentIntent), the amount,
// the reason, our metadata — under our idempotency key, and Stripe's refund comes back as ours.
func TestStripeGatewayCreatesRefunds(t *testing.T) {
	api, gw := newStripeRefundsAPI(t)
	ctx := context.Background()
	md := map[string]string{"userId": "u1", "paymentId": "pay_1", "requestedBy": "admin-1", "operationId": "rop_1"}
	rf, err := gw.CreateRefund(ctx, RefundOrder{ChargeID: "ch_1", PaymentIntentID: "pi_1", AmountCents: 700, Reason: "duplicate",
		Metadata: md, IdempotencyKey: "refund-rop_1"})
	if err != nil {
		t.Fatal(err)
	}
	want := StripeRefund{ID: "re_new", ChargeID: "ch_1", AmountCents: 700, Currency: "usd", Status: "succeeded", Reason: "duplicate",
		OperationID: "rop_1", RequestedBy: "admin-1", Created: time.Unix(1772366400, 0).UTC()}
	if rf != want {
		t.Fatalf("refund %+v\nwant   %+v", rf, want)
	}
	form := api.creates[0]
	if form.Get("charge") != "ch_1" || form.Has("payment_intent") || form.Get("amount") != "700" || form.Get("reason") != "duplicate" ||
		form.Get("metadata[operationId]") != "rop_1" || form.Get("metadata[userId]") != "u1" || api.keys[0] != "refund-rop_1" {
		t.Fatalf("sent %v with key %q", form, api.keys[0])
	}
	// A purchase whose charge is not known yet is refunded through its PaymentIntent.
	rf, err = gw.CreateRefund(ctx, RefundOrder{PaymentIntentID: "pi_2", AmountCents: 100, Reason: "fraudulent", IdempotencyKey: "refund-rop_2"})
	if err != nil || rf.PaymentIntentID != "pi_2" || rf.ChargeID != "" {
		t.Fatalf("by PaymentIntent: %+v %v", rf, err)
	}
	if form := api.creates[1]; form.Get("payment_intent") != "pi_2" || form.Has("charge") || api.keys[1] != "refund-rop_2" {
		t.Fatalf("sent %v", form)
	}
}

// Stripe's refusal is definite (nothing happened); an answer without a refund is not a refund.
func TestStripeGatewayRefusals(t *testing.T) {
	_, gw := newStripeRefundsAPI(t)
	ctx := context.Background()
	_, err := gw.CreateRefund(ctx, RefundOrder{ChargeID: "ch_1", AmountCents: 400, Reason: "duplicate", IdempotencyKey: "k1"})
	if f := stripeapi.Classify(err); f == nil || f.Kind != stripeapi.Definite || f.Status != http.StatusBadRequest || f.Code != "charge_already_refunded" {
		t.Fatalf("a refusal: %v", err)
	}
	_, err = gw.CreateRefund(ctx, RefundOrder{ChargeID: "ch_1", AmountCents: 204, Reason: "duplicate", IdempotencyKey: "k2"})
	if f := stripeapi.Classify(err); f == nil || f.Kind != stripeapi.Ambiguous || f.Code != "empty_answer" {
		t.Fatalf("an answer without a refund: %v", err)
	}
	if _, err := gw.ListRefunds(ctx, "ch_missing", ""); stripeapi.KindOf(err) != stripeapi.Definite {
		t.Fatalf("listing an unknown charge: %v", err)
	}
}

// The list is Stripe's complete list of the charge's refunds (every page), else the PaymentIntent's.
func TestStripeGatewayListsEveryRefund(t *testing.T) {
	api, gw := newStripeRefundsAPI(t)
	for _, rf := range []map[string]any{
		{"id": "re_1", "charge": "ch_1", "payment_intent": "pi_1", "amount": 100, "currency": "usd", "status": "succeeded", "metadata": map[string]string{"operationId": "rop_1"}},
		{"id": "re_2", "charge": "ch_2", "payment_intent": "pi_2", "amount": 200, "currency": "usd", "status": "succeeded", "metadata": map[string]string{}},
		{"id": "re_3", "charge": "ch_1", "payment_intent": "pi_1", "amount": 300, "currency": "usd", "status": "failed", "metadata": map[string]string{}},
		{"id": "re_4", "charge": "ch_1", "payment_intent": "pi_1", "amount": 400, "currency": "usd", "status": "pending", "metadata": map[string]string{}},
	} {
		rf["object"] = "refund"
		api.refunds = append(api.refunds, rf)
	}
	got, err := gw.ListRefunds(context.Background(), "ch_1", "pi_ignored")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	var total int64
	for _, rf := range got {
		ids = append(ids, rf.ID+"/"+rf.Status)
		total += rf.AmountCents
	}
	if strings.Join(ids, ",") != "re_4/pending,re_3/failed,re_1/succeeded" || total != 800 || got[2].OperationID != "rop_1" {
		t.Fatalf("listed %v (total %d)", ids, total)
	}
	if len(api.lists) != 2 || api.lists[0].Get("charge") != "ch_1" || api.lists[0].Has("payment_intent") || api.lists[0].Get("limit") != "100" ||
		api.lists[1].Get("starting_after") != got[1].ID {
		t.Fatalf("list requests %v", api.lists)
	}
	byIntent, err := gw.ListRefunds(context.Background(), "", "pi_2")
	if err != nil || len(byIntent) != 1 || byIntent[0].ID != "re_2" || api.lists[2].Get("payment_intent") != "pi_2" || api.lists[2].Has("charge") {
		t.Fatalf("by PaymentIntent: %+v %v", byIntent, err)
	}
}
