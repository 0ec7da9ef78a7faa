package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/authlocal"
	"github.com/liberation/monetization/infra/local/stripeevents"
)

// syncBuffer is a bytes.Buffer several goroutines (dev's server, poller and scheduler) may write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// env is a fixed environment for run: nothing leaks in from the test process's own.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// runCLI runs one subcommand in-process, as main would, and returns its exit code and output.
func runCLI(t *testing.T, getenv func(string) string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errw syncBuffer
	code = run(ctx, args, getenv, &out, &errw)
	return code, out.String(), errw.String()
}

// freePorts returns n distinct ports nothing listens on (all held at once while choosing).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"bogus"}, {"-h"}} {
		code, _, stderr := runCLI(t, env(), args...)
		if code != 2 || !strings.Contains(stderr, "usage: localstack dev|test|token|trigger|job") {
			t.Errorf("localstack %q: exit %d, stderr %q; want 2 and the usage", args, code, stderr)
		}
	}
}

func TestFlagErrors(t *testing.T) {
	state := t.TempDir()
	for _, tc := range []struct {
		args     []string
		code     int
		contains []string
	}{
		// An unknown flag is a usage error (2) listing the subcommand's flags, as flag.ExitOnError did.
		{[]string{"token", "-bogus"}, 2, []string{"flag provided but not defined: -bogus", "-sub"}},
		{[]string{"trigger", "-bogus"}, 2, []string{"-event", "-user"}},
		{[]string{"job", "-bogus"}, 2, []string{"-name"}},
		{[]string{"dev", "-bogus"}, 2, []string{"flag provided but not defined"}},
		{[]string{"test", "-bogus"}, 2, []string{"flag provided but not defined"}},
		// -h prints the flags and succeeds.
		{[]string{"token", "-h"}, 0, []string{"-sub", "-email", "-groups", "-ttl"}},
		// Missing or wrong values are explained.
		{[]string{"token"}, 1, []string{"localstack token: -sub is required"}},
		{[]string{"token", "-email", "a@b.c"}, 1, []string{"-sub is required"}},
		{[]string{"trigger", "-event", "invoice.paid"}, 1, []string{"-event and -user are required"}},
		{[]string{"trigger", "-user", "u1"}, 1, []string{"-event and -user are required"}},
		{[]string{"trigger", "-event", "invoice.payed", "-user", "u1"}, 1,
			append([]string{`localstack trigger: unknown -event "invoice.payed"; supported:`}, stripeevents.Types...)},
		{[]string{"job"}, 1, []string{"-name is required; one of:", "billing-cycle"}},
		{[]string{"job", "-name", "billing_cycle"}, 1, []string{`localstack job: unknown job "billing_cycle"; the jobs are: `, "billing-cycle", "reconcile"}},
	} {
		code, stdout, stderr := runCLI(t, env(EnvStateDir, state), tc.args...)
		if code != tc.code {
			t.Errorf("%q: exit %d, want %d (stderr %q)", tc.args, code, tc.code, stderr)
		}
		for _, s := range tc.contains {
			if !strings.Contains(stderr, s) {
				t.Errorf("%q: stderr %q does not contain %q", tc.args, stderr, s)
			}
		}
		if stdout != "" {
			t.Errorf("%q: unexpected stdout %q", tc.args, stdout)
		}
	}
	// None of that needed, or created, any state.
	if ents, _ := os.ReadDir(state); len(ents) != 0 {
		t.Errorf("flag errors wrote state: %v", ents)
	}
}

func TestClientsWithoutDevStack(t *testing.T) {
	// An empty state dir and a port nothing listens on: no `make dev` is running.
	getenv := env(EnvStateDir, t.TempDir(), "PORT", strconv.Itoa(freePorts(t, 1)[0]))
	for _, args := range [][]string{
		{"job", "-name", "billing-cycle"},
		{"trigger", "-event", "invoice.paid", "-user", "u1"},
	} {
		t0 := time.Now()
		code, stdout, stderr := runCLI(t, getenv, args...)
		if code != 1 || !strings.Contains(stderr, "connection refused") || !strings.Contains(stderr, "is `make dev` running?") {
			t.Errorf("%q without a stack: exit %d, stderr %q; want 1 and a `make dev` hint", args, code, stderr)
		}
		if stdout != "" {
			t.Errorf("%q: unexpected stdout %q", args, stdout)
		}
		if d := time.Since(t0); d > 10*time.Second {
			t.Errorf("%q took %s to fail", args, d)
		}
	}
}

