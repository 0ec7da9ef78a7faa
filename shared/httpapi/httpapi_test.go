package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
)

func request(body string, claims map[string]string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /things", RawPath: "/things", Body: body,
		Headers: map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/things"}},
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}
	}
	return ev
}

type errBody struct {
	Error struct{ Code, Message, RequestID string } `json:"error"`
}

func call(t *testing.T, auth manifest.Auth, ev events.APIGatewayV2HTTPRequest, h httpapi.Handler) (events.APIGatewayV2HTTPResponse, errBody, string) {
	t.Helper()
	var logs bytes.Buffer
	fn := manifest.Function{Name: "test-fn", Auth: auth, Trigger: manifest.Trigger{Kind: manifest.HTTP, Method: "POST", Path: "/things"}}
	l := httpapi.RouteWithLogger(fn, slog.New(slog.NewJSONHandler(&logs, nil)), h)
	resp, err := l(context.Background(), ev)
	if err != nil {
		t.Fatalf("lambda returned an error (it must always answer HTTP): %v", err)
	}
	var eb errBody
	_ = json.Unmarshal([]byte(resp.Body), &eb)
	return resp, eb, logs.String()
}

func ok(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	return httpapi.OK(map[string]string{"user": r.Principal.UserID}), nil
}

func TestAuthorization(t *testing.T) {
	user := map[string]string{"sub": "u1", "cognito:groups": "[instructor]"}
	admin := map[string]string{"sub": "a1", "cognito:groups": "[admin instructor]"}
	tests := []struct {
		name   string
		auth   manifest.Auth
		claims map[string]string
		want   int
	}{
		{"PublicNoClaims", manifest.Public, nil, 200},
		{"UserNoClaims", manifest.User, nil, 401},
		{"UserClaimsWithoutSub", manifest.User, map[string]string{"email": "x@y.z"}, 401},
		{"UserOK", manifest.User, user, 200},
		{"AdminAsUser", manifest.Admin, user, 403},
		{"AdminOK", manifest.Admin, admin, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, eb, _ := call(t, tt.auth, request("", tt.claims), ok)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.want, resp.Body)
			}
			if tt.want >= 400 && (eb.Error.Code == "" || eb.Error.RequestID != "req-1") {
				t.Fatalf("error body missing code or request id: %s", resp.Body)
			}
		})
	}
}

type thing struct {
	Name  string   `json:"name"`
	Count int64    `json:"count"`
	Limit *int64   `json:"limit,omitempty"`
	Small uint8    `json:"small,omitempty"`
	Tags  []string `json:"tags,omitempty"`
}

func (t thing) Validate() error {
	if t.Name == "" {
		return apperr.New(apperr.Invalid, "name is required")
	}
	return nil
}

func decodeThing(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var in thing
	if err := r.Decode(&in); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(201, in), nil
}

// goInternals are words of our Go code that must never reach a caller in an error message.
var goInternals = []string{"httpapi", "thing", "int64", "uint8", "struct", "Go ", "json:", "jsontext", "reflect", "[]string", ".go"}

