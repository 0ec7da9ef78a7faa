package marketplace

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/books/backfill/walk"
	"github.com/liberation/monetization/shared/books/backfill/walk/walktest"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/clock"
)

// TestBackfillRebuildsTheJournal: the backfill's answer to "what did the marketplace's history do
// to the books" is the live journal's, over random histories of history_test.go on the table:
//
//   - on the table as the histories left it (every event posted live), the backfill posts nothing:
//     every sale and payout is found booked live;
//   - with the journal wiped (the table as it was before the journal), the backfill rebuilds it:
//     the same instructor payable per instructor and bucket, the same money at Stripe
//     (stripe_in_flight), transfers and token-funded discounts, the same commission net of refunds
//     and disputes; the sale, release, dispute and payout entries under their live ids; no record
//     skipped; every entry balanced;
//   - a second walk posts nothing.
func TestBackfillRebuildsTheJournal(t *testing.T) {
	seed := envSeed("BACKFILL_SEED")
	count := 12
	if testing.Short() {
		count = 4
	}
	t.Logf("BACKFILL_SEED=%d histories=%d", seed, count)
	rng := rand.New(rand.NewSource(seed))
	stats := map[string]int{}
	for i := 0; i < count; i++ {
		h := newHistory(t, rng.Int63())
		s := newTestStore(t, h.clk)
		h.d.Books = &teeBooks{memBooks: h.books, dyn: &dynamoBooks{s: s}, t: t}
		// Every change at its own instant, as in production (a clock in nanoseconds): the ledger's
		// times are then the order things happened in, which the replay follows. (Under a clock
		// that stands still, two changes of one sale in one step share an instant, and the ledger
		// cannot say which came first.)
		h.d.Clock = &tickingClock{f: h.clk}
		h.run(stats)
		if t.Failed() {
			t.Fatalf("history %d (BACKFILL_SEED=%d): %v", i, seed, h.log)
		}
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("history %d (BACKFILL_SEED=%d): "+format+"\n%s", append([]any{i, seed}, append(args, strings.Join(h.log, "\n"))...)...)
		}
		live := walktest.Entries(t, s)
		if rep := walktest.Run(t, s, h.clk, walk.Options{}, 7); rep.Posted != 0 || rep.Skipped != 0 || rep.Live == 0 {
			fail("backfill over the live journal: %+v", rep.State)
		}
		walktest.Wipe(t, s)
		rep := walktest.Run(t, s, h.clk, walk.Options{Restart: true}, 7)
		if rep.Skipped != 0 || rep.KeptLive != 0 {
			fail("backfill skipped %d records: %v", rep.Skipped, rep.SkippedItems)
		}
		rebuilt := walktest.Entries(t, s)
		for _, e := range rebuilt {
			if err := e.Validate(); err != nil {
				fail("rebuilt entry %s: %v", e.ID, err)
			}
		}
		want, got := walktest.Net(live), walktest.Net(rebuilt)
		same := func(k [3]string) {
			if want[k] != got[k] {
				fail("%v: live %d, rebuilt %d", k, want[k], got[k])
			}
		}
		for k := range merge(want, got) {
			switch journal.AccountID(k[0]) {
			case journal.RevenueMarketplaceCommission, journal.RefundsMarketplace, journal.DisputesMarketplace:
			default:
				same(k)
			}
		}
		profit := func(n map[[3]string]int64) int64 {
			return n[[3]string{string(journal.RevenueMarketplaceCommission), "", Currency}] +
				n[[3]string{string(journal.RefundsMarketplace), "", Currency}] + n[[3]string{string(journal.DisputesMarketplace), "", Currency}]
		}
		if profit(want) != profit(got) {
			fail("commission net of refunds and disputes: live %d, rebuilt %d", profit(want), profit(got))
		}
		for id, e := range live {
			switch e.Kind {
			case JournalSale, JournalRelease, JournalDispute, JournalDisputeWon, JournalDisputeLost, JournalPayout, JournalPayoutFailed:
				if _, ok := rebuilt[id]; !ok {
					fail("live entry %s (%s) was not rebuilt under its id\nlive: %s\nrebuilt: %s", id, e.Kind, describe(live), describe(rebuilt))
				}
				stats["ids-kept"]++
			}
		}
		if again := walktest.Run(t, s, h.clk, walk.Options{Restart: true}, 7); again.Posted != 0 {
			fail("a second walk posted %d entries", again.Posted)
		}
		stats["entries-rebuilt"] += len(rebuilt)
	}
	t.Logf("%v", stats)
	if stats["entries-rebuilt"] == 0 || stats["ids-kept"] == 0 {
		t.Fatal("nothing was rebuilt: the histories or the backfill are broken")
	}
}

func merge(a, b map[[3]string]int64) map[[3]string]bool {
	out := map[[3]string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// describe lists entries by date for a failure message.
func describe(entries map[string]journal.Entry) string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Date.Format(time.RFC3339Nano)+" "+e.ID+" "+fmt.Sprint(e.Lines))
	}
	slices.Sort(out)
	return strings.Join(out, "\n  ")
}

// tickingClock is a fake clock that moves on a microsecond at every reading.
type tickingClock struct{ f *clock.Fake }

func (c *tickingClock) Now() time.Time { c.f.Advance(time.Microsecond); return c.f.Now() }
