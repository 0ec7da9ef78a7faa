// Package services starts and stops the local stand-ins for AWS and Stripe as child processes:
// moto server (DynamoDB, SQS, S3, Scheduler; through infra/local/motoserver, which serves
// DynamoDB requests one at a time), stripe-mock and mailpit — and, in process, the SES bridge
// (infra/local/sesbridge), which answers SES v2 SendEmail and relays the message to mailpit, so
// functions send mail through the same SES code and IAM check as in AWS. Binaries come from .tools/ (installed
// by `make tools`); ports come from the environment with fixed defaults.
package services

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/liberation/monetization/infra/local/motoserver"
	"github.com/liberation/monetization/infra/local/sesbridge"
)

// Ports of the local services.
type Ports struct {
	Moto, StripeMock, SMTP, MailpitUI, SES int
}

// DevPorts are `make dev`'s defaults; TestPorts are `make test`'s, so both can run at once.
var (
	DevPorts  = Ports{Moto: 5055, StripeMock: 12111, SMTP: 1025, MailpitUI: 8025, SES: 8035}
	TestPorts = Ports{Moto: 5155, StripeMock: 12211, SMTP: 1125, MailpitUI: 8125, SES: 8135}
)

// SenderIdentities are the SES identities the local bridge treats as verified: the local sender
// domain (MAIL_FROM of make dev and of the tests is receipts@liberation.local). A From outside it
// is refused with SES's MessageRejected, as an unverified sender is in AWS.
var SenderIdentities = []string{"liberation.local"}

// FromEnv overrides defaults with MOTO_PORT, STRIPE_MOCK_PORT, SMTP_PORT, MAILPIT_PORT, SES_PORT.
func (p Ports) FromEnv(getenv func(string) string) Ports {
	set := func(dst *int, name string) {
		if v, err := strconv.Atoi(getenv(name)); err == nil && v > 0 {
			*dst = v
		}
	}
	set(&p.Moto, "MOTO_PORT")
	set(&p.StripeMock, "STRIPE_MOCK_PORT")
	set(&p.SMTP, "SMTP_PORT")
	set(&p.MailpitUI, "MAILPIT_PORT")
	set(&p.SES, "SES_PORT")
	return p
}

// URLs derived from the ports.
func (p Ports) MotoURL() string       { return "http://127.0.0.1:" + strconv.Itoa(p.Moto) }
func (p Ports) StripeMockURL() string { return "http://127.0.0.1:" + strconv.Itoa(p.StripeMock) }
func (p Ports) SMTPAddr() string      { return "127.0.0.1:" + strconv.Itoa(p.SMTP) }
func (p Ports) MailpitURL() string    { return "http://127.0.0.1:" + strconv.Itoa(p.MailpitUI) }
func (p Ports) SESURL() string        { return "http://127.0.0.1:" + strconv.Itoa(p.SES) }

// Env is what functions and tests need to reach the services.
func (p Ports) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":       p.MotoURL(),
		"AWS_REGION":             "us-east-1",
		"AWS_ACCESS_KEY_ID":      "testing",
		"AWS_SECRET_ACCESS_KEY":  "testing",
		"STRIPE_API_BASE":        p.StripeMockURL(),
		"MAIL_TRANSPORT":         "ses", // through the SES bridge to mailpit
		"AWS_ENDPOINT_URL_SESV2": p.SESURL(),
		"SMTP_ADDR":              p.SMTPAddr(),
		"MAILPIT_URL":            p.MailpitURL(),
		"LIBERATION_LOCAL":       "1", // local-only defaults (e.g. a localhost APP_URL)
	}
}

// Stack is a set of running services.
type Stack struct {
	Ports  Ports
	procs  []*proc
	bridge *http.Server
}

