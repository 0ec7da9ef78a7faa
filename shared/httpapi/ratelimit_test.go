package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/tabletest"
)

// The per-user limit on the table in process (tabletest): over the limit a 429 rate_limited with
// Retry-After (seconds to the refusing window's end) and the handler never runs; users count apart;
// the next window lets requests through until the hour's limit; a caller without a token is not
// counted (the route's 401); an unreachable counter is a 503, never a skipped limit.
func TestRateLimited(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 6, 10, 59, 15, 0, time.UTC))
	fn := manifest.Function{Name: "join-class", Auth: manifest.User, RateLimit: &manifest.RateLimit{PerMinute: 2, PerHour: 3},
		Trigger: manifest.Trigger{Kind: manifest.HTTP, Method: "POST", Path: "/things"}}
	ran := 0
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	build := func(c httpapi.RequestCounter) httpapi.Lambda {
		return httpapi.RateLimited(fn, c, clk.Now, log, httpapi.RouteWithLogger(fn, log,
			func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
				ran++
				return httpapi.OK(map[string]string{"user": r.Principal.UserID}), nil
			}))
	}
	l := build(tabletest.New(t, clk))
	send := func(user string) (int, string, errBody) {
		t.Helper()
		var claims map[string]string
		if user != "" {
			claims = map[string]string{"sub": user}
		}
		resp, err := l(context.Background(), request(`{}`, claims))
		if err != nil {
			t.Fatal(err)
		}
		var eb errBody
		_ = json.Unmarshal([]byte(resp.Body), &eb)
		return resp.StatusCode, resp.Headers["retry-after"], eb
	}
	for i := range 2 {
		if st, ra, _ := send("ana"); st != 200 || ra != "" {
			t.Fatalf("request %d: %d retry-after %q", i+1, st, ra)
		}
	}
	st, ra, eb := send("ana")
	if st != 429 || ra != "45" || eb.Error.Code != string(apperr.RateLimited) || eb.Error.RequestID != "req-1" ||
		!strings.Contains(eb.Error.Message, "at most 2 per minute; retry after 45 seconds") {
		t.Fatalf("third request in a minute: %d retry-after %q %+v", st, ra, eb)
	}
	if ran != 2 {
		t.Fatalf("the handler ran %d times, want 2", ran)
	}
	if !strings.Contains(logs.String(), `"RateLimited":1`) || !strings.Contains(logs.String(), `"code":"rate_limited"`) {
		t.Fatalf("the refusal is not logged and counted:\n%s", logs.String())
	}
	if st, _, _ := send("bob"); st != 200 {
		t.Fatalf("another user: %d", st)
	}
	if st, _, _ := send(""); st != 401 {
		t.Fatalf("no token: %d, want the route's 401", st)
	}
	clk.Advance(45 * time.Second) // 11:00:00: a new minute and a new hour
	for i := range 2 {
		if st, _, _ := send("ana"); st != 200 {
			t.Fatalf("new window, request %d: %d", i+1, st)
		}
	}
	clk.Advance(time.Minute) // 11:01:00: the minute is free again, the hour has 1 left of 3
	if st, _, _ := send("ana"); st != 200 {
		t.Fatalf("third request of the hour: %d", st)
	}
	clk.Advance(time.Minute + 30*time.Second) // 11:02:30
	if st, ra, eb := send("ana"); st != 429 || ra != "3450" || !strings.Contains(eb.Error.Message, "per hour") {
		t.Fatalf("fourth request of the hour: %d retry-after %q %+v", st, ra, eb)
	}

	down := build(tabletest.Down(errors.New("throttled")))
	ran = 0
	resp, err := down(context.Background(), request(`{}`, map[string]string{"sub": "ana"}))
	if err != nil || resp.StatusCode != 503 || ran != 0 {
		t.Fatalf("counter unreachable: %d %v (handler ran %d)", resp.StatusCode, err, ran)
	}
	var _ httpapi.RequestCounter = (*store.Store)(nil)
}

// A function without a RateLimit gets its route unchanged.
func TestRateLimitedWithoutLimit(t *testing.T) {
	fn := manifest.Function{Name: "get-thing", Auth: manifest.User}
	ran := false
	l := httpapi.RateLimited(fn, nil, time.Now, slog.Default(), httpapi.RouteWithLogger(fn, slog.Default(),
		func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
			ran = true
			return httpapi.OK(nil), nil
		}))
	for range 100 {
		if resp, _ := l(context.Background(), request("", map[string]string{"sub": "u"})); resp.StatusCode != 200 {
			t.Fatalf("%d", resp.StatusCode)
		}
	}
	if !ran {
		t.Fatal("handler never ran")
	}
}
