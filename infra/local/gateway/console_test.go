package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/infra/local/authlocal"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
)

// A Vite build's shape: index.html, hashed assets, a file at the root.
var consoleFiles = map[string]string{
	"index.html":                `<!doctype html><html><head><script type="module" src="/console/assets/index-Ab12.js"></script></head><body><div id="app"></div></body></html>`,
	"assets/index-Ab12.js":      `console.log("app")`,
	"assets/index-Cd34.css":     `body{margin:0}`,
	"assets/chart-Ef56.js.map":  `{"version":3}`,
	"favicon.svg":               `<svg xmlns="http://www.w3.org/2000/svg"/>`,
	"config.json":               `{"env":"from-a-file"}`, // must never be served: config.json is generated
	"assets/font-Gh78.woff2":    "wOF2",
	"robots.unknownextension_x": "x",
}

// secretOutside sits next to the console's directory: no request may read it.
const secretOutside = "TOP-SECRET-OUTSIDE-THE-CONSOLE"

type consoleFixture struct {
	srv  *httptest.Server
	auth *authlocal.Authority
	dir  string
}

// newConsoleFixture serves a built console (files) with local sign-in, and one admin route whose
// handler answers 200, to prove the minted tokens pass the JWT authorizer.
func newConsoleFixture(t *testing.T, files map[string]string, cc ConsoleConfig) *consoleFixture {
	t.Helper()
	parent := t.TempDir()
	if err := os.WriteFile(filepath.Join(parent, "secret.txt"), []byte(secretOutside), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "dist")
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	k, err := authlocal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	auth := authlocal.New(k, authlocal.DefaultIssuer, authlocal.DefaultAudience)
	metrics := http2("GET", "/admin/metrics", manifest.Admin)
	ok := func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: ev.RequestContext.Authorizer.JWT.Claims["sub"]}, nil
	}
	cc.Dir = dir
	g, err := New(Config{Functions: []manifest.Function{metrics}, Handlers: map[string]any{metrics.Name: ok},
		Authority: auth, Console: &cc, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	f := &consoleFixture{srv: httptest.NewServer(g), auth: auth, dir: dir}
	t.Cleanup(f.srv.Close)
	return f
}

func (f *consoleFixture) do(t *testing.T, method, path string, hdr map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	// Redirects are part of what is tested: never follow them.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// raw sends the request line exactly as written (Go's client would not send some of these paths
// as they are), and reads the answer.
func (f *consoleFixture) raw(t *testing.T, target string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// checkSecurityHeaders: every console answer, whatever its status, carries them.
func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": ConsoleCSP,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
}

func errorBody(t *testing.T, what, body string) httpapi.ErrorDetail {
	t.Helper()
	var e httpapi.ErrorBody
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code == "" {
		t.Fatalf("%s: not the error shape: %s", what, body)
	}
	return e.Error
}

func TestConsoleServesBuiltFiles(t *testing.T) {
	f := newConsoleFixture(t, consoleFiles, ConsoleConfig{LocalSignIn: true})
	tests := []struct {
		path, contentType, cache, body string
	}{
		{"/console/", "text/html; charset=utf-8", "no-cache", consoleFiles["index.html"]},
		{"/console/index.html", "text/html; charset=utf-8", "no-cache", consoleFiles["index.html"]},
		{"/console/assets/index-Ab12.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", consoleFiles["assets/index-Ab12.js"]},
		{"/console/assets/index-Cd34.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable", consoleFiles["assets/index-Cd34.css"]},
		{"/console/assets/chart-Ef56.js.map", "application/json", "public, max-age=31536000, immutable", consoleFiles["assets/chart-Ef56.js.map"]},
		{"/console/assets/font-Gh78.woff2", "font/woff2", "public, max-age=31536000, immutable", "wOF2"},
		{"/console/favicon.svg", "image/svg+xml", "no-cache", consoleFiles["favicon.svg"]},
		// An unknown type is never guessed from the content (nosniff makes it a download).
		{"/console/robots.unknownextension_x", "application/octet-stream", "no-cache", "x"},
		// A name with an escaped character is the file of that name.
		{"/console/assets/index%2DAb12.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", consoleFiles["assets/index-Ab12.js"]},
	}
	for _, tc := range tests {
		res, body := f.do(t, "GET", tc.path, nil, "")
		if res.StatusCode != 200 || body != tc.body {
			t.Errorf("GET %s = %d %q, want 200 %q", tc.path, res.StatusCode, body, tc.body)
			continue
		}
		if got := res.Header.Get("Content-Type"); got != tc.contentType {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.contentType)
		}
		if got := res.Header.Get("Cache-Control"); got != tc.cache {
			t.Errorf("GET %s: Cache-Control %q, want %q", tc.path, got, tc.cache)
		}
		checkSecurityHeaders(t, "GET "+tc.path, res.Header)
	}

	// HEAD: the headers, no body.
	res, body := f.do(t, "HEAD", "/console/", nil, "")
	if res.StatusCode != 200 || body != "" || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("HEAD /console/ = %d %q %v", res.StatusCode, body, res.Header)
	}
	// Revalidation: no-cache files answer 304 to a browser that has them.
	res, _ = f.do(t, "GET", "/console/", nil, "")
	lm := res.Header.Get("Last-Modified")
	if lm == "" {
		t.Fatal("index.html has no Last-Modified: browsers cannot revalidate it")
	}
	res, _ = f.do(t, "GET", "/console/", map[string]string{"If-Modified-Since": lm}, "")
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidated index.html = %d, want 304", res.StatusCode)
	}
	// Writing is not a thing the console's paths do.
	res, body = f.do(t, "POST", "/console/index.html", nil, "x")
	if res.StatusCode != 405 || res.Header.Get("Allow") != "GET, HEAD" || errorBody(t, "POST", body).Code != "method_not_allowed" {
		t.Errorf("POST /console/index.html = %d %s allow=%q", res.StatusCode, body, res.Header.Get("Allow"))
	}
	checkSecurityHeaders(t, "POST", res.Header)
}

