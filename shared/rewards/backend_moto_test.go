//go:build integration

package rewards

import (
	"testing"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

// newTestStore is the table the repository's contract cases run on: moto with the integration
// tag, in process without it (backend_unit_test.go). The package's TestMain, which starts the
// local services, is in integration_test.go.
func newTestStore(t testing.TB, clk clock.Clock) *store.Store { return localtest.Store(t, clk) }
