//go:build integration

package payments_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

var admin = &caller{sub: "admin-1", email: "admin@liberation.local", groups: "[admin]"}

type refundEnv struct {
	t    *testing.T
	env  *localtest.Env
	d    *payments.Deps
	fn   manifest.Function
	h    any
	user string
	inv  *stripe.Invoice
	p    store.Payment
}

func newRefundEnv(t *testing.T) *refundEnv {
	env := localtest.New(t)
	fn := manifest.MustByName("create-refund")
	user, email := newUser()
	inv := invoice(999, email, time.Now())
	d := depsFor(t, env)
	p := recordInvoice(t, d, user, inv)
	drain(t, env)
	return &refundEnv{t: t, env: env, d: d, fn: fn, h: payments.HandleCreateRefund(fn, d), user: user, inv: inv, p: p}
}

func (e *refundEnv) post(c *caller, body string, headers map[string]string) events.APIGatewayV2HTTPResponse {
	e.t.Helper()
	return invoke(e.t, e.h, apiRequest(e.fn, c, "/admin/refunds", nil, nil, body, headers))
}

func (e *refundEnv) refunds() []store.Refund {
	e.t.Helper()
	rs, err := e.d.Store.ListRefunds(context.Background(), e.user, e.p.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return rs
}

func (e *refundEnv) state(wantRefunded int64, wantStatus string, wantItems int) store.Payment {
	e.t.Helper()
	p := mustPayment(e.t, e.d, e.p)
	if p.RefundedCents != wantRefunded || p.Status != wantStatus || p.PendingRefundCents != 0 || len(p.PendingRefunds) != 0 {
		e.t.Fatalf("payment refunded=%d status=%s pending=%d %v; want refunded=%d status=%s pending=0",
			p.RefundedCents, p.Status, p.PendingRefundCents, p.PendingRefunds, wantRefunded, wantStatus)
	}
	if n := len(e.refunds()); n != wantItems {
		e.t.Fatalf("%d refund items, want %d", n, wantItems)
	}
	if c := counters(e.t, e.d, e.d.Clock.Now()); c.RefundedCents != wantRefunded {
		e.t.Fatalf("refundedCents counter = %d, want %d", c.RefundedCents, wantRefunded)
	}
	return p
}

func TestCreateRefund(t *testing.T) {
	t.Run("PartialThenBeyondRemainderThenFull", func(t *testing.T) {
		e := newRefundEnv(t)
		resp := e.post(admin, fmt.Sprintf(`{"paymentId":%q,"amountCents":300,"reason":"requested_by_customer"}`, e.p.ID), nil)
		wantStatus(t, resp, http.StatusCreated)
		var out payments.CreateRefundResponse
		decodeBody(t, resp, &out)
		if !strings.HasPrefix(out.Refund.ID, "re_") || out.Refund.AmountCents != 300 || out.Refund.PaymentID != e.p.ID ||
			out.Refund.Reason != "requested_by_customer" || out.Refund.Status != "succeeded" || out.Refund.Currency != "usd" ||
			out.Payment.RefundedCents != 300 || out.Payment.Status != "partially_refunded" {
			t.Fatalf("response = %+v", out)
		}
		e.state(300, store.PaymentPartiallyRefunded, 1)
		msgs := envelopes(t, drain(t, e.env))
		if len(msgs) != 1 || msgs[0].Type != payments.MsgRefundReceipt || msgs[0].DedupeID != "refund#"+out.Refund.ID {
			t.Fatalf("refund notice messages = %+v", msgs)
		}

		resp = e.post(admin, fmt.Sprintf(`{"paymentId":%q,"amountCents":800,"reason":"duplicate"}`, e.p.ID), nil)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		if !strings.Contains(resp.Body, "remainder of 699") {
			t.Fatalf("body %s", resp.Body)
		}
		e.state(300, store.PaymentPartiallyRefunded, 1) // nothing changed

		resp = e.post(admin, fmt.Sprintf(`{"paymentId":%q,"reason":"duplicate"}`, e.p.ID), nil)
		wantStatus(t, resp, http.StatusCreated)
		decodeBody(t, resp, &out)
		if out.Refund.AmountCents != 699 || out.Payment.Status != "refunded" || out.Payment.RefundedCents != 999 {
			t.Fatalf("full refund = %+v", out)
		}
		e.state(999, store.PaymentRefunded, 2)

		resp = e.post(admin, fmt.Sprintf(`{"paymentId":%q,"reason":"duplicate"}`, e.p.ID), nil)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		e.state(999, store.PaymentRefunded, 2)
	})

	t.Run("IdempotencyKeyReplays", func(t *testing.T) {
		e := newRefundEnv(t)
		body := fmt.Sprintf(`{"paymentId":%q,"amountCents":250,"reason":"requested_by_customer"}`, e.p.ID)
		key := map[string]string{"Idempotency-Key": randID("key-")}
		first := e.post(admin, body, key)
		wantStatus(t, first, http.StatusCreated)
		second := e.post(admin, body, key)
		wantStatus(t, second, http.StatusCreated)
		if second.Body != first.Body || second.Headers["idempotent-replayed"] != "true" {
			t.Fatalf("replay:\n%s\n%s %v", first.Body, second.Body, second.Headers)
		}
		e.state(250, store.PaymentPartiallyRefunded, 1)
		// Same key, other body: refused, nothing changes.
		resp := e.post(admin, strings.Replace(body, "250", "260", 1), key)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		e.state(250, store.PaymentPartiallyRefunded, 1)
	})

	t.Run("ChargeRefundedAfterOwnRefundCountsOnce", func(t *testing.T) {
		e := newRefundEnv(t)
		resp := e.post(admin, fmt.Sprintf(`{"paymentId":%q,"amountCents":400,"reason":"fraudulent"}`, e.p.ID), nil)
		wantStatus(t, resp, http.StatusCreated)
		var out payments.CreateRefundResponse
		decodeBody(t, resp, &out)
		ctx := context.Background()
		withList := &stripe.Charge{ID: e.inv.Charge.ID, Amount: 999, AmountRefunded: 400,
			PaymentIntent: &stripe.PaymentIntent{ID: e.inv.PaymentIntent.ID},
			Refunds: &stripe.RefundList{Data: []*stripe.Refund{{ID: out.Refund.ID, Amount: 400, Currency: "usd",
				Status: "succeeded", Metadata: map[string]string{"operationId": "rop_x", "paymentId": e.p.ID}}}}}
		amountOnly := &stripe.Charge{ID: e.inv.Charge.ID, Amount: 999, AmountRefunded: 400}
		for _, ch := range []*stripe.Charge{withList, amountOnly, withList} {
			if err := payments.ApplyChargeRefunded(ctx, e.d, ch, randID("evt_")); err != nil {
				t.Fatal(err)
			}
		}
		e.state(400, store.PaymentPartiallyRefunded, 1)
		// Every notice queued for this refund carries its one dedupe id.
		for _, m := range envelopes(t, drain(t, e.env)) {
			if m.DedupeID != "refund#"+out.Refund.ID {
				t.Fatalf("unexpected message %+v", m)
			}
		}

		// A Dashboard refund reported without its refund objects is recorded once as a sync refund.
		dash := &stripe.Charge{ID: e.inv.Charge.ID, Amount: 999, AmountRefunded: 650}
		for i := 0; i < 2; i++ {
			if err := payments.ApplyChargeRefunded(ctx, e.d, dash, randID("evt_")); err != nil {
				t.Fatal(err)
			}
		}
		e.state(650, store.PaymentPartiallyRefunded, 2)
		// A later event listing a Dashboard refund by id adds it; an older total never lowers.
		full := &stripe.Charge{ID: e.inv.Charge.ID, Amount: 999, AmountRefunded: 999,
			Refunds: &stripe.RefundList{Data: []*stripe.Refund{{ID: "re_dash_final", Amount: 349, Status: "succeeded"}}}}
		for _, ch := range []*stripe.Charge{full, dash, full} {
			if err := payments.ApplyChargeRefunded(ctx, e.d, ch, randID("evt_")); err != nil {
				t.Fatal(err)
			}
		}
		e.state(999, store.PaymentRefunded, 3)
	})

	t.Run("WebhookFinishesACrashedRefund", func(t *testing.T) {
		// The route reserved and refunded at Stripe, then died before booking. The webhook's refund
		// carries our operation id: it records the refund and clears the reservation.
		e := newRefundEnv(t)
		ctx := context.Background()
		p := mustPayment(t, e.d, e.p)
		p.PendingRefunds = map[string]int64{"rop_crashed": 500}
		p.PendingRefundCents = 500
		it, err := store.PutPaymentItem(&p)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.d.Store.Transact(ctx, []types.TransactWriteItem{it}); err != nil {
			t.Fatal(err)
		}
		// Without the refund list the increase could be the in-flight refund: retry later.
		if err := payments.ApplyChargeRefunded(ctx, e.d, &stripe.Charge{ID: e.inv.Charge.ID, AmountRefunded: 500}, "evt_1"); !errors.Is(err, payments.ErrRefundInFlight) {
			t.Fatalf("want ErrRefundInFlight, got %v", err)
		}
		ch := &stripe.Charge{ID: e.inv.Charge.ID, AmountRefunded: 500, Refunds: &stripe.RefundList{Data: []*stripe.Refund{{
			ID: "re_crashed", Amount: 500, Status: "succeeded", Metadata: map[string]string{"operationId": "rop_crashed"}}}}}
		if err := payments.ApplyChargeRefunded(ctx, e.d, ch, "evt_2"); err != nil {
			t.Fatal(err)
		}
		e.state(500, store.PaymentPartiallyRefunded, 1)
	})

	t.Run("ErrNotAdmin", func(t *testing.T) {
		e := newRefundEnv(t)
		learner := &caller{sub: e.user, email: "learner@example.com", groups: "[instructor]"}
		resp := e.post(learner, fmt.Sprintf(`{"paymentId":%q,"reason":"duplicate"}`, e.p.ID), nil)
		wantStatus(t, resp, http.StatusForbidden)
		wantStatus(t, e.post(nil, `{}`, nil), http.StatusUnauthorized)
		e.state(0, store.PaymentSucceeded, 0)
	})

	t.Run("Validation", func(t *testing.T) {
		e := newRefundEnv(t)
		tests := []struct {
			name, body string
			status     int
		}{
			{"ErrBadJSON", `{`, http.StatusBadRequest},
			{"ErrUnknownField", fmt.Sprintf(`{"paymentId":%q,"reason":"duplicate","refundedCents":0}`, e.p.ID), http.StatusBadRequest},
			{"ErrBadPaymentID", `{"paymentId":"USER#x","reason":"duplicate"}`, http.StatusBadRequest},
			{"ErrZeroAmount", fmt.Sprintf(`{"paymentId":%q,"amountCents":0,"reason":"duplicate"}`, e.p.ID), http.StatusBadRequest},
			{"ErrNegativeAmount", fmt.Sprintf(`{"paymentId":%q,"amountCents":-5,"reason":"duplicate"}`, e.p.ID), http.StatusBadRequest},
			{"ErrFractionalAmount", fmt.Sprintf(`{"paymentId":%q,"amountCents":9.99,"reason":"duplicate"}`, e.p.ID), http.StatusBadRequest},
			{"ErrReason", fmt.Sprintf(`{"paymentId":%q,"reason":"because"}`, e.p.ID), http.StatusBadRequest},
			{"ErrNoReason", fmt.Sprintf(`{"paymentId":%q}`, e.p.ID), http.StatusBadRequest},
			{"ErrUnknownPayment", `{"paymentId":"pay_01ARZ3NDEKTSV4RRFFQ69G5FAV","reason":"duplicate"}`, http.StatusNotFound},
			{"ErrBeyondAmount", fmt.Sprintf(`{"paymentId":%q,"amountCents":1000,"reason":"duplicate"}`, e.p.ID), http.StatusUnprocessableEntity},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				wantStatus(t, e.post(admin, tt.body, nil), tt.status)
			})
		}
		e.state(0, store.PaymentSucceeded, 0)
	})
}

