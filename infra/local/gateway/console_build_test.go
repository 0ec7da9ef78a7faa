package gateway

import (
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/liberation/monetization/infra/local/authlocal"
)

// The real build, when there is one: web/console/dist from this package's directory.
var builtConsole = filepath.Join("..", "..", "..", "web", "console", "dist")

var (
	tagRe  = regexp.MustCompile(`(?is)<(script|style|link|img|iframe|object|embed|base|meta)\b[^>]*>`)
	attrRe = regexp.MustCompile(`(?is)\s(src|href)\s*=\s*["']?([^"'\s>]+)`)
	cssURL = regexp.MustCompile(`(?i)url\(\s*["']?([^"')]+)`)
)

// TestConsoleBuildFitsTheCSP reads `make console`'s real output: the strict ConsoleCSP (no
// 'unsafe-inline', 'self' only) holds only while index.html has no inline script, style or event
// handler and nothing is loaded from another origin; and each file index.html names is served
// with the type a browser needs under nosniff (a module script as text/plain would not run).
// Skipped when the console is not built (a plain `go test` on a fresh clone; `make test` builds it).
func TestConsoleBuildFitsTheCSP(t *testing.T) {
	index, err := os.ReadFile(filepath.Join(builtConsole, "index.html"))
	if err != nil {
		t.Skipf("the console is not built (%v): `make console`", err)
	}
	html := string(index)
	if strings.Contains(strings.ToLower(html), "<style") {
		t.Error("index.html has an inline <style>: style-src 'self' refuses it")
	}
	if m := regexp.MustCompile(`(?i)\s(style|on[a-z]+)\s*=`).FindString(html); m != "" {
		t.Errorf("index.html has an inline %q attribute: the CSP refuses it", strings.TrimSpace(m))
	}
	if strings.Contains(strings.ToLower(html), "javascript:") {
		t.Error("index.html has a javascript: URL")
	}
	var files []string
	for _, tag := range tagRe.FindAllStringSubmatch(html, -1) {
		attrs := attrRe.FindAllStringSubmatch(tag[0], -1)
		if strings.EqualFold(tag[1], "script") && len(attrs) == 0 {
			t.Errorf("index.html has an inline script (%s): script-src 'self' refuses it", tag[0])
		}
		for _, a := range attrs {
			u := a[2]
			switch {
			case strings.HasPrefix(u, "data:"):
			case strings.Contains(u, "//"):
				t.Errorf("index.html loads %s from another origin: the CSP allows 'self' only", u)
			case strings.HasPrefix(u, "/console/"):
				files = append(files, u)
			default:
				t.Errorf("index.html names %s outside /console/ (Vite's base must be /console/)", u)
			}
		}
	}
	if len(files) == 0 {
		t.Fatal("index.html names no script or stylesheet under /console/")
	}

	k, err := authlocal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{Authority: authlocal.New(k, "i", "a"), Console: &ConsoleConfig{Dir: builtConsole}, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	defer srv.Close()
	for _, u := range files {
		res, err := srv.Client().Get(srv.URL + u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("GET %s = %d", u, res.StatusCode)
			continue
		}
		ct := res.Header.Get("Content-Type")
		switch filepath.Ext(u) {
		case ".js":
			if ct != "text/javascript; charset=utf-8" {
				t.Errorf("GET %s: Content-Type %q, a module script needs a JavaScript type", u, ct)
			}
		case ".css":
			if ct != "text/css; charset=utf-8" {
				t.Errorf("GET %s: Content-Type %q, a stylesheet needs text/css", u, ct)
			}
			for _, m := range cssURL.FindAllStringSubmatch(string(body), -1) {
				if strings.Contains(m[1], "//") {
					t.Errorf("%s loads %s from another origin: the CSP allows 'self' only", u, m[1])
				}
			}
		}
		if strings.HasPrefix(u, "/console/assets/") && res.Header.Get("Cache-Control") != cacheImmutable {
			t.Errorf("GET %s: Cache-Control %q, want %q for a hashed asset", u, res.Header.Get("Cache-Control"), cacheImmutable)
		}
	}
}