func TestDecode(t *testing.T) {
	claims := map[string]string{"sub": "u1"}
	tests := []struct {
		name    string
		body    string
		b64     bool
		want    int
		message string // the exact error message, or the exact body of a 201
	}{
		{"OK", `{"name":"a","count":2}`, false, 201, `{"name":"a","count":2}`},
		{"Base64", base64.StdEncoding.EncodeToString([]byte(`{"name":"a"}`)), true, 201, `{"name":"a","count":0}`},
		{"UnknownField", `{"name":"a","role":"admin"}`, false, 400, `request body is invalid: unknown field "role"`},
		{"WrongType", `{"name":"a","count":"9"}`, false, 400, `request body is invalid: field "count" must be an integer`},
		{"StringWanted", `{"name":5}`, false, 400, `request body is invalid: field "name" must be a string`},
		{"NestedWrongType", `{"name":"a","tags":["x",1]}`, false, 400, `request body is invalid: field "tags.1" must be a string`},
		{"Malformed", `{"name":`, false, 400, "request body is invalid: unexpected end of JSON"},
		{"MalformedMiddle", `{"name" "a"}`, false, 400, "request body is invalid: malformed JSON at offset 8"},
		{"InvalidUTF8", "{\"name\":\"\xff\"}", false, 400, "request body is invalid: malformed JSON at offset 9"},
		{"TrailingData", `{"name":"a"}{"name":"b"}`, false, 400, "request body must be a single JSON object"},
		{"TrailingGarbage", `{"name":"a"} x`, false, 400, "request body must be a single JSON object"},
		{"Empty", ``, false, 400, "request body is required"},
		{"Blank", " \n\t", false, 400, "request body is required"},
		{"ValidationFails", `{"count":1}`, false, 400, "name is required"},
		{"TooLarge", `{"name":"` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`, false, 413, "request body is larger than 65536 bytes"},
		{"BadBase64", "!!!", true, 400, "request body is not valid base64"},

		// Exact names: a case variant is an unknown field; a name given twice is refused.
		{"CaseVariant", `{"NAME":"a"}`, false, 400, `request body is invalid: unknown field "NAME"`},
		{"CaseVariantAfterExact", `{"name":"a","Name":"b"}`, false, 400, `request body is invalid: unknown field "Name"`},
		{"Duplicate", `{"name":"a","count":1,"count":7}`, false, 400, `request body is invalid: duplicate field "count"`},
		{"DuplicateNested", `{"name":"a","tags":[],"tags":["x"]}`, false, 400, `request body is invalid: duplicate field "tags"`},

		// Only an object is a body.
		{"Array", `[]`, false, 400, "request body must be a JSON object"},
		{"ArrayOfObject", `[{"name":"a"}]`, false, 400, "request body must be a JSON object"},
		{"True", `true`, false, 400, "request body must be a JSON object"},
		{"Null", `null`, false, 400, "request body must be a JSON object"},
		{"String", `"name"`, false, 400, "request body must be a JSON object"},
		{"Number", `42`, false, 400, "request body must be a JSON object"},
		{"NotJSON", `<xml/>`, false, 400, "request body must be a JSON object"},

		// Integers: any whole-valued JSON number; never a fraction, never out of range.
		{"WholeWithFraction", `{"name":"a","count":100.0}`, false, 201, `{"name":"a","count":100}`},
		{"WholeExponent", `{"name":"a","count":1e2}`, false, 201, `{"name":"a","count":100}`},
		{"WholeFractionExponent", `{"name":"a","count":12.50e1}`, false, 201, `{"name":"a","count":125}`},
		{"NegativeZero", `{"name":"a","count":-0.0}`, false, 201, `{"name":"a","count":0}`},
		{"PointerWhole", `{"name":"a","limit":7.0}`, false, 201, `{"name":"a","count":0,"limit":7}`},
		{"PointerNull", `{"name":"a","limit":null}`, false, 201, `{"name":"a","count":0}`},
		{"Fraction", `{"name":"a","count":9.99}`, false, 400, `request body is invalid: field "count" must be an integer`},
		{"SmallFraction", `{"name":"a","count":1e-2}`, false, 400, `request body is invalid: field "count" must be an integer`},
		{"PointerFraction", `{"name":"a","limit":0.5}`, false, 400, `request body is invalid: field "limit" must be an integer`},
		{"Overflow", `{"name":"a","count":9223372036854775808}`, false, 400, `request body is invalid: field "count" is out of range`},
		{"HugeExponent", `{"name":"a","count":1e400}`, false, 400, `request body is invalid: field "count" is out of range`},
		{"AbsurdExponent", `{"name":"a","count":1e99999999999999999999}`, false, 400, `request body is invalid: field "count" is out of range`},
		{"UnsignedNegative", `{"name":"a","small":-1}`, false, 400, `request body is invalid: field "small" is out of range`},
		{"UnsignedOverflow", `{"name":"a","small":256}`, false, 400, `request body is invalid: field "small" is out of range`},
		{"UnsignedWhole", `{"name":"a","small":2.55e2}`, false, 201, `{"name":"a","count":0,"small":255}`},
		{"MinInt64", `{"name":"a","count":-9223372036854775808}`, false, 201, `{"name":"a","count":-9223372036854775808}`},
		{"BooleanForInteger", `{"name":"a","count":true}`, false, 400, `request body is invalid: field "count" must be an integer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := request(tt.body, claims)
			ev.IsBase64Encoded = tt.b64
			resp, eb, _ := call(t, manifest.User, ev, decodeThing)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, resp.Body)
			}
			got := resp.Body
			if tt.want >= 400 {
				got = eb.Error.Message
				if eb.Error.Code != string(codeFor(tt.want)) {
					t.Errorf("code %q for status %d", eb.Error.Code, tt.want)
				}
			}
			if got != tt.message {
				t.Fatalf("got %s\nwant %s", got, tt.message)
			}
			for _, w := range goInternals {
				if strings.Contains(resp.Body, w) {
					t.Fatalf("the answer names Go internals (%q): %s", w, resp.Body)
				}
			}
		})
	}
}

func codeFor(status int) apperr.Code {
	for _, c := range []apperr.Code{apperr.Invalid, apperr.TooLarge, apperr.UnsupportedMediaType} {
		if apperr.Status(c) == status {
			return c
		}
	}
	return apperr.Internal
}

