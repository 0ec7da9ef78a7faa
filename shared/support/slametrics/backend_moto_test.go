//go:build integration

package slametrics

import (
	"testing"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/store"
)

// TestMain starts the local services for the integration build (the reader's cases on moto).
func TestMain(m *testing.M) { localtest.Main(m) }

// newTestStore is the table the reader's cases run on: moto with the integration tag, in process
// without it (backend_unit_test.go).
func newTestStore(t testing.TB) *store.Store { return localtest.New(t).Store() }
