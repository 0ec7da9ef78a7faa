package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
)

// The per-request cost of the shared request handling (auth from claims, strict decode, encode,
// log line) around a trivial handler.
//
// go test -run '^$' -bench . -benchmem ./shared/httpapi/
func BenchmarkRoute(b *testing.B) {
	fn := manifest.Function{Name: "bench", Auth: manifest.User, Trigger: manifest.Trigger{Kind: manifest.HTTP, Method: "POST", Path: "/things"}}
	h := httpapi.RouteWithLogger(fn, slog.New(slog.NewJSONHandler(io.Discard, nil)), func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var in thing
		if err := r.Decode(&in); err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(201, in), nil
	})
	ev := request(`{"name":"a","count":2}`, map[string]string{"sub": "u1", "cognito:groups": "[admin]"})
	ctx := context.Background()
	for b.Loop() {
		resp, _ := h(ctx, ev)
		if resp.StatusCode != 201 {
			b.Fatal(resp.Body)
		}
	}
}
