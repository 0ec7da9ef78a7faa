//go:build integration

package e2e

// OWASP API Top 10 checks through the gateway. Route lists come from the manifest, so a route added
// later is covered without editing this file.

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
)

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// concrete fills a route's path parameters with plausible values.
func concrete(path string) string {
	return pathParam.ReplaceAllStringFunc(path, func(p string) string {
		switch p {
		case "{feature}":
			return "certificates"
		default:
			return "pay_01M8H6RBR8SYR814D59HXNKXM0"
		}
	})
}

// leaks reports internals that must never reach a caller.
func leaks(body []byte) bool {
	b := strings.ToLower(string(body))
	for _, s := range []string{"goroutine", "panic", "arn:aws", "dynamodb", "exception", ".go:", "sk_test", "whsec_"} {
		if strings.Contains(b, s) {
			return true
		}
	}
	return false
}

func TestEveryProtectedRouteNeedsAToken(t *testing.T) {
	h := Start(t)
	for _, fn := range manifest.Of(manifest.HTTP) {
		if fn.Auth == manifest.Public {
			continue
		}
		status, body, _ := h.Do(t, fn.Trigger.Method, concrete(fn.Trigger.Path), "", nil)
		if status != http.StatusUnauthorized || leaks(body) {
			t.Errorf("%s without a token: %d %s", fn.RouteKey(), status, body)
		}
	}
}

func TestEveryAdminRouteRefusesUsers(t *testing.T) {
	h := Start(t)
	user := h.Token(t, "sec-user", "u@example.com", "instructor")
	for _, fn := range manifest.Of(manifest.HTTP) {
		if fn.Auth != manifest.Admin {
			continue
		}
		status, body, _ := h.Do(t, fn.Trigger.Method, concrete(fn.Trigger.Path), user, map[string]any{})
		var eb httpapi.ErrorBody
		if status != http.StatusForbidden || json.Unmarshal(body, &eb) != nil || eb.Error.Code != "forbidden" {
			t.Errorf("%s as a user: %d %s, want 403 forbidden", fn.RouteKey(), status, body)
		}
	}
}

func TestInputAbuseIsRefusedCleanly(t *testing.T) {
	h := Start(t)
	user := h.Token(t, "sec-abuse", "abuse@example.com")
	admin := h.Token(t, "sec-admin", "ops@example.com", "admin")
	big := strings.Repeat("x", httpapi.MaxBodyBytes+1)
	tests := []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		// Mass assignment: fields a client may not set are unknown fields.
		{"CheckoutPrice", "POST", "/subscription/checkout", user, map[string]any{"tier": "pro", "successUrl": "https://app.example.com/ok", "cancelUrl": "https://app.example.com/no", "priceCents": 1}, 400},
		{"ChangeStatus", "PUT", "/subscription", user, map[string]any{"tier": "pro", "status": "active"}, 400},
		{"RefundRefunded", "POST", "/admin/refunds", admin, map[string]any{"paymentId": "pay_01M8H6RBR8SYR814D59HXNKXM0", "reason": "duplicate", "refundedCents": 0}, 400},
		{"RefundNegative", "POST", "/admin/refunds", admin, map[string]any{"paymentId": "pay_01M8H6RBR8SYR814D59HXNKXM0", "reason": "duplicate", "amountCents": -5}, 400},
		{"RefundFloat", "POST", "/admin/refunds", admin, `{"paymentId":"pay_01M8H6RBR8SYR814D59HXNKXM0","reason":"duplicate","amountCents":9.99}`, 400},
		// Unrestricted consumption.
		{"HugeBody", "POST", "/subscription/checkout", user, `{"tier":"` + big + `"}`, 413},
		{"HugeLimit", "GET", "/payments?limit=1000000", user, nil, 400},
		{"ForgedCursor", "GET", "/payments?cursor=eyJzIjoicGF5bWVudHMjc2VjLWFidXNlIn0.AAAA", user, nil, 400},
		// Ids that try to reach other keys are just ids that do not exist (or are malformed).
		{"KeyInjection", "GET", "/payments/PAY%23x%23USER%23other", user, nil, 0},
		{"Traversal", "GET", "/payments/..%2F..%2Fadmin", user, nil, 0},
		// Redirects may only go back to the app.
		{"OpenRedirect", "POST", "/subscription/checkout", user, map[string]any{"tier": "pro", "successUrl": "https://evil.example/ok", "cancelUrl": "https://app.example.com/no"}, 400},
		{"SSRFStyleURL", "POST", "/subscription/portal", user, map[string]any{"returnUrl": "http://169.254.169.254/latest/meta-data/"}, 400},
		{"NotJSON", "POST", "/subscription/checkout", user, "<xml/>", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A key, so the refund cases are refused for their bodies, not for a missing key.
			status, body, _ := h.DoWithHeaders(t, tc.method, tc.path, tc.token, tc.body, map[string]string{"Idempotency-Key": "sec-" + tc.name})
			if tc.want == 0 {
				if status != http.StatusBadRequest && status != http.StatusNotFound {
					t.Fatalf("%d %s, want 400 or 404", status, body)
				}
			} else if status != tc.want {
				t.Fatalf("%d %s, want %d", status, body, tc.want)
			}
			var eb httpapi.ErrorBody
			if json.Unmarshal(body, &eb) != nil || eb.Error.Code == "" || eb.Error.RequestID == "" {
				t.Fatalf("not the error shape: %s", body)
			}
			if leaks(body) {
				t.Fatalf("internal detail in the answer: %s", body)
			}
		})
	}
}

func TestCORSNeverWildcard(t *testing.T) {
	h := Start(t)
	req, _ := http.NewRequest(http.MethodOptions, h.URL+"/subscription", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if o := res.Header.Get("Access-Control-Allow-Origin"); o == "*" || o == "https://evil.example" {
		t.Fatalf("preflight from a foreign origin allowed: %q", o)
	}
}
