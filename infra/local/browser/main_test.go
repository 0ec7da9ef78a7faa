//go:build integration

package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/liberation/monetization/infra/local/localtest"
)

var (
	// root is the repository root; artifacts and the built console are found from it.
	root = localtest.ProjectRoot()
	// required is true under `make test` (the stack's variable was set before this package
	// started): a missing browser, console build or axe-core then fails the tests instead of
	// skipping them, so CI cannot go green without having run them.
	required bool
	// browserCtx is the package's one Chromium; each test opens a tab from it. nil when the
	// browser could not start (browserErr says why).
	browserCtx context.Context
	browserErr error
)

// chromiumPath is Debian's Chromium unless CHROMIUM names another binary.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// TestMain starts one Chromium for the package (and the local services through localtest.Main
// unless `make test` already runs them), runs the tests, then stops the stack the console tests
// shared and the browser.
func TestMain(m *testing.M) {
	required = os.Getenv(localtest.StackEnv) != ""
	localtest.Main(pkgRun{m})
}

type pkgRun struct{ m *testing.M }

func (r pkgRun) Run() int {
	stop := startBrowser()
	code := r.m.Run()
	// A failure of the shared system after it started (the poller's) counts, as a test's
	// t.Errorf in a goroutine would.
	if stackUp.Load() && stackTB.Failed() && code == 0 {
		fmt.Fprintln(os.Stderr, "FAIL: the shared local system reported:", stackTB.failures())
		code = 1
	}
	stopStack() // the shared harness (stack_test.go), if a test started it
	stop()
	return code
}

// startBrowser starts headless Chromium with the flags known to work on this kind of machine
// (no sandbox as root, no GPU, no background connections: the network is closed and Chromium
// would otherwise retry Google's hosts) and a fresh profile, and returns its stop function.
func startBrowser() func() {
	path := chromiumPath()
	if _, err := exec.LookPath(path); err != nil {
		browserErr = fmt.Errorf("chromium not found at %s (make tools installs it; CHROMIUM overrides the path): %w", path, err)
		return func() {}
	}
	profile, err := os.MkdirTemp("", "console-browser-profile-")
	if err != nil {
		browserErr = err
		return func() {}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	// The first Do starts the browser and binds its life to ctx (no timeout on ctx itself).
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err = <-started:
	case <-time.After(60 * time.Second):
		err = fmt.Errorf("chromium did not start within 60s")
	}
	stop := func() {
		cancelBrowser()
		cancelAlloc()
		os.RemoveAll(profile)
	}
	if err != nil {
		browserErr = fmt.Errorf("start %s: %w", path, err)
		stop()
		return func() {}
	}
	browserCtx = ctx
	return stop
}

// need skips (a developer's plain `go test`) or fails (`make test`) a test whose prerequisite
// is missing.
func need(t *testing.T, missing error) {
	t.Helper()
	if missing == nil {
		return
	}
	if required {
		t.Fatalf("%v (required under make test)", missing)
	}
	t.Skipf("%v (skipped: %s is unset)", missing, localtest.StackEnv)
}

// needBrowser requires the package's Chromium.
func needBrowser(t *testing.T) { t.Helper(); need(t, browserErr) }

// axePath is axe-core's browser bundle, installed with the console's dev dependencies.
func axePath() string {
	return filepath.Join(root, "web", "console", "node_modules", "axe-core", "axe.min.js")
}

// consoleDist is the console's build (make console).
func consoleDist() string { return filepath.Join(root, "web", "console", "dist") }

// needFile requires a file the tests read (the console's build, axe-core).
func needFile(t *testing.T, path, how string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		need(t, fmt.Errorf("%s is missing (%s)", path, how))
	}
}