func TestRefundNoticeEmail(t *testing.T) {
	e := newRefundEnv(t)
	resp := e.post(admin, fmt.Sprintf(`{"paymentId":%q,"amountCents":300,"reason":"requested_by_customer"}`, e.p.ID), nil)
	wantStatus(t, resp, http.StatusCreated)
	var out payments.CreateRefundResponse
	decodeBody(t, resp, &out)
	// The webhook reports the same refund: its notice has the same dedupe id.
	ch := &stripe.Charge{ID: e.inv.Charge.ID, AmountRefunded: 300,
		Refunds: &stripe.RefundList{Data: []*stripe.Refund{{ID: out.Refund.ID, Amount: 300, Status: "succeeded"}}}}
	if err := payments.ApplyChargeRefunded(context.Background(), e.d, ch, "evt_r"); err != nil {
		t.Fatal(err)
	}
	msgs := drain(t, e.env)
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	if r := consume(t, e.d, msgs...); len(r.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v", r.BatchItemFailures)
	}
	email := e.p.CustomerEmail
	e.env.Mailpit.WaitFor(t, "to:"+email, 1)
	time.Sleep(300 * time.Millisecond)
	found := e.env.Mailpit.Search(t, "to:"+email)
	if len(found) != 1 {
		t.Fatalf("%d e-mails, want 1", len(found))
	}
	m := e.env.Mailpit.Get(t, found[0].ID)
	if !strings.Contains(m.Subject, "refund of $3.00") || !strings.Contains(m.Text, out.Refund.ID) || len(m.Attachments) != 1 {
		t.Fatalf("notice %q\n%s", m.Subject, m.Text)
	}
	pdf := e.env.Mailpit.Attachment(t, m.ID, m.Attachments[0].PartID)
	if !strings.Contains(string(pdf), "$6.99") { // net after the refund
		t.Fatal("updated receipt PDF lacks the net amount")
	}
}

