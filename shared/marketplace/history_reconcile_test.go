package marketplace

import (
	"context"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/books/reconcile"
)

// Reconciliation over the random histories of history_test.go (issue 17, "Invariants as tests"):
// once every event is delivered, Stripe's balance transactions for the history's own objects —
// the charges, refunds (and the failures that reverse them), chargebacks (and their reversal when
// won), transfers and their reversals, as Stripe records them — match the marketplace's journal
// entries with zero differences (checkReconciles, run by checkConverged on every history). Then
// TestReconciliationNamesInjectedFaults injects one fault at a time and checks the reconciliation
// names its object.
//
// The match runs over one day holding everything (each transaction and entry put on it): the
// windows around a day are reconcile's own tests; here the question is whether the objects agree.

var reconDay = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// stripeTxns are Stripe's balance transactions for the history's objects.
func (h *history) stripeTxns() []reconcile.Txn {
	var out []reconcile.Txn
	n := 0
	add := func(typ, cat, source string, amount int64, refs ...string) {
		n++
		out = append(out, reconcile.Txn{ID: "txn_" + strings.Repeat("0", 4-len(itoa(int64(n)))) + itoa(int64(n)), Type: typ,
			Category: cat, Source: source, Currency: Currency, Amount: amount, Created: reconDay.Add(time.Duration(n) * time.Second), Refs: refs})
	}
	for _, pi := range slices.Sorted(func(yield func(string) bool) {
		for pi := range h.stripe.amounts {
			if !yield(pi) {
				return
			}
		}
	}) {
		charge := "ch_" + strings.TrimPrefix(pi, "pi_")
		add("charge", "charge", charge, h.stripe.amounts[pi], pi)
		for _, r := range h.stripe.refunds[pi] {
			// Stripe books a refund when it is created (pending or succeeded) and reverses it with a
			// refund_failure when it fails or is canceled.
			add("refund", "refund", r.ID, -r.AmountCents, charge, pi)
			if !r.Counts() {
				add("refund_failure", "refund_failure", r.ID, r.AmountCents, charge, pi)
			}
		}
		for _, d := range h.stripe.disputes[pi] {
			if strings.HasPrefix(d.Status, "warning_") {
				continue // an inquiry withdraws nothing
			}
			add("adjustment", "dispute", d.ID, -d.AmountCents, charge, pi)
			if d.Status == "won" {
				add("adjustment", "dispute_reversal", d.ID, d.AmountCents, charge, pi)
			}
		}
	}
	for _, id := range slices.Sorted(func(yield func(string) bool) {
		for id := range h.stripe.transfers {
			if !yield(id) {
				return
			}
		}
	}) {
		tr := h.stripe.transfers[id]
		add("transfer", "transfer", tr.ID, -tr.Amount, tr.PayoutID)
		if tr.Reversed > 0 {
			add("transfer_refund", "transfer_reversal", "trr_"+tr.ID, tr.Reversed, tr.ID)
		}
	}
	return out
}

// claimsOnTheDay are the journal's claims, each dated on the reconciliation day.
func claimsOnTheDay(entries []journal.Entry) []reconcile.Claim {
	claims := reconcile.Claims(entries)
	for i := range claims {
		claims[i].Date = reconDay.Add(12 * time.Hour)
	}
	return claims
}

func (h *history) checkReconciles(stats map[string]int) {
	h.t.Helper()
	res := reconcile.Match(reconDay, h.stripeTxns(), claimsOnTheDay(h.books.entriesPosted()))
	if res.Differences() != 0 {
		h.fail("reconciliation: %d differences: missing in books %+v; missing at Stripe %+v; amounts %+v",
			res.Differences(), res.MissingInBooks, res.MissingAtStripe, res.AmountDifferences)
	}
	stats["reconciled-items"] += len(res.Matched)
}

