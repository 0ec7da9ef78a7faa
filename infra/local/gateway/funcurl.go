package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/infra/local/invoke"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
)

// serveFunctionURL invokes f with the event a Lambda function URL (auth NONE) sends. rawPath is the
// path below the local mount point, because in AWS the function URL is a host of its own.
func (g *Gateway) serveFunctionURL(w http.ResponseWriter, r *http.Request, f *invoke.Function, rawPath string) {
	reqID := invoke.RequestID()
	body, ok := readBody(w, r, MaxFunctionURLBody, reqID)
	if !ok {
		return
	}
	c := common(r, body)
	urlID := "local" + strings.ReplaceAll(f.Name, "-", "")
	ev := events.LambdaFunctionURLRequest{
		Version: "2.0", RawPath: rawPath, RawQueryString: r.URL.RawQuery, Cookies: c.cookies,
		Headers: c.headers, QueryStringParameters: c.query, Body: c.body, IsBase64Encoded: c.base64,
		RequestContext: events.LambdaFunctionURLRequestContext{
			AccountID: "anonymous", // what AWS sends for auth type NONE
			RequestID: reqID, APIID: urlID,
			DomainName: urlID + ".lambda-url." + invoke.Region + ".on.aws", DomainPrefix: urlID,
			Time: c.at.Format(timeFmt), TimeEpoch: c.at.UnixMilli(),
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{
				Method: r.Method, Path: rawPath, Protocol: r.Proto, SourceIP: c.sourceIP, UserAgent: r.UserAgent(),
			},
		},
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		message(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	out, err := f.Invoke(r.Context(), payload)
	if err != nil {
		g.functionError(w, f, err)
		return
	}
	writeResponse(w, out)
}

// notImplemented stands in for a function the registry does not have yet: a 501 in the error
// shape, with the request id of the event it received.
func notImplemented(name string) func(context.Context, json.RawMessage) (events.APIGatewayV2HTTPResponse, error) {
	return func(_ context.Context, payload json.RawMessage) (events.APIGatewayV2HTTPResponse, error) {
		var ev struct {
			RequestContext struct {
				RequestID string `json:"requestId"`
			} `json:"requestContext"`
		}
		_ = json.Unmarshal(payload, &ev)
		b, _ := json.Marshal(httpapi.ErrorBody{Error: httpapi.ErrorDetail{Code: apperr.NotImplemented,
			Message:   "function " + name + " is not implemented yet (no registry entry)",
			RequestID: ev.RequestContext.RequestID}})
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusNotImplemented,
			Headers: map[string]string{"content-type": "application/json", "cache-control": "no-store"}, Body: string(b)}, nil
	}
}
