// Package tabletest gives repository unit tests the single table in process: minidyn, a DynamoDB
// emulator library, behind the same SDK calls the repositories make against moto and AWS. It lets
// `go test ./...` run every repository without a service started; moto stays the authority the
// integration build checks the same contract cases against (decision 0070).
package tabletest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	minidyn "github.com/truora/minidyn/aws-v2/client"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

// Table is the name the in-process table has.
const Table = "unit"

// New returns a Store over a fresh, empty in-process table; clk may be nil (system clock).
func New(t testing.TB, clk clock.Clock) *store.Store {
	t.Helper()
	db := minidyn.NewClient()
	if _, err := db.CreateTable(context.Background(), store.TableDefinition(Table)); err != nil {
		t.Fatalf("create in-process table: %v", err)
	}
	return store.New(client{db}, Table, clk, []byte("unit-test-cursor-secret-32-bytes!"))
}

// client corrects where minidyn v0.8.2 answers differently from DynamoDB (and moto) for the calls
// the repositories make.
type client struct{ *minidyn.Client }

// Query: DynamoDB leaves LastEvaluatedKey out on the last page; minidyn returns an empty map,
// which the SDK's paginator reads as "more pages" forever.
func (c client) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := c.Client.Query(ctx, in, opts...)
	if err == nil && len(out.LastEvaluatedKey) == 0 {
		out.LastEvaluatedKey = nil
	}
	return out, err
}

// GetItem: DynamoDB leaves Item out when no item has the key; minidyn returns an empty map.
func (c client) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := c.Client.GetItem(ctx, in, opts...)
	if err == nil && len(out.Item) == 0 {
		out.Item = nil
	}
	return out, err
}