// TestDecodeIntoOtherShapes: a handler may decode into a map; the frame still wants an object.
func TestDecodeIntoOtherShapes(t *testing.T) {
	for _, tc := range []struct {
		body, want string
	}{
		{`{"a":1}`, `{"a":1}`},
		{`{"a":1,"a":2}`, `request body is invalid: duplicate field "a"`},
		{`[1]`, `request body must be a JSON object`},
	} {
		h := func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
			var m map[string]any
			if err := r.Decode(&m); err != nil {
				return httpapi.Response{}, err
			}
			return httpapi.OK(m), nil
		}
		resp, eb, _ := call(t, manifest.User, request(tc.body, map[string]string{"sub": "u1"}), h)
		got := resp.Body
		if resp.StatusCode != 200 {
			got = eb.Error.Message
		}
		if got != tc.want {
			t.Errorf("%s: got %d %s, want %s", tc.body, resp.StatusCode, got, tc.want)
		}
	}
}

func TestInternalErrorsAndPanicsLeakNothing(t *testing.T) {
	secret := "arn:aws:dynamodb:us-east-1:123:table/secret-table"
	for name, h := range map[string]httpapi.Handler{
		"Error": func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
			return httpapi.Response{}, errors.New(secret)
		},
		"Panic": func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) { panic(secret) },
	} {
		t.Run(name, func(t *testing.T) {
			resp, eb, logs := call(t, manifest.User, request("", map[string]string{"sub": "u1"}), h)
			if resp.StatusCode != 500 || eb.Error.Message != "Internal error." || strings.Contains(resp.Body, "secret") {
				t.Fatalf("leaky 500: %d %s", resp.StatusCode, resp.Body)
			}
			if !strings.Contains(logs, "secret-table") || !strings.Contains(logs, `"requestId":"req-1"`) || !strings.Contains(logs, `"userId":"u1"`) {
				t.Fatalf("the cause, request id and user id belong in the log: %s", logs)
			}
		})
	}
}

func TestResponseHeaders(t *testing.T) {
	resp, _, _ := call(t, manifest.Public, request("", nil), func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		return httpapi.Response{Status: 200, Body: map[string]int{"a": 1}, Headers: map[string]string{"Cache-Control": "public, max-age=60"}}, nil
	})
	if resp.Headers["content-type"] != "application/json" || resp.Headers["cache-control"] != "public, max-age=60" || resp.Headers["x-content-type-options"] != "nosniff" {
		t.Fatalf("headers %v", resp.Headers)
	}
}

func TestLimit(t *testing.T) {
	for _, tt := range []struct {
		q    string
		want int32
		err  bool
	}{{"", 20, false}, {"5", 5, false}, {"100", 100, false}, {"0", 0, true}, {"101", 0, true}, {"1000000", 0, true}, {"x", 0, true}, {"-1", 0, true}} {
		r := &httpapi.Request{Event: &events.APIGatewayV2HTTPRequest{QueryStringParameters: map[string]string{"limit": tt.q}}}
		if tt.q == "" {
			r.Event.QueryStringParameters = nil
		}
		got, err := r.Limit(20, 100)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("limit=%q: got %d, %v", tt.q, got, err)
		}
		if err != nil && !apperr.Is(err, apperr.Invalid) {
			t.Errorf("limit=%q: want invalid, got %v", tt.q, err)
		}
	}
}

// A route whose manifest entry lists Groups admits only members of one of them (403 otherwise),
// before its handler runs.
func TestGroupRoutes(t *testing.T) {
	fn := manifest.Function{Name: "queue", Auth: manifest.User, Groups: []string{"support"},
		Trigger: manifest.Trigger{Kind: manifest.HTTP, Method: "GET", Path: "/support/queue"}}
	ran := 0
	h := httpapi.RouteWithLogger(fn, slog.New(slog.NewJSONHandler(io.Discard, nil)), func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		ran++
		return httpapi.OK(map[string]bool{"ok": true}), nil
	})
	for _, tc := range []struct {
		groups string
		want   int
	}{{"[support]", 200}, {"[instructor support]", 200}, {"[admin]", 403}, {"", 403}, {"[Support]", 403}} {
		claims := map[string]string{"sub": "u1"}
		if tc.groups != "" {
			claims["cognito:groups"] = tc.groups
		}
		ev := request("", claims)
		ev.Headers = map[string]string{}
		resp, err := h(context.Background(), ev)
		if err != nil || resp.StatusCode != tc.want {
			t.Errorf("groups %q: %d %s, want %d", tc.groups, resp.StatusCode, resp.Body, tc.want)
		}
		if tc.want == 403 && !strings.Contains(resp.Body, "this route is for the support group") {
			t.Errorf("groups %q: %s", tc.groups, resp.Body)
		}
	}
	if ran != 2 {
		t.Fatalf("handler ran %d times, want 2", ran)
	}
}
