//go:build !integration

package slametrics

import (
	"testing"

	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/tabletest"
)

// newTestStore is the table the reader's cases run on: in process without the integration tag,
// moto with it (backend_moto_test.go), the same cases either way (decision 0073).
func newTestStore(t testing.TB) *store.Store { return tabletest.New(t, nil) }