// Racing refunds: a refund in flight (reserved, not yet booked) counts against the remainder, so a
// second admin cannot refund it again. The atomicity of the versioned reservation write itself is
// DynamoDB's guarantee (see store.TestPaymentVersioning); it is not raced here because moto's
// TransactWriteItems is not atomic under concurrent requests (observed: 2 of 30 writers on one
// version both succeeding), which would make a concurrent test flaky for moto's sake.
func TestRefundInFlightCountsAgainstRemainder(t *testing.T) {
	e := newRefundEnv(t)
	ctx := context.Background()
	p := mustPayment(t, e.d, e.p)
	p.PendingRefunds = map[string]int64{"rop_other_admin": 700}
	p.PendingRefundCents = 700
	it, err := store.PutPaymentItem(&p)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.d.Store.Transact(ctx, []types.TransactWriteItem{it}); err != nil {
		t.Fatal(err)
	}
	resp := e.post(admin, fmt.Sprintf(`{"paymentId":%q,"amountCents":300,"reason":"duplicate"}`, e.p.ID), nil)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	if !strings.Contains(resp.Body, "remainder of 299") {
		t.Fatalf("body %s", resp.Body)
	}
	resp = e.post(admin, fmt.Sprintf(`{"paymentId":%q,"reason":"duplicate"}`, e.p.ID), nil)
	wantStatus(t, resp, http.StatusCreated)
	var out payments.CreateRefundResponse
	decodeBody(t, resp, &out)
	got := mustPayment(t, e.d, e.p)
	if out.Refund.AmountCents != 299 || got.RefundedCents != 299 || got.PendingRefundCents != 700 || got.PendingRefunds["rop_other_admin"] != 700 {
		t.Fatalf("refund %+v; payment refunded=%d pending=%d %v", out.Refund, got.RefundedCents, got.PendingRefundCents, got.PendingRefunds)
	}
}

func TestRefundStripeErrorsReleaseTheReservation(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   int
	}{
		{"ErrRefused", http.StatusBadRequest,
			`{"error":{"type":"invalid_request_error","code":"charge_already_refunded","message":"Charge has already been refunded."}}`,
			http.StatusUnprocessableEntity},
		{"ErrStripeDown", http.StatusInternalServerError, `{"error":{"type":"api_error","message":"boom"}}`, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRefundEnv(t)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Stripe-Should-Retry", "false")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			e.d.Stripe = stripeapi.New(localtest.StripeKey, srv.URL, 10*time.Second)
			resp := e.post(admin, fmt.Sprintf(`{"paymentId":%q,"amountCents":100,"reason":"duplicate"}`, e.p.ID), nil)
			wantStatus(t, resp, tt.want)
			if strings.Contains(resp.Body, "boom") {
				t.Fatalf("dependency error leaked: %s", resp.Body)
			}
			e.state(0, store.PaymentSucceeded, 0) // reservation released, nothing booked
		})
	}
}
