package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/idempotency/idemtest"
	"github.com/liberation/monetization/shared/manifest"
)

// TestContentType: a body must be labelled application/json (charset=utf-8 allowed) on every
// route, before any handler runs; without a body the header does not matter.
func TestContentType(t *testing.T) {
	ran := false
	h := func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		ran = true
		return httpapi.OK(map[string]bool{"ok": true}), nil
	}
	const jsonBody = `{"name":"a"}`
	tests := []struct {
		name, contentType, body string
		noHeader                bool
		want                    int
		message                 string
	}{
		{"JSON", "application/json", jsonBody, false, 200, ""},
		{"JSONUTF8", "application/json; charset=utf-8", jsonBody, false, 200, ""},
		{"JSONUTF8Upper", "Application/JSON; Charset=UTF-8", jsonBody, false, 200, ""},
		{"NoBodyNoHeader", "", "", true, 200, ""},
		{"NoBodyOtherType", "text/plain", "", false, 200, ""},
		{"NoHeader", "", jsonBody, true, 415, "a request body needs the header content-type: application/json"},
		{"EmptyHeader", "", jsonBody, false, 415, "a request body needs the header content-type: application/json"},
		{"TextPlain", "text/plain", jsonBody, false, 415, "content-type must be application/json"},
		{"Form", "application/x-www-form-urlencoded", "name=a", false, 415, "content-type must be application/json"},
		{"JSONSuffix", "application/merge-patch+json", jsonBody, false, 415, "content-type must be application/json"},
		{"Malformed", "application/json;;;", jsonBody, false, 415, "content-type must be application/json"},
		{"Latin1", "application/json; charset=iso-8859-1", jsonBody, false, 415, "JSON bodies must be UTF-8 (charset=utf-8)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran = false
			ev := request(tt.body, map[string]string{"sub": "u1"})
			if tt.noHeader {
				delete(ev.Headers, "content-type")
			} else {
				ev.Headers["content-type"] = tt.contentType
			}
			resp, eb, logs := call(t, manifest.User, ev, h)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, resp.Body)
			}
			if tt.want == 415 {
				if ran {
					t.Fatal("the handler ran for a refused content type")
				}
				if eb.Error.Code != "unsupported_media_type" || eb.Error.Message != tt.message || eb.Error.RequestID != "req-1" {
					t.Fatalf("error body %s", resp.Body)
				}
				if !strings.Contains(logs, `"userId":"u1"`) || !strings.Contains(logs, `"status":415`) {
					t.Fatalf("a refusal is logged with the caller: %s", logs)
				}
			}
		})
	}
}

// TestContentTypeAfterAuthorization: who may call comes first; a user on an admin route learns
// nothing about the body rules.
func TestContentTypeAfterAuthorization(t *testing.T) {
	ev := request(`{}`, map[string]string{"sub": "u1"})
	ev.Headers["content-type"] = "text/plain"
	resp, eb, _ := call(t, manifest.Admin, ev, ok)
	if resp.StatusCode != 403 || eb.Error.Code != "forbidden" {
		t.Fatalf("%d %s, want 403", resp.StatusCode, resp.Body)
	}
	resp, _, _ = call(t, manifest.User, request(`{}`, nil), ok)
	if resp.StatusCode != 401 {
		t.Fatalf("%d %s, want 401", resp.StatusCode, resp.Body)
	}
}

