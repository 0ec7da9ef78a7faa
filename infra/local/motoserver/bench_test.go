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
					filled = fill(b, db, table, filled, size)
					timed(b, func(i int) error {
						id := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)
						_, err := db.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{
							TransactItems: paymentTransaction(table, id)})
						return err
					})
				})
			}
		})
	}
}

// Reads do not copy anything, but moto 5.2.5's Query walks every item of the table (and of a GSI's
// table) to find one partition, so its cost grows with the table; GetItem's does not. Not patched
// (docs/performance.md):
//
//	go test -run '^$' -bench Reads -benchtime 30x ./infra/local/motoserver/
func BenchmarkReads(b *testing.B) {
	db := dynamoClient(startServer(b))
	table := createTableWithRange(b, db)
	filled := 0
	key := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	for _, size := range []int{0, 1000, 10000} {
		filled = fill(b, db, table, filled, size)
		if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &table, Item: paymentItem("target")}); err != nil {
			b.Fatal(err)
		}
		b.Run("items="+strconv.Itoa(size)+"/GetItem", func(b *testing.B) {
			timed(b, func(int) error {
				_, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &table, ConsistentRead: aws.Bool(true),
					Key: map[string]types.AttributeValue{"PK": key("USER#u-target"), "SK": key("PAY#target")}})
				return err
			})
		})
		b.Run("items="+strconv.Itoa(size)+"/Query", func(b *testing.B) {
			timed(b, func(int) error {
				out, err := db.Query(context.Background(), &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: aws.String("PK = :pk"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":pk": key("USER#u-target")}})
				if err == nil && len(out.Items) != 1 {
					err = fmt.Errorf("query found %d items", len(out.Items))
				}
				return err
			})
		})
		b.Run("items="+strconv.Itoa(size)+"/QueryGSI", func(b *testing.B) {
			timed(b, func(int) error {
				out, err := db.Query(context.Background(), &dynamodb.QueryInput{TableName: &table, IndexName: aws.String("GSI1"),
					KeyConditionExpression:    aws.String("GSI1PK = :pk AND GSI1SK = :sk"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":pk": key("PAYMENT#target"), ":sk": key("PAYMENT")}})
				if err == nil && len(out.Items) != 1 {
					err = fmt.Errorf("GSI query found %d items", len(out.Items))
				}
				return err
			})
		})
	}
}

// fill writes payment items numbered from … to-1 (25 per BatchWriteItem) and returns max(from, to).
func fill(b *testing.B, db *dynamodb.Client, table string, from, to int) int {
	b.Helper()
	for ; from < to; from += 25 {
		var reqs []types.WriteRequest
		for i := from; i < from+25; i++ {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: paymentItem(fmt.Sprintf("filler-%06d", i))}})
		}
		if _, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{table: reqs}}); err != nil {
			b.Fatal(err)
		}
	}
	return from
}

// timed runs op b.N times and reports the p50 and p99 of its latency in milliseconds.
func timed(b *testing.B, op func(i int) error) {
	b.Helper()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := op(i); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
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
			{AttributeName: aws.String("SK"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("GSI1PK"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("GSI1SK"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("SK"), KeyType: types.KeyTypeRange}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("GSI1"),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("GSI1PK"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("GSI1SK"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}},
		BillingMode: types.BillingModePayPerRequest,
	}); err != nil {
		tb.Fatalf("CreateTable: %v", err)
	}
	return name
}
