//go:build integration

package marketplace

import (
	"testing"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

// newTestStore is the table the repositories' contract cases run on: moto with the integration
// tag, in process without it (backend_unit_test.go). The local services are started by the one
// TestMain of this test binary, in integration_test.go (package marketplace_test).
func newTestStore(t testing.TB, clk clock.Clock) *store.Store { return localtest.Store(t, clk) }
