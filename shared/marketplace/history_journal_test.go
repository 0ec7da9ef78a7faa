package marketplace

import (
	"context"
	"maps"
	"math/rand"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/store"
)

// The journal invariant over the random histories of history_test.go (TestSaleHistoriesConvergeToStripe
// runs it after every step of its 2000 histories on the in-memory books; TestJournalHistoriesOnTable
// runs a few on the DynamoDB books):
//
//   - every entry is valid and balances;
//   - per instructor and bucket, the journal's instructor payable (pending, available, held) is the
//     instructor's balance in the marketplace's own records (and so the sum of their ledger);
//   - commission revenue − refunds − disputes (marketplace) − the sales' token-funded discounts is
//     the marketplace's net commission: Σ over sales of the platform's share net of reversals, less
//     what Stripe holds back beyond what the sale returned (an open dispute's withdrawn amount; a
//     refund stacked on a lost dispute) — zero once disputes are decided, which the stats count.
//     A discount grosses the commission up when the sale is booked and nothing takes it back;
//   - marketing_token_redemptions is Σ of the sales' discounts, per buyer (the line's party), and
//     a discount that was not the checkout's rewards coupon is in neither;
//   - transfers_connected is what the payouts transferred net of reversals (the paid bucket);
//   - with every event delivered, stripe_in_flight is what Stripe holds of the charges (paid − refunds
//     − disputed funds withheld), and transfers_connected what Stripe transferred;
//   - applying every event again changes nothing: no entry, no balance, no ledger entry.

func (h *history) checkJournal() {
	h.t.Helper()
	for _, e := range h.books.entriesPosted() {
		var dr, cr int64
		for _, l := range e.Lines {
			dr, cr = dr+l.Debit, cr+l.Credit
		}
		if err := e.Validate(); err != nil || dr != cr || e.Area != Area {
			h.fail("entry %s: %v, debits %d credits %d", e.ID, err, dr, cr)
		}
	}
	n := h.books.journalNet()
	parties := map[string]bool{}
	for _, a := range payableAccounts {
		for p := range n[a] {
			parties[p] = true
		}
	}
	var paid int64
	for id, bal := range h.books.balances {
		parties[id] = true
		paid += bal.Paid
	}
	for id := range parties {
		bal := h.books.balances[id].Buckets
		if got := [3]int64{-n[pending][id], -n[available][id], -n[held][id]}; got != [3]int64{bal.Pending, bal.Available, bal.Held} {
			h.fail("instructor %q: journal payable pending/available/held %v, ledger balance %+v", id, got, bal)
		}
	}
	var netCommission, inFlightWant, discounts int64
	perBuyer := map[string]int64{}
	for _, s := range h.books.sales {
		netCommission += s.PlatformNet() - (s.Refunded + s.Withdrawn() - s.Returned())
		inFlightWant += s.Amount - s.Refunded - s.Withdrawn()
		discounts += s.DiscountCents
		if s.DiscountCents != 0 {
			perBuyer[s.BuyerID] += s.DiscountCents
		}
	}
	if got := -n[commission][""] - n[refundsMkt][""] - n[disputesMkt][""] - discounts; got != netCommission {
		h.fail("commission − refunds − disputes − token discounts (%d) = %d, the marketplace's net commission %d", discounts, got, netCommission)
	}
	tokens := map[string]int64{}
	for party, v := range n[marketing] {
		if v != 0 {
			tokens[party] = v
		}
	}
	if !maps.Equal(tokens, perBuyer) {
		h.fail("marketing_token_redemptions per party %v, the sales' token-funded discounts per buyer %v", tokens, perBuyer)
	}
	if n[inFlight][""] != inFlightWant {
		h.fail("stripe_in_flight %d, the sales' money at Stripe %d", n[inFlight][""], inFlightWant)
	}
	if -n[transfers][""] != paid {
		h.fail("transfers_connected %d, paid out net of reversals %d", -n[transfers][""], paid)
	}
}

