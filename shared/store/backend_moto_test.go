//go:build integration

package store_test

import (
	"testing"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// newStore is the table the store's tests run on: moto with the integration tag, in process
// without it (backend_unit_test.go).
func newStore(t testing.TB, clk clock.Clock) *store.Store { return localtest.Store(t, clk) }
