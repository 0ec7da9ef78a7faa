package payments

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/books/reconcile"
)

// Reconciliation over payments' random histories (issue 17, "Invariants as tests"): once every
// event is delivered again, Stripe's balance transactions for the history's subscription payments —
// their charges, refunds (and the failures that reverse them) and chargebacks (and their reversal
// when won), as Stripe records them — match payments' journal entries with zero differences.
// Course purchases are left out: their charges are the marketplace's to book (mkt.sale), and a
// payments-only history has no marketplace. The match runs over one day holding everything, as in
// the marketplace's history_reconcile_test.go.

var payReconDay = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func (h *payHistory) stripeTxns() []reconcile.Txn {
	var out []reconcile.Txn
	add := func(typ, source string, amount int64, refs ...string) {
		id := fmt.Sprintf("txn_%04d", len(out)+1)
		out = append(out, reconcile.Txn{ID: id, Type: typ, Source: source, Currency: "usd", Amount: amount,
			Created: payReconDay.Add(time.Duration(len(out)) * time.Second), Refs: refs})
	}
	subs := map[string]*histPayment{}
	for _, hp := range h.pays {
		if hp.kind == PaymentKindSubscription {
			subs[hp.chargeID] = hp
			add("charge", hp.chargeID, hp.amount, hp.pi, hp.source)
		}
	}
	h.stripe.mu.Lock()
	refunds := slices.Clone(h.stripe.made)
	h.stripe.mu.Unlock()
	for _, r := range refunds {
		hp := subs[r.ChargeID]
		if hp == nil {
			continue
		}
		add("refund", r.ID, -r.AmountCents, hp.chargeID, hp.pi)
		if !RefundCounts(r.Status) {
			add("refund_failure", r.ID, r.AmountCents, hp.chargeID, hp.pi)
		}
	}
	for _, d := range h.disputes {
		if subs[d.pay.chargeID] == nil || d.status == "" || strings.HasPrefix(string(d.status), "warning_") {
			continue // an inquiry withdraws nothing
		}
		add("adjustment", d.id, -d.amount, d.pay.chargeID, d.pay.pi)
		if d.status == "won" {
			add("adjustment", d.id, d.amount, d.pay.chargeID, d.pay.pi)
		}
	}
	return out
}

// checkReconciles matches the history's Stripe side with entries: zero differences.
func (h *payHistory) checkReconciles(entries []journal.Entry) int {
	h.t.Helper()
	claims := reconcile.Claims(entries)
	for i := range claims {
		claims[i].Date = payReconDay.Add(12 * time.Hour)
	}
	res := reconcile.Match(payReconDay, h.stripeTxns(), claims)
	if res.Differences() != 0 {
		h.fail("reconciliation: %d differences: missing in books %+v; missing at Stripe %+v; amounts %+v",
			res.Differences(), res.MissingInBooks, res.MissingAtStripe, res.AmountDifferences)
	}
	return len(res.Matched)
}