// TestIdempotencyKeyValues: a key that is present must be usable; these are refused before the
// store is touched (the store here is nil).
func TestIdempotencyKeyValues(t *testing.T) {
	ran := false
	inner := func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		ran = true
		return httpapi.JSON(201, map[string]bool{"ok": true}), nil
	}
	tests := []struct {
		name, key string
		message   string
	}{
		{"Empty", "", "Idempotency-Key must not be empty"},
		{"Space", " ", "Idempotency-Key must not be empty"},
		{"Whitespace", " \t ", "Idempotency-Key must not be empty"},
		{"TooLong", strings.Repeat("k", httpapi.MaxIdempotencyKeyLength+1), "Idempotency-Key must be at most 255 characters"},
		{"NonASCII", "clé-1", "Idempotency-Key must be printable ASCII"},
		{"Control", "key\x01", "Idempotency-Key must be printable ASCII"},
		{"Tab", "a\tb", "Idempotency-Key must be printable ASCII"},
		{"Delete", "a\x7fb", "Idempotency-Key must be printable ASCII"},
	}
	for _, wrap := range []struct {
		name string
		h    httpapi.Handler
	}{{"Optional", httpapi.Idempotent(nil, "test-fn", inner)}, {"Required", httpapi.IdempotentRequired(nil, "test-fn", inner)}} {
		for _, tt := range tests {
			t.Run(wrap.name+"/"+tt.name, func(t *testing.T) {
				ran = false
				ev := request(`{"a":1}`, map[string]string{"sub": "u1"})
				ev.Headers["idempotency-key"] = tt.key
				resp, eb, _ := call(t, manifest.User, ev, wrap.h)
				if resp.StatusCode != 400 || eb.Error.Code != "invalid" || eb.Error.Message != tt.message || ran {
					t.Fatalf("%d %s (handler ran: %v), want 400 %q", resp.StatusCode, resp.Body, ran, tt.message)
				}
			})
		}
	}
	// The longest key and every printable character are accepted by the check.
	for _, k := range []string{strings.Repeat("k", httpapi.MaxIdempotencyKeyLength), " !\"#$%&'()*+,-./0-9:;<=>?@A-Z[\\]^_`a-z{|}~", "a"} {
		if err := httpapi.CheckIdempotencyKey(k); err != nil {
			t.Errorf("%q: %v", k, err)
		}
	}
}

// TestIdempotencyKeyRequired: without the header, an optional key runs the handler and a
// required one is a 400 that names the header.
func TestIdempotencyKeyRequired(t *testing.T) {
	runs := 0
	inner := func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		runs++
		return httpapi.JSON(201, map[string]int{"run": runs}), nil
	}
	resp, _, _ := call(t, manifest.User, request(`{}`, map[string]string{"sub": "u1"}), httpapi.Idempotent(nil, "test-fn", inner))
	if resp.StatusCode != 201 || runs != 1 {
		t.Fatalf("optional key, none sent: %d %s", resp.StatusCode, resp.Body)
	}
	resp, eb, _ := call(t, manifest.User, request(`{}`, map[string]string{"sub": "u1"}), httpapi.IdempotentRequired(nil, "test-fn", inner))
	if resp.StatusCode != 400 || eb.Error.Code != "invalid" || eb.Error.Message != "the Idempotency-Key header is required on this route" || runs != 1 {
		t.Fatalf("required key, none sent: %d %s (runs %d)", resp.StatusCode, resp.Body, runs)
	}
}

// TestIdempotentRequiredReplays: a required key behaves like an optional one once it is sent.
func TestIdempotentRequiredReplays(t *testing.T) {
	runs := 0
	h := httpapi.IdempotentRequired(idemtest.New(nil), "test-fn", func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		runs++
		return httpapi.JSON(201, map[string]int{"run": runs}), nil
	})
	for i, want := range []string{"", "true"} {
		ev := request(`{"a":1}`, map[string]string{"sub": "u1"})
		ev.Headers["idempotency-key"] = "refund-1"
		resp, _, _ := call(t, manifest.User, ev, h)
		if resp.StatusCode != 201 || resp.Body != `{"run":1}` || resp.Headers["idempotent-replayed"] != want {
			t.Fatalf("call %d: %d %s replayed=%q", i+1, resp.StatusCode, resp.Body, resp.Headers["idempotent-replayed"])
		}
	}
}

// TestLimitPresentButEmpty: `?limit=` is not "no limit given" (found by contract fuzzing).
func TestLimitPresentButEmpty(t *testing.T) {
	r := &httpapi.Request{Event: &events.APIGatewayV2HTTPRequest{QueryStringParameters: map[string]string{"limit": ""}}}
	if n, err := r.Limit(20, 100); !apperr.Is(err, apperr.Invalid) || err.Error() != "invalid: limit must be an integer from 1 to 100" {
		t.Fatalf("limit=: %d %v, want a 400", n, err)
	}
	r.Event.QueryStringParameters = map[string]string{"cursor": "x"}
	if n, err := r.Limit(20, 100); err != nil || n != 20 {
		t.Fatalf("no limit: %d %v, want the default", n, err)
	}
}
