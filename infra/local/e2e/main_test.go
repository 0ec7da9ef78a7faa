//go:build integration

package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/logscan"
)

// TestMain keeps every function's log lines of the run in <state dir>/test-logs/e2e-functions-….log
// and, after the tests, fails the run if any holds an e-mail address, a bearer token or JWT, a
// Stripe secret or a card number (docs/decisions/0079). After m.Run rather than as a last test:
// only then have every test, parallel ones and cleanups included, written their lines.
func TestMain(m *testing.M) {
	state := os.Getenv("LIBERATION_STATE_DIR") // as `make dev`/`make test`: default <repository>/.local
	if state == "" {
		state = filepath.Join(localtest.ProjectRoot(), ".local")
	}
	// grantCheck (issue 16, decision 0076): the run's IAM uses, compared with the grants.
	localtest.Main(grantCheck{inner: logscan.Run{M: m, Dir: filepath.Join(state, "test-logs"), Name: "e2e"}, state: state})
}
