//go:build integration

package rewards

import (
	"testing"

	"github.com/liberation/monetization/infra/local/localtest"
)

// The DynamoDB repository on moto keeps the contract the in-memory one keeps (repo_contract_test.go).
func TestDynamoRepoContract(t *testing.T) {
	env := localtest.New(t)
	testRepoContract(t, NewRepo(env.Store()))
}
