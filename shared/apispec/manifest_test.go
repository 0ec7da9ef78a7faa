package apispec_test

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/liberation/monetization/shared/apispec"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/notify"
)

func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := apispec.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// documented are the routes the manifest exposes over HTTP: API routes and the webhook URL.
func documented() []manifest.Function {
	return append(manifest.Of(manifest.HTTP), manifest.Of(manifest.FunctionURL)...)
}

// errorStatuses are the statuses of the shared error shape (apperr's table).
var errorStatuses = func() map[int]apperr.Code {
	m := map[int]apperr.Code{}
	for _, c := range apperr.Codes() {
		m[apperr.Status(c)] = c
	}
	return m
}()

func TestDocumentIsOpenAPI31(t *testing.T) {
	doc := loadDoc(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Fatalf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	if len(doc.Security) != 1 || doc.Security[0]["cognitoJwt"] == nil {
		t.Fatalf("global security must be exactly the bearer JWT scheme, got %v", doc.Security)
	}
	s := doc.Components.SecuritySchemes["cognitoJwt"]
	if s == nil || s.Value.Type != "http" || s.Value.Scheme != "bearer" || s.Value.BearerFormat != "JWT" {
		t.Fatalf("cognitoJwt must be an http bearer JWT scheme, got %+v", s)
	}
	// The error codes in the document are exactly apperr's.
	codes := doc.Components.Schemas["Error"].Value.Properties["error"].Value.Properties["code"].Value.Enum
	var got []string
	for _, c := range codes {
		got = append(got, c.(string))
	}
	var want []string
	for _, c := range errorStatuses {
		want = append(want, string(c))
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Error.code enum = %v, apperr codes = %v", got, want)
	}
	for status, code := range errorStatuses {
		if apperr.Status(code) != status {
			t.Fatalf("apperr maps %s to %d, the document to %d", code, apperr.Status(code), status)
		}
	}
}

// The document lists exactly the manifest's HTTP routes (and the webhook URL), with operation ids,
// summaries, security and error responses that follow from each function's auth level.
func TestDocumentMatchesManifest(t *testing.T) {
	doc := loadDoc(t)
	seen := map[string]bool{}
	for _, fn := range documented() {
		key := fn.Trigger.Method + " " + fn.Trigger.Path
		seen[key] = true
		item := doc.Paths.Value(fn.Trigger.Path)
		if item == nil {
			t.Errorf("%s: path %s is not in docs/openapi.yaml", fn.Name, fn.Trigger.Path)
			continue
		}
		op := item.GetOperation(fn.Trigger.Method)
		if op == nil {
			t.Errorf("%s: %s is not in docs/openapi.yaml", fn.Name, key)
			continue
		}
		if op.OperationID != fn.Name {
			t.Errorf("%s: operationId = %q, want the function name", key, op.OperationID)
		}
		if op.Summary != fn.Summary {
			t.Errorf("%s: summary = %q, manifest says %q", key, op.Summary, fn.Summary)
		}
		has := func(status int) bool { return op.Responses.Status(status) != nil }
		switch fn.Auth {
		case manifest.Public, manifest.Signed:
			if op.Security == nil || len(*op.Security) != 0 {
				t.Errorf("%s: a %s route must override security with []", key, fn.Auth)
			}
			if has(401) || has(403) {
				t.Errorf("%s: a %s route documents 401/403", key, fn.Auth)
			}
		case manifest.User, manifest.Admin:
			if op.Security != nil {
				t.Errorf("%s: a JWT route must use the global security, not override it", key)
			}
			if !has(401) {
				t.Errorf("%s: a JWT route must document 401", key)
			}
			isAdmin := fn.Auth == manifest.Admin
			// 403 is the admin check's or the frame's group check's answer; another user route
			// documents it only together with the rule that produces it (x-access: an instructor
			// or admin caller, ownership, an enrolment).
			_, hasRule := op.Extensions["x-access"]
			if grouped := isAdmin || len(fn.Groups) > 0; grouped && !has(403) || !grouped && has(403) != hasRule {
				t.Errorf("%s: documents 403 = %v with x-access = %v; admin and group routes need 403, other user routes 403 exactly with an x-access rule",
					key, has(403), hasRule)
			}
			if tagged := contains(op.Tags, "admin"); tagged != isAdmin {
				t.Errorf("%s: tagged admin = %v; want %v", key, tagged, isAdmin)
			}
		default:
			t.Errorf("%s: unexpected auth %s on an HTTP route", key, fn.Auth)
		}
		if fn.Trigger.Kind == manifest.FunctionURL {
			checkWebhookOperation(t, key, item, op)
			continue
		}
		if !has(500) {
			t.Errorf("%s: must document 500", key)
		}
		// Every answer the request frame can give on any route (a body on a GET is a 415 too; the
		// local gateway's 431 for oversized headers), so fuzzing finds no undocumented status.
		for _, st := range []int{415, 431} {
			if !has(st) {
				t.Errorf("%s: must document %d (the request frame answers it on every route)", key, st)
			}
		}
		// A list paged by cursor is tagged "paginated": the contract fuzzing accepts the documented
		// 400 for a cursor this API did not sign on exactly those operations.
		paged := op.Parameters.GetByInAndName(openapi3.ParameterInQuery, "cursor") != nil
		if tagged := contains(op.Tags, "paginated"); tagged != paged {
			t.Errorf("%s: tagged paginated = %v; want %v (it has a cursor parameter: %v)", key, tagged, paged, paged)
		}
		checkErrorResponses(t, key, op)
		checkRequestBody(t, key, op)
		for _, p := range item.Parameters {
			t.Errorf("%s: path-level parameter %s: declare parameters on the operation", key, p.Value.Name)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if !seen[method+" "+path] {
				t.Errorf("docs/openapi.yaml has %s %s (%s), the manifest does not", method, path, op.OperationID)
			}
		}
	}
}

// checkErrorResponses: every 4xx/5xx of an API route uses the shared Error schema.
func checkErrorResponses(t *testing.T, key string, op *openapi3.Operation) {
	t.Helper()
	for code, ref := range op.Responses.Map() {
		status, err := strconv.Atoi(code)
		if err != nil {
			t.Errorf("%s: response %q must be a status code", key, code)
			continue
		}
		if status < 400 {
			if status >= 300 || ref.Value.Content.Get("application/json") == nil {
				t.Errorf("%s: %d must be a JSON success response", key, status)
			}
			continue
		}
		if _, ok := errorStatuses[status]; !ok {
			t.Errorf("%s: %d is not a status of the error table", key, status)
			continue
		}
		mt := ref.Value.Content.Get("application/json")
		if mt == nil || !refersTo(mt.Schema, "#/components/schemas/Error") {
			t.Errorf("%s: %d must use the Error schema", key, status)
		}
	}
}

// checkRequestBody: bodies are closed objects (unknown fields are rejected by httpapi.Decode).
func checkRequestBody(t *testing.T, key string, op *openapi3.Operation) {
	t.Helper()
	if op.RequestBody == nil {
		return
	}
	mt := op.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		t.Errorf("%s: request body must be application/json with a schema", key)
		return
	}
	s := mt.Schema.Value
	if !s.Type.Is("object") || s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
		t.Errorf("%s: request body must be an object with additionalProperties: false", key)
	}
	if !op.RequestBody.Value.Required {
		t.Errorf("%s: request body must be required (an empty body is a 400)", key)
	}
}

