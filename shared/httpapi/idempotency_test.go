package httpapi_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/idempotency/idemtest"
	"github.com/liberation/monetization/shared/manifest"
)

func TestIdempotentReplaysAndRefusesMismatch(t *testing.T) {
	var runs atomic.Int32
	var fail atomic.Value
	fail.Store(apperr.Code(""))
	h := httpapi.Idempotent(idemtest.New(nil), "test-fn", func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		n := runs.Add(1)
		if c := fail.Load().(apperr.Code); c != "" {
			return httpapi.Response{}, apperr.New(c, "failed")
		}
		return httpapi.JSON(201, map[string]int32{"run": n}), nil
	})
	send := func(key, body, user string) (int, string, string) {
		ev := request(body, map[string]string{"sub": user})
		if key != "" {
			ev.Headers["idempotency-key"] = key
		}
		resp, _, _ := call(t, manifest.User, ev, h)
		return resp.StatusCode, resp.Body, resp.Headers["idempotent-replayed"]
	}

	status, body, replayed := send("k1", `{"a":1}`, "u1")
	if status != 201 || body != `{"run":1}` || replayed != "" {
		t.Fatalf("first: %d %s %q", status, body, replayed)
	}
	status, body, replayed = send("k1", `{"a":1}`, "u1")
	if status != 201 || body != `{"run":1}` || replayed != "true" || runs.Load() != 1 {
		t.Fatalf("replay: %d %s %q runs=%d", status, body, replayed, runs.Load())
	}
	if status, _, _ = send("k1", `{"a":2}`, "u1"); status != 422 {
		t.Fatalf("same key, other body: %d, want 422", status)
	}
	// Keys are per user: another user's identical key runs on its own.
	if status, body, _ = send("k1", `{"a":1}`, "u2"); status != 201 || body != `{"run":2}` {
		t.Fatalf("other user: %d %s", status, body)
	}
	// A retryable failure releases the key; a business answer is stored and replayed.
	fail.Store(apperr.Unavailable)
	if status, _, _ = send("k2", `{}`, "u1"); status != 503 {
		t.Fatalf("unavailable: %d", status)
	}
	fail.Store(apperr.Unprocessable)
	if status, _, _ = send("k2", `{}`, "u1"); status != 422 {
		t.Fatalf("after release the retry must run: %d", status)
	}
	fail.Store(apperr.Code(""))
	before := runs.Load()
	if status, _, replayed = send("k2", `{}`, "u1"); status != 422 || replayed != "true" || runs.Load() != before {
		t.Fatalf("stored business error must replay: %d %q", status, replayed)
	}
	// Without a key, every call runs.
	send("", `{}`, "u1")
	send("", `{}`, "u1")
	if runs.Load() != before+2 {
		t.Fatalf("calls without a key must run each time")
	}
}