// token mints with the key persisted in the state dir (the one `dev` serves) and the issuer the
// running stack recorded in dev.env; the environment wins over dev.env.
func TestTokenUsesStateDir(t *testing.T) {
	state := t.TempDir()
	if err := writeDevEnv(devEnvFile(state), map[string]string{authlocal.EnvIssuer: "http://issuer.from.devenv"}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, env(EnvStateDir, state), "token", "-sub", "u1", "-groups", " admin, ,instructor", "-ttl", "5m")
	if code != 0 || stderr != "" {
		t.Fatalf("token: exit %d, stderr %q", code, stderr)
	}
	key, err := authlocal.LoadOrCreateKey(filepath.Join(state, "jwt"))
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSuffix(stdout, "\n")
	if strings.Contains(tok, "\n") {
		t.Fatalf("token output is not one line: %q", stdout)
	}
	v, err := authlocal.New(key, "http://issuer.from.devenv", authlocal.DefaultAudience).Verify(tok)
	if err != nil {
		t.Fatalf("token does not verify with the state dir's key and dev.env's issuer: %v", err)
	}
	claims := v.Claims
	if claims["sub"] != "u1" || claims["email"] != "u1@example.com" {
		t.Fatalf("claims: %v", claims)
	}
	if g := claims["cognito:groups"]; g != "[admin instructor]" {
		t.Fatalf("groups claim %q", g)
	}
	exp, _ := strconv.ParseInt(claims["exp"], 10, 64)
	iat, _ := strconv.ParseInt(claims["iat"], 10, 64)
	if exp-iat != 300 {
		t.Fatalf("ttl: exp-iat = %d (exp %q iat %q), want 300", exp-iat, claims["exp"], claims["iat"])
	}

	// The environment beats dev.env.
	code, stdout, _ = runCLI(t, env(EnvStateDir, state, authlocal.EnvIssuer, "http://issuer.from.env"), "token", "-sub", "u2")
	if code != 0 {
		t.Fatalf("token: exit %d", code)
	}
	if _, err := authlocal.New(key, "http://issuer.from.env", authlocal.DefaultAudience).Verify(strings.TrimSpace(stdout)); err != nil {
		t.Fatalf("env issuer: %v", err)
	}
}

func TestDevEnvFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dev.env")
	if err := writeDevEnv(path, map[string]string{"B": "2", "A": "x=y"}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "# Written by `make dev`") || !strings.Contains(string(b), "A=x=y\nB=2\n") {
		t.Fatalf("dev.env content %q", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("dev.env mode %v, want 0600", fi.Mode().Perm())
	}
	got := readDevEnv(path)
	if len(got) != 2 || got["A"] != "x=y" || got["B"] != "2" {
		t.Fatalf("readDevEnv = %v", got)
	}
	if got := readDevEnv(filepath.Join(t.TempDir(), "missing")); len(got) != 0 {
		t.Fatalf("missing file: %v", got)
	}
}

func TestStateDir(t *testing.T) {
	if got := (&cli{getenv: env()}).stateDir("/repo"); got != filepath.Join("/repo", ".local") {
		t.Fatalf("default state dir %q", got)
	}
	if got := (&cli{getenv: env(EnvStateDir, "/tmp/x")}).stateDir("/repo"); got != "/tmp/x" {
		t.Fatalf("overridden state dir %q", got)
	}
	if got := displayPath("/repo", "/repo/.local/logs"); got != ".local/logs/" {
		t.Fatalf("displayPath inside root: %q", got)
	}
	if got := displayPath("/repo", "/tmp/state/logs"); got != "/tmp/state/logs/" {
		t.Fatalf("displayPath outside root: %q", got)
	}
}

func TestLayered(t *testing.T) {
	get := layered(env("A", "first"), env("A", "second", "B", "second"), fromMap(map[string]string{"C": "third"}))
	if get("A") != "first" || get("B") != "second" || get("C") != "third" || get("D") != "" {
		t.Fatalf("layered: A=%q B=%q C=%q D=%q", get("A"), get("B"), get("C"), get("D"))
	}
	// An empty value does not hide a later source (as an unset variable would not).
	if get := layered(env("A", ""), env("A", "x")); get("A") != "x" {
		t.Fatalf("empty value hid the default: %q", get("A"))
	}
}

func TestParseCoverTotal(t *testing.T) {
	out := "github.com/x/a.go:10:\tF\t100.0%\ngithub.com/x/b.go:3:\tG\t0.0%\ntotal:\t\t\t(statements)\t80.4%\n"
	if got, err := parseCoverTotal(out); err != nil || got != "80.4%" {
		t.Fatalf("parseCoverTotal = %q, %v; want 80.4%%", got, err)
	}
	for _, bad := range []string{"", "\n", "github.com/x/a.go:10:\tF\t100.0%", "total: (statements)", "total:\t(statements)\tn/a"} {
		if got, err := parseCoverTotal(bad); err == nil {
			t.Errorf("parseCoverTotal(%q) = %q, want an error", bad, got)
		}
	}
}
