//go:build integration

package licensing

import (
	"context"
	"testing"

	"github.com/liberation/monetization/infra/local/localtest"
)

// The DynamoDB repository on moto keeps the contract the in-memory one keeps (contract_test.go).
func TestDynamoRepoLicenseContract(t *testing.T) {
	env := localtest.New(t)
	r := newDynamoRepo(env.Store())
	testRepoContract(t, contractHarness{repo: r, retire: func(kid string) {
		rec, err := r.SigningKey(context.Background(), kid)
		if err != nil {
			t.Fatal(err)
		}
		rec.Retired = true
		if err := r.s.Put(context.Background(), rec, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}})
}
