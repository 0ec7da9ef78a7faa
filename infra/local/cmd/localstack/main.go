// Command localstack runs the system on a laptop and in CI. Subcommands:
//
//	dev      start moto, stripe-mock, mailpit, the gateway, the SQS poller and the scheduler
//	test     start the services on the test ports and run every test with coverage
//	token    print a local bearer token
//	trigger  send a signed Stripe event to the running stack's webhook
//	job      run a scheduled job now on the running stack
//
// The Makefile wraps each one (make dev, make test, make token, make trigger, make job).
package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"dev": runDev, "test": runTest, "token": runToken, "trigger": runTrigger, "job": runJob,
	}
	run, ok := cmds[os.Args[1]]
	if !ok {
		usage()
		os.Exit(2)
	}
	if err := run(os.Args[2:]); err != nil {
		if errors.Is(err, errReported) {
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "localstack "+os.Args[1]+":", err)
		os.Exit(1)
	}
}

// errReported is a failure already explained on the output.
var errReported = errors.New("failed")

func usage() {
	fmt.Fprintln(os.Stderr, "usage: localstack dev|test|token|trigger|job [flags]  (-h on a subcommand lists its flags)")
}

// projectRoot walks up from the working directory to the module's go.mod.
func projectRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/liberation/monetization\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the liberation/monetization repository")
		}
		dir = parent
	}
}

// devEnvFile is where `dev` records the running stack's settings for token/trigger/job.
func devEnvFile(root string) string { return filepath.Join(root, ".local", "dev.env") }

func writeDevEnv(path string, vars map[string]string) error {
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Written by `make dev` for `make token|trigger|job`; removed when it stops.\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, vars[k])
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// devGetenv reads a setting: the process environment first, then the running stack's dev.env.
func devGetenv(root string) func(string) string {
	file := map[string]string{}
	if f, err := os.Open(devEnvFile(root)); err == nil {
		defer f.Close()
		s := bufio.NewScanner(f)
		for s.Scan() {
			line := strings.TrimSpace(s.Text())
			if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
				file[k] = v
			}
		}
	}
	return func(k string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return file[k]
	}
}
