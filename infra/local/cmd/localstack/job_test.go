package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestJobPrintsWhatTheJobReturned: `make job` prints the job's own report, says so when there is
// none, and turns a failure into one line on stderr (exit 1).
func TestJobPrintsWhatTheJobReturned(t *testing.T) {
	var answer func(w http.ResponseWriter)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/_local/jobs/billing-cycle" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusTeapot)
			return
		}
		answer(w)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	getenv := env(EnvStateDir, t.TempDir(), "PORT", port)
	reply := func(status int, body string) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			w.Header().Set("content-type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}
	}
	for _, tc := range []struct {
		name, body     string
		status, code   int
		stdout, stderr string
	}{
		{"Report", `{"function":"billing-cycle","result":{"reconciled":2,"expired":1,"snapshotWritten":true},"ms":41}`, 200, 0,
			"billing-cycle ran in 41 ms; its report:\n{\n  \"reconciled\": 2,\n  \"expired\": 1,\n  \"snapshotWritten\": true\n}\n", ""},
		{"NoReport", `{"function":"billing-cycle","ms":7}`, 200, 0, "billing-cycle ran in 7 ms (it returned no report)\n", ""},
		{"Failed", `{"error":{"code":"internal","message":"billing-cycle failed: stripe down","requestId":"r1"}}`, 500, 1,
			"", "localstack job: billing-cycle: billing-cycle failed: stripe down (500 Internal Server Error)\n"},
		{"GatewayMessage", `{"message":"Not Found"}`, 404, 1, "", "localstack job: billing-cycle: Not Found (404 Not Found)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answer = reply(tc.status, tc.body)
			code, stdout, stderr := runCLI(t, getenv, "job", "-name", "billing-cycle")
			if code != tc.code || stdout != tc.stdout || stderr != tc.stderr {
				t.Fatalf("exit %d\nstdout %q\nstderr %q\nwant %d %q %q", code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
			}
		})
	}
}

// TestJobSendsTheDay: -day (make job DAY=…) reaches the gateway as the detail's "day", -dry-run
// and -restart (DRY_RUN=1, RESTART=1) as "dryRun" and "restart"; without them the request has no
// body.
func TestJobSendsTheDay(t *testing.T) {
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		w.Header().Set("content-type", "application/json")
		_, _ = w.Write([]byte(`{"function":"reconcile","ms":3}`))
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	getenv := env(EnvStateDir, t.TempDir(), "PORT", port)
	if code, _, stderr := runCLI(t, getenv, "job", "-name", "reconcile", "-day", "2026-12-05"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, getenv, "job", "-name", "reconcile", "-day", ""); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, getenv, "job", "-name", "reconcile", "-dry-run", "-restart"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if len(bodies) != 3 || bodies[0] != `{"day":"2026-12-05"}` || bodies[1] != "" || bodies[2] != `{"dryRun":"true","restart":"true"}` {
		t.Fatalf("bodies %q, want the day, nothing, then the two flags", bodies)
	}
}