func TestConsoleRedirectsBareMount(t *testing.T) {
	f := newConsoleFixture(t, consoleFiles, ConsoleConfig{})
	for path, loc := range map[string]string{"/console": "/console/", "/console?x=1": "/console/?x=1"} {
		res, _ := f.do(t, "GET", path, nil, "")
		if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != loc {
			t.Errorf("GET %s = %d Location %q, want 301 %q", path, res.StatusCode, res.Header.Get("Location"), loc)
		}
		checkSecurityHeaders(t, "GET "+path, res.Header)
	}
	// /consoles is not the console's: it goes to the API, which has no such route.
	res, body := f.do(t, "GET", "/consoles", nil, "")
	if res.StatusCode != 404 || body != `{"message":"Not Found"}` {
		t.Errorf("GET /consoles = %d %s, want the API's 404", res.StatusCode, body)
	}
}

func TestConsoleConfigIsGenerated(t *testing.T) {
	// The default: the local settings of the common brief, not Dir's config.json.
	f := newConsoleFixture(t, consoleFiles, ConsoleConfig{})
	res, body := f.do(t, "GET", "/console/config.json", nil, "")
	if res.StatusCode != 200 || body != `{"env":"dev","api":"","auth":{"mode":"local"}}` {
		t.Errorf("GET /console/config.json = %d %s", res.StatusCode, body)
	}
	if res.Header.Get("Content-Type") != "application/json" || res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("config.json headers: %v", res.Header)
	}
	checkSecurityHeaders(t, "config.json", res.Header)

	// Settings given: answered as they are (the Cognito shape has every field).
	cognito := ConsoleSettings{Env: "prod", API: "https://api.example.com", Auth: ConsoleAuth{Mode: "cognito",
		Authority: "https://cognito-idp.eu-west-1.amazonaws.com/pool", ClientID: "cid",
		Domain: "https://p.auth.eu-west-1.amazoncognito.com", RedirectURI: "https://d.example.com/console/"}}
	f = newConsoleFixture(t, consoleFiles, ConsoleConfig{Settings: cognito})
	_, body = f.do(t, "GET", "/console/config.json", nil, "")
	var got ConsoleSettings
	if err := json.Unmarshal([]byte(body), &got); err != nil || got != cognito {
		t.Errorf("config.json = %s, want %+v", body, cognito)
	}
	for _, k := range []string{`"clientId"`, `"redirectUri"`, `"authority"`, `"domain"`} {
		if !strings.Contains(body, k) {
			t.Errorf("config.json lacks %s: %s", k, body)
		}
	}

	// Not built yet: config.json still answers (it is not a file).
	f = newConsoleFixture(t, nil, ConsoleConfig{})
	if res, _ := f.do(t, "GET", "/console/config.json", nil, ""); res.StatusCode != 200 {
		t.Errorf("config.json of an unbuilt console = %d", res.StatusCode)
	}
}

