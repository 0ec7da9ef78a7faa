package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/store"
)

// Counters move by exactly their deltas, created on first use; a zero delta writes nothing, and
// a transaction without a non-zero delta carries no counters item at all.
func TestCounters(t *testing.T) {
	s := newStore(t, nil)
	ctx := context.Background()
	day := time.Date(2026, 3, 1, 23, 59, 59, 0, time.FixedZone("UTC-5", -5*3600)) // 2 March in UTC
	if store.AddCounters(store.MetricsCurrentKey(), map[string]int64{"a": 0}) != nil || store.AddDayCounters(day, nil) != nil {
		t.Fatal("an update without a delta")
	}
	if items := store.Append(nil, nil, store.AddDayCounters(day, map[string]int64{})); len(items) != 0 {
		t.Fatalf("Append kept %d nil items", len(items))
	}
	for _, deltas := range []map[string]int64{
		{store.CtrRevenueCents: 999, store.CtrPaymentsSucceeded: 1, store.CtrRefundedCents: 0},
		{store.CtrRevenueCents: 1001, store.CtrPaymentsSucceeded: 1},
		{store.CtrRevenueCents: -500, store.CtrRefundedCents: 500},
	} {
		items := store.Append(nil, store.AddDayCounters(day, deltas), nil)
		if err := s.Transact(ctx, items); err != nil {
			t.Fatal(err)
		}
	}
	k := store.MetricsDayKey(day)
	if k.SK != "DAY#2026-03-02" {
		t.Fatalf("day key %v: counters count on the UTC day", k)
	}
	res, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: k.Item(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	got := store.Numbers(res.Item)
	want := map[string]int64{store.CtrRevenueCents: 1500, store.CtrPaymentsSucceeded: 2, store.CtrRefundedCents: 500}
	if len(got) != len(want) {
		t.Fatalf("counters %v, want %v (keys are not numbers)", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("counters %v, want %v", got, want)
		}
	}
}

func TestNumbers(t *testing.T) {
	got := store.Numbers(map[string]types.AttributeValue{
		"PK":    &types.AttributeValueMemberS{Value: "METRICS"},
		"n":     &types.AttributeValueMemberN{Value: "-42"},
		"big":   &types.AttributeValueMemberN{Value: "99999999999999999999"},
		"float": &types.AttributeValueMemberN{Value: "1.5"},
		"flag":  &types.AttributeValueMemberBOOL{Value: true},
	})
	if len(got) != 1 || got["n"] != -42 {
		t.Fatalf("Numbers = %v, want only n = -42", got)
	}
}
