//go:build !integration

package tokenmetrics

import (
	"testing"

	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/tabletest"
)

// newTestStore is the table the contract cases run on: in process (minidyn) without the
// integration tag, moto with it (backend_moto_test.go), the same cases either way
// (docs/decisions/0073).
func newTestStore(t testing.TB) *store.Store { return tabletest.New(t, nil) }
