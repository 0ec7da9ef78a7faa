package payments

import (
	"testing"
	"time"

	"github.com/liberation/monetization/shared/books/backfill/walk"
	"github.com/liberation/monetization/shared/books/backfill/walk/walktest"
	"github.com/liberation/monetization/shared/clock"
)

// TestPaymentBackfillRebuildsTheJournal: over random histories of books_history_test.go on the
// table, the backfill (a) posts nothing over the journal the histories posted live, and (b) with
// the journal wiped rebuilds it: every live entry under its own id, and the same balance on every
// account — the entries it adds for refunds that failed (a pay.refund and its pay.refund_failed,
// which live posting skips for a refund first seen failed) net to zero; a second walk posts nothing.
func TestPaymentBackfillRebuildsTheJournal(t *testing.T) {
	n := 6
	if testing.Short() {
		n = 2
	}
	rebuiltIDs := 0
	for _, seed := range historySeeds(t, n) {
		clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		s := newTestStore(t, clk)
		h := newPayHistory(t, seed, Repo{S: s}, tableJournal(t, seed, s, clk), clk)
		for i := 0; i < 30; i++ {
			h.step()
		}
		h.redeliverAll()
		h.check()
		live := walktest.Entries(t, s)
		if rep := walktest.Run(t, s, clk, walk.Options{}, 9); rep.Posted != 0 || rep.Skipped != 0 {
			t.Fatalf("seed %d: backfill over the live journal: %+v", seed, rep.State)
		}
		walktest.Wipe(t, s)
		rep := walktest.Run(t, s, clk, walk.Options{Restart: true}, 9)
		rebuilt := walktest.Entries(t, s)
		if rep.Skipped != 0 || rep.KeptLive != 0 || rep.Posted != len(rebuilt) {
			t.Fatalf("seed %d: backfill %+v, %d entries", seed, rep.State, len(rebuilt))
		}
		for id, e := range live {
			got, ok := rebuilt[id]
			if !ok || got.Total() != e.Total() {
				t.Fatalf("seed %d: live entry %s (%d) rebuilt as %+v", seed, id, e.Total(), got)
			}
			rebuiltIDs++
		}
		want, got := walktest.Net(live), walktest.Net(rebuilt)
		for k := range want {
			if want[k] != got[k] {
				t.Fatalf("seed %d: %v live %d, rebuilt %d", seed, k, want[k], got[k])
			}
		}
		for k := range got {
			if want[k] != got[k] {
				t.Fatalf("seed %d: %v live %d, rebuilt %d", seed, k, want[k], got[k])
			}
		}
		h.check() // payments' own records against the rebuilt journal
		if again := walktest.Run(t, s, clk, walk.Options{Restart: true}, 9); again.Posted != 0 {
			t.Fatalf("seed %d: a second walk posted %d", seed, again.Posted)
		}
	}
	if rebuiltIDs == 0 {
		t.Fatal("no live entry was rebuilt: the histories posted nothing")
	}
}
