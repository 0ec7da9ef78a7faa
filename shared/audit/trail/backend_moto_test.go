//go:build integration

package trail_test

import (
	"testing"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// newStore is the table the trail's tests run on: moto with the integration tag.
func newStore(t testing.TB, clk clock.Clock) *store.Store { return localtest.Store(t, clk) }