// checkJournalAgreesWithStripe: once every event is delivered, the clearing accounts say what
// Stripe's own objects say (what reconciliation will match).
func (h *history) checkJournalAgreesWithStripe(transferred int64) {
	h.t.Helper()
	n := h.books.journalNet()
	var atStripe int64
	for _, p := range h.sessions {
		pi := p.PaymentIntentID
		atStripe += h.stripe.amounts[pi] - h.counted(pi)
		for _, dp := range h.stripe.disputes[pi] {
			if dp.Status != "won" && dp.Status != "warning_closed" {
				atStripe -= dp.AmountCents
			}
		}
	}
	if n[inFlight][""] != atStripe {
		h.fail("stripe_in_flight %d, Stripe holds %d of the charges", n[inFlight][""], atStripe)
	}
	if -n[transfers][""] != transferred {
		h.fail("transfers_connected %d, Stripe transferred %d net of reversals", -n[transfers][""], transferred)
	}
}

// journalState is what re-applying events must leave alone.
type journalState struct {
	entries int
	net     map[string]int64
	ledger  int
	bal     map[string]string
}

func (h *history) journalState() journalState {
	st := journalState{entries: len(h.books.entriesPosted()), net: map[string]int64{}, bal: map[string]string{}}
	for a, parties := range h.books.journalNet() {
		for p, v := range parties {
			st.net[string(a)+"|"+p] = v
		}
	}
	for id, es := range h.books.entries {
		st.ledger += len(es)
		st.bal[id] = dump(h.books.balances[id])
	}
	return st
}

// checkReapplied delivers every event of the history once more, and runs the release job again:
// nothing may change.
func (h *history) checkReapplied(stats map[string]int) {
	h.t.Helper()
	if h.t.Failed() {
		return
	}
	before := h.journalState()
	for _, ev := range h.delivered {
		if err := h.deliver(ev, stats); err != nil {
			h.fail("re-applying %s %s: %v", ev.typ, ev.id, err)
		}
	}
	if _, err := RunRelease(context.Background(), h.d); err != nil {
		h.fail("release again: %v", err)
	}
	after := h.journalState()
	if before.entries != after.entries || before.ledger != after.ledger || !maps.Equal(before.net, after.net) || !maps.Equal(before.bal, after.bal) {
		h.fail("re-applying %d events changed the books: %+v → %+v", len(h.delivered), before, after)
	}
	stats["reapplied-events"] += len(h.delivered)
	if len(h.books.entriesPosted()) > 0 {
		stats["journal-entries"] += len(h.books.entriesPosted())
	}
	decided := true
	for _, s := range h.books.sales {
		if s.Refunded+s.Withdrawn() != s.Returned() {
			decided = false
		}
	}
	if decided {
		stats["commission-exact"]++ // the net commission with no correction term
	}
}

// teeBooks writes every change to the in-memory books (which the history reads) and to the DynamoDB
// books, and fails the test when the two disagree about a write: the history then runs on the
// repository's transactions too, entries included.
type teeBooks struct {
	*memBooks
	dyn *dynamoBooks
	t   testing.TB
}

func (b *teeBooks) Commit(ctx context.Context, c *Change) error {
	dc := *c
	if c.Sale != nil {
		s := clone(*c.Sale) // both books move the sale's version on the pointer they are given
		dc.Sale = &s
	}
	errMem := b.memBooks.Commit(ctx, c)
	errDyn := b.dyn.Commit(ctx, &dc)
	if (errMem == nil) != (errDyn == nil) {
		b.t.Errorf("the books disagree about a %q change: memory %v, DynamoDB %v", c.Move.Kind, errMem, errDyn)
	}
	return errMem
}

func (b *teeBooks) Park(ctx context.Context, e ParkedEvent) error {
	if err := b.dyn.Park(ctx, e); err != nil {
		return err
	}
	return b.memBooks.Park(ctx, e)
}

