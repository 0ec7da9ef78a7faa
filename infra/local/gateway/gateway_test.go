package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/infra/local/authlocal"
	"github.com/liberation/monetization/shared/manifest"
)

type fixture struct {
	srv   *httptest.Server
	auth  *authlocal.Authority
	last  atomic.Pointer[events.APIGatewayV2HTTPRequest]
	calls atomic.Int32
}

func http2(method, path string, a manifest.Auth) manifest.Function {
	return manifest.Function{Name: strings.NewReplacer("/", "-", "{", "", "}", "").Replace(strings.ToLower(method) + path),
		Trigger: manifest.Trigger{Kind: manifest.HTTP, Method: method, Path: path}, Auth: a}
}

// newFixture serves a few test routes whose handler records the event it received and echoes
// the matched route key.
func newFixture(t *testing.T, extra map[string]any, fns ...manifest.Function) *fixture {
	t.Helper()
	k, err := authlocal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{auth: authlocal.New(k, authlocal.DefaultIssuer, authlocal.DefaultAudience)}
	capture := func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		f.calls.Add(1)
		f.last.Store(&ev)
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: ev.RouteKey,
			Headers: map[string]string{"content-type": "text/plain"}}, nil
	}
	base := []manifest.Function{
		http2("GET", "/tiers", manifest.Public),
		http2("GET", "/payments", manifest.User),
		http2("GET", "/payments/{paymentId}", manifest.User),
		http2("GET", "/payments/{paymentId}/receipt", manifest.User),
		http2("GET", "/payments/latest", manifest.User),
		http2("POST", "/uploads", manifest.Public),
		http2("GET", "/files/{path+}", manifest.Public),
		http2("GET", "/admin/metrics", manifest.Admin),
	}
	handlers := map[string]any{}
	for _, fn := range base {
		handlers[fn.Name] = capture
	}
	for k, v := range extra {
		handlers[k] = v
	}
	g, err := New(Config{Functions: append(base, fns...), Handlers: handlers, Authority: f.auth, Jobs: true,
		CORSOrigins: []string{"http://localhost:5173"}, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(g)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) do(t *testing.T, method, path string, hdr map[string]string, body []byte) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (f *fixture) token(t *testing.T, groups ...string) string {
	t.Helper()
	tok, err := f.auth.Mint("user-1", "u1@example.com", groups, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok
}

func TestRouting(t *testing.T) {
	f := newFixture(t, nil)
	auth := map[string]string{"Authorization": f.token(t)}
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/tiers", 200, "GET /tiers"},
		{"GET", "/payments", 200, "GET /payments"},
		{"GET", "/payments/pay_1", 200, "GET /payments/{paymentId}"},
		{"GET", "/payments/latest", 200, "GET /payments/latest"}, // literal beats parameter
		{"GET", "/payments/pay_1/receipt", 200, "GET /payments/{paymentId}/receipt"},
		{"GET", "/files/a/b/c.pdf", 200, "GET /files/{path+}"},
		{"GET", "/nope", 404, `{"message":"Not Found"}`},
		{"POST", "/tiers", 404, `{"message":"Not Found"}`}, // HTTP API: wrong method is 404 too
		{"GET", "/payments/", 404, `{"message":"Not Found"}`},
		{"GET", "/payments/pay_1/receipt/x", 404, `{"message":"Not Found"}`},
	}
	for _, tc := range tests {
		res, body := f.do(t, tc.method, tc.path, auth, nil)
		if res.StatusCode != tc.status || body != tc.body {
			t.Errorf("%s %s = %d %s, want %d %s", tc.method, tc.path, res.StatusCode, body, tc.status, tc.body)
		}
		if res.Header.Get("apigw-requestid") == "" {
			t.Errorf("%s %s: no apigw-requestid header", tc.method, tc.path)
		}
	}
}

func TestUnauthorizedNeverReachesFunction(t *testing.T) {
	f := newFixture(t, nil)
	attacks, err := f.auth.Attacks("user-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range attacks {
		hdr := map[string]string{}
		if a.Token != "" {
			hdr["Authorization"] = "Bearer " + a.Token
		}
		res, body := f.do(t, "GET", "/payments", hdr, nil)
		if res.StatusCode != 401 || body != `{"message":"Unauthorized"}` {
			t.Errorf("%s: %d %s", a.Name, res.StatusCode, body)
		}
		if !strings.HasPrefix(res.Header.Get("www-authenticate"), `Bearer scope="" error="invalid_token"`) {
			t.Errorf("%s: www-authenticate = %q", a.Name, res.Header.Get("www-authenticate"))
		}
	}
	if n := f.calls.Load(); n != 0 {
		t.Errorf("function invoked %d times for refused tokens", n)
	}
	// The token without "Bearer " is accepted, as by API Gateway.
	if res, _ := f.do(t, "GET", "/payments", map[string]string{"Authorization": strings.TrimPrefix(f.token(t), "Bearer ")}, nil); res.StatusCode != 200 {
		t.Errorf("bare token: %d", res.StatusCode)
	}
}

func TestEventShape(t *testing.T) {
	f := newFixture(t, nil)
	req, _ := http.NewRequest("GET", f.srv.URL+"/payments/pay%2F1?limit=5&tag=a&tag=b%20c&empty=", nil)
	req.Header.Set("Authorization", f.token(t, "admin", "instructor"))
	req.Header.Set("X-Custom-Thing", "one")
	req.Header.Add("X-Custom-Thing", "two")
	req.Header.Set("User-Agent", "gateway-test/1.0")
	req.Header.Set("Cookie", "a=1; b=2")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	ev := f.last.Load()
	if ev == nil {
		t.Fatal("handler not called")
	}
	check := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	check("version", ev.Version, "2.0")
	check("routeKey", ev.RouteKey, "GET /payments/{paymentId}")
	check("rawPath", ev.RawPath, "/payments/pay%2F1")
	check("rawQueryString", ev.RawQueryString, "limit=5&tag=a&tag=b%20c&empty=")
	check("pathParameters.paymentId", ev.PathParameters["paymentId"], "pay/1")
	check("query limit", ev.QueryStringParameters["limit"], "5")
	check("query tag", ev.QueryStringParameters["tag"], "a,b c")
	check("x-custom-thing", ev.Headers["x-custom-thing"], "one,two")
	check("user-agent header", ev.Headers["user-agent"], "gateway-test/1.0")
	check("cookies", strings.Join(ev.Cookies, "|"), "a=1|b=2")
	check("stage", ev.RequestContext.Stage, "$default")
	check("ctx routeKey", ev.RequestContext.RouteKey, "GET /payments/{paymentId}")
	check("http.method", ev.RequestContext.HTTP.Method, "GET")
	check("http.path", ev.RequestContext.HTTP.Path, "/payments/pay%2F1")
	check("http.protocol", ev.RequestContext.HTTP.Protocol, "HTTP/1.1")
	check("http.sourceIp", ev.RequestContext.HTTP.SourceIP, "127.0.0.1")
	check("http.userAgent", ev.RequestContext.HTTP.UserAgent, "gateway-test/1.0")
	check("accountId", ev.RequestContext.AccountID, "123456789012")
	if _, ok := ev.Headers["cookie"]; ok {
		t.Error("cookie left in headers; payload 2.0 moves it to cookies")
	}
	for k := range ev.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q not lower-case", k)
		}
	}
	if ev.RequestContext.RequestID == "" || ev.RequestContext.TimeEpoch == 0 || ev.RequestContext.Time == "" {
		t.Errorf("request id/time missing: %+v", ev.RequestContext)
	}
	if _, err := time.Parse("02/Jan/2006:15:04:05 -0700", ev.RequestContext.Time); err != nil {
		t.Errorf("time %q: %v", ev.RequestContext.Time, err)
	}
	jwt := ev.RequestContext.Authorizer.JWT
	check("claims sub", jwt.Claims["sub"], "user-1")
	check("claims groups", jwt.Claims["cognito:groups"], "[admin instructor]")
	check("claims email", jwt.Claims["email"], "u1@example.com")

	// Public route: no authorizer block, even when a token is sent.
	f.do(t, "GET", "/tiers", map[string]string{"Authorization": f.token(t)}, nil)
	if ev := f.last.Load(); ev.RequestContext.Authorizer != nil || ev.PathParameters != nil || ev.QueryStringParameters != nil {
		t.Errorf("public route event: authorizer=%v path=%v query=%v", ev.RequestContext.Authorizer, ev.PathParameters, ev.QueryStringParameters)
	}
}

