package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Without API (or with one that is not an http(s) URL) the command prints its usage and exits 2
// before any request.
func TestUsage(t *testing.T) {
	for _, api := range []string{"", "ftp://x", "localhost:3000"} {
		var out, errw bytes.Buffer
		code := run(func(k string) string { return map[string]string{"API": api}[k] }, &out, &errw)
		if code != 2 || !strings.Contains(errw.String(), "usage: make smoke API=<url>") || out.Len() != 0 {
			t.Errorf("API=%q: exit %d, stderr %q, stdout %q", api, code, errw.String(), out.String())
		}
	}
}

// A stack whose routes all fail exits 1 and prints the table; the exit status follows the checks.
func TestExitOneOnFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	var out, errw bytes.Buffer
	code := run(func(k string) string { return map[string]string{"API": srv.URL}[k] }, &out, &errw)
	if code != 1 || !strings.Contains(out.String(), "FAIL") || !strings.Contains(out.String(), "smoke "+srv.URL) {
		t.Errorf("exit %d, table:\n%s", code, out.String())
	}
}
