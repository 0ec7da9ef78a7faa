//go:build integration

package payments_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/stripefault"
	"github.com/liberation/monetization/shared/blob/s3blob"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/stripeapi"
)

var admin = &caller{sub: "admin-1", email: "admin@liberation.local", groups: "[admin]"}

type refundEnv struct {
	t    *testing.T
	env  *localtest.Env
	d    *deps
	fn   manifest.Function
	user string
	inv  *stripe.Invoice
	p    payments.Payment
}

// newRefundEnv records a 999-cent payment. With a fake clock the test can age reservations.
func newRefundEnv(t *testing.T, fakeClock bool) *refundEnv {
	env := localtest.New(t)
	if fakeClock {
		env.WithFakeClock()
	}
	user, email := newUser()
	inv := invoice(999, email, time.Now())
	d := depsFor(t, env)
	p := recordInvoice(t, d, user, inv)
	drain(t, env)
	return &refundEnv{t: t, env: env, d: d, fn: manifest.MustByName("create-refund"), user: user, inv: inv, p: p}
}

// post sends POST /admin/refunds; headers nil means a fresh Idempotency-Key.
func (e *refundEnv) post(c *caller, body string, headers map[string]string) events.APIGatewayV2HTTPResponse {
	e.t.Helper()
	if headers == nil {
		headers = map[string]string{"Idempotency-Key": randID("key-")}
	}
	h := payments.HandleCreateRefund(e.fn, e.d.Store, e.d.Refunds)
	return invoke(e.t, h, apiRequest(e.fn, c, "/admin/refunds", nil, nil, body, headers))
}

func (e *refundEnv) body(amount int64, reason string) string {
	if amount == 0 {
		return fmt.Sprintf(`{"paymentId":%q,"reason":%q}`, e.p.ID, reason)
	}
	return fmt.Sprintf(`{"paymentId":%q,"amountCents":%d,"reason":%q}`, e.p.ID, amount, reason)
}

