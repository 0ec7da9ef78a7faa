//go:build integration

package e2e

// Contract fuzzing: schemathesis generates requests from docs/openapi.yaml and checks every
// answer of the real handlers behind the local gateway (make fuzz; make test runs it too).
// Settings and the reasons for them: infra/local/fuzz/schemathesis.toml, docs/decisions/0026.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/stripeevents"
)

// Fuzzing bounds: examples per operation and phase, and the seed (fixed, so that a failure in CI
// reproduces; FUZZ_SEED and FUZZ_EXAMPLES change them, e.g. `make fuzz FUZZ_SEED=7`).
const (
	defaultFuzzExamples = 25
	defaultFuzzSeed     = 20261130
	fuzzTimeout         = 15 * time.Minute // make fuzz allows go test 20 minutes; make test the default 10
)

func TestContractFuzz(t *testing.T) {
	root := localtest.ProjectRoot()
	st := filepath.Join(root, ".tools", "venv", "bin", "schemathesis")
	if _, err := os.Stat(st); err != nil {
		t.Fatalf("schemathesis is not installed (%v): run `make tools`", err)
	}
	examples := envInt(t, "FUZZ_EXAMPLES", defaultFuzzExamples)
	seed := envInt(t, "FUZZ_SEED", defaultFuzzSeed)

	h := Start(t)
	// The fuzzing user has a live Pro subscription and a payment, so that changes, cancellations,
	// portal sessions and refunds get past "there is nothing to change".
	user := "fuzz-user"
	o := stripeevents.Options{UserID: user, Email: user + "@example.com", Tier: "pro"}
	for _, typ := range []string{stripeevents.CustomerSubscriptionCreated, stripeevents.InvoicePaid} {
		if status := h.PostWebhook(t, stripeevents.MustBuild(typ, o)); status != http.StatusOK {
			t.Fatalf("seed %s: %d", typ, status)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), fuzzTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, st,
		"--config-file", filepath.Join(root, "infra", "local", "fuzz", "schemathesis.toml"), "--no-color",
		"run", filepath.Join(root, "docs", "openapi.yaml"), "--url", h.URL,
		"--max-examples", strconv.Itoa(examples), "--seed", strconv.Itoa(seed))
	cmd.Dir = t.TempDir() // anything schemathesis writes stays out of the repository
	cmd.Env = append(os.Environ(),
		"FUZZ_HOOKS="+filepath.Join(root, "infra", "local", "fuzz", "checks.py"),
		"FUZZ_USER_TOKEN="+h.Token(t, user, o.Email),
		"FUZZ_ADMIN_TOKEN="+h.Token(t, "fuzz-admin", "fuzz-admin@example.com", "admin"),
		"FUZZ_INSTRUCTOR_TOKEN="+h.Token(t, user, o.Email, "instructor"),
		"FUZZ_GO_PACKAGES="+strings.Join(goPackages(t, root), ","),
		"NO_COLOR=1", "PYTHONDONTWRITEBYTECODE=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	report := saveFuzzReport(t, root, out.Bytes())
	summary := fuzzSummary(out.String())
	if err != nil {
		t.Fatalf("schemathesis failed (%v) after %s with seed %d, %d examples; full output in %s; reproduce with "+
			"`make fuzz FUZZ_SEED=%d FUZZ_EXAMPLES=%d`:\n%s", err, time.Since(start).Round(time.Second), seed, examples,
			report, seed, examples, failures(out.String()))
	}
	t.Logf("schemathesis passed in %s (seed %d, %d examples; output in %s): %s",
		time.Since(start).Round(time.Second), seed, examples, report, summary)
	// A run that tested nothing, or only some of the operations it selected, must not pass for a
	// clean one.
	m := regexp.MustCompile(`Selected: (\d+)/\d+\s+Tested: (\d+)`).FindStringSubmatch(out.String())
	if m == nil || m[1] != m[2] || m[2] == "0" || !strings.Contains(out.String(), "passed") {
		t.Fatalf("schemathesis did not test every selected operation:\n%s", out.String())
	}
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// goPackages are the names of this module's packages under shared/ (and main): the no_internals
// check fails on any of them followed by an identifier, e.g. payments.CreateRefundRequest.
func goPackages(t *testing.T, root string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, "shared"))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"main"}
	for _, e := range ents {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// saveFuzzReport keeps the whole run's output in .local/fuzz/ (git-ignored) for reading later.
func saveFuzzReport(t *testing.T, root string, out []byte) string {
	t.Helper()
	dir := filepath.Join(root, ".local", "fuzz")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "schemathesis.txt")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(root, path)
	return rel
}

// fuzzSummary is schemathesis's "N generated, N passed" line.
func fuzzSummary(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, " generated, ") {
			return strings.TrimSpace(line)
		}
	}
	return "(no summary line)"
}

// failures is the part of the output worth reading in a test log: from FAILURES (or ERRORS) on,
// cut to a readable size.
func failures(out string) string {
	i := strings.Index(out, "= FAILURES =")
	if j := strings.Index(out, "= ERRORS ="); i < 0 || (j >= 0 && j < i) {
		i = j
	}
	if i < 0 {
		i = 0
	}
	i = strings.LastIndex(out[:i], "\n") + 1 // from the start of that line
	s := out[i:]
	const max = 20000
	if len(s) > max {
		s = s[:max] + fmt.Sprintf("\n… (%d more bytes)", len(s)-max)
	}
	return s
}
