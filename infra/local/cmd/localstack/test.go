package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/services"
)

// runTest is `make test`: one set of services on the test ports (so it can run next to `make dev`)
// shared by every package, then every test with coverage, then the CDK module's tests.
func (c *cli) runTest(ctx context.Context, args []string) error {
	fs := c.flags("test")
	if err := parse(fs, args); err != nil {
		return err
	}
	root, err := projectRoot()
	if err != nil {
		return err
	}
	// First the unit pass: the same packages with nothing started (minidyn in process for the
	// repositories, fakes for the rest), fast and with its own coverage — what `go test ./...`
	// between edits gives a developer.
	var failed []string
	unitCover := filepath.Join(root, "coverage-unit.out")
	t0 := time.Now()
	unitCmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-p", "2", "-coverprofile="+unitCover, "./shared/...")
	unitCmd.Dir, unitCmd.Stdout, unitCmd.Stderr = root, c.stdout, c.stderr
	if err := unitCmd.Run(); err != nil {
		failed = append(failed, "go test ./shared/... (unit, no services)")
	}
	unitTotal, unitErr := coverageTotal(ctx, root, unitCover)
	fmt.Fprintf(c.stdout, "unit tests (no services) took %s\n", time.Since(t0).Round(time.Second))
	// The console's own unit tests (formats, refund amounts, token reading: Node's test runner, no
	// browser); `make test` has built the console first, so its node_modules are there.
	if _, err := os.Stat(filepath.Join(root, "web", "console", "package.json")); err == nil && ctx.Err() == nil {
		t0 = time.Now()
		npmCmd := exec.CommandContext(ctx, "npm", "test", "--silent")
		npmCmd.Dir, npmCmd.Stdout, npmCmd.Stderr = filepath.Join(root, "web", "console"), c.stdout, c.stderr
		if err := npmCmd.Run(); err != nil {
			failed = append(failed, "npm test in web/console (console unit tests)")
		}
		fmt.Fprintf(c.stdout, "console unit tests took %s\n", time.Since(t0).Round(time.Second))
	}

	ports := services.TestPorts.FromEnv(c.getenv)
	start := time.Now()
	logDir := filepath.Join(c.stateDir(root), "test-logs")
	stack, err := services.Start(ctx, root, logDir, ports)
	if err != nil {
		return fmt.Errorf("cannot start the test services on ports %d/%d/%d/%d/%d (moto/stripe-mock/smtp/mailpit/ses): %w\n"+
			"stop whatever holds them (a previous `make test`?) or set MOTO_PORT, STRIPE_MOCK_PORT, SMTP_PORT, MAILPIT_PORT, SES_PORT",
			ports.Moto, ports.StripeMock, ports.SMTP, ports.MailpitUI, ports.SES, err)
	}
	defer stack.Stop()
	fmt.Fprintf(c.stdout, "services up in %s (logs in %s)\n", time.Since(start).Round(time.Millisecond), displayPath(root, logDir))

	env := os.Environ()
	for k, v := range ports.Env() {
		env = append(env, k+"="+v)
	}
	env = append(env, localtest.StackEnv+"=1",
		// The e2e suite compares every function's grants with the calls it made (decision 0076):
		// a grant no test uses, or a use no grant allows, fails the run.
		"LIBERATION_IAM_GRANT_CHECK=1")
	run := func(dir string, name string, args ...string) error {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, c.stdout, c.stderr
		return cmd.Run()
	}

	cover := filepath.Join(root, "coverage.out")
	t0 = time.Now()
	if err := run(root, "go", "test", "-count=1", "-p", "2", "-tags", "integration", "-coverpkg=./shared/...,./infra/local/...",
		"-coverprofile="+cover, "./..."); err != nil {
		failed = append(failed, "go test ./...")
	}
	fmt.Fprintf(c.stdout, "go test ./... took %s\n", time.Since(t0).Round(time.Second))
	if _, err := os.Stat(filepath.Join(root, "infra", "cdk", "go.mod")); err == nil && ctx.Err() == nil {
		t0 = time.Now()
		if err := run(filepath.Join(root, "infra", "cdk"), "go", "test", "-count=1", "./..."); err != nil {
			failed = append(failed, "go test ./... in infra/cdk")
		}
		fmt.Fprintf(c.stdout, "infra/cdk tests took %s\n", time.Since(t0).Round(time.Second))
	}
	total, covErr := coverageTotal(ctx, root, cover)
	if covErr != nil {
		failed = append(failed, "coverage: "+covErr.Error())
	}
	// The verdict and the coverage are the last lines, where CI logs are read from.
	if len(failed) > 0 {
		fmt.Fprintln(c.stdout, "FAILED: "+strings.Join(failed, "; "))
	} else {
		fmt.Fprintln(c.stdout, "PASSED")
	}
	if unitErr == nil {
		fmt.Fprintf(c.stdout, "unit statement coverage (go test ./shared/..., no services): %s\n", unitTotal)
	}
	if covErr == nil {
		fmt.Fprintf(c.stdout, "total statement coverage: %s\n", total)
	}
	if len(failed) > 0 {
		return errReported
	}
	return nil
}

// coverageTotal is the last line of `go tool cover -func`, e.g. "total: (statements) 71.3%".
func coverageTotal(ctx context.Context, root, profile string) (string, error) {
	if _, err := os.Stat(profile); err != nil {
		return "", errors.New("no coverage profile")
	}
	cmd := exec.CommandContext(ctx, "go", "tool", "cover", "-func="+profile)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	return parseCoverTotal(string(out))
}

// parseCoverTotal returns the percentage on the last line of `go tool cover -func` output.
func parseCoverTotal(out string) (string, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	f := strings.Fields(last)
	if len(f) < 2 || f[0] != "total:" || !strings.HasSuffix(f[len(f)-1], "%") {
		return "", fmt.Errorf("unexpected cover output %q", last)
	}
	return f[len(f)-1], nil
}
