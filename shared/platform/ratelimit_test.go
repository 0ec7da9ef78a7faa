package platform_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	_ "github.com/liberation/monetization/shared/store" // registers the request counter, as every function with a table does
	"github.com/liberation/monetization/shared/store/tabletest"
)

// Build puts the manifest's RateLimit in front of the route every generated constructor makes, so
// no handler can forget it; on anything but an HTTP route it is an init failure.
func TestBuildAppliesTheRateLimit(t *testing.T) {
	fn := manifest.Function{Name: "join-class", Auth: manifest.User, RateLimit: &manifest.RateLimit{PerMinute: 1},
		Trigger: manifest.Trigger{Kind: manifest.HTTP, Method: "POST", Path: "/classes/join"}}
	rt, err := platform.New(context.Background(), fn, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
	rt.Clock = clk
	platform.Override(rt, "store", tabletest.New(t, clk))
	ran := 0
	ctor := platform.Build(func(*platform.Runtime) (string, error) { return "", nil }, func(string) (httpapi.Lambda, error) {
		return httpapi.Route(fn, func(context.Context, *httpapi.Request) (httpapi.Response, error) { ran++; return httpapi.OK(nil), nil }), nil
	})
	l, err := ctor(rt)
	if err != nil {
		t.Fatal(err)
	}
	ev := events.APIGatewayV2HTTPRequest{RequestContext: events.APIGatewayV2HTTPRequestContext{
		Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": "ana"}}}}}
	var statuses []int
	for range 2 {
		resp, _ := l(context.Background(), ev)
		statuses = append(statuses, resp.StatusCode)
	}
	if statuses[0] != 200 || statuses[1] != 429 || ran != 1 {
		t.Fatalf("statuses %v, handler ran %d: the manifest's limit of 1 a minute is not applied", statuses, ran)
	}

	job := platform.Build(func(*platform.Runtime) (string, error) { return "", nil }, func(string) (int, error) { return 1, nil })
	if _, err := job(rt); err == nil || !strings.Contains(err.Error(), "HTTP routes only") {
		t.Fatalf("RateLimit on a non-HTTP handler: %v", err)
	}
}
