// Command localstack runs the system on a laptop and in CI. Subcommands:
//
//	dev      start moto, stripe-mock behind the Stripe stand-in (infra/local/stripestate), mailpit,
//	         the gateway, the SQS poller and the scheduler
//	test     start the services on the test ports and run every test with coverage
//	token    print a local bearer token
//	trigger  send a signed Stripe event to the running stack's webhook
//	job      run a scheduled job now on the running stack
//
// The Makefile wraps each one (make dev, make test, make token, make trigger, make job).
//
// State shared between `dev` and the other subcommands (the JWT key, dev.env, service logs) lives
// in <repository>/.local unless LIBERATION_STATE_DIR names another directory.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// EnvStateDir overrides where the local state lives (default <repository>/.local).
const EnvStateDir = "LIBERATION_STATE_DIR"

func main() {
	giveBack := func() {}
	if len(os.Args) > 1 && os.Args[1] == "dev" {
		// Ctrl-C is for dev alone: make and go run above it then see a clean exit 0.
		giveBack = takeTerminal()
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-sigs
		cancel() // the first Ctrl-C stops everything cleanly
		<-sigs
		giveBack() // a second one does not wait for that
		os.Exit(130)
	}()
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	giveBack()
	os.Exit(code)
}

// cli is one invocation: where settings come from and where output goes.
type cli struct {
	getenv         func(string) string
	stdout, stderr io.Writer
}

// run runs the subcommand args[0] and returns the process exit code: 0 ok, 1 failure, 2 usage.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c := &cli{getenv: getenv, stdout: stdout, stderr: stderr}
	if len(args) < 1 {
		c.usage()
		return 2
	}
	cmds := map[string]func(context.Context, []string) error{
		"dev": c.runDev, "test": c.runTest, "token": c.runToken, "trigger": c.runTrigger, "job": c.runJob, "seed": c.runSeed, "emit": c.runEmit,
		"restore-drill": c.runRestoreDrill,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		c.usage()
		return 2
	}
	err := cmd(ctx, args[1:])
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errReported):
		return 1
	}
	fmt.Fprintln(stderr, "localstack "+args[0]+":", err)
	return 1
}

var (
	// errReported is a failure already explained on the output.
	errReported = errors.New("failed")
	// errUsage is a flag error the flag package already printed with the subcommand's flags.
	errUsage = errors.New("usage")
)

func (c *cli) usage() {
	fmt.Fprintln(c.stderr, "usage: localstack dev|test|token|trigger|job [flags]  (-h on a subcommand lists its flags)")
}

// flags is a subcommand's flag set; it reports errors on stderr and leaves exiting to run.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	return fs
}

// parse parses args; a bad flag is errUsage (already printed), -h is flag.ErrHelp.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
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

// stateDir is where the local state lives: $LIBERATION_STATE_DIR, or <root>/.local.
func (c *cli) stateDir(root string) string {
	if d := c.getenv(EnvStateDir); d != "" {
		return d
	}
	return filepath.Join(root, ".local")
}

// devEnvFile is where `dev` records the running stack's settings for token/trigger/job.
func devEnvFile(state string) string { return filepath.Join(state, "dev.env") }

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
	// Written aside and renamed into place: a reader (make seed, token, job — or a test waiting for
	// the stack) sees no file or the whole file, never one created but not yet written, which
	// would send it to the default port.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// readDevEnv reads a dev.env file; a missing or unreadable file is empty.
func readDevEnv(path string) map[string]string {
	file := map[string]string{}
	if f, err := os.Open(path); err == nil {
		defer f.Close()
		s := bufio.NewScanner(f)
		for s.Scan() {
			line := strings.TrimSpace(s.Text())
			if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
				file[k] = v
			}
		}
	}
	return file
}

// devGetenv reads a setting: the environment first, then the running stack's dev.env.
func (c *cli) devGetenv(state string) func(string) string {
	file := readDevEnv(devEnvFile(state))
	return func(k string) string {
		if v := c.getenv(k); v != "" {
			return v
		}
		return file[k]
	}
}
