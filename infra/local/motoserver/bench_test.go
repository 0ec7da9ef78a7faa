package motoserver

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The cost of one TransactWriteItems through the local moto as the table grows, with serve.py's
// item-level rollback snapshots (patch=on) and with moto's own table copies (patch=off). The
// transaction is shaped like recording a payment: a conditional guard put, the payment put, an ADD
// on a counters item and an audit put. Figures in docs/performance.md:
//
//	go test -run '^$' -bench TransactWriteItems -benchtime 30x ./infra/local/motoserver/
func BenchmarkTransactWriteItems(b *testing.B) {
	for _, patch := range []string{"on", "off"} {
		b.Run("patch="+patch, func(b *testing.B) {
			db := dynamoClient(startServer(b, "LIBERATION_MOTO_TX_PATCH="+patch))
			table := createTableWithRange(b, db)
			filled := 0
			for _, size := range []int{0, 1000, 10000} {
				b.Run("items="+strconv.Itoa(size), func(b *testing.B) {
					for ; filled < size; filled += 25 {
						var reqs []types.WriteRequest
						for i := filled; i < filled+25; i++ {
							reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: paymentItem(fmt.Sprintf("filler-%06d", i))}})
						}
						if _, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
							RequestItems: map[string][]types.WriteRequest{table: reqs}}); err != nil {
							b.Fatal(err)
						}
					}
					lat := make([]time.Duration, 0, b.N)
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						id := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)
						start := time.Now()
						if _, err := db.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{
							TransactItems: paymentTransaction(table, id)}); err != nil {
							b.Fatal(err)
						}
						lat = append(lat, time.Since(start))
					}
					b.StopTimer()
					slices.Sort(lat)
					pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
					b.ReportMetric(pct(0.50), "p50-ms")
					b.ReportMetric(pct(0.99), "p99-ms")
				})
			}
		})
	}
}

func paymentItem(id string) map[string]types.AttributeValue {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	return map[string]types.AttributeValue{
		"PK": s("USER#u-" + id), "SK": s("PAY#" + id), "GSI1PK": s("PAYMENT#" + id), "GSI1SK": s("PAYMENT"),
		"type": s("payment"), "id": s(id), "status": s("succeeded"), "currency": s("usd"),
		"amountCents": &types.AttributeValueMemberN{Value: "999"}, "description": s("Pro plan (monthly)"),
		"customerEmail": s(id + "@example.com"), "paymentMethod": s("Visa •••• 4242"),
		"paidAt": s(time.Now().UTC().Format(time.RFC3339)), "version": &types.AttributeValueMemberN{Value: "1"},
	}
}

func paymentTransaction(table, id string) []types.TransactWriteItem {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	return []types.TransactWriteItem{
		{Put: &types.Put{TableName: &table, ConditionExpression: aws.String("attribute_not_exists(PK)"),
			Item: map[string]types.AttributeValue{"PK": s("PAYSRC#" + id), "SK": s("PAYMENT"), "paymentId": s(id)}}},
		{Put: &types.Put{TableName: &table, ConditionExpression: aws.String("attribute_not_exists(PK)"), Item: paymentItem(id)}},
		{Update: &types.Update{TableName: &table, Key: map[string]types.AttributeValue{"PK": s("METRICS#DAY"), "SK": s("COUNTERS")},
			UpdateExpression:          aws.String("ADD payments :one"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}}}},
		{Put: &types.Put{TableName: &table, Item: map[string]types.AttributeValue{"PK": s("AUDIT#" + id), "SK": s("AUDIT"), "action": s("payment.record")}}},
	}
}

func createTableWithRange(tb testing.TB, db *dynamodb.Client) string {
	tb.Helper()
	name := "motoserver-bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("SK"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("SK"), KeyType: types.KeyTypeRange}},
		BillingMode: types.BillingModePayPerRequest,
	}); err != nil {
		tb.Fatalf("CreateTable: %v", err)
	}
	return name
}
