package journal

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/store"
)

// Backfiller rebuilds, from one stored record of an area, the entries the area's live posting makes
// for it (issue 17, docs/books.md "Backfill"): the history that exists from before the journal is
// posted by the backfill job (shared/books/backfill) through the same builders as live posting, so
// an entry that was posted live has the same id and is found, never posted twice. Areas register
// theirs from init beside their posting rules; no central switch.
type Backfiller struct {
	Area string
	// Types are the item types ("payment", "sale", …) the table walk hands to Entries.
	Types []string
	// Entries reads one item (and, through s, whatever else of its own area it needs) and returns
	// its entries. It never writes.
	Entries func(ctx context.Context, s *store.Store, item map[string]types.AttributeValue) (Backfill, error)
}

// Backfill is what a Backfiller makes of one record.
type Backfill struct {
	Entries []Entry
	// Live: the record was booked with the journal running (its first entry is there), so every
	// later event of it was posted live and nothing of it is backfilled.
	Live bool
	// Skip, when set, says why the record cannot be rebuilt and needs a person: nothing of it is
	// posted, and the job's report names it.
	Skip string
}

var backfillers = map[string]Backfiller{} // by item type; guarded by rulesMu

// RegisterBackfill adds an area's backfiller. It panics on an incomplete one or an item type that
// another backfiller reads (a programming error an area's init must not survive).
func RegisterBackfill(b Backfiller) {
	if b.Area == "" || len(b.Types) == 0 || b.Entries == nil {
		panic(fmt.Sprintf("journal.RegisterBackfill: area %q needs item types and an Entries function", b.Area))
	}
	rulesMu.Lock()
	defer rulesMu.Unlock()
	for _, t := range b.Types {
		if prev, dup := backfillers[t]; dup {
			panic(fmt.Sprintf("journal.RegisterBackfill: item type %q is read by %s and %s", t, prev.Area, b.Area))
		}
	}
	b.Types = slices.Clone(b.Types)
	for _, t := range b.Types {
		backfillers[t] = b
	}
}

// BackfillerFor returns the backfiller that reads items of type t.
func BackfillerFor(t string) (Backfiller, bool) {
	rulesMu.RLock()
	defer rulesMu.RUnlock()
	b, ok := backfillers[t]
	return b, ok
}

// BackfillTypes lists the item types some backfiller reads, sorted (what the table walk keeps).
func BackfillTypes() []string {
	rulesMu.RLock()
	defer rulesMu.RUnlock()
	out := make([]string, 0, len(backfillers))
	for t := range backfillers {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
