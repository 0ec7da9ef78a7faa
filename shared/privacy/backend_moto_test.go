//go:build integration

package privacy_test

import (
	"testing"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

// TestMain starts the local services (moto) for the integration pass of this package.
func TestMain(m *testing.M) { localtest.Main(m) }

// newTestStore is the table the repository cases run on: moto with the integration tag, in
// process without it (backend_unit_test.go).
func newTestStore(t testing.TB, clk clock.Clock) *store.Store { return localtest.Store(t, clk) }
