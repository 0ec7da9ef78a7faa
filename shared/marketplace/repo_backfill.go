package marketplace

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/store"
)

// saleLedger reads the instructor ledger entries of one sale (the backfill's timeline of the sale,
// books_backfill.go): the instructor's ledger from the day of the sale on, filtered by sale id.
// Ledger sort keys are RFC 3339 times, so the day's start is a safe lower bound whatever the
// fraction of a second. A one-off job's read: it costs the instructor's ledger after the sale.
func saleLedger(ctx context.Context, s *store.Store, sale Sale) ([]LedgerEntry, error) {
	return store.QueryAll[LedgerEntry](ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		FilterExpression:       aws.String("saleId = :sale"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   store.S(store.InstructorBalanceKey(sale.InstructorID).PK),
			":from": store.S(store.LedgerPrefix + sale.SoldAt.UTC().Format(time.DateOnly)),
			":to":   store.S(store.LedgerPrefix + "~"),
			":sale": store.S(sale.ID),
		},
	})
}