func TestBodies(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct {
		ct, body string
		b64      bool
	}{
		{"application/json", `{"a":1}`, false},
		{"application/json; charset=utf-8", `{"a":1}`, false},
		{"text/plain", "hello", false},
		{"application/x-www-form-urlencoded", "a=1&b=2", false},
		{"application/problem+json", `{}`, false},
		{"application/pdf", "%PDF-1.7\x00\xff", true},
		{"", "no content type", true},
	} {
		hdr := map[string]string{}
		if tc.ct != "" {
			hdr["Content-Type"] = tc.ct
		}
		f.do(t, "POST", "/uploads", hdr, []byte(tc.body))
		ev := f.last.Load()
		got := ev.Body
		if ev.IsBase64Encoded {
			b, _ := base64.StdEncoding.DecodeString(ev.Body)
			got = string(b)
		}
		if ev.IsBase64Encoded != tc.b64 || got != tc.body {
			t.Errorf("%q: base64=%v body=%q", tc.ct, ev.IsBase64Encoded, got)
		}
	}
	big := bytes.Repeat([]byte("x"), MaxAPIBody+1)
	res, body := f.do(t, "POST", "/uploads", map[string]string{"Content-Type": "text/plain"}, big)
	if res.StatusCode != 413 || body != `{"message":"Request Entity Too Large"}` {
		t.Errorf("oversize: %d %s", res.StatusCode, body)
	}
}

