package audit_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/audit/chain"
	"github.com/liberation/monetization/shared/audit/verify"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

const day = "2026-12-07"

var at = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// writeConcurrently has writers write n records each, half alone (audit.Write) and half inside a
// transaction with another item (audit.Item), all at once.
func writeConcurrently(t *testing.T, s *store.Store, writers, n int) {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, writers*n)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < n; i++ {
				e := audit.Entry{Actor: fmt.Sprintf("user-%d", w), Action: "payment.record",
					Target: fmt.Sprintf("payment:pay_%d_%d", w, i), RequestID: "req", Details: map[string]string{"amount": fmt.Sprint(100 * i)}}
				if i%2 == 0 {
					errs <- audit.Write(ctx, s, e)
					continue
				}
				it, err := audit.Item(e, s.Clock.Now())
				if err != nil {
					errs <- err
					continue
				}
				other, _ := store.PutNewItem(struct {
					PK string `dynamodbav:"PK"`
					SK string `dynamodbav:"SK"`
				}{fmt.Sprintf("X#%d", w), fmt.Sprint(i)})
				errs <- s.Transact(ctx, []types.TransactWriteItem{other, it})
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a concurrent audit write failed: %v", err)
		}
	}
}

// Concurrent writers never fork a chain or leave a gap: every chain is 1..n with each prev the
// hash before, the heads count every record, and the day verifies.
func TestConcurrentWritersKeepEveryChainWhole(t *testing.T) {
	s := newStore(t, clock.NewFake(at))
	writeConcurrently(t, s, 8, 12)
	items, err := s.AuditDayItems(context.Background(), day)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 96 {
		t.Fatalf("%d records, want 96", len(items))
	}
	bySeq := map[string][]int64{}
	for _, it := range items {
		f, err := chain.FromItem(it)
		if err != nil {
			t.Fatal(err)
		}
		bySeq[f.Chain] = append(bySeq[f.Chain], f.Seq)
	}
	for c, seqs := range bySeq {
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		for i, q := range seqs {
			if q != int64(i+1) {
				t.Fatalf("chain %s seqs %v: a fork or a gap at %d", c, seqs, i+1)
			}
		}
	}
	rep, err := verify.Day(context.Background(), s, day, nil)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %+v, %v", rep.Problems, err)
	}
	var total int64
	for _, c := range rep.Chains {
		total += c.Seq
	}
	if total != 96 {
		t.Fatalf("chains end at %d records in all, want 96", total)
	}
}

// tampered writes records into one chain, applies tamper to the stored items of that chain (in
// seq order), and returns the verification.
func tampered(t *testing.T, tamper func(s *store.Store, recs []map[string]types.AttributeValue), seal bool) (verify.Report, []map[string]types.AttributeValue) {
	t.Helper()
	s := newStore(t, clock.NewFake(at))
	ctx := context.Background()
	// One transaction's records of a day share a chain, so five in one transaction are one chain.
	var batch []types.TransactWriteItem
	for i := 0; i < 5; i++ {
		it, err := audit.Item(audit.Entry{Actor: "admin-1", Action: "refund.create",
			Target: fmt.Sprintf("payment:pay_%d", i), Details: map[string]string{"amount": fmt.Sprint(100 + i)}}, at)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, it)
	}
	if err := s.Transact(ctx, batch); err != nil {
		t.Fatal(err)
	}
	var sealed *verify.Seal
	if seal {
		heads, err := s.AuditHeads(ctx, day)
		if err != nil {
			t.Fatal(err)
		}
		v := verify.SealOf(day, heads, at)
		sealed = &v
	}
	items, _ := s.AuditDayItems(ctx, day)
	if len(items) != 5 {
		t.Fatalf("%d records, want 5", len(items))
	}
	recs := items
	sort.Slice(recs, func(i, j int) bool { return seqOf(recs[i]) < seqOf(recs[j]) })
	tamper(s, recs)
	rep, err := verify.Day(ctx, s, day, sealed)
	if err != nil {
		t.Fatal(err)
	}
	return rep, recs
}

func seqOf(it map[string]types.AttributeValue) int64 {
	var n int64
	fmt.Sscan(it[chain.AttrSeq].(*types.AttributeValueMemberN).Value, &n)
	return n
}

func idOf(it map[string]types.AttributeValue) string {
	return it["id"].(*types.AttributeValueMemberS).Value
}

// set changes attributes of a stored record directly, as someone with table access could.
func set(t *testing.T, s *store.Store, it map[string]types.AttributeValue, expr string, values map[string]types.AttributeValue) {
	t.Helper()
	err := s.Update(context.Background(), &dynamodb.UpdateItemInput{
		Key: map[string]types.AttributeValue{"PK": it["PK"], "SK": it["SK"]}, UpdateExpression: aws.String(expr),
		ExpressionAttributeValues: values, ExpressionAttributeNames: names(expr)}, nil)
	if err != nil {
		t.Fatal(err)
	}
}

// names gives the placeholders an expression uses their attribute names.
func names(expr string) map[string]string {
	out := map[string]string{}
	for ph, name := range map[string]string{"#h": "hash", "#s": "seq", "#d": "details", "#p": "prev"} {
		if strings.Contains(expr, ph) {
			out[ph] = name
		}
	}
	return out
}

func onlyProblem(t *testing.T, rep verify.Report) verify.Problem {
	t.Helper()
	if len(rep.Problems) != 1 {
		t.Fatalf("problems %+v, want one", rep.Problems)
	}
	return rep.Problems[0]
}

