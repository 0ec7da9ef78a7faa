package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dynamodbTypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/audit/chain"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

var auditDay = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

func auditEntry(action string) audit.Entry {
	return audit.Entry{Actor: "user-1", Action: action, Target: "payment:pay_1", RequestID: "req-1",
		Details: map[string]string{"amount": "500"}}
}

// readRecord reads an audit record back as stored.
func readRecord(t *testing.T, s *store.Store, r audit.Record) audit.Record {
	t.Helper()
	var got audit.Record
	if err := s.GetConsistent(context.Background(), store.Key{PK: r.PK, SK: r.SK}, &got); err != nil {
		t.Fatal(err)
	}
	return got
}

// An audit record written in a caller's transaction carries its chain fields, its hash is the hash
// of what is stored, and the head moved with it — in the same transaction as the caller's item.
func TestAuditRecordJoinsItsChainInTheCallersTransaction(t *testing.T) {
	defer store.SetAuditShard(func() int { return 5 })()
	s := newStore(t, clock.NewFake(auditDay))
	ctx := context.Background()
	other, _ := store.PutNewItem(item{PK: "A", SK: "1", Value: 1})
	r1, r2 := audit.New(auditEntry("one"), auditDay), audit.New(auditEntry("two"), auditDay)
	p1, _ := store.PutItem(r1)
	p2, _ := store.PutItem(r2)
	if err := s.Transact(ctx, append([]typesItem{other}, p1, p2)); err != nil {
		t.Fatal(err)
	}
	g1, g2 := readRecord(t, s, r1), readRecord(t, s, r2)
	name := chain.Name("2026-12-07", 5)
	if g1.Chain != name || g1.Seq != 1 || g1.Prev != chain.Genesis(name) {
		t.Fatalf("first record chain fields %q %d %q", g1.Chain, g1.Seq, g1.Prev)
	}
	if g2.Chain != name || g2.Seq != 2 || g2.Prev != g1.Hash {
		t.Fatalf("second record chain fields %q %d prev %q (first's hash %q)", g2.Chain, g2.Seq, g2.Prev, g1.Hash)
	}
	items, err := s.AuditDayItems(ctx, "2026-12-07")
	if err != nil || len(items) != 2 {
		t.Fatalf("day items %d, %v", len(items), err)
	}
	for _, it := range items {
		h, err := chain.ItemHash(it)
		if err != nil || h != it[chain.AttrHash].(*typesS).Value {
			t.Fatalf("stored hash does not match the stored content: %v", err)
		}
	}
	head, err := s.ReadAuditHead(ctx, "2026-12-07", 5)
	if err != nil || head.Seq != 2 || head.Hash != g2.Hash || head.LastID != r2.ID {
		t.Fatalf("head %+v, %v", head, err)
	}
}

// A caller's own failed condition reaches it as before: the same failed index (the head item is
// appended after the caller's items), and neither the record nor the head is written.
func TestAuditCallerFailureIsUnchanged(t *testing.T) {
	defer store.SetAuditShard(func() int { return 0 })()
	s := newStore(t, clock.NewFake(auditDay))
	ctx := context.Background()
	if err := s.Put(ctx, item{PK: "A", SK: "1", Value: 1}, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	rec := audit.New(auditEntry("refund.create"), auditDay)
	p, _ := store.PutItem(rec)
	taken, _ := store.PutNewItem(item{PK: "A", SK: "1", Value: 2})
	err := s.Transact(ctx, []typesItem{p, taken})
	if !store.IsConditionFailed(err) || !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("want a Conflict with a failed condition, got %v", err)
	}
	if f := store.FailedItems(err); len(f) != 1 || f[0] != 1 {
		t.Fatalf("failed items %v, want [1]", f)
	}
	head, _ := s.ReadAuditHead(ctx, "2026-12-07", 0)
	if head.Seq != 0 {
		t.Fatalf("head moved to %d for a cancelled transaction", head.Seq)
	}
	// audit.Write's conditional Put: a second write of the same record is the single-put conflict.
	if err := s.Put(ctx, rec, "attribute_not_exists(PK)", nil, nil); err != nil {
		t.Fatal(err)
	}
	err = s.Put(ctx, rec, "attribute_not_exists(PK)", nil, nil)
	if !store.IsConditionFailed(err) || store.FailedItems(err) != nil {
		t.Fatalf("want a single-put condition failure, got %v (failed %v)", err, store.FailedItems(err))
	}
}

// racer is the table with another writer that, just before the first transaction carrying an
// audit head, extends the same chain: the head the transaction read has moved.
type racer struct {
	store.DynamoAPI
	other *store.Store
	fired atomic.Bool
}

func (r *racer) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if r.fired.CompareAndSwap(false, true) {
		if err := audit.Write(ctx, r.other, auditEntry("racing")); err != nil {
			return nil, err
		}
	}
	return r.DynamoAPI.TransactWriteItems(ctx, in, o...)
}

// A transaction that loses the head race is re-read and resent: it succeeds, after the other
// writer's record, with no fork (two records at one position) and no gap.
func TestAuditHeadRaceIsRetried(t *testing.T) {
	defer store.SetAuditShard(func() int { return 2 })()
	base := newStore(t, clock.NewFake(auditDay))
	ctx := context.Background()
	r := &racer{DynamoAPI: base.DB, other: base}
	s := store.New(r, base.Table, base.Clock, []byte("unit-test-cursor-secret-32-bytes!"))
	rec := audit.New(auditEntry("refund.create"), auditDay)
	p, _ := store.PutItem(rec)
	if err := s.Transact(ctx, []typesItem{p}); err != nil {
		t.Fatalf("the lost head race reached the caller: %v", err)
	}
	if !r.fired.Load() {
		t.Fatal("the race was not injected")
	}
	got := readRecord(t, base, rec)
	if got.Seq != 2 {
		t.Fatalf("record at seq %d, want 2 (after the racing one)", got.Seq)
	}
	head, _ := base.ReadAuditHead(ctx, "2026-12-07", 2)
	if head.Seq != 2 || head.Hash != got.Hash {
		t.Fatalf("head %+v", head)
	}
}

type (
	typesItem = dynamodbTypes.TransactWriteItem
	typesS    = dynamodbTypes.AttributeValueMemberS
)
