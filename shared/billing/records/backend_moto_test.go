//go:build integration

package records_test

import (
	"testing"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// newTestStore is the table the cases run on: moto with the integration tag, in process without it.
func newTestStore(t testing.TB, clk clock.Clock) *store.Store { return localtest.Store(t, clk) }
