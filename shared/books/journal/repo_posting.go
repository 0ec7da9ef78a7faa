package journal

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/store"
)

// MaxTransactItems is what an area's change may hold: DynamoDB's limit of 100 items in one
// TransactWriteItems, less the audit chain's head update the store appends to a transaction that
// carries an audit record (shared/store/auditchain.go, decision 0085).
const MaxTransactItems = 99

// Same reports whether a and b are the same entry, field for field (what a re-post must be to be
// accepted as the same posting).
func Same(a, b Entry) bool { return a.digest() == b.digest() }

// TransactPosting writes own (an area's items for one change) and the journal entries the change
// posts in ONE transaction, the entries' items after own's so that own's items keep their indexes
// in a cancelled transaction's failed items: the books move exactly when the area's records do.
// what names the change in errors ("a payments change").
//
// When the only items that failed are entries posted before with the same content (a backfill of
// this very event), those entries are the change's own posting and the change is written without
// them; an entry posted with other content is a posting rule's bug and the change is refused
// (apperr.Conflict). Any other failure is returned as it is: a stale version or a replayed creation
// writes nothing and posts nothing.
func (r Repo) TransactPosting(ctx context.Context, what string, own []types.TransactWriteItem, entries []Entry) error {
	items := slices.Clone(own)
	starts := make([]int, len(entries)) // the index of each entry's first item (the entry itself)
	for i, e := range entries {
		starts[i] = len(items)
		ji, err := Items(e)
		if err != nil {
			return err
		}
		items = append(items, ji...)
	}
	if len(items) > MaxTransactItems {
		return apperr.New(apperr.Internal, "%s of %d items (%d journal entries) exceeds a transaction's %d",
			what, len(items), len(entries), MaxTransactItems)
	}
	err := r.S.Transact(ctx, items)
	if err == nil || len(entries) == 0 {
		return err
	}
	var posted []int
	for i := range entries {
		if AlreadyPosted(err, starts[i]) {
			posted = append(posted, i)
		}
	}
	if len(posted) == 0 {
		return err
	}
	for _, f := range store.FailedItems(err) {
		if !slices.Contains(starts, f) {
			return err // one of the change's own conditions failed: refused as it is
		}
	}
	rest := slices.Clone(entries)
	for _, i := range slices.Backward(posted) {
		e := entries[i]
		var stored entryItem
		if gErr := r.S.GetConsistent(ctx, store.JournalEntryKey(e.ID), &stored); gErr != nil {
			return gErr
		}
		if stored.Digest != e.digest() {
			return apperr.New(apperr.Conflict, "journal entry %q was posted before with other content", e.ID)
		}
		logging.From(ctx).Warn("journal entry posted before the change: writing the change without it",
			"entryId", e.ID, "change", what)
		rest = slices.Delete(rest, i, i+1)
	}
	return r.TransactPosting(ctx, what, own, rest)
}