func TestConsoleMissingFileIs404(t *testing.T) {
	f := newConsoleFixture(t, consoleFiles, ConsoleConfig{})
	for _, p := range []string{"/console/nope.js", "/console/assets/nope-1.js", "/console/assets", "/console/assets/", "/console/index.html/x"} {
		res, body := f.do(t, "GET", p, nil, "")
		if res.StatusCode != 404 {
			t.Errorf("GET %s = %d %s, want 404", p, res.StatusCode, body)
			continue
		}
		if e := errorBody(t, p, body); e.Code != "not_found" {
			t.Errorf("GET %s: code %s", p, e.Code)
		}
		checkSecurityHeaders(t, "GET "+p, res.Header)
	}
}

func TestConsoleNoPathTraversal(t *testing.T) {
	f := newConsoleFixture(t, consoleFiles, ConsoleConfig{})
	// Each names ../secret.txt (or an absolute path) one way or another.
	targets := []string{
		"/console/../secret.txt",
		"/console/assets/../../secret.txt",
		"/console/%2e%2e/secret.txt",
		"/console/%2E%2E/secret.txt",
		"/console/%2e%2e%2fsecret.txt",
		"/console/assets/..%2f..%2fsecret.txt",
		"/console/assets%2f..%2f..%2fsecret.txt",
		"/console/%252e%252e/secret.txt", // double-encoded: unescaped once, it is a literal "%2e%2e"
		"/console/..%5csecret.txt",       // a backslash
		"/console//etc/passwd",
		"/console/%2fetc%2fpasswd",
		"/console/" + f.dir + "/../secret.txt",
		"/console/./index.html",
		"/console/index.html%00.js",
	}
	for _, target := range targets {
		res, body := f.raw(t, target)
		if strings.Contains(body, secretOutside) || strings.Contains(body, "root:") {
			t.Errorf("GET %s leaked a file outside the console: %d %s", target, res.StatusCode, body)
		}
		if res.StatusCode != 404 {
			t.Errorf("GET %s = %d %s, want 404", target, res.StatusCode, body)
		}
		checkSecurityHeaders(t, "GET "+target, res.Header)
	}
	// The same paths through Go's client, in case it normalizes what it sends differently.
	for _, target := range targets[:4] {
		if _, body := f.do(t, "GET", target, nil, ""); strings.Contains(body, secretOutside) {
			t.Errorf("GET %s (client) leaked: %s", target, body)
		}
	}
}

