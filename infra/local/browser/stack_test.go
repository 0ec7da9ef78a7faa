//go:build integration

package browser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/e2e"
	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/seed"
	"github.com/liberation/monetization/infra/local/stripestate"
	"github.com/liberation/monetization/shared/manifest"
)

// The console tests share one local system, started by the first test that needs it and seeded
// once (a fresh harness and seed per test would cost most of the package's time budget). Tests
// run one after another and each is written to hold whatever the others did before it (e.g. a
// refund already made on the seeded payment).

var (
	stackOnce sync.Once
	stack     *consoleStack
	stackErr  error
	stackTB   *pkgTB
	// stackUp is set once the shared system has started: a failure after that (the harness's
	// poller) is reported on stderr and fails the package (TestMain).
	stackUp atomic.Bool
)

// Seeded sizes: a small catalog keeps the seed within seconds; every console page still has
// something to show (the seeder adds the daily-work data whatever the catalog's size).
const (
	seedCourses  = 3
	seedLearners = 3
)

// consoleStack is the shared system: the harness (gateway serving the console and the API) and
// what the seeder reported.
type consoleStack struct {
	h    *e2e.Harness
	seed seed.Report
}

// needStack requires the built console and returns the shared, seeded system, starting it on
// first use. A failure to start fails every test that needs it, with the same reason.
func needStack(t *testing.T) *consoleStack {
	t.Helper()
	needBrowser(t)
	needFile(t, filepath.Join(consoleDist(), "index.html"), "make console builds it")
	stackOnce.Do(func() {
		stackTB = newPkgTB(filepath.Join(stateDir(), "test-logs", "browser-stack.log"))
		done := make(chan struct{})
		go func() { // pkgTB.Fatal ends this goroutine (runtime.Goexit), as t.Fatal ends a test's
			defer close(done)
			defer func() { // a TB method pkgTB lacks panics (see pkgTB): a failure, not a crash
				if r := recover(); r != nil {
					stackTB.fail(fmt.Sprint("panic: ", r))
				}
			}()
			t0 := time.Now()
			var stripeURL string
			// Stripe as in make dev: the stand-in that remembers charges and refunds
			// (docs/decisions/0082) in front of stripe-mock, so a refund refunds real amounts.
			h := e2e.Start(stackTB, e2e.WithConsole(), e2e.WithSetup(func(t testing.TB, env *localtest.Env) {
				_, stripeURL = stripestate.Start(t, stripestate.Config{StripeMock: env.Getenv(manifest.EnvStripeAPIBase)})
				env.Runtime.Config.StripeAPIBase = stripeURL
			}))
			rep, err := seed.Run(context.Background(), seed.Config{
				BaseURL: h.URL, Auth: h.Auth, WebhookSecret: h.Env.Getenv(manifest.EnvWebhookSecret),
				StripeStateURL: stripeURL, Courses: seedCourses, Learners: seedLearners,
				Store: h.Env.Store(), Out: stackTB.writer(),
			})
			if err != nil {
				stackTB.Fatalf("seed: %v", err)
			}
			stackTB.Logf("stack started and seeded in %s: %+v", time.Since(t0).Round(time.Millisecond), rep)
			stack = &consoleStack{h: h, seed: rep}
			stackUp.Store(true)
		}()
		<-done
		if stack == nil {
			stackErr = fmt.Errorf("start the console's local system: %s", stackTB.failures())
		}
	})
	if stackErr != nil {
		t.Fatal(stackErr)
	}
	return stack
}

// stopStack stops the shared system (TestMain, after the tests).
func stopStack() {
	if stackTB != nil {
		stackTB.cleanup()
	}
}

// stateDir is where `make test` keeps logs (default <repo>/.local).
func stateDir() string {
	if s := os.Getenv("LIBERATION_STATE_DIR"); s != "" {
		return s
	}
	return filepath.Join(root, ".local")
}

