package payments

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/idempotency/idemtest"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

func adminRequest(body string, headers map[string]string) events.APIGatewayV2HTTPRequest {
	fn := manifest.MustByName("create-refund")
	h := map[string]string{"content-type": "application/json"}
	for k, v := range headers {
		h[k] = v
	}
	return events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: fn.RouteKey(), RawPath: "/admin/refunds", Headers: h, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/admin/refunds"},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": admin, "email": "ops@example.com", "email_verified": "true", "cognito:groups": "[admin]"}}}}}
}

func TestCreateRefundRequiresAnIdempotencyKey(t *testing.T) {
	w := newWorld(t)
	h := HandleCreateRefund(manifest.MustByName("create-refund"), idemtest.New(w.clock), w.f)
	body := `{"paymentId":"` + w.p.ID + `","amountCents":700,"reason":"duplicate"}`
	tests := []struct {
		name    string
		headers map[string]string
		status  int
		message string
	}{
		{"Absent", nil, http.StatusBadRequest, "the Idempotency-Key header is required on this route"},
		{"Empty", map[string]string{"idempotency-key": ""}, http.StatusBadRequest, "Idempotency-Key must not be empty"},
		{"Blank", map[string]string{"idempotency-key": "  \t"}, http.StatusBadRequest, "Idempotency-Key must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := h(context.Background(), adminRequest(body, tt.headers))
			if err != nil {
				t.Fatal(err)
			}
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			_ = json.Unmarshal([]byte(resp.Body), &e)
			if resp.StatusCode != tt.status || e.Error.Code != "invalid" || e.Error.Message != tt.message {
				t.Fatalf("%d %s", resp.StatusCode, resp.Body)
			}
		})
	}
	w.books(0, 0, 0)
	if w.stripe.createCount() != 0 {
		t.Fatal("Stripe was called without a key")
	}
	first, _ := h(context.Background(), adminRequest(body, map[string]string{"idempotency-key": "k-1"}))
	again, _ := h(context.Background(), adminRequest(body, map[string]string{"idempotency-key": "k-1"}))
	if first.StatusCode != http.StatusCreated || again.Body != first.Body || again.Headers["idempotent-replayed"] != "true" {
		t.Fatalf("%d %s / %s %v", first.StatusCode, first.Body, again.Body, again.Headers)
	}
	w.books(700, 0, 1)
}

// userRequest is an API Gateway HTTP API event of route fn by user sub ("" for no token).
func userRequest(fn manifest.Function, sub, path string, pathParams, query map[string]string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: fn.RouteKey(), RawPath: path, PathParameters: pathParams,
		QueryStringParameters: query, Headers: map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: fn.Trigger.Method, Path: path}}}
	if sub != "" {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
			Claims: map[string]string{"sub": sub, "email": sub + "@example.com", "email_verified": "true"}}}
	}
	return ev
}

// serve runs a route and checks its status; out (when set) receives the body.
func serve(t *testing.T, h func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error),
	ev events.APIGatewayV2HTTPRequest, status int, out any) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := h(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, resp.Body)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(resp.Body), out); err != nil {
			t.Fatalf("body %q: %v", resp.Body, err)
		}
	}
	return resp
}

// The payment history routes on each backend: the fake the rules use and Repo over the table.
func TestListPaymentsRoute(t *testing.T) {
	for _, be := range ledgerBackends {
		t.Run(be.name, func(t *testing.T) {
			b := be.new(t)
			fn := manifest.MustByName("list-payments")
			h := HandleListPayments(fn, b.l)
			base := time.Now().UTC().Add(-10 * 24 * time.Hour).Truncate(time.Second)
			var want []string // newest first
			for i := 0; i < 5; i++ {
				p := contractPayment(base.Add(time.Duration(i) * time.Hour))
				p.UserID, p.AmountCents, p.InvoiceID = "u1", int64(100+i), "in_"+strconv.Itoa(i)
				mustCreate(t, b.l, p, p.InvoiceID)
				want = append([]string{p.ID}, want...)
			}
			mustCreate(t, b.l, contractPayment(base), "in_other")

			var got []string
			cursor := ""
			for page := 0; ; page++ {
				if page > 3 {
					t.Fatal("too many pages")
				}
				q := map[string]string{"limit": "2"}
				if cursor != "" {
					q["cursor"] = cursor
				}
				var body ListPaymentsResponse
				resp := serve(t, h, userRequest(fn, "u1", "/payments", nil, q), http.StatusOK, &body)
				if strings.Contains(resp.Body, `"PK"`) || strings.Contains(resp.Body, "USER#") || strings.Contains(resp.Body, "GSI") {
					t.Fatalf("internal keys exposed: %s", resp.Body)
				}
				if len(body.Payments) > 2 {
					t.Fatalf("page of %d", len(body.Payments))
				}
				for _, v := range body.Payments {
					got = append(got, v.ID)
					if v.Currency != "usd" || v.Kind != "subscription" || v.Status != "succeeded" || v.InvoiceID == "" || v.AmountCents < 100 {
						t.Fatalf("view = %+v", v)
					}
					if _, err := time.Parse(time.RFC3339, v.CreatedAt); err != nil {
						t.Fatalf("createdAt %q: %v", v.CreatedAt, err)
					}
				}
				if body.NextCursor == "" {
					break
				}
				cursor = body.NextCursor
				// Another user cannot replay my cursor.
				serve(t, h, userRequest(fn, "u2", "/payments", nil, map[string]string{"cursor": cursor}), http.StatusBadRequest, nil)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("ids = %v\nwant  %v (newest first, no other user's)", got, want)
			}
			var empty map[string]any
			serve(t, h, userRequest(fn, "u3", "/payments", nil, nil), http.StatusOK, &empty)
			if ps, ok := empty["payments"].([]any); !ok || len(ps) != 0 || empty["nextCursor"] != nil {
				t.Fatalf("a user without payments: %v (want an empty list, no cursor)", empty)
			}
			for _, lim := range []string{"0", "101", "x", ""} {
				serve(t, h, userRequest(fn, "u1", "/payments", nil, map[string]string{"limit": lim}), http.StatusBadRequest, nil)
			}
			serve(t, h, userRequest(fn, "", "/payments", nil, nil), http.StatusUnauthorized, nil)
		})
	}
}

