package rewards

import (
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

// VerifyItems checks every token account among items (a whole table's, from a Scan or an export)
// against its ledger entries with Verify: balance = Σ entries, running sums, gapless sequence. It
// returns the accounts checked and one line per account that fails, sorted; entries of a user
// with no account are a failure too. The restore drill (infra/local/restoredrill) runs it on a
// restored copy.
func VerifyItems(items []map[string]types.AttributeValue) (accounts int, problems []string, err error) {
	accs := map[string]Account{}
	entries := map[string][]Entry{}
	for _, it := range items {
		switch privacy.Str(privacy.Row(it), "type") {
		case "token-account":
			var a accountItem
			if err := store.DecodeItem(it, &a); err != nil {
				return 0, nil, err
			}
			accs[a.UserID] = a.account()
		case "token-entry":
			var e entryItem
			if err := store.DecodeItem(it, &e); err != nil {
				return 0, nil, err
			}
			entries[e.UserID] = append(entries[e.UserID], e.entry())
		}
	}
	for u, a := range accs {
		es := entries[u]
		sort.Slice(es, func(i, j int) bool { return es[i].Seq < es[j].Seq })
		if err := Verify(a, es); err != nil {
			problems = append(problems, fmt.Sprintf("token account %s: %v", u, err))
		}
	}
	for u, es := range entries {
		if _, ok := accs[u]; !ok {
			problems = append(problems, fmt.Sprintf("token account %s: %d ledger entries and no account", u, len(es)))
		}
	}
	sort.Strings(problems)
	return len(accs), problems, nil
}
