//go:build !integration

package audit_test

import (
	"testing"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/tabletest"
)

// newStore is the table the audit tests run on: in process without the integration tag, moto with
// it (backend_moto_test.go).
func newStore(t testing.TB, clk clock.Clock) *store.Store { return tabletest.New(t, clk) }