func TestVerifyNamesAnEditedRecord(t *testing.T) {
	var target string
	rep, _ := tampered(t, func(s *store.Store, recs []map[string]types.AttributeValue) {
		target = idOf(recs[1])
		set(t, s, recs[1], "SET #d.amount = :a", map[string]types.AttributeValue{":a": &types.AttributeValueMemberS{Value: "1"}})
	}, false)
	p := onlyProblem(t, rep)
	if p.Kind != verify.Edited || p.ID != target || p.Position != 2 {
		t.Fatalf("problem %+v, want %s edited at 2", p, target)
	}
}

func TestVerifyNamesARemovedRecord(t *testing.T) {
	var next string
	rep, _ := tampered(t, func(s *store.Store, recs []map[string]types.AttributeValue) {
		next = idOf(recs[3])
		del := types.TransactWriteItem{Delete: &types.Delete{Key: map[string]types.AttributeValue{"PK": recs[2]["PK"], "SK": recs[2]["SK"]}}}
		if err := s.Transact(context.Background(), []types.TransactWriteItem{del}); err != nil {
			t.Fatal(err)
		}
	}, false)
	p := onlyProblem(t, rep)
	if p.Kind != verify.Removed || p.Position != 3 || p.ID != next {
		t.Fatalf("problem %+v, want position 3 removed (before %s)", p, next)
	}
}

// The last record removed leaves a whole chain; its head still counts it.
func TestVerifyNamesARemovedLastRecord(t *testing.T) {
	var last string
	rep, _ := tampered(t, func(s *store.Store, recs []map[string]types.AttributeValue) {
		last = idOf(recs[4])
		del := types.TransactWriteItem{Delete: &types.Delete{Key: map[string]types.AttributeValue{"PK": recs[4]["PK"], "SK": recs[4]["SK"]}}}
		if err := s.Transact(context.Background(), []types.TransactWriteItem{del}); err != nil {
			t.Fatal(err)
		}
	}, false)
	p := onlyProblem(t, rep)
	if p.Kind != verify.Removed || p.Position != 5 || p.ID != last {
		t.Fatalf("problem %+v, want position 5 (%s) removed", p, last)
	}
}

// Two records swapped (their positions exchanged): the first out of place is named with the
// position it was written at.
func TestVerifyNamesASwappedRecord(t *testing.T) {
	var moved string
	rep, _ := tampered(t, func(s *store.Store, recs []map[string]types.AttributeValue) {
		moved = idOf(recs[2])
		set(t, s, recs[1], "SET #s = :n", map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: "3"}})
		set(t, s, recs[2], "SET #s = :n", map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: "2"}})
	}, false)
	p := onlyProblem(t, rep)
	if p.Kind != verify.Reordered || p.Position != 2 || p.ID != moved {
		t.Fatalf("problem %+v, want %s reordered at 2", p, moved)
	}
}

// rewrite edits record 2 and recomputes every hash after it and the head, as someone who knows
// the encoding could: the chain is whole again, and only the seal can tell.
func rewrite(t *testing.T, s *store.Store, recs []map[string]types.AttributeValue) {
	recs[1]["details"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"amount": &types.AttributeValueMemberS{Value: "1"}}}
	prev := recs[0][chain.AttrHash].(*types.AttributeValueMemberS).Value
	for _, it := range recs[1:] {
		it[chain.AttrPrev] = &types.AttributeValueMemberS{Value: prev}
		h, err := chain.ItemHash(it)
		if err != nil {
			t.Fatal(err)
		}
		it[chain.AttrHash] = &types.AttributeValueMemberS{Value: h}
		set(t, s, it, "SET #d = :d, #p = :p, #h = :h", map[string]types.AttributeValue{
			":d": it["details"], ":p": it[chain.AttrPrev], ":h": it[chain.AttrHash]})
		prev = h
	}
	c := recs[0][chain.AttrChain].(*types.AttributeValueMemberS).Value
	var shard int
	fmt.Sscanf(c[len(day)+1:], "%d", &shard)
	k := store.AuditHeadKey(day, shard)
	set(t, s, map[string]types.AttributeValue{"PK": store.S(k.PK), "SK": store.S(k.SK)}, "SET #h = :h",
		map[string]types.AttributeValue{":h": store.S(prev)})
}

func TestVerifyNeedsTheSealForARewrittenChain(t *testing.T) {
	rep, _ := tampered(t, func(s *store.Store, recs []map[string]types.AttributeValue) { rewrite(t, s, recs) }, false)
	if !rep.OK() {
		t.Fatalf("a consistently rewritten chain without a seal: %+v (the test's rewrite is wrong)", rep.Problems)
	}
	var last string
	rep, _ = tampered(t, func(s *store.Store, recs []map[string]types.AttributeValue) {
		last = idOf(recs[4])
		rewrite(t, s, recs)
	}, true)
	p := onlyProblem(t, rep)
	if p.Kind != verify.Edited || p.Position != 5 || p.ID != last {
		t.Fatalf("problem %+v, want the sealed end (5, %s) named", p, last)
	}
}

func TestVerifyPassesAnUntouchedSealedDay(t *testing.T) {
	rep, _ := tampered(t, func(*store.Store, []map[string]types.AttributeValue) {}, true)
	if !rep.OK() || !rep.Sealed || rep.Records != 5 {
		t.Fatalf("report %+v", rep)
	}
}

// A record dated a sealed day but written after the seal (a late webhook's) is counted, not a
// break: the seal vouches for the prefix it saw.
func TestVerifyCountsRecordsAfterTheSeal(t *testing.T) {
	rep, _ := tampered(t, func(s *store.Store, _ []map[string]types.AttributeValue) {
		if err := audit.Write(context.Background(), s, audit.Entry{Actor: "system:stripe-webhook", Action: "payment.record", Target: "payment:late"}); err != nil {
			t.Fatal(err)
		}
	}, true)
	if !rep.OK() || rep.AfterSeal != 1 || rep.Records != 6 {
		t.Fatalf("report %+v", rep)
	}
}
