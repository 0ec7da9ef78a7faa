//go:build integration

package support

import (
	"testing"

	"github.com/liberation/monetization/infra/local/localtest"
)

// The DynamoDB repository on moto keeps the contract the fake keeps (repo_contract_test.go).
func TestDynamoRepoContract(t *testing.T) {
	env := localtest.New(t)
	testRepoContract(t, &dynamoRepo{env.Store()})
}