// proc is a started service; done closes when it has exited.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// Start launches the services, logging to logDir, and waits until each answers. root is the
// project root (to find .tools/).
func Start(ctx context.Context, root, logDir string, p Ports) (*Stack, error) {
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	bin := filepath.Join(root, ".tools", "bin")
	s := &Stack{Ports: p}
	specs := []struct {
		name      string
		path      string
		args      []string
		installed string // a file that exists once `make tools` installed the service ("": path)
		ready     func() error
	}{
		// moto's server with DynamoDB requests one at a time (docs/decisions/0020).
		{name: "moto", path: motoserver.Python(root), args: motoserver.Args(root, "127.0.0.1", p.Moto),
			installed: motoserver.Installed(root), ready: httpReady(p.MotoURL() + "/moto-api/")},
		{name: "stripe-mock", path: filepath.Join(bin, "stripe-mock"), args: []string{"-http-addr", "127.0.0.1:" + strconv.Itoa(p.StripeMock),
			// stripe-mock also opens HTTPS on :12112 unless told otherwise; a free port lets several
			// stacks (parallel test packages) run at once.
			"-https-addr", "127.0.0.1:"},
			ready: httpReady(p.StripeMockURL() + "/v1/customers")},
		{name: "mailpit", path: filepath.Join(bin, "mailpit"), args: []string{"--smtp", p.SMTPAddr(), "--listen", "127.0.0.1:" + strconv.Itoa(p.MailpitUI), "--quiet",
			"--smtp-auth-accept-any", "--smtp-auth-allow-insecure"},
			ready: httpReady(p.MailpitURL() + "/api/v1/info")},
	}
	for _, sp := range specs {
		for _, f := range []string{sp.path, sp.installed} {
			if _, err := os.Stat(f); f != "" && err != nil {
				s.Stop()
				return nil, fmt.Errorf("%s not installed at %s: run `make tools`", sp.name, f)
			}
		}
		if addr, busy := portInUse(sp.args); busy {
			s.Stop()
			return nil, fmt.Errorf("%s: port %s already in use (another `make dev`/`make test`?); set its *_PORT variable", sp.name, addr)
		}
		logf, err := os.Create(filepath.Join(logDir, sp.name+".log"))
		if err != nil {
			s.Stop()
			return nil, err
		}
		cmd := exec.Command(sp.path, sp.args...)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.Env = childEnv(os.Environ())
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
		if err := cmd.Start(); err != nil {
			logf.Close()
			s.Stop()
			return nil, fmt.Errorf("start %s: %w", sp.name, err)
		}
		p := &proc{cmd: cmd, done: make(chan struct{})}
		go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
		s.procs = append(s.procs, p)
	}
	for i, sp := range specs {
		if err := waitFor(ctx, sp.name, sp.ready, 60*time.Second, s.procs[i].done); err != nil {
			s.Stop()
			return nil, fmt.Errorf("%w (log: %s)", err, filepath.Join(logDir, sp.name+".log"))
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p.SES))
	if err != nil {
		s.Stop()
		return nil, fmt.Errorf("ses bridge: port %d: %w (another `make dev`/`make test`?); set SES_PORT", p.SES, err)
	}
	s.bridge = &http.Server{Handler: sesbridge.New(sesbridge.Config{SMTPAddr: p.SMTPAddr(), Identities: SenderIdentities}),
		ReadHeaderTimeout: 10 * time.Second}
	go s.bridge.Serve(l)
	return s, nil
}

// Stop ends every service (process groups, so moto's workers go too).
func (s *Stack) Stop() {
	if s.bridge != nil {
		_ = s.bridge.Close()
		s.bridge = nil
	}
	for _, p := range s.procs {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	}
	for _, p := range s.procs {
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	s.procs = nil
}

// portInUse reports the first of a service's listen addresses that something already answers on
// (the readiness check would otherwise take that for the service).
func portInUse(args []string) (string, bool) {
	for i, a := range args {
		if (a == "-p" || a == "-http-addr" || a == "--smtp" || a == "--listen") && i+1 < len(args) {
			addr := args[i+1]
			if a == "-p" {
				addr = "127.0.0.1:" + addr
			}
			if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
				c.Close()
				return addr, true
			}
		}
	}
	return "", false
}

// probe is the readiness checks' client: a port that accepts but never answers must not hang Start.
var probe = &http.Client{Timeout: 2 * time.Second}

func httpReady(url string) func() error {
	return func() error {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer sk_test_123")
		res, err := probe.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 {
			return fmt.Errorf("status %d", res.StatusCode)
		}
		return nil
	}
}

// waitFor polls ready until it succeeds, max passes, ctx ends or the service exits (exited closes).
func waitFor(ctx context.Context, name string, ready func() error, max time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(max)
	var err error
	for time.Now().Before(deadline) {
		if err = ready(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return fmt.Errorf("%s exited before it was ready", name)
		case <-time.After(150 * time.Millisecond):
		}
	}
	return errors.Join(fmt.Errorf("%s did not become ready in %s", name, max), err)
}

// childEnv drops PORT: stripe-mock listens on $PORT when it is set (a Heroku convention), ignoring
// -http-addr, so `make dev`'s gateway port would be taken from under it.
func childEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PORT=") {
			out = append(out, kv)
		}
	}
	return out
}
