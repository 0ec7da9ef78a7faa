package rewards

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/store"
)

// Rewards' backfill (docs/books.md "Backfill"): a credit redemption fulfilled before the journal
// gets the rwd.credit entry the live path posts (redemptionEntries from nothing to its state: same
// id, same date, same lines), so one that was posted live is found there. Coupons and merchandise
// post nothing, live or backfilled.

func init() {
	journal.RegisterBackfill(journal.Backfiller{Area: Area, Types: []string{"redemption"}, Entries: backfillEntries})
}

func backfillEntries(_ context.Context, _ *store.Store, item map[string]types.AttributeValue) (journal.Backfill, error) {
	var it redemptionItem
	if err := store.DecodeItem(item, &it); err != nil {
		return journal.Backfill{}, err
	}
	entries, err := redemptionEntries(Redemption{}, it.redemption())
	return journal.Backfill{Entries: entries}, err
}