func (e *refundEnv) refunds() []payments.Refund {
	e.t.Helper()
	rs, err := (payments.Repo{S: e.d.Store}).Refunds(context.Background(), e.user, e.p.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return rs
}

// state checks the payment, its refund items, its reservation and the day's refunded counter.
func (e *refundEnv) state(wantRefunded, wantPending int64, wantStatus string, wantItems int) payments.Payment {
	e.t.Helper()
	p := mustPayment(e.t, e.d, e.p)
	if p.RefundedCents != wantRefunded || p.Status != wantStatus || p.PendingRefundCents != wantPending ||
		wantPending == 0 && len(p.PendingRefunds) != 0 {
		e.t.Fatalf("payment refunded=%d status=%s pending=%d %v; want refunded=%d status=%s pending=%d",
			p.RefundedCents, p.Status, p.PendingRefundCents, p.PendingRefunds, wantRefunded, wantStatus, wantPending)
	}
	if n := len(e.refunds()); n != wantItems {
		e.t.Fatalf("%d refund items, want %d", n, wantItems)
	}
	if c := counters(e.t, e.d, e.d.Clock.Now()); c.RefundedCents != wantRefunded {
		e.t.Fatalf("refundedCents counter = %d, want %d", c.RefundedCents, wantRefunded)
	}
	return p
}

func (e *refundEnv) chargeRefunded() {
	e.t.Helper()
	ch := &stripe.Charge{ID: e.inv.Charge.ID, PaymentIntent: &stripe.PaymentIntent{ID: e.inv.PaymentIntent.ID}}
	if err := e.d.chargeRefunded(context.Background(), ch, randID("evt_")); err != nil {
		e.t.Fatal(err)
	}
}

func TestCreateRefund(t *testing.T) {
	t.Run("PartialThenBeyondRemainderThenFull", func(t *testing.T) {
		e := newRefundEnv(t, false)
		resp := e.post(admin, e.body(300, "requested_by_customer"), nil)
		wantStatus(t, resp, http.StatusCreated)
		var out payments.CreateRefundResponse
		decodeBody(t, resp, &out)
		if !strings.HasPrefix(out.Refund.ID, "re_") || out.Refund.AmountCents != 300 || out.Refund.PaymentID != e.p.ID ||
			out.Refund.Reason != "requested_by_customer" || out.Refund.Status != "succeeded" || out.Refund.Currency != "usd" ||
			out.Payment.RefundedCents != 300 || out.Payment.Status != "partially_refunded" {
			t.Fatalf("response = %+v", out)
		}
		e.state(300, 0, payments.PaymentPartiallyRefunded, 1)
		msgs := envelopes(t, drain(t, e.env))
		if len(msgs) != 1 || msgs[0].Type != payments.MsgRefundReceipt || msgs[0].DedupeID != "refund#"+out.Refund.ID {
			t.Fatalf("refund notice messages = %+v", msgs)
		}
		// What Stripe received: our operation's key and metadata.
		reqs := e.d.Proxy.Requests(http.MethodPost, "/v1/refunds")
		if len(reqs) != 1 || !strings.HasPrefix(reqs[0].IdempotencyKey, "refund-rop_") ||
			reqs[0].Form.Get("metadata[operationId]") != strings.TrimPrefix(reqs[0].IdempotencyKey, "refund-") ||
			reqs[0].Form.Get("charge") != e.inv.Charge.ID || reqs[0].Form.Get("amount") != "300" {
			t.Fatalf("Stripe requests %+v", reqs)
		}

		resp = e.post(admin, e.body(800, "duplicate"), nil)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		if !strings.Contains(resp.Body, "remainder of 699") {
			t.Fatalf("body %s", resp.Body)
		}
		e.state(300, 0, payments.PaymentPartiallyRefunded, 1) // nothing changed

		resp = e.post(admin, e.body(0, "duplicate"), nil)
		wantStatus(t, resp, http.StatusCreated)
		decodeBody(t, resp, &out)
		if out.Refund.AmountCents != 699 || out.Payment.Status != "refunded" || out.Payment.RefundedCents != 999 {
			t.Fatalf("full refund = %+v", out)
		}
		e.state(999, 0, payments.PaymentRefunded, 2)

		resp = e.post(admin, e.body(0, "duplicate"), nil)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		e.state(999, 0, payments.PaymentRefunded, 2)
	})

	t.Run("IdempotencyKeyReplays", func(t *testing.T) {
		e := newRefundEnv(t, false)
		body := e.body(250, "requested_by_customer")
		key := map[string]string{"Idempotency-Key": randID("key-")}
		first := e.post(admin, body, key)
		wantStatus(t, first, http.StatusCreated)
		second := e.post(admin, body, key)
		wantStatus(t, second, http.StatusCreated)
		if second.Body != first.Body || second.Headers["idempotent-replayed"] != "true" {
			t.Fatalf("replay:\n%s\n%s %v", first.Body, second.Body, second.Headers)
		}
		e.state(250, 0, payments.PaymentPartiallyRefunded, 1)
		// Same key, other body: refused, nothing changes.
		resp := e.post(admin, strings.Replace(body, "250", "260", 1), key)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		e.state(250, 0, payments.PaymentPartiallyRefunded, 1)
	})

	t.Run("ErrNoIdempotencyKey", func(t *testing.T) {
		e := newRefundEnv(t, false)
		for _, h := range []map[string]string{{}, {"Idempotency-Key": ""}, {"Idempotency-Key": "   "}} {
			resp := e.post(admin, e.body(100, "duplicate"), h)
			wantStatus(t, resp, http.StatusBadRequest)
			if !strings.Contains(resp.Body, "Idempotency-Key") {
				t.Fatalf("body %s does not name the header", resp.Body)
			}
		}
		e.state(0, 0, payments.PaymentSucceeded, 0)
		if n := len(e.d.Proxy.Requests("", "")); n != 0 {
			t.Fatalf("%d Stripe requests", n)
		}
	})

	t.Run("WebhookConvergesOnStripesList", func(t *testing.T) {
		e := newRefundEnv(t, false)
		resp := e.post(admin, e.body(400, "fraudulent"), nil)
		wantStatus(t, resp, http.StatusCreated)
		for i := 0; i < 3; i++ { // charge.refunded (which carries no refunds) delivered three times
			e.chargeRefunded()
		}
		e.state(400, 0, payments.PaymentPartiallyRefunded, 1)
		// A Dashboard refund: booked under its own id, once.
		e.d.Proxy.AddRefund(map[string]any{"id": "re_dash_" + e.p.ID, "object": "refund", "amount": 250, "currency": "usd",
			"charge": e.inv.Charge.ID, "status": "succeeded", "metadata": map[string]string{}})
		e.chargeRefunded()
		e.chargeRefunded()
		e.state(650, 0, payments.PaymentPartiallyRefunded, 2)
		// It fails later (charge.refund.updated): taken back out of the books and the counter.
		e.d.Proxy.SetRefundStatus("re_dash_"+e.p.ID, "failed")
		e.chargeRefunded()
		e.state(400, 0, payments.PaymentPartiallyRefunded, 2)
	})

	t.Run("AmbiguousFailureKeptThenResolved", func(t *testing.T) {
		e := newRefundEnv(t, false)
		// Stripe refunds but the answer is lost (both of stripe-go's attempts), and the immediate
		// look-up at its list fails too.
		e.d.Proxy.Inject(stripefault.Fault{Method: http.MethodPost, Path: "/v1/refunds", Kind: stripefault.Drop, Times: 2})
		e.d.Proxy.Inject(stripefault.Fault{Method: http.MethodGet, Path: "/v1/refunds", Kind: stripefault.Status, Status: 500})
		key := map[string]string{"Idempotency-Key": randID("key-")}
		resp := e.post(admin, e.body(500, "duplicate"), key)
		wantStatus(t, resp, http.StatusServiceUnavailable)
		e.state(0, 500, payments.PaymentSucceeded, 0) // kept: Stripe may have refunded — it did
		made := e.d.Proxy.Refunds(e.inv.Charge.ID)
		if len(made) != 1 {
			t.Fatalf("Stripe holds %d refunds, want 1", len(made))
		}
		e.chargeRefunded() // the webhook books it under the real id and clears the reservation
		e.state(500, 0, payments.PaymentPartiallyRefunded, 1)
		if rs := e.refunds(); rs[0].ID != made[0]["id"] || rs[0].Source != payments.RefundSourceAdmin {
			t.Fatalf("booked %+v, want %v", rs[0], made[0]["id"])
		}
		resp = e.post(admin, e.body(500, "duplicate"), key) // the admin's retry returns that refund
		wantStatus(t, resp, http.StatusCreated)
		var out payments.CreateRefundResponse
		decodeBody(t, resp, &out)
		if out.Refund.ID != made[0]["id"] {
			t.Fatalf("retry answered %+v", out.Refund)
		}
		e.state(500, 0, payments.PaymentPartiallyRefunded, 1)
		if n := len(e.d.Proxy.Refunds(e.inv.Charge.ID)); n != 1 {
			t.Fatalf("Stripe holds %d refunds after the retry", n)
		}
	})

	t.Run("ErrNotAdmin", func(t *testing.T) {
		e := newRefundEnv(t, false)
		learner := &caller{sub: e.user, email: "learner@example.com", groups: "[instructor]"}
		wantStatus(t, e.post(learner, e.body(0, "duplicate"), nil), http.StatusForbidden)
		wantStatus(t, e.post(nil, `{}`, nil), http.StatusUnauthorized)
		e.state(0, 0, payments.PaymentSucceeded, 0)
	})

	t.Run("Validation", func(t *testing.T) {
		e := newRefundEnv(t, false)
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
			{"ErrBeyondAmount", e.body(1000, "duplicate"), http.StatusUnprocessableEntity},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				wantStatus(t, e.post(admin, tt.body, nil), tt.status)
			})
		}
		e.state(0, 0, payments.PaymentSucceeded, 0)
	})
}

