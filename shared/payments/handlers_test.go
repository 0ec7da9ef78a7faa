package payments

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/idempotency/idemtest"
	"github.com/liberation/monetization/shared/manifest"
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