func TestConsoleNotBuiltIs503(t *testing.T) {
	f := newConsoleFixture(t, map[string]string{"assets/index-Ab12.js": "x"}, ConsoleConfig{}) // no index.html
	for _, p := range []string{"/console/", "/console/index.html", "/console/assets/index-Ab12.js"} {
		res, body := f.do(t, "GET", p, nil, "")
		if res.StatusCode != 503 {
			t.Errorf("GET %s of an unbuilt console = %d %s, want 503", p, res.StatusCode, body)
			continue
		}
		if e := errorBody(t, p, body); e.Message != "the console is not built: run `make console`" {
			t.Errorf("GET %s: message %q", p, e.Message)
		}
		checkSecurityHeaders(t, "GET "+p, res.Header)
	}
	// Built while the gateway runs: served at once, no restart.
	if err := os.WriteFile(filepath.Join(f.dir, "index.html"), []byte("built"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res, body := f.do(t, "GET", "/console/", nil, ""); res.StatusCode != 200 || body != "built" {
		t.Errorf("after the build: %d %s", res.StatusCode, body)
	}
}

func TestConsoleNotMountedUnlessConfigured(t *testing.T) {
	k, _ := authlocal.NewKey()
	g, err := New(Config{Authority: authlocal.New(k, "i", "a"), Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*http.Request{
		httptest.NewRequest("GET", "/console/", nil),
		httptest.NewRequest("GET", "/console/config.json", nil),
		httptest.NewRequest("POST", "/_local/console/token", strings.NewReader(`{"sub":"u1","groups":["admin"]}`)),
	} {
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, r)
		if rec.Code != 404 || rec.Body.String() != `{"message":"Not Found"}` {
			t.Errorf("%s %s without a console = %d %s", r.Method, r.URL, rec.Code, rec.Body)
		}
	}
	// A console without LocalSignIn (as it would be anywhere but make dev and the harness): no
	// token endpoint.
	f := newConsoleFixture(t, consoleFiles, ConsoleConfig{LocalSignIn: false})
	if res, body := f.do(t, "POST", "/_local/console/token", map[string]string{"Content-Type": "application/json"}, `{"sub":"u1","groups":["admin"]}`); res.StatusCode != 404 || strings.Contains(body, "token") {
		t.Errorf("token endpoint without LocalSignIn = %d %s", res.StatusCode, body)
	}
}

// TestConsoleRouteWouldBeShadowed: an API route under /console could never be reached while the
// console is served, so the gateway refuses to start with one.
func TestConsoleRouteWouldBeShadowed(t *testing.T) {
	k, _ := authlocal.NewKey()
	fn := http2("GET", "/console/{id}", manifest.Admin)
	noop := func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
	}
	cfg := Config{Functions: []manifest.Function{fn}, Handlers: map[string]any{fn.Name: noop}, Authority: authlocal.New(k, "i", "a"), Log: io.Discard}
	if _, err := New(cfg); err != nil {
		t.Fatalf("without a console the route is fine: %v", err)
	}
	cfg.Console = &ConsoleConfig{Dir: t.TempDir()}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "shadowed") {
		t.Errorf("New with a route under /console/ and a console = %v, want a shadowing error", err)
	}
}

func TestConsoleLocalSignInMints(t *testing.T) {
	f := newConsoleFixture(t, consoleFiles, ConsoleConfig{LocalSignIn: true})
	before := time.Now()
	res, body := f.do(t, "POST", "/_local/console/token", map[string]string{"Content-Type": "application/json",
		"Origin": f.srv.URL}, `{"sub":"admin-1","email":"a@b.c","groups":["admin","support","admin"]}`)
	if res.StatusCode != 200 {
		t.Fatalf("sign-in = %d %s", res.StatusCode, body)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("a token answer must not be cached: Cache-Control %q", res.Header.Get("Cache-Control"))
	}
	var out ConsoleToken
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	v, err := f.auth.Verify(out.Token)
	if err != nil {
		t.Fatalf("the minted token does not verify: %v", err)
	}
	if v.Claims["sub"] != "admin-1" || v.Claims["email"] != "a@b.c" || v.Claims["token_use"] != "id" {
		t.Errorf("claims %v", v.Claims)
	}
	// Flattened as API Gateway does; the duplicate admin was dropped.
	if g := v.Claims["cognito:groups"]; g != "[admin support]" {
		t.Errorf("cognito:groups %q, want [admin support]", g)
	}
	exp, err := time.Parse(time.RFC3339, out.ExpiresAt)
	if err != nil {
		t.Fatalf("expiresAt %q: %v", out.ExpiresAt, err)
	}
	if lo, hi := before.Add(time.Hour).Truncate(time.Second), time.Now().Add(time.Hour); exp.Before(lo) || exp.After(hi) {
		t.Errorf("expiresAt %s, want an hour from now (%s…%s)", exp, lo, hi)
	}
	if !strings.HasSuffix(out.ExpiresAt, "Z") {
		t.Errorf("expiresAt %q is not UTC", out.ExpiresAt)
	}
	// The token opens an admin route through the JWT authorizer.
	if res, body := f.do(t, "GET", "/admin/metrics", map[string]string{"Authorization": "Bearer " + out.Token}, ""); res.StatusCode != 200 || body != "admin-1" {
		t.Errorf("admin route with the minted token = %d %s", res.StatusCode, body)
	}

	// Minimal body: no e-mail, no groups (a plain user; the functions, not the gateway, refuse
	// such a user an admin route).
	res, body = f.do(t, "POST", "/_local/console/token", nil, `{"sub":"u.1@x_y-z"}`)
	if res.StatusCode != 200 {
		t.Fatalf("minimal sign-in = %d %s", res.StatusCode, body)
	}
	_ = json.Unmarshal([]byte(body), &out)
	v, err = f.auth.Verify(out.Token)
	if err != nil || v.Claims["sub"] != "u.1@x_y-z" || v.Claims["email"] != "" || v.Claims["cognito:groups"] != "" {
		t.Errorf("minimal token: %v %v", v.Claims, err)
	}
}

func TestConsoleLocalSignInRefuses(t *testing.T) {
	f := newConsoleFixture(t, consoleFiles, ConsoleConfig{LocalSignIn: true})
	jsonCT := map[string]string{"Content-Type": "application/json"}
	long := strings.Repeat("a", 129)
	tests := []struct {
		name    string
		method  string
		hdr     map[string]string
		body    string
		status  int
		code    string
		message string // a part of the message that says what is wrong
	}{
		{"GET", "GET", nil, "", 405, "method_not_allowed", "POST"},
		{"empty body", "POST", jsonCT, "", 400, "invalid", "JSON object"},
		{"not JSON", "POST", jsonCT, `sub=u1`, 400, "invalid", "JSON object"},
		{"an array", "POST", jsonCT, `["admin"]`, 400, "invalid", "JSON object"},
		{"two objects", "POST", jsonCT, `{"sub":"a"}{"sub":"b"}`, 400, "invalid", "one JSON object"},
		{"unknown field", "POST", jsonCT, `{"sub":"u1","role":"admin"}`, 400, "invalid", "role"},
		{"groups not a list", "POST", jsonCT, `{"sub":"u1","groups":"admin"}`, 400, "invalid", "groups"},
		{"no sub", "POST", jsonCT, `{"groups":["admin"]}`, 400, "invalid", "sub is required"},
		{"empty sub", "POST", jsonCT, `{"sub":""}`, 400, "invalid", "sub is required"},
		{"sub too long", "POST", jsonCT, `{"sub":"` + long + `"}`, 400, "invalid", "128"},
		{"sub with a space", "POST", jsonCT, `{"sub":"a b"}`, 400, "invalid", "sub"},
		{"sub with a slash", "POST", jsonCT, `{"sub":"../admin"}`, 400, "invalid", "sub"},
		{"sub with unicode", "POST", jsonCT, `{"sub":"ünï"}`, 400, "invalid", "sub"},
		{"unknown group", "POST", jsonCT, `{"sub":"u1","groups":["admin","root"]}`, 400, "invalid", `"root"`},
		{"group case", "POST", jsonCT, `{"sub":"u1","groups":["Admin"]}`, 400, "invalid", "admin, support, instructor"},
		{"bad e-mail", "POST", jsonCT, `{"sub":"u1","email":"not-an-address"}`, 400, "invalid", "email"},
		{"e-mail with a name", "POST", jsonCT, `{"sub":"u1","email":"Eve <e@x.y>"}`, 400, "invalid", "email"},
		{"form post", "POST", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, `sub=u1`, 415, "unsupported_media_type", "application/json"},
		{"too large", "POST", jsonCT, `{"sub":"u1","email":"` + strings.Repeat("a", 5000) + `"}`, 413, "payload_too_large", "4096"},
		{"foreign origin", "POST", map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}, `{"sub":"u1","groups":["admin"]}`, 403, "forbidden", "same-origin"},
		{"origin null", "POST", map[string]string{"Content-Type": "application/json", "Origin": "null"}, `{"sub":"u1","groups":["admin"]}`, 403, "forbidden", "same-origin"},
		{"other port", "POST", map[string]string{"Content-Type": "application/json", "Origin": "http://127.0.0.1:1"}, `{"sub":"u1","groups":["admin"]}`, 403, "forbidden", "same-origin"},
		{"https of the same host", "POST", map[string]string{"Content-Type": "application/json", "Origin": strings.Replace(f.srv.URL, "http:", "https:", 1)}, `{"sub":"u1"}`, 403, "forbidden", "same-origin"},
	}
	for _, tc := range tests {
		res, body := f.do(t, tc.method, "/_local/console/token", tc.hdr, tc.body)
		if res.StatusCode != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, res.StatusCode, body, tc.status)
			continue
		}
		e := errorBody(t, tc.name, body)
		if string(e.Code) != tc.code || !strings.Contains(e.Message, tc.message) {
			t.Errorf("%s: %s %q, want %s mentioning %q", tc.name, e.Code, e.Message, tc.code, tc.message)
		}
		if strings.Contains(body, `"token"`) {
			t.Errorf("%s: a token in a refusal: %s", tc.name, body)
		}
	}
}
