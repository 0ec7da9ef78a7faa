// Package httpapitest calls an HTTP handler as API Gateway would, for the areas' handler tests.
package httpapitest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
)

// Serve calls h with ev and returns the answer's status and, for an error answer (4xx/5xx), its
// error code (httpapi.ErrorBody); a successful body is decoded into out when out is not nil. A
// handler error or an undecodable success body fails the test.
func Serve(t testing.TB, h httpapi.Lambda, ev events.APIGatewayV2HTTPRequest, out any) (int, apperr.Code) {
	t.Helper()
	resp, err := h(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode >= 400 {
		var e httpapi.ErrorBody
		_ = json.Unmarshal([]byte(resp.Body), &e)
		return resp.StatusCode, e.Error.Code
	}
	if out != nil {
		if err := json.Unmarshal([]byte(resp.Body), out); err != nil {
			t.Fatalf("%s %s: %v in %q", ev.RequestContext.HTTP.Method, ev.RawPath, err, resp.Body)
		}
	}
	return resp.StatusCode, ""
}
