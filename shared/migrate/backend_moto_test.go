//go:build integration

package migrate_test

import (
	"testing"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

// TestMain starts moto (and the other local services) for the integration build.
func TestMain(m *testing.M) { localtest.Main(m) }

// newTestStore is the table the runner's cases run on: moto with the integration tag.
func newTestStore(t testing.TB, clk clock.Clock) *store.Store { return localtest.Store(t, clk) }