func TestResponses(t *testing.T) {
	fns := []manifest.Function{
		http2("GET", "/binary", manifest.Public), http2("GET", "/inferred", manifest.Public),
		http2("GET", "/fails", manifest.Public), http2("GET", "/panics", manifest.Public),
		http2("GET", "/missing", manifest.Public),
	}
	handlers := map[string]any{
		fns[0].Name: func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{StatusCode: 201, IsBase64Encoded: true,
				Body:    base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 255}),
				Headers: map[string]string{"content-type": "application/octet-stream"},
				Cookies: []string{"s=1; HttpOnly", "t=2"}}, nil
		},
		fns[1].Name: func(context.Context, events.APIGatewayV2HTTPRequest) (map[string]int, error) {
			return map[string]int{"n": 1}, nil // no statusCode: API Gateway infers 200 JSON
		},
		fns[2].Name: func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{}, errors.New("boom")
		},
		fns[3].Name: func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			panic("bad")
		},
	}
	f := newFixture(t, handlers, fns...)
	res, body := f.do(t, "GET", "/binary", nil, nil)
	if res.StatusCode != 201 || body != "\x00\x01\x02\xff" || len(res.Header.Values("set-cookie")) != 2 {
		t.Errorf("binary: %d %q cookies=%v", res.StatusCode, body, res.Header.Values("set-cookie"))
	}
	res, body = f.do(t, "GET", "/inferred", nil, nil)
	if res.StatusCode != 200 || body != `{"n":1}` || res.Header.Get("content-type") != "application/json" {
		t.Errorf("inferred: %d %s %s", res.StatusCode, body, res.Header.Get("content-type"))
	}
	for _, p := range []string{"/fails", "/panics"} {
		if res, body := f.do(t, "GET", p, nil, nil); res.StatusCode != 500 || body != `{"message":"Internal Server Error"}` {
			t.Errorf("%s: %d %s", p, res.StatusCode, body)
		}
	}
	if res, body := f.do(t, "GET", "/missing", nil, nil); res.StatusCode != 501 || !strings.Contains(body, `"code":"not_implemented"`) {
		t.Errorf("no handler: %d %s", res.StatusCode, body)
	}
}

