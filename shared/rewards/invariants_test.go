package rewards

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/store"
)

// VerifyItems decodes the stored account and entries and applies Verify: a ledger that runs to its
// account passes (whatever order the items come in); a missing entry, and entries without an
// account, are named.
func TestVerifyItems(t *testing.T) {
	acc := Account{UserID: "u1", Balance: 15, Available: 15, Seq: 2}
	e1 := Entry{ID: "e1", UserID: "u1", Seq: 1, Kind: "earn", Delta: 10, BalanceAfter: 10, AvailableAfter: 10}
	e2 := Entry{ID: "e2", UserID: "u1", Seq: 2, Kind: "earn", Delta: 5, BalanceAfter: 15, AvailableAfter: 15}
	orphan := Entry{ID: "e9", UserID: "u9", Seq: 1, Kind: "earn", Delta: 1, BalanceAfter: 1, AvailableAfter: 1}
	mk := func(vs ...any) []map[string]types.AttributeValue {
		var out []map[string]types.AttributeValue
		for _, v := range vs {
			it, err := store.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, it)
		}
		return out
	}
	n, problems, err := VerifyItems(mk(e2.item(), acc.item(), e1.item()))
	if err != nil || n != 1 || len(problems) != 0 {
		t.Errorf("a consistent ledger: %d, %q, %v", n, problems, err)
	}
	_, problems, err = VerifyItems(mk(acc.item(), e2.item(), orphan.item()))
	if err != nil || len(problems) != 2 || !strings.HasPrefix(problems[0], "token account u1: ") ||
		problems[1] != "token account u9: 1 ledger entries and no account" {
		t.Errorf("a lost entry and an orphan: %q, %v", problems, err)
	}
}
