//go:build !integration

package migrate_test

import (
	"testing"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/tabletest"
)

// newTestStore is the table the runner's cases run on: in process (minidyn) without the
// integration tag, moto with it (backend_moto_test.go), the same cases either way (decision 0073).
func newTestStore(t testing.TB, clk clock.Clock) *store.Store { return tabletest.New(t, clk) }
