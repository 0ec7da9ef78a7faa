//go:build integration

package payments

import (
	"context"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/store"
)

// The repository on moto keeps the contract the fake keeps (ledger_contract_test.go).
func TestRepoLedgerContract(t *testing.T) {
	env := localtest.New(t)
	s := env.Store()
	testLedgerContract(t, Repo{S: s}, func(at time.Time, name string) int64 {
		var day map[string]any
		if err := s.GetConsistent(context.Background(), store.MetricsDayKey(at), &day); err != nil {
			t.Fatal(err)
		}
		n, _ := day[name].(float64)
		return int64(n)
	})
}
