package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/services"
)

// runTest is `make test`: one set of services on the test ports (so it can run next to `make dev`)
// shared by every package, then every test with coverage, then the CDK module's tests.
func runTest(args []string) error {
	fs := flag.NewFlagSet("test", flag.ExitOnError)
	fs.Parse(args)
	root, err := projectRoot()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ports := services.TestPorts.FromEnv(os.Getenv)
	start := time.Now()
	stack, err := services.Start(ctx, root, filepath.Join(root, ".local", "test-logs"), ports)
	if err != nil {
		return fmt.Errorf("cannot start the test services on ports %d/%d/%d/%d (moto/stripe-mock/smtp/mailpit): %w\n"+
			"stop whatever holds them (a previous `make test`?) or set MOTO_PORT, STRIPE_MOCK_PORT, SMTP_PORT, MAILPIT_PORT",
			ports.Moto, ports.StripeMock, ports.SMTP, ports.MailpitUI, err)
	}
	defer stack.Stop()
	fmt.Printf("services up in %s (logs in .local/test-logs/)\n", time.Since(start).Round(time.Millisecond))

	env := os.Environ()
	for k, v := range ports.Env() {
		env = append(env, k+"="+v)
	}
	env = append(env, localtest.StackEnv+"=1")
	run := func(dir string, name string, args ...string) error {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, os.Stdout, os.Stderr
		return cmd.Run()
	}

	var failed []string
	cover := filepath.Join(root, "coverage.out")
	t0 := time.Now()
	if err := run(root, "go", "test", "-count=1", "-p", "2", "-coverpkg=./shared/...,./infra/local/...",
		"-coverprofile="+cover, "./..."); err != nil {
		failed = append(failed, "go test ./...")
	}
	fmt.Printf("go test ./... took %s\n", time.Since(t0).Round(time.Second))
	if _, err := os.Stat(filepath.Join(root, "infra", "cdk", "go.mod")); err == nil && ctx.Err() == nil {
		t0 = time.Now()
		if err := run(filepath.Join(root, "infra", "cdk"), "go", "test", "-count=1", "./..."); err != nil {
			failed = append(failed, "go test ./... in infra/cdk")
		}
		fmt.Printf("infra/cdk tests took %s\n", time.Since(t0).Round(time.Second))
	}
	total, covErr := coverageTotal(ctx, root, cover)
	if covErr != nil {
		failed = append(failed, "coverage: "+covErr.Error())
	}
	// The verdict and the coverage are the last lines, where CI logs are read from.
	if len(failed) > 0 {
		fmt.Println("FAILED: " + strings.Join(failed, "; "))
	} else {
		fmt.Println("PASSED")
	}
	if covErr == nil {
		fmt.Printf("total statement coverage: %s\n", total)
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
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) == 0 || f[0] != "total:" {
		return "", fmt.Errorf("unexpected cover output %q", lines[len(lines)-1])
	}
	return f[len(f)-1], nil
}
