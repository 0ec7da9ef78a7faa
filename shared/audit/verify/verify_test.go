package verify_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/audit/chain"
	"github.com/liberation/monetization/shared/audit/verify"
	"github.com/liberation/monetization/shared/store"
)

const day = "2026-12-07"

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// build makes a whole chain of n records as the store writes them, and its head.
func build(n int) ([]map[string]types.AttributeValue, []store.AuditHead) {
	name := chain.Name(day, 1)
	prev := chain.Genesis(name)
	var items []map[string]types.AttributeValue
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("id%02d", i)
		at := fmt.Sprintf("%sT10:00:%02dZ", day, i)
		it := map[string]types.AttributeValue{"PK": s("AUDIT#" + day), "SK": s(at + "#" + id), "id": s(id), "at": s(at),
			"actor": s("a"), "action": s("x"), "target": s("t"), "requestId": s("r"), "type": s("audit"),
			"chain": s(name), "seq": &types.AttributeValueMemberN{Value: fmt.Sprint(i)}, "prev": s(prev)}
		h, _ := chain.ItemHash(it)
		it["hash"] = s(h)
		prev = h
		items = append(items, it)
	}
	return items, []store.AuditHead{{Chain: name, Seq: int64(n), Hash: prev, LastID: fmt.Sprintf("id%02d", n)}}
}

func TestCheck(t *testing.T) {
	items, heads := build(4)
	if rep, err := verify.Check(day, items, heads, nil); err != nil || !rep.OK() || rep.Chains[0].Seq != 4 {
		t.Fatalf("whole chain: %+v, %v", rep, err)
	}
	// An inserted copy of record 2 (another key, same position): a duplicate at 2.
	dup := map[string]types.AttributeValue{}
	for k, v := range items[1] {
		dup[k] = v
	}
	dup["SK"], dup["id"] = s(day+"T10:00:59Z#forged"), s("forged")
	rep, _ := verify.Check(day, append(append([]map[string]types.AttributeValue{}, items...), dup), heads, nil)
	if len(rep.Problems) != 1 || rep.Problems[0].Kind != verify.Duplicate || rep.Problems[0].Position != 2 {
		t.Fatalf("duplicate: %+v", rep.Problems)
	}
	// A record stripped of its chain fields on a chained day.
	stripped := map[string]types.AttributeValue{"PK": s("AUDIT#" + day), "SK": s("x#y"), "id": s("y"), "type": s("audit")}
	rep, _ = verify.Check(day, append(append([]map[string]types.AttributeValue{}, items...), stripped), heads, nil)
	if len(rep.Problems) != 1 || rep.Problems[0].Kind != verify.Unchained || rep.Problems[0].ID != "y" {
		t.Fatalf("unchained: %+v", rep.Problems)
	}
	// Every record of a chain gone: its head still counts them.
	rep, _ = verify.Check(day, nil, heads, nil)
	if len(rep.Problems) != 1 || rep.Problems[0].Kind != verify.Removed || rep.Problems[0].Position != 1 {
		t.Fatalf("chain gone: %+v", rep.Problems)
	}
	// A day from before the chains: unchained records only, no problem.
	rep, _ = verify.Check(day, []map[string]types.AttributeValue{stripped}, nil, nil)
	if !rep.OK() || rep.Unchained != 1 {
		t.Fatalf("legacy day: %+v", rep)
	}
}