func checkWebhookOperation(t *testing.T, key string, item *openapi3.PathItem, op *openapi3.Operation) {
	t.Helper()
	if len(item.Servers) == 0 {
		t.Errorf("%s: the webhook must name its own server (the function URL)", key)
	}
	if !contains(op.Tags, "webhooks") {
		t.Errorf("%s: must be tagged webhooks", key)
	}
	p := op.Parameters.GetByInAndName(openapi3.ParameterInHeader, "stripe-signature")
	if p == nil || !p.Required {
		t.Errorf("%s: must require the stripe-signature header", key)
	}
	for _, status := range []int{200, 400, 500} {
		if op.Responses.Status(status) == nil {
			t.Errorf("%s: must document %d", key, status)
		}
	}
}

func refersTo(s *openapi3.SchemaRef, ref string) bool {
	if s == nil {
		return false
	}
	if s.Ref == ref {
		return true
	}
	if s.Value != nil {
		for _, alt := range s.Value.OneOf {
			if alt.Ref == ref {
				return true
			}
		}
	}
	return false
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// idempotentOps are the operations documenting the Idempotency-Key header.
func idempotentOps(doc *openapi3.T) map[string]bool {
	out := map[string]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.Parameters.GetByInAndName(openapi3.ParameterInHeader, "Idempotency-Key") != nil {
				out[op.OperationID] = true
			}
		}
	}
	return out
}

// The branding route's logoUrl pattern is the handler's (notify.LogoURLPattern): a value the spec
// allows is stored, and one it refuses is refused.
func TestLogoURLPatternIsTheHandlers(t *testing.T) {
	op := loadDoc(t).Paths.Find("/licenses/{licenseId}/branding").Put
	got := op.RequestBody.Value.Content.Get("application/json").Schema.Value.Properties["logoUrl"].Value.Pattern
	if got != notify.LogoURLPattern {
		t.Fatalf("openapi logoUrl pattern %q, handler's %q", got, notify.LogoURLPattern)
	}
}

// The TimeZone schema's pattern is the handler's shape check (licensing.ZonePattern).
func TestTimeZonePatternIsTheHandlers(t *testing.T) {
	got := loadDoc(t).Components.Schemas["TimeZone"].Value.Pattern
	if got != licensing.ZonePattern {
		t.Fatalf("openapi TimeZone pattern %q, handler's %q", got, licensing.ZonePattern)
	}
}