// The resolve-refunds job on moto: pending operations are found through the sparse GSI2 index.
func TestResolveRefundsJob(t *testing.T) {
	e := newRefundEnv(t, true)
	// Operation A reached Stripe and its answer was lost; operation B never reached Stripe.
	e.d.Proxy.Inject(stripefault.Fault{Method: http.MethodPost, Path: "/v1/refunds", Kind: stripefault.Drop, Times: 2})
	e.d.Proxy.Inject(stripefault.Fault{Method: http.MethodGet, Path: "/v1/refunds", Kind: stripefault.Status, Status: 500})
	wantStatus(t, e.post(admin, e.body(300, "duplicate"), nil), http.StatusServiceUnavailable)
	e.d.Proxy.Inject(stripefault.Fault{Method: http.MethodPost, Path: "/v1/refunds", Kind: stripefault.Status, Status: 500})
	e.d.Proxy.Inject(stripefault.Fault{Method: http.MethodGet, Path: "/v1/refunds", Kind: stripefault.Status, Status: 500})
	wantStatus(t, e.post(admin, e.body(200, "duplicate"), nil), http.StatusServiceUnavailable)
	e.state(0, 500, payments.PaymentSucceeded, 0)

	rep, err := e.d.Refunds.ResolveStale(context.Background())
	if err != nil || rep != (payments.ResolveReport{}) {
		t.Fatalf("fresh reservations are left alone: %+v %v", rep, err)
	}
	e.env.Clock.Advance(payments.ResolutionWindow + time.Minute)
	rep, err = e.d.Refunds.ResolveStale(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (payments.ResolveReport{Checked: 2, Payments: 1, Booked: 1, Released: 1}); rep != want {
		t.Fatalf("report %+v, want %+v", rep, want)
	}
	e.state(300, 0, payments.PaymentPartiallyRefunded, 1)
	if rep, err := e.d.Refunds.ResolveStale(context.Background()); err != nil || rep.Checked != 0 {
		t.Fatalf("second run %+v %v: resolved operations leave the index", rep, err)
	}
	if n := localtest.AuditCount(t, e.d.Store, e.d.Clock.Now(), "refund.resolve"); n != 1 {
		t.Fatalf("%d refund.resolve audit records, want 1", n)
	}
}

func TestRefundNoticeEmail(t *testing.T) {
	e := newRefundEnv(t, false)
	// The receipt first: it is stored, and stays as it is.
	if r := consume(t, e.d, drainReceipt(t, e)...); len(r.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v", r.BatchItemFailures)
	}
	receiptKey := payments.ReceiptObjectKey(e.user, e.p.ID)
	receipt := object(t, e.d, receiptKey)

	resp := e.post(admin, e.body(300, "requested_by_customer"), nil)
	wantStatus(t, resp, http.StatusCreated)
	var out payments.CreateRefundResponse
	decodeBody(t, resp, &out)
	e.chargeRefunded() // the webhook reports the same refund: its notice has the same dedupe id
	msgs := drain(t, e.env)
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	if r := consume(t, e.d, msgs...); len(r.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v", r.BatchItemFailures)
	}
	if n := e.d.Sent.Load(); n != 2 {
		t.Fatalf("%d e-mails sent, want the receipt and one refund notice", n)
	}
	email := e.p.CustomerEmail
	found := e.env.Mailpit.WaitFor(t, "to:"+email+" subject:refund", 1)
	m := e.env.Mailpit.Get(t, found[0].ID)
	if !strings.Contains(m.Subject, "refund of $3.00") || !strings.Contains(m.Text, out.Refund.ID) || len(m.Attachments) != 1 {
		t.Fatalf("notice %q\n%s", m.Subject, m.Text)
	}
	pdf := e.env.Mailpit.Attachment(t, m.ID, m.Attachments[0].PartID)
	note := object(t, e.d, payments.CreditNoteObjectKey(e.user, e.p.ID, out.Refund.ID))
	if !bytes.Equal(pdf, note) || !bytes.Contains(pdf, []byte("CREDIT NOTE")) || !bytes.Contains(pdf, []byte("-$3.00")) {
		t.Fatal("the notice's attachment is not the refund's credit note")
	}
	if !bytes.Equal(object(t, e.d, receiptKey), receipt) {
		t.Fatal("the refund changed the payment's receipt PDF")
	}
}

// drainReceipt drains the receipt message a recorded payment queued.
func drainReceipt(t *testing.T, e *refundEnv) []events.SQSMessage {
	t.Helper()
	if err := e.d.invoicePaid(context.Background(), e.user, e.inv, randID("evt_")); err != nil {
		t.Fatal(err)
	}
	return drain(t, e.env)
}

func object(t *testing.T, d *deps, key string) []byte {
	t.Helper()
	obj, err := d.Blobs.(*s3blob.Bucket).Client.GetObject(context.Background(), &s3.GetObjectInput{
		Bucket: aws.String(d.Config.BucketName), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	defer obj.Body.Close()
	b, _ := io.ReadAll(obj.Body)
	return b
}

// Racing refunds: a refund in flight (reserved, not yet booked) counts against the remainder, so a
// second admin cannot refund it again. The atomicity of the versioned reservation write itself is
// DynamoDB's guarantee (see payments.TestRepoPaymentVersioning); concurrent requests are raced end to end
// in infra/local/e2e.
func TestRefundInFlightCountsAgainstRemainder(t *testing.T) {
	e := newRefundEnv(t, false)
	ctx := context.Background()
	p := mustPayment(t, e.d, e.p)
	p.PendingRefunds = map[string]int64{"rop_other_admin": 700}
	p.PendingRefundCents = 700
	if err := (payments.Repo{S: e.d.Store}).Apply(ctx, payments.Change{Payment: p}); err != nil {
		t.Fatal(err)
	}
	resp := e.post(admin, e.body(300, "duplicate"), nil)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	if !strings.Contains(resp.Body, "remainder of 299") {
		t.Fatalf("body %s", resp.Body)
	}
	resp = e.post(admin, e.body(0, "duplicate"), nil)
	wantStatus(t, resp, http.StatusCreated)
	var out payments.CreateRefundResponse
	decodeBody(t, resp, &out)
	got := mustPayment(t, e.d, e.p)
	if out.Refund.AmountCents != 299 || got.RefundedCents != 299 || got.PendingRefundCents != 700 || got.PendingRefunds["rop_other_admin"] != 700 {
		t.Fatalf("refund %+v; payment refunded=%d pending=%d %v", out.Refund, got.RefundedCents, got.PendingRefundCents, got.PendingRefunds)
	}
}

// Only a definite refusal frees the reservation; a 5xx keeps it for Stripe's list to resolve.
func TestRefundStripeErrors(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		body        string
		want        int
		wantPending int64
	}{
		{"ErrRefusedReleases", http.StatusBadRequest,
			`{"error":{"type":"invalid_request_error","code":"charge_already_refunded","message":"Charge has already been refunded."}}`,
			http.StatusUnprocessableEntity, 0},
		{"ErrStripeDownKeeps", http.StatusInternalServerError, `{"error":{"type":"api_error","message":"boom"}}`,
			http.StatusServiceUnavailable, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRefundEnv(t, false)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Stripe-Should-Retry", "false")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			e.d.Refunds.Stripe = payments.StripeGateway(stripeapi.New(localtest.StripeKey, srv.URL, 10*time.Second))
			resp := e.post(admin, e.body(100, "duplicate"), nil)
			wantStatus(t, resp, tt.want)
			if strings.Contains(resp.Body, "boom") {
				t.Fatalf("dependency error leaked: %s", resp.Body)
			}
			e.state(0, tt.wantPending, payments.PaymentSucceeded, 0)
		})
	}
}
