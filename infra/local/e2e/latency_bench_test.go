//go:build integration

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/infra/local/stripeevents"
)

// Webhook latency as the table grows: moto 5.2.5's TransactWriteItems copied every table it
// touched, once per action, so a local transaction's cost grew with the table; serve.py snapshots
// only the touched items (docs/decisions/0020). Each sub-benchmark first fills the table with
// payment-shaped items of other users up to the size in its name, then times invoice.paid
// deliveries (dedupe claim, subscription and payment transactions, SQS send) while the receipts
// consumer works on the same stack, as under `make dev`. Figures in docs/performance.md:
//
//	go test -run '^$' -bench WebhookWithItems -benchtime 40x ./infra/local/e2e/
//	LIBERATION_MOTO_TX_PATCH=off go test -run '^$' -bench WebhookWithItems -benchtime 40x ./infra/local/e2e/
//
// (the second leaves moto's own transact_write_items in place; run the package alone, so that it
// starts its own moto with that variable).
func BenchmarkWebhookWithItems(b *testing.B) {
	h := Start(b)
	db := dynamoFromEnv(b)
	user := fmt.Sprintf("bench-items-%d", time.Now().UnixNano())
	if status := h.PostWebhook(b, stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: user})); status != http.StatusOK {
		b.Fatalf("seed subscription: %d", status)
	}
	seeded := 0
	for _, size := range []int{0, 1000, 10000} {
		b.Run("items="+strconv.Itoa(size), func(b *testing.B) {
			seeded = fillTable(b, db, h.Env.Resources.Table, seeded, size)
			failed := 0
			measure(b, func() {
				ev := stripeevents.MustBuild(stripeevents.InvoicePaid, stripeevents.Options{UserID: user, BillingReason: "subscription_cycle"})
				if status := h.PostWebhook(b, ev); status != http.StatusOK {
					failed++ // counted, not fatal: without the patch, large tables make deliveries time out
				}
			})
			b.ReportMetric(float64(failed), "non-200")
			if failed > 0 {
				b.Errorf("%d of %d deliveries did not answer 200", failed, b.N)
			}
		})
	}
}

// fillTable writes payment-shaped items of other users (numbered from, up to to) and returns to.
func fillTable(tb testing.TB, db *dynamodb.Client, table string, from, to int) int {
	tb.Helper()
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v int) types.AttributeValue { return &types.AttributeValueMemberN{Value: strconv.Itoa(v)} }
	at := time.Now().UTC().Format(time.RFC3339Nano)
	for start := from; start < to; start += 25 {
		var reqs []types.WriteRequest
		for i := start; i < to && i < start+25; i++ {
			id := fmt.Sprintf("pay_filler%06d", i)
			user := fmt.Sprintf("filler-%05d", i/4)
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				"PK": s("USER#" + user), "SK": s("PAY#" + id), "GSI1PK": s("PAYMENT#" + id), "GSI1SK": s("PAYMENT"),
				"GSI2PK": s("CHARGE#ch_filler" + strconv.Itoa(i)), "GSI2SK": s("PAYMENT"), "type": s("payment"),
				"id": s(id), "userId": s(user), "kind": s("subscription"), "status": s("succeeded"),
				"amountCents": n(999), "currency": s("usd"), "description": s("Pro plan (monthly)"),
				"refundedCents": n(0), "pendingRefundCents": n(0), "invoiceId": s("in_filler" + strconv.Itoa(i)),
				"subscriptionId": s("sub_" + user), "chargeId": s("ch_filler" + strconv.Itoa(i)),
				"customerEmail": s(user + "@example.com"), "paymentMethod": s("Visa •••• 4242"),
				"paidAt": s(at), "createdAt": s(at), "eventId": s("evt_filler" + strconv.Itoa(i)), "version": n(1),
			}}})
		}
		out, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
		if err != nil {
			tb.Fatalf("fill table: %v", err)
		}
		if len(out.UnprocessedItems) > 0 {
			tb.Fatalf("fill table: %d unprocessed", len(out.UnprocessedItems[table]))
		}
	}
	if to > from {
		return to
	}
	return from
}

// dynamoFromEnv is a DynamoDB client for the local stack (AWS_ENDPOINT_URL points at moto).
func dynamoFromEnv(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
}