// TestReconciliationNamesInjectedFaults: on converged random histories, each fault is reported
// with its object id — a write of ours that was dropped (the sale's entry missing), a refund
// doubled at Stripe (a second refund of the charge we never saw), a fee Stripe charged that we
// never saw (a stripe_fee balance transaction) — and the clean history reports none.
func TestReconciliationNamesInjectedFaults(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	stats := map[string]int{}
	for i := 0; i < 40; i++ {
		h := newHistory(t, rng.Int63())
		h.run(stats)
		if t.Failed() {
			t.Fatalf("history %d: %v", i, h.log)
		}
		txns, entries := h.stripeTxns(), h.books.entriesPosted()
		report := func(txns []reconcile.Txn, entries []journal.Entry) reconcile.Result {
			return reconcile.Match(reconDay, txns, claimsOnTheDay(entries))
		}
		if res := report(txns, entries); res.Differences() != 0 {
			t.Fatalf("history %d: the clean history has differences: %+v", i, res)
		}
		named := func(items []reconcile.Item, id string) bool {
			return slices.ContainsFunc(items, func(it reconcile.Item) bool {
				return slices.Contains(it.Objects, id) || slices.Contains(it.Txns, id) || slices.Contains(it.Entries, id)
			})
		}
		// (a) A dropped write: the first sale's entry never reached the journal.
		sale := slices.IndexFunc(entries, func(e journal.Entry) bool { return e.Kind == JournalSale })
		if sale < 0 {
			t.Fatalf("history %d: no sale entry", i)
		}
		dropped := slices.Delete(slices.Clone(entries), sale, sale+1)
		if res := report(txns, dropped); res.Differences() == 0 || !named(append(res.MissingInBooks, res.AmountDifferences...), entries[sale].Source) {
			t.Fatalf("history %d: a dropped sale entry (%s) is not named: %+v", i, entries[sale].Source, res)
		}
		// (b) A refund doubled at Stripe: a second refund of the first charge that no event told us.
		charge := txns[0]
		doubled := append(slices.Clone(txns), reconcile.Txn{ID: "txn_double", Type: "refund", Category: "refund", Source: "re_double",
			Currency: Currency, Amount: -1, Created: reconDay.Add(time.Hour), Refs: []string{charge.Source, charge.Refs[0]}})
		if res := report(doubled, entries); res.Differences() == 0 || !named(append(res.MissingInBooks, res.AmountDifferences...), "re_double") {
			t.Fatalf("history %d: a doubled refund is not named: %+v", i, res)
		}
		// (c) A fee Stripe charged that we never saw.
		fee := append(slices.Clone(txns), reconcile.Txn{ID: "txn_fee", Type: "stripe_fee", Category: "fee", Currency: Currency,
			Amount: -700, Created: reconDay.Add(2 * time.Hour)})
		if res := report(fee, entries); res.Differences() != 1 || !named(res.MissingInBooks, "txn_fee") {
			t.Fatalf("history %d: an unseen fee is not named alone: %+v", i, res)
		}
		stats["faults-named"] += 3
	}
	t.Logf("%v", stats)
}

// TestRefundsChangingBothWaysPostOneWayEach: when one refund fails while another starts counting
// (one charge.refunded or refund.updated tells both), the sale converges in two steps, so each
// journal entry moves money one way and names only its refunds — as Stripe's balance transactions
// do (the reconciliation found the combined entry unmatched).
func TestRefundsChangingBothWaysPostOneWayEach(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.course("crs_1", "ins", 10000)
	p := w.paid("cs_1", "ana", "crs_1", 10000)
	if err := w.book(p, "evt_cs_1"); err != nil {
		t.Fatal(err)
	}
	pi := p.PaymentIntentID
	w.stripe.refunds[pi] = []StripeRefund{{ID: "re_a", AmountCents: 3000, Status: "pending"}}
	if err := ApplyChargeRefunds(ctx, w.d, "", pi, 0, "evt_1"); err != nil {
		t.Fatal(err)
	}
	w.stripe.refunds[pi] = []StripeRefund{{ID: "re_a", AmountCents: 3000, Status: "failed"}, {ID: "re_b", AmountCents: 2000, Status: "succeeded"}}
	before := len(w.books.entriesPosted())
	if err := ApplyChargeRefunds(ctx, w.d, "", pi, 0, "evt_2"); err != nil {
		t.Fatal(err)
	}
	got := w.books.entriesPosted()[before:]
	if len(got) != 2 || got[0].Kind != JournalRefundReversed || got[0].Source != "re_a" || got[0].Total() != 3000 ||
		got[1].Kind != JournalRefund || got[1].Source != "re_b" {
		t.Fatalf("entries %+v", got)
	}
	for _, e := range got {
		if c := reconcile.Claims([]journal.Entry{e}); len(c) != 1 || (e.Kind == JournalRefund) != (c[0].Amount < 0) {
			t.Fatalf("entry %s claims %+v", e.ID, c)
		}
	}
	s, err := w.d.Books.Sale(ctx, "ins", saleOf(t, w, pi))
	if err != nil || s.Refunded != 2000 || len(s.RefundIDs) != 1 || s.ReversedRefundIDs["re_a"] != 3000 {
		t.Fatalf("sale %+v, %v", s.Sale, err)
	}
}

func saleOf(t *testing.T, w *world, pi string) string {
	t.Helper()
	for _, s := range w.books.sales {
		if s.PaymentIntentID == pi {
			return s.ID
		}
	}
	t.Fatalf("no sale of %s", pi)
	return ""
}
