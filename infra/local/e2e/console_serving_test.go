//go:build integration

package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liberation/monetization/infra/local/gateway"
	"github.com/liberation/monetization/infra/local/localtest"
)

// TestConsoleServedByHarness: e2e.WithConsole serves what make dev serves (docs/decisions/0093) —
// the console's generated settings, its built files from web/console/dist (or the 503 that says to
// build it), and a local sign-in whose token the real admin route accepts.
func TestConsoleServedByHarness(t *testing.T) {
	h := Start(t, WithConsole())

	status, body, _ := h.Do(t, http.MethodGet, "/console/config.json", "", nil)
	if status != http.StatusOK || string(body) != `{"env":"dev","api":"","auth":{"mode":"local"}}` {
		t.Errorf("GET /console/config.json = %d %s", status, body)
	}

	// The sign-in form's call, from the console's own origin.
	var tok gateway.ConsoleToken
	h.Call(t, http.MethodPost, "/_local/console/token", "", map[string]any{"sub": "console-admin", "email": "ops@example.com",
		"groups": []string{"admin"}}, http.StatusOK, &tok, map[string]string{"Origin": h.URL})
	if tok.Token == "" || tok.ExpiresAt == "" {
		t.Fatalf("sign-in answered %+v", tok)
	}
	var metrics map[string]json.RawMessage
	h.Call(t, http.MethodGet, "/admin/metrics", tok.Token, nil, http.StatusOK, &metrics)
	if _, ok := metrics["mrrCents"]; !ok {
		t.Errorf("GET /admin/metrics with the console's token: no mrrCents in %v", metrics)
	}
	// Not an admin: the same route is refused by the function, as for any token.
	h.Call(t, http.MethodPost, "/_local/console/token", "", map[string]any{"sub": "console-instructor",
		"groups": []string{"instructor"}}, http.StatusOK, &tok)
	h.Call(t, http.MethodGet, "/admin/metrics", tok.Token, nil, http.StatusForbidden, nil)
	// Another page in the developer's browser cannot mint an admin token.
	h.Call(t, http.MethodPost, "/_local/console/token", "", map[string]any{"sub": "x", "groups": []string{"admin"}},
		http.StatusForbidden, nil, map[string]string{"Origin": "http://evil.example"})

	index, err := os.ReadFile(filepath.Join(localtest.ProjectRoot(), "web", "console", "dist", "index.html"))
	status, body, hdr := h.Do(t, http.MethodGet, "/console/", "", nil)
	switch {
	case err == nil:
		if status != http.StatusOK || string(body) != string(index) || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
			t.Errorf("GET /console/ = %d %s, want the built index.html", status, hdr.Get("Content-Type"))
		}
		if hdr.Get("Content-Security-Policy") != gateway.ConsoleCSP {
			t.Errorf("GET /console/: CSP %q", hdr.Get("Content-Security-Policy"))
		}
	default: // not built: the answer says how to build it
		if status != http.StatusServiceUnavailable || !strings.Contains(string(body), "make console") {
			t.Errorf("GET /console/ of an unbuilt console = %d %s", status, body)
		}
	}
}