// pkgTB is the testing.TB of the shared system: e2e.Start and the seeder take a TB for failures,
// logs and cleanups, and here they must outlive any one test. Failures are recorded (and Fatal
// ends the calling goroutine, as in a test), logs go to a file, cleanups run from TestMain.
// The embedded nil TB only satisfies the interface's unexported method: a method not written
// below would panic, which a reviewer sees at once.
type pkgTB struct {
	testing.TB
	mu       sync.Mutex
	log      *os.File
	errs     []string
	cleanups []func()
	ctx      context.Context
	cancel   context.CancelFunc
}

func newPkgTB(logPath string) *pkgTB {
	_ = os.MkdirAll(filepath.Dir(logPath), 0o755)
	f, err := os.Create(logPath)
	if err != nil {
		f = nil
	}
	return &pkgTB{log: f}
}

func (p *pkgTB) Helper()      {}
func (p *pkgTB) Name() string { return "TestConsoleBrowser" }
func (p *pkgTB) Log(args ...any) {
	p.logf("%s", strings.TrimSuffix(fmt.Sprintln(args...), "\n"))
}
func (p *pkgTB) Logf(format string, args ...any) { p.logf(format, args...) }
func (p *pkgTB) logf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.log != nil {
		fmt.Fprintf(p.log, format+"\n", args...)
	}
}
func (p *pkgTB) Error(args ...any) { p.fail(fmt.Sprint(args...)) }
func (p *pkgTB) Errorf(format string, args ...any) {
	p.fail(fmt.Sprintf(format, args...))
}
func (p *pkgTB) Fatal(args ...any) { p.fail(fmt.Sprint(args...)); runtime.Goexit() }
func (p *pkgTB) Fatalf(format string, args ...any) {
	p.fail(fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (p *pkgTB) FailNow()     { p.fail("FailNow"); runtime.Goexit() }
func (p *pkgTB) Fail()        { p.fail("Fail") }
func (p *pkgTB) Failed() bool { p.mu.Lock(); defer p.mu.Unlock(); return len(p.errs) > 0 }
func (p *pkgTB) Skipped() bool {
	return false
}

// Context is canceled when the shared system stops, as a test's is when it ends.
func (p *pkgTB) Context() context.Context {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx == nil {
		p.ctx, p.cancel = context.WithCancel(context.Background())
	}
	return p.ctx
}

func (p *pkgTB) Cleanup(f func()) { p.mu.Lock(); p.cleanups = append(p.cleanups, f); p.mu.Unlock() }
func (p *pkgTB) TempDir() string {
	d, err := os.MkdirTemp("", "console-browser-")
	if err != nil {
		p.Fatal(err)
	}
	p.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func (p *pkgTB) fail(msg string) {
	p.mu.Lock()
	p.errs = append(p.errs, msg)
	p.mu.Unlock()
	p.logf("FAIL: %s", msg)
	// A failure after start-up (the harness's poller) must not go unnoticed: say it on stderr,
	// which `go test` shows with the package's result.
	if stackUp.Load() {
		fmt.Fprintln(os.Stderr, "console browser stack:", msg)
	}
}

// writer is the log as an io.Writer (the seeder's progress report).
func (p *pkgTB) writer() *tbWriter { return &tbWriter{p} }

type tbWriter struct{ p *pkgTB }

func (w *tbWriter) Write(b []byte) (int, error) {
	w.p.logf("%s", strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func (p *pkgTB) failures() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.errs) == 0 {
		return "no reason given"
	}
	return strings.Join(p.errs, "; ")
}

// cleanup runs the cleanups last-in first-out, as testing does.
func (p *pkgTB) cleanup() {
	p.mu.Lock()
	fs := p.cleanups
	p.cleanups = nil
	if p.cancel != nil {
		p.cancel()
	}
	p.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
	if p.log != nil {
		p.log.Close()
	}
}
