package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/localtest"
)

// TestDevSmoke is `make dev` on a fresh machine, then `make token`, `make trigger` and `make job`
// against it, as a developer would use them: dev starts its own moto, stripe-mock and mailpit (on
// free ports, with a temporary state dir), and Ctrl-C (a cancelled context) stops everything.
func TestDevSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole local stack")
	}
	// dev exports the AWS SDK's variables into the process environment (the SDK reads them from
	// there); t.Setenv restores the test process's own values afterwards.
	for _, k := range sdkEnv {
		t.Setenv(k, os.Getenv(k))
	}
	d := startDev(t)
	state, ports, api, devEnv, devOut, devErr, stop := d.state, d.ports, d.api, d.env, d.stdout, d.stderr, d.stop
	envFile := devEnvFile(state)
	// The other subcommands find the stack through the state dir alone, like `make token` does.
	clientEnv := env(EnvStateDir, state)

	if !strings.Contains(devErr.String(), "local stack is up") || !strings.Contains(devErr.String(), api) {
		t.Fatalf("banner missing or without the API URL:\n%s", devErr.String())
	}
	if !strings.Contains(devErr.String(), "Stripe (stand-in):   "+d.stripeState+" ") {
		t.Errorf("banner without the Stripe stand-in's URL %s:\n%s", d.stripeState, devErr.String())
	}
	// The operator console (docs/decisions/0093): its URL in the banner, its generated settings
	// and the local sign-in served on the gateway's port, whether or not it is built.
	if !strings.Contains(devErr.String(), "console:             "+api+"/console/   (local sign-in") {
		t.Errorf("banner without the console's URL %s/console/:\n%s", api, devErr.String())
	}
	if status, body := httpDo(t, http.MethodGet, api+"/console/config.json", ""); status != http.StatusOK || string(body) != `{"env":"dev","api":"","auth":{"mode":"local"}}` {
		t.Errorf("GET /console/config.json = %d %s", status, body)
	}
	if res, err := http.Post(api+"/_local/console/token", "application/json", strings.NewReader(`{"sub":"admin-1","groups":["admin"]}`)); err != nil {
		t.Errorf("local sign-in: %v", err)
	} else {
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("local sign-in = %d", res.StatusCode)
		}
	}
	if s := devOut.String(); s != "" {
		t.Errorf("dev wrote to stdout: %q", s)
	}
	recorded := readDevEnv(envFile)
	mailpitURL := "http://127.0.0.1:" + strconv.Itoa(ports["MAILPIT_PORT"])
	for k, want := range map[string]string{"PORT": strconv.Itoa(ports["PORT"]), "API_URL": api, "MAILPIT_URL": mailpitURL,
		"MOTO_URL":         "http://127.0.0.1:" + strconv.Itoa(ports["MOTO_PORT"]),
		"STRIPE_MOCK_URL":  "http://127.0.0.1:" + strconv.Itoa(ports["STRIPE_MOCK_PORT"]),
		"STRIPE_STATE_URL": d.stripeState} {
		if recorded[k] != want {
			t.Errorf("dev.env %s=%q, want %q", k, recorded[k], want)
		}
	}
	if _, err := os.Stat(filepath.Join(state, "jwt")); err != nil {
		t.Errorf("JWT key not kept in the state dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(state, "logs", "moto.log")); err != nil {
		t.Errorf("service logs not in the state dir: %v", err)
	}

	// make token → a token the gateway accepts.
	user := "smoke-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	email := user + "@example.com"
	code, stdout, stderr := runCLI(t, clientEnv, "token", "-sub", user, "-email", email)
	if code != 0 {
		t.Fatalf("token: exit %d: %s", code, stderr)
	}
	tok := strings.TrimSpace(stdout)
	if status, body := httpDo(t, http.MethodGet, api+"/subscription", tok); status != http.StatusOK {
		t.Fatalf("GET /subscription with the token: %d %s", status, body)
	}
	if status, _ := httpDo(t, http.MethodGet, api+"/subscription", tok+"x"); status != http.StatusUnauthorized {
		t.Fatalf("GET /subscription with a forged token: %d, want 401", status)
	}

	// make trigger → signed webhooks the stack accepts.
	for _, event := range []string{"customer.subscription.created", "invoice.paid"} {
		code, stdout, stderr := runCLI(t, clientEnv, "trigger", "-event", event, "-user", user, "-email", email, "-tier", "pro")
		if code != 0 || !strings.HasPrefix(stdout, "200 OK\n") {
			t.Fatalf("trigger %s: exit %d, stdout %q, stderr %q", event, code, stdout, stderr)
		}
	}
	var sub struct{ Tier, Status string }
	getJSON(t, api+"/subscription", tok, &sub)
	if sub.Tier != "pro" || sub.Status != "active" {
		t.Fatalf("subscription after the events: %+v, want pro/active", sub)
	}
	var pays struct {
		Payments []struct {
			AmountCents int64  `json:"amountCents"`
			Currency    string `json:"currency"`
		} `json:"payments"`
	}
	getJSON(t, api+"/payments", tok, &pays)
	if len(pays.Payments) != 1 || pays.Payments[0].AmountCents <= 0 || pays.Payments[0].Currency != "usd" {
		t.Fatalf("payments after invoice.paid: %+v, want one", pays.Payments)
	}

	// The receipt e-mail reaches dev's own mailpit (via the SQS poller), as recorded in dev.env.
	mp := &localtest.Mailpit{URL: recorded["MAILPIT_URL"]}
	msgs := mp.WaitFor(t, "to:"+email, 1)
	if len(msgs) != 1 {
		t.Fatalf("receipt e-mails to %s: %d, want 1", email, len(msgs))
	}

	// make job → the billing cycle runs now.
	code, stdout, stderr = runCLI(t, clientEnv, "job", "-name", "billing-cycle")
	if code != 0 || !strings.HasPrefix(stdout, "billing-cycle ran in ") || stderr != "" {
		t.Fatalf("job billing-cycle: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if strings.Contains(stdout, "its report:") && !strings.Contains(stdout, `"reconciled"`) {
		t.Fatalf("job billing-cycle: a report without the reconciled count: %q", stdout)
	}
	code, stdout, stderr = runCLI(t, clientEnv, "job", "-name", "no-such-job")
	if code != 1 || stdout != "" || !strings.Contains(stderr, `unknown job "no-such-job"; the jobs are: `) ||
		!strings.Contains(stderr, "billing-cycle") {
		t.Fatalf("job no-such-job: exit %d, stdout %q, stderr %q; want 1 and the list of jobs", code, stdout, stderr)
	}

	// make seed → a demo marketplace, idempotently (a small one here: 6 courses, 2 learners).
	for i, want := range []string{"courses: 6 (6 created, 6 published now)", "courses: 6 (0 created, 0 published now)"} {
		code, stdout, stderr := runCLI(t, clientEnv, "seed", "-courses", "6", "-learners", "2")
		if code != 0 || !strings.Contains(stdout, want) || !strings.Contains(stdout, "refresh-catalog:") {
			t.Fatalf("seed run %d: exit %d, stdout %q, stderr %q; want %q", i+1, code, stdout, stderr, want)
		}
	}
	var catalog struct {
		Courses []struct {
			ID         string `json:"id"`
			PriceCents int64  `json:"priceCents"`
		} `json:"courses"`
	}
	getJSON(t, api+"/courses?limit=50", "", &catalog)
	paid := ""
	for _, c := range catalog.Courses {
		if c.PriceCents > 0 && paid == "" {
			paid = c.ID
		}
	}
	if len(catalog.Courses) != 6 || paid == "" {
		t.Fatalf("catalog after seeding: %+v", catalog.Courses)
	}
	// make trigger → a course purchase (and a Connect account update) the stack accepts.
	code, stdout, stderr = runCLI(t, clientEnv, "trigger", "-event", "checkout.session.completed", "-user", user,
		"-email", email, "-amount", "999", "-course", paid)
	if code != 0 || !strings.HasPrefix(stdout, "200 OK\n") {
		t.Fatalf("trigger course purchase: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	var mine struct {
		Courses []struct {
			CourseID string `json:"courseId"`
		} `json:"courses"`
	}
	getJSON(t, api+"/me/courses", tok, &mine)
	if len(mine.Courses) != 1 || mine.Courses[0].CourseID != paid {
		t.Fatalf("enrolments after the purchase: %+v, want %s", mine.Courses, paid)
	}
	// The instructor connects (POST /instructors/me/connect stores the account), then Stripe's
	// account.updated for that account is accepted; one for an account we do not know is refused
	// (decision 0077).
	code, stdout, stderr = runCLI(t, clientEnv, "token", "-sub", "seed-instructor-1", "-groups", "instructor")
	if code != 0 {
		t.Fatalf("instructor token: exit %d: %s", code, stderr)
	}
	var connected struct {
		AccountID string `json:"accountId"`
	}
	postJSON(t, api+"/instructors/me/connect", strings.TrimSpace(stdout),
		`{"returnUrl":"http://localhost:5173/instructor","refreshUrl":"http://localhost:5173/instructor"}`, &connected)
	code, stdout, _ = runCLI(t, clientEnv, "trigger", "-event", "account.updated", "-user", "seed-instructor-1", "-account", "acct_unknown_smoke")
	if code == 0 || !strings.HasPrefix(stdout, "403 Forbidden\n") {
		t.Fatalf("account.updated for an unknown account: exit %d, stdout %q; want 403", code, stdout)
	}
	code, stdout, stderr = runCLI(t, clientEnv, "trigger", "-event", "account.updated", "-user", "seed-instructor-1", "-account", connected.AccountID)
	if code != 0 || !strings.HasPrefix(stdout, "200 OK\n") {
		t.Fatalf("trigger account.updated: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	// A second dev on the same gateway port is refused at once (and leaves the first one alone).
	code, _, stderr = runCLI(t, devEnv, "dev")
	if code != 1 || !strings.Contains(stderr, "gateway port "+strconv.Itoa(ports["PORT"])+" is busy") {
		t.Fatalf("second dev: exit %d, stderr %q; want the busy-port error", code, stderr)
	}

	// Ctrl-C: dev returns cleanly, removes dev.env and frees every port.
	t1 := time.Now()
	if code := stop(); code != 0 {
		t.Fatalf("dev exited with %d after cancel; stderr:\n%s", code, devErr.String())
	}
	t.Logf("dev stopped in %s", time.Since(t1).Round(time.Millisecond))
	if _, err := os.Stat(envFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dev.env not removed: %v", err)
	}
	for name, p := range ports {
		addr := "127.0.0.1:" + strconv.Itoa(p)
		deadline := time.Now().Add(5 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err != nil {
				break
			}
			c.Close()
			if time.Now().After(deadline) {
				t.Errorf("%s %s still open after dev stopped", name, addr)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// (PORT pins the stopped stack's port: with dev.env gone, job would otherwise try :3000.)
	if code, _, stderr := runCLI(t, env(EnvStateDir, state, "PORT", strconv.Itoa(ports["PORT"])), "job", "-name", "billing-cycle"); code != 1 || !strings.Contains(stderr, "is `make dev` running?") {
		t.Errorf("job after dev stopped: exit %d, stderr %q", code, stderr)
	}
}

// devRun is a `dev` running in the background.
type devRun struct {
	state          string
	ports          map[string]int // MOTO_PORT, STRIPE_MOCK_PORT, SMTP_PORT, MAILPIT_PORT, SES_PORT, STRIPE_STATE_PORT, PORT
	env            func(string) string
	api            string
	stripeState    string // the Stripe stand-in's URL
	stdout, stderr *syncBuffer
	stop           func() int // cancels dev (Ctrl-C) and returns its exit code
}

// startDev runs `dev` on free ports with a fresh state dir and waits until the gateway answers and
// dev.env is written. A free port can be taken by another process before a service binds it (other
// test packages start services too); such a start is retried on new ports.
func startDev(t *testing.T) *devRun {
	t.Helper()
	for attempt := 1; ; attempt++ {
		d, done, err := tryStartDev(t)
		if err == nil {
			return d
		}
		lost := strings.Contains(err.Error(), "already in use") || strings.Contains(err.Error(), "exited before it was ready") ||
			strings.Contains(err.Error(), "is busy")
		if !lost || attempt == 3 {
			t.Fatalf("dev did not start (attempt %d): %v", attempt, err)
		}
		<-done
		t.Logf("dev lost a port race, retrying on new ports: %v", err)
	}
}

func tryStartDev(t *testing.T) (*devRun, <-chan struct{}, error) {
	d := &devRun{state: t.TempDir(), ports: map[string]int{}, stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	// Every port dev binds is a free one, so a `make dev` running on this machine (or another
	// test's stack) never collides with the test's.
	names := []string{"MOTO_PORT", "STRIPE_MOCK_PORT", "SMTP_PORT", "MAILPIT_PORT", "SES_PORT", "STRIPE_STATE_PORT", "PORT"}
	kv := []string{EnvStateDir, d.state}
	for i, p := range freePorts(t, len(names)) {
		d.ports[names[i]] = p
		kv = append(kv, names[i], strconv.Itoa(p))
	}
	d.env = env(kv...)
	d.api = "http://127.0.0.1:" + strconv.Itoa(d.ports["PORT"])
	d.stripeState = "http://127.0.0.1:" + strconv.Itoa(d.ports["STRIPE_STATE_PORT"])

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	exited := make(chan struct{})
	t0 := time.Now()
	go func() { done <- run(ctx, []string{"dev"}, d.env, d.stdout, d.stderr); close(exited) }()
	var code *int
	d.stop = func() int {
		if code != nil {
			return *code
		}
		cancel()
		select {
		case c := <-done:
			code = &c
			return c
		case <-time.After(30 * time.Second):
			t.Fatalf("dev did not return within 30s of cancel; stderr:\n%s", d.stderr.String())
			return -1
		}
	}
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("dev stderr:\n%s", d.stderr.String())
			for _, name := range []string{"moto", "stripe-mock", "mailpit"} {
				if b, err := os.ReadFile(filepath.Join(d.state, "logs", name+".log")); err == nil {
					lines := strings.Split(strings.TrimSpace(string(b)), "\n")
					t.Logf("%s.log (last lines):\n%s", name, strings.Join(lines[max(0, len(lines)-30):], "\n"))
				}
			}
		}
	})

	// Up: the gateway answers and dev.env (what token/trigger/job read) is written.
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case c := <-done:
			code = &c
			return nil, exited, fmt.Errorf("dev exited early with %d: %s", c, d.stderr.String())
		default:
		}
		if _, err := os.Stat(devEnvFile(d.state)); err == nil {
			if status, _ := httpDo(t, http.MethodGet, d.api+"/tiers", ""); status == http.StatusOK {
				t.Logf("dev up in %s", time.Since(t0).Round(time.Millisecond))
				return d, exited, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, exited, fmt.Errorf("dev not up after 90s: %s", d.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func httpDo(t *testing.T, method, url, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func postJSON(t *testing.T, url, token, body string, v any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %d %s", url, res.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("POST %s: %v: %s", url, err, b)
	}
}

func getJSON(t *testing.T, url, token string, v any) {
	t.Helper()
	status, body := httpDo(t, http.MethodGet, url, token)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, body)
	}
}
