//go:build integration

package payments

import (
	"testing"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

// newTestStore is the table Repo's cases run on: moto with the integration tag, in process without
// it (backend_unit_test.go). The services are started by the TestMain of helpers_test.go (package
// payments_test, the same test binary: a second TestMain here would not compile).
func newTestStore(t testing.TB, clk clock.Clock) *store.Store { return localtest.Store(t, clk) }