func TestGetPaymentRoute(t *testing.T) {
	for _, be := range ledgerBackends {
		t.Run(be.name, func(t *testing.T) {
			b := be.new(t)
			fn := manifest.MustByName("get-payment")
			h := HandleGetPayment(fn, b.l)
			now := time.Now().UTC().Truncate(time.Second)
			p := contractPayment(now)
			p.UserID, p.InvoiceID, p.Description = "u1", "in_1", "1 × Pro"
			mustCreate(t, b.l, p, "in_1")
			get := func(sub, id string, status int, out any) {
				t.Helper()
				serve(t, h, userRequest(fn, sub, "/payments/"+id, map[string]string{"paymentId": id}, nil), status, out)
			}
			var v PaymentView
			get("u1", p.ID, http.StatusOK, &v)
			want := PaymentView{ID: p.ID, AmountCents: 1000, Currency: "usd", Status: "succeeded", Kind: "subscription",
				Description: "1 × Pro", CreatedAt: now.Format(time.RFC3339), InvoiceID: "in_1"}
			if v != want {
				t.Fatalf("view = %+v\nwant   %+v", v, want)
			}
			get("u2", p.ID, http.StatusNotFound, nil) // another user's payment is not theirs to see
			get("u1", newPaymentID(now), http.StatusNotFound, nil)
			for _, id := range []string{"x", "pay_", "pay_01ARZ3NDEKTSV4RRFFQ69G5FA!", "USER#x"} {
				get("u1", id, http.StatusBadRequest, nil)
			}
			get("", p.ID, http.StatusUnauthorized, nil)
		})
	}
}

// fakeLinks presigns a fixed URL and remembers what it was asked.
type fakeLinks struct {
	objs []blob.Object
	ttls []time.Duration
	err  error
}

func (f *fakeLinks) PresignGet(_ context.Context, o blob.Object, ttl time.Duration) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	f.objs, f.ttls = append(f.objs, o), append(f.ttls, ttl)
	return "https://bucket.example/" + o.Key + "?X-Amz-Expires=" + strconv.Itoa(int(ttl.Seconds())), nil
}

func TestGetReceiptRoute(t *testing.T) {
	for _, be := range ledgerBackends {
		t.Run(be.name, func(t *testing.T) {
			b := be.new(t)
			ctx := context.Background()
			clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
			links := &fakeLinks{}
			fn := manifest.MustByName("get-receipt")
			h := HandleGetReceipt(fn, b.l, links, clk)
			p := contractPayment(clk.Now())
			p.UserID = "u1"
			mustCreate(t, b.l, p, "in_1")
			get := func(sub string, status int, out any) events.APIGatewayV2HTTPResponse {
				t.Helper()
				return serve(t, h, userRequest(fn, sub, "/payments/"+p.ID+"/receipt", map[string]string{"paymentId": p.ID}, nil), status, out)
			}
			if resp := get("u1", http.StatusConflict, nil); !strings.Contains(resp.Body, "still being prepared") {
				t.Fatalf("before the receipt is rendered: %s", resp.Body)
			}
			key := ReceiptObjectKey("u1", p.ID)
			if err := b.l.SetReceiptKey(ctx, "u1", p.ID, key); err != nil {
				t.Fatal(err)
			}
			var link ReceiptLink
			get("u1", http.StatusOK, &link)
			if link.URL != "https://bucket.example/"+key+"?X-Amz-Expires=300" || link.ExpiresAt != "2026-03-01T12:05:00Z" {
				t.Fatalf("link %+v", link)
			}
			if len(links.objs) != 1 || links.ttls[0] != ReceiptLinkTTL || links.objs[0] != (blob.Object{Key: key,
				ContentType: "application/pdf", ContentDisposition: `inline; filename="receipt-` + p.ID + `.pdf"`}) {
				t.Fatalf("presigned %+v for %v", links.objs, links.ttls)
			}
			get("u2", http.StatusNotFound, nil)
			if len(links.objs) != 1 {
				t.Fatal("a link was signed for another user")
			}
			links.err = apperr.New(apperr.Unavailable, "s3 down")
			get("u1", http.StatusServiceUnavailable, nil)
		})
	}
}