func (b *teeBooks) Unlist(ctx context.Context, id string) error {
	if err := b.dyn.Unlist(ctx, id); err != nil {
		return err
	}
	return b.memBooks.Unlist(ctx, id)
}

func (b *teeBooks) CountTransferAttempt(ctx context.Context, id, period string) error {
	errDyn := b.dyn.CountTransferAttempt(ctx, id, period)
	errMem := b.memBooks.CountTransferAttempt(ctx, id, period)
	if (errMem == nil) != (errDyn == nil) {
		b.t.Errorf("the books disagree about a transfer attempt: memory %v, DynamoDB %v", errMem, errDyn)
	}
	return errMem
}

// A few histories on the DynamoDB books (minidyn; moto with the integration tag): the journal's
// items ride in the marketplace's transactions, and what DynamoDB holds at the end — every entry,
// the trial balance per account, every instructor balance — is what the in-memory books hold, whose
// invariant the history checks after each step. JOURNAL_TABLE_SEED replays a run.
func TestJournalHistoriesOnTable(t *testing.T) {
	seed := envSeed("JOURNAL_TABLE_SEED")
	count := 6
	t.Logf("JOURNAL_TABLE_SEED=%d histories=%d", seed, count)
	rng := rand.New(rand.NewSource(seed))
	stats := map[string]int{}
	ctx := context.Background()
	for i := 0; i < count; i++ {
		h := newHistory(t, rng.Int63())
		s := newTestStore(t, h.clk)
		tee := &teeBooks{memBooks: h.books, dyn: &dynamoBooks{s: s}, t: t}
		h.d.Books = tee
		// A fresh table per history (tabletest and localtest.Store both make one): the generator's
		// ids (instructor "ins", sessions cs_0 …) repeat from one history to the next.
		h.run(stats)
		if t.Failed() {
			t.Fatalf("history %d (JOURNAL_TABLE_SEED=%d): %v", i, seed, h.log)
		}
		repo := journal.Repo{S: s}
		entries := h.books.entriesPosted()
		totals := map[journal.AccountID][2]int64{}
		for _, e := range entries {
			got, err := repo.Get(ctx, e.ID)
			if err != nil || !journal.Same(got, e) {
				t.Fatalf("history %d: entry %s in DynamoDB %+v (%v), in memory %+v", i, e.ID, got, err, e)
			}
			for _, l := range e.Lines {
				tt := totals[l.Account]
				totals[l.Account] = [2]int64{tt[0] + l.Debit, tt[1] + l.Credit}
			}
		}
		tb, err := repo.TrialBalance(ctx, h.clk.Now().Add(24*time.Hour))
		if err != nil {
			t.Fatalf("history %d: trial balance: %v", i, err)
		}
		for _, cb := range tb.Currencies {
			if cb.Currency != Currency || !cb.Balanced {
				t.Fatalf("history %d: trial balance %+v", i, cb)
			}
			for _, ab := range cb.Accounts {
				if totals[ab.Account.ID] != [2]int64{ab.Debits, ab.Credits} {
					t.Fatalf("history %d: %s in DynamoDB dr %d cr %d, entries %v", i, ab.Account.ID, ab.Debits, ab.Credits, totals[ab.Account.ID])
				}
			}
		}
		for id, bal := range h.books.balances {
			var got Balance
			if err := s.GetConsistent(ctx, store.InstructorBalanceKey(id), &got); err != nil || got.Buckets != bal.Buckets {
				t.Fatalf("history %d: balance of %s in DynamoDB %+v (%v), in memory %+v", i, id, got.Buckets, err, bal.Buckets)
			}
		}
		stats["entries-compared"] += len(entries)
	}
	t.Logf("%d histories on the table; %v", count, stats)
	if stats["entries-compared"] == 0 {
		t.Fatal("no entry was compared")
	}
}