func TestFunctionURLJobsJWKSAndCORS(t *testing.T) {
	var got atomic.Pointer[events.LambdaFunctionURLRequest]
	var job atomic.Pointer[events.EventBridgeEvent]
	hook := manifest.Function{Name: "hook", Auth: manifest.Signed,
		Trigger: manifest.Trigger{Kind: manifest.FunctionURL, Method: "POST", Path: "/webhooks/stripe"}}
	cron := manifest.Function{Name: "nightly", Auth: manifest.Internal,
		Trigger: manifest.Trigger{Kind: manifest.Schedule, Expression: "cron(15 0 * * ? *)"}}
	f := newFixture(t, map[string]any{
		"hook": func(_ context.Context, ev events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
			got.Store(&ev)
			return events.LambdaFunctionURLResponse{StatusCode: 200, Body: `{"received":true}`}, nil
		},
		"nightly": func(_ context.Context, ev events.EventBridgeEvent) error { job.Store(&ev); return nil },
	}, hook, cron)

	res, body := f.do(t, "POST", "/webhooks/stripe", map[string]string{"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=x"}, []byte(`{"id":"evt_1"}`))
	ev := got.Load()
	if res.StatusCode != 200 || body != `{"received":true}` || ev == nil {
		t.Fatalf("webhook: %d %s", res.StatusCode, body)
	}
	if ev.Version != "2.0" || ev.RawPath != "/" || ev.Body != `{"id":"evt_1"}` || ev.IsBase64Encoded ||
		ev.Headers["stripe-signature"] != "t=1,v1=x" || ev.RequestContext.HTTP.Method != "POST" {
		t.Errorf("function URL event: %+v", ev)
	}

	res, body = f.do(t, "POST", "/_local/jobs/nightly", nil, nil)
	if e := job.Load(); res.StatusCode != 200 || e == nil || e.Source != "aws.scheduler" || e.DetailType != "Scheduled Event" ||
		!strings.Contains(string(e.Detail), `"nightly"`) || len(e.Resources) != 1 {
		t.Errorf("job: %d %s %+v", res.StatusCode, body, e)
	}
	// Fields of the detail for a one-off run (make job NAME=reconcile DAY=…); a body that is no
	// object of strings is refused before the job runs.
	res, body = f.do(t, "POST", "/_local/jobs/nightly", nil, []byte(`{"day":"2026-12-05"}`))
	if e := job.Load(); res.StatusCode != 200 || e == nil || !strings.Contains(string(e.Detail), `"day":"2026-12-05"`) ||
		!strings.Contains(string(e.Detail), `"job":"nightly"`) {
		t.Errorf("job with a detail field: %d %s %+v", res.StatusCode, body, e)
	}
	job.Store(nil)
	if res, body := f.do(t, "POST", "/_local/jobs/nightly", nil, []byte(`["day"]`)); res.StatusCode != 400 || job.Load() != nil {
		t.Errorf("job with a bad body: %d %s (ran: %v)", res.StatusCode, body, job.Load() != nil)
	}
	if res, body := f.do(t, "POST", "/_local/jobs/unknown", nil, nil); res.StatusCode != 404 || !strings.Contains(body, `the jobs are: nightly`) {
		t.Errorf("unknown job: %d %s", res.StatusCode, body)
	}

	res, body = f.do(t, "GET", "/.well-known/jwks.json", nil, nil)
	var jwks struct{ Keys []authlocal.JWK }
	if res.StatusCode != 200 || json.Unmarshal([]byte(body), &jwks) != nil || len(jwks.Keys) != 1 || jwks.Keys[0].Kid != f.auth.Key.ID {
		t.Errorf("jwks: %d %s", res.StatusCode, body)
	}

	res, _ = f.do(t, "OPTIONS", "/payments", map[string]string{"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET"}, nil)
	if res.StatusCode != 204 || res.Header.Get("access-control-allow-origin") != "http://localhost:5173" {
		t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
	}
	res, _ = f.do(t, "OPTIONS", "/payments", map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}, nil)
	if res.Header.Get("access-control-allow-origin") != "" {
		t.Errorf("preflight from a foreign origin allowed")
	}
}

func TestJobsNotMountedUnlessAsked(t *testing.T) {
	k, _ := authlocal.NewKey()
	cron := manifest.Function{Name: "nightly", Trigger: manifest.Trigger{Kind: manifest.Schedule, Expression: "rate(1 day)"}}
	g, err := New(Config{Functions: []manifest.Function{cron}, Handlers: map[string]any{"nightly": func(context.Context) error { return nil }},
		Authority: authlocal.New(k, "i", "a"), Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, httptest.NewRequest("POST", "/_local/jobs/nightly", nil))
	if rec.Code != 404 {
		t.Errorf("jobs endpoint answered %d with Jobs off", rec.Code)
	}
}
