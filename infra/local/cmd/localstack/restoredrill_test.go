package main

import (
	"strings"
	"testing"
)

// Without a running `make dev` (no dev.env in the state dir) the drill says what to start and
// exits 1, printing no report.
func TestRestoreDrillWithoutDevStack(t *testing.T) {
	code, stdout, stderr := runCLI(t, env(EnvStateDir, t.TempDir()), "restore-drill")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "start `make dev` first") {
		t.Errorf("restore-drill without a stack: exit %d, stdout %q, stderr %q; want 1 and a `make dev` hint", code, stdout, stderr)
	}
}
