//go:build integration

package e2e

// The request frame (shared/httpapi) on every HTTP route of the manifest, through the local
// gateway. Routes come from manifest.Functions and request bodies and Idempotency-Key parameters
// from docs/openapi.yaml, so a route added later is covered without editing this file.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/liberation/monetization/shared/apispec"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
)

// frameRoute is one manifest route with what the document says about its input.
type frameRoute struct {
	fn       manifest.Function
	path     string // concrete
	token    string
	body     *openapi3.Schema // nil: the operation takes no body
	key      bool             // documents Idempotency-Key
	required bool             // ... as required
}

func frameRoutes(t *testing.T, h *Harness) []frameRoute {
	t.Helper()
	doc, err := apispec.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	user := h.Token(t, "frame-user", "frame-user@example.com")
	admin := h.Token(t, "frame-admin", "frame-admin@example.com", "admin")
	var out []frameRoute
	for _, fn := range manifest.Of(manifest.HTTP) {
		item := doc.Paths.Value(fn.Trigger.Path)
		var op *openapi3.Operation
		if item != nil {
			op = item.GetOperation(fn.Trigger.Method)
		}
		if op == nil {
			t.Errorf("%s is not in docs/openapi.yaml", fn.RouteKey())
			continue
		}
		r := frameRoute{fn: fn, path: concrete(fn.Trigger.Path)}
		switch {
		case fn.Auth == manifest.User && len(fn.Groups) > 0:
			// A group route (support agents): a member of its groups, so the frame's checks are reached.
			r.token = h.Token(t, "frame-"+fn.Groups[0], "frame-"+fn.Groups[0]+"@example.com", fn.Groups...)
		case fn.Auth == manifest.User:
			r.token = user
		case fn.Auth == manifest.Admin:
			r.token = admin
		}
		if op.RequestBody != nil {
			mt := op.RequestBody.Value.Content.Get("application/json")
			if mt == nil || mt.Schema == nil || mt.Schema.Value == nil || len(mt.Schema.Value.Properties) == 0 {
				t.Errorf("%s: the request body has no JSON object schema with properties", fn.RouteKey())
				continue
			}
			r.body = mt.Schema.Value
		}
		if p := op.Parameters.GetByInAndName(openapi3.ParameterInHeader, "Idempotency-Key"); p != nil {
			r.key, r.required = true, p.Required
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		t.Fatal("no HTTP routes in the manifest")
	}
	return out
}

// frameDo sends exactly what it is given: no header is added (no content type unless named).
func frameDo(t *testing.T, h *Harness, r frameRoute, body string, headers map[string]string) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(r.fn.Trigger.Method, h.URL+r.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if r.token != "" {
		tok := r.token
		if r.fn.RateLimit != nil && r.fn.Auth == manifest.User && len(r.fn.Groups) == 0 {
			// A fresh caller per request: this test checks the frame, not the per-user limit
			// (TestJoinClassRateLimit does; decision 0077).
			n := frameCallers.Add(1)
			tok = h.Token(t, fmt.Sprintf("frame-user-%d", n), fmt.Sprintf("frame-user-%d@example.com", n))
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range headers {
		req.Header[http.CanonicalHeaderKey(k)] = []string{v}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", r.fn.RouteKey(), err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

var jsonCT = map[string]string{"Content-Type": "application/json"}

// frameCallers numbers the fresh callers of rate-limited routes.
var frameCallers atomic.Int64

// goType matches what a Go type in a message looks like (payments.CreateRefundRequest, int64, …).
var goType = regexp.MustCompile(`\b[a-z][a-z0-9]*\.[A-Za-z_][A-Za-z0-9_]*Request\b|\b(?:u?int(?:8|16|32|64)|float(?:32|64))\b|\bGo (?:type|value|struct)\b|json: |\bstruct\b`)

// wantError checks the exact error shape, status, code and message, and that nothing internal leaks.
func wantError(t *testing.T, label string, status int, body []byte, hdr http.Header, wantStatus int, code, message string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("%s: %d %s, want %d %s", label, status, body, wantStatus, message)
		return
	}
	var eb httpapi.ErrorBody
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eb); err != nil {
		t.Errorf("%s: not the error shape (%v): %s", label, err, body)
		return
	}
	if string(eb.Error.Code) != code || eb.Error.Message != message || eb.Error.RequestID == "" ||
		eb.Error.RequestID != hdr.Get("apigw-requestid") {
		t.Errorf("%s: %s, want code %q message %q and the request id", label, body, code, message)
	}
	if leaks(body) || goType.Match(body) {
		t.Errorf("%s: internals in the answer: %s", label, body)
	}
}

// nonNull is, for a schema without a type of its own that is a nullable anyOf/oneOf
// ({$ref: X} or {type: "null"}), the first alternative that is not null; else the schema itself.
func nonNull(s *openapi3.SchemaRef) *openapi3.SchemaRef {
	if s == nil || s.Value == nil || s.Value.Type != nil && len(*s.Value.Type) > 0 {
		return s
	}
	for _, alts := range []openapi3.SchemaRefs{s.Value.AnyOf, s.Value.OneOf} {
		for _, a := range alts {
			if a != nil && a.Value != nil && !a.Value.Type.Is("null") {
				return a
			}
		}
	}
	return s
}

// sample is a value of the property's JSON type (valid for the type, not necessarily for the route).
func sample(s *openapi3.SchemaRef) any {
	s = nonNull(s)
	if s == nil || s.Value == nil {
		return "x"
	}
	v := s.Value
	if len(v.Enum) > 0 {
		return v.Enum[0]
	}
	if len(v.AllOf) > 0 {
		return sample(v.AllOf[0])
	}
	switch {
	case v.Type.Includes("integer"):
		return 1
	case v.Type.Includes("number"):
		return 1.5
	case v.Type.Includes("boolean"):
		return true
	case v.Type.Includes("array"):
		return []any{}
	case v.Type.Includes("object"):
		return map[string]any{}
	case v.Format == "date-time":
		// A well-formed value, so the duplicate or case-variant name is what the frame refuses.
		return "2026-01-31T09:00:00Z"
	}
	return "x"
}

func isInteger(s *openapi3.SchemaRef) bool {
	s = nonNull(s)
	return s != nil && s.Value != nil && s.Value.Type.Includes("integer")
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestRequestFrameOnEveryRoute: exact keys, duplicates, objects only, whole numbers, content type
// and Idempotency-Key values, on every route of the manifest.
func TestRequestFrameOnEveryRoute(t *testing.T) {
	h := Start(t)
	for _, r := range frameRoutes(t, h) {
		r := r
		t.Run(r.fn.Name, func(t *testing.T) {
			rk := r.fn.RouteKey()
			// Content type: any body on any route must be labelled application/json.
			for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1"} {
				status, body, hdr := frameDo(t, h, r, `{}`, map[string]string{"Content-Type": ct})
				msg := "content-type must be application/json"
				if strings.Contains(ct, "charset") {
					msg = "JSON bodies must be UTF-8 (charset=utf-8)"
				}
				wantError(t, rk+" content-type "+ct, status, body, hdr, 415, "unsupported_media_type", msg)
			}
			status, body, hdr := frameDo(t, h, r, `{}`, nil)
			wantError(t, rk+" body without content-type", status, body, hdr, 415, "unsupported_media_type",
				"a request body needs the header content-type: application/json")

			if r.body != nil {
				frameBody(t, h, r)
			}
			if r.key {
				frameIdempotencyKey(t, h, r)
			}
		})
	}
}

func frameBody(t *testing.T, h *Harness, r frameRoute) {
	t.Helper()
	rk := r.fn.RouteKey()
	// A route that requires an Idempotency-Key refuses a request without one before it reads the
	// body, so there every body check carries a fresh, valid key.
	n := 0
	headers := func() map[string]string {
		if !r.required {
			return jsonCT
		}
		n++
		return map[string]string{"Content-Type": "application/json", "Idempotency-Key": fmt.Sprintf("frame-%s-%d", r.fn.Name, n)}
	}
	const notObject = "request body must be a JSON object"
	for _, b := range []string{`[]`, `[{}]`, `true`, `null`, `"{}"`, `42`} {
		status, body, hdr := frameDo(t, h, r, b, headers())
		wantError(t, rk+" body "+b, status, body, hdr, 400, "invalid", notObject)
	}
	for name, prop := range r.body.Properties {
		v := sample(prop)
		for _, variant := range caseVariants(name) {
			// Alone, and after the exact name: either way the variant is a field of its own.
			for _, b := range []string{
				fmt.Sprintf(`{%s:%s}`, js(variant), js(v)),
				fmt.Sprintf(`{%s:%s,%s:%s}`, js(name), js(v), js(variant), js(v)),
			} {
				status, body, hdr := frameDo(t, h, r, b, headers())
				wantError(t, rk+" "+b, status, body, hdr, 400, "invalid", fmt.Sprintf("request body is invalid: unknown field %q", variant))
			}
		}
		b := fmt.Sprintf(`{%s:%s,%s:%s}`, js(name), js(v), js(name), js(v))
		status, body, hdr := frameDo(t, h, r, b, headers())
		wantError(t, rk+" "+b, status, body, hdr, 400, "invalid", fmt.Sprintf("request body is invalid: duplicate field %q", name))

		if isInteger(prop) {
			b = fmt.Sprintf(`{%s:1.5}`, js(name))
			status, body, hdr = frameDo(t, h, r, b, headers())
			wantError(t, rk+" "+b, status, body, hdr, 400, "invalid", fmt.Sprintf("request body is invalid: field %q must be an integer", name))
			// A whole number written with a fraction passes the frame (the route may refuse the
			// request for other reasons, never for this field's type).
			b = fmt.Sprintf(`{%s:2.0}`, js(name))
			_, body, _ = frameDo(t, h, r, b, headers())
			if strings.Contains(string(body), fmt.Sprintf("field %q", name)) {
				t.Errorf("%s %s: 2.0 was refused as a non-integer: %s", rk, b, body)
			}
		}
	}
}

// caseVariants are spellings of name that differ only in case.
func caseVariants(name string) []string {
	var out []string
	for _, v := range []string{strings.ToUpper(name), strings.ToUpper(name[:1]) + name[1:], strings.ToLower(name)} {
		if v != name && !contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func frameIdempotencyKey(t *testing.T, h *Harness, r frameRoute) {
	t.Helper()
	rk := r.fn.RouteKey()
	body, headers := "", map[string]string{}
	if r.body != nil {
		body, headers["Content-Type"] = `{}`, "application/json"
	}
	with := func(key string) map[string]string {
		m := map[string]string{"Idempotency-Key": key}
		for k, v := range headers {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct{ key, message string }{
		{"", "Idempotency-Key must not be empty"},
		{"   ", "Idempotency-Key must not be empty"},
		{strings.Repeat("k", 256), "Idempotency-Key must be at most 255 characters"},
		{"clé-1", "Idempotency-Key must be printable ASCII"},
	} {
		status, b, hdr := frameDo(t, h, r, body, with(tc.key))
		wantError(t, fmt.Sprintf("%s Idempotency-Key %.20q", rk, tc.key), status, b, hdr, 400, "invalid", tc.message)
	}
	// Without the header: a 400 naming it exactly where the document says the key is required.
	status, b, hdr := frameDo(t, h, r, body, headers)
	const missing = "the Idempotency-Key header is required on this route"
	if r.required {
		wantError(t, rk+" without Idempotency-Key", status, b, hdr, 400, "invalid", missing)
	} else if strings.Contains(string(b), missing) {
		t.Errorf("%s: requires Idempotency-Key, but docs/openapi.yaml says it is optional: %d %s", rk, status, b)
	}
}