// failingReader fails every read as the table would when it is unreachable.
type failingReader struct{}

func (failingReader) GetPayment(context.Context, string, string) (Payment, error) {
	return Payment{}, apperr.New(apperr.Unavailable, "read failed")
}

func (failingReader) ListPayments(context.Context, string, int32, string) (store.Page[Payment], error) {
	return store.Page[Payment]{}, apperr.New(apperr.Unavailable, "query failed")
}

// A failed read is a 503, never a 404 that would tell the client the payment does not exist.
func TestPaymentRoutesWhenTheTableFails(t *testing.T) {
	id := newPaymentID(time.Now())
	list, get := manifest.MustByName("list-payments"), manifest.MustByName("get-payment")
	serve(t, HandleListPayments(list, failingReader{}), userRequest(list, "u1", "/payments", nil, nil), http.StatusServiceUnavailable, nil)
	serve(t, HandleGetPayment(get, failingReader{}), userRequest(get, "u1", "/payments/"+id, map[string]string{"paymentId": id}, nil),
		http.StatusServiceUnavailable, nil)
}

// POST /admin/refunds refuses a malformed request (400), an unknown payment (404) and a payment it
// cannot refund (422) without calling Stripe; without an amount it refunds all that is left.
func TestCreateRefundRoute(t *testing.T) {
	w := newWorld(t)
	fn := manifest.MustByName("create-refund")
	h := HandleCreateRefund(fn, idemtest.New(w.clock), w.f)
	noCharge := w.ledger.put(Payment{ID: newPaymentID(w.clock.Now()), UserID: "u2", AmountCents: 500, Currency: "usd",
		Status: PaymentSucceeded, PaidAt: w.clock.Now(), CreatedAt: w.clock.Now()})
	tests := []struct {
		name, body string
		status     int
		message    string
	}{
		{"BadPaymentID", `{"paymentId":"pay_x","reason":"duplicate"}`, http.StatusBadRequest, "paymentId is not a valid payment id"},
		{"ZeroAmount", `{"paymentId":"` + w.p.ID + `","amountCents":0,"reason":"duplicate"}`, http.StatusBadRequest, "amountCents must be a positive whole number of cents"},
		{"NegativeAmount", `{"paymentId":"` + w.p.ID + `","amountCents":-5,"reason":"duplicate"}`, http.StatusBadRequest, "amountCents must be a positive whole number of cents"},
		{"BadReason", `{"paymentId":"` + w.p.ID + `","reason":"because"}`, http.StatusBadRequest, "reason must be one of duplicate, fraudulent, requested_by_customer"},
		{"UnknownField", `{"paymentId":"` + w.p.ID + `","reason":"duplicate","currency":"usd"}`, http.StatusBadRequest, ""},
		{"UnknownPayment", `{"paymentId":"` + newPaymentID(w.clock.Now()) + `","reason":"duplicate"}`, http.StatusNotFound, "payment not found"},
		{"NoStripeCharge", `{"paymentId":"` + noCharge.ID + `","reason":"duplicate"}`, http.StatusUnprocessableEntity, "the payment has no Stripe charge to refund"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			serve(t, h, adminRequest(tt.body, map[string]string{"idempotency-key": "k-" + strconv.Itoa(i)}), tt.status, &e)
			if tt.message != "" && e.Error.Message != tt.message {
				t.Fatalf("message %q, want %q", e.Error.Message, tt.message)
			}
		})
	}
	if w.stripe.createCount() != 0 {
		t.Fatal("Stripe was called for a refused request")
	}
	w.books(0, 0, 0)
	var res CreateRefundResponse
	serve(t, h, adminRequest(`{"paymentId":"`+w.p.ID+`","reason":"requested_by_customer"}`, map[string]string{"idempotency-key": "k-all"}),
		http.StatusCreated, &res)
	if res.Refund.AmountCents != 3000 || res.Payment.RefundedCents != 3000 || res.Payment.Status != PaymentRefunded ||
		res.Refund.Reason != "requested_by_customer" {
		t.Fatalf("refund of the remainder: %+v", res)
	}
	w.books(3000, 0, 1)
	learner := adminRequest(`{"paymentId":"`+w.p.ID+`","reason":"duplicate"}`, map[string]string{"idempotency-key": "k-x"})
	learner.RequestContext.Authorizer.JWT.Claims = map[string]string{"sub": "u1", "email": "u1@example.com", "email_verified": "true"}
	serve(t, h, learner, http.StatusForbidden, nil)
}
