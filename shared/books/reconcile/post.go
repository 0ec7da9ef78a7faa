package reconcile

import (
	"regexp"
	"slices"

	"github.com/liberation/monetization/shared/books/journal"
)

// Area is the reconciliation's area in the journal (its entries are the books area's).
const Area = "books"

// KindPrefix starts every kind the reconciliation posts: rec.<type> for a balance transaction of
// that type, rec.correction for a correction of one posted before (see Correction).
const KindPrefix = "rec."

// KindCorrection is the kind of a correction entry.
const KindCorrection = KindPrefix + "correction"

// KindOther posts a balance transaction of a type Stripe added after this list was written.
const KindOther = KindPrefix + "other"

// txnTypes are Stripe's balance-transaction types the reconciliation names its kinds after
// (https://docs.stripe.com/reports/balance-transaction-types); any other is posted as rec.other.
var txnTypes = []string{
	"charge", "payment", "refund", "payment_refund", "refund_failure", "payment_failure_refund",
	"payment_reversal", "adjustment", "application_fee", "application_fee_refund",
	"transfer", "transfer_refund", "transfer_cancel", "transfer_failure",
	"payout", "payout_cancel", "payout_failure", "stripe_fee", "stripe_fx_fee", "tax_fee",
}

// recAccounts are the accounts a reconciliation entry may touch: Stripe's balance, the clearing
// accounts it clears, the fees, the bank and suspense.
var recAccounts = []journal.AccountID{journal.StripeBalance, journal.StripeInFlight, journal.TransfersConnected,
	journal.Bank, journal.Suspense, journal.FeesStripeProcessing, journal.FeesDispute}

func init() {
	for _, t := range txnTypes {
		journal.Register(journal.Rule{Area: Area, Kind: KindPrefix + t,
			Summary:  "Stripe's " + t + " balance transaction, cleared into stripe_balance with its fee",
			Accounts: recAccounts})
	}
	journal.Register(journal.Rule{Area: Area, Kind: KindOther,
		Summary: "a Stripe balance transaction of a type not listed, to suspense", Accounts: recAccounts})
	journal.Register(journal.Rule{Area: Area, Kind: KindCorrection,
		Summary: "a reconciliation entry corrected after the area booked the object", Accounts: recAccounts})
}

// KindOf is the kind of a transaction's entry.
func KindOf(t Txn) string {
	if slices.Contains(txnTypes, t.Type) {
		return KindPrefix + t.Type
	}
	return KindOther
}

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9._:-]`)

// EntryOf is the entry posting one balance transaction against account against (its clearing
// account when matched, suspense when nothing of ours names it): id rec.<type>.<txn id>, so a day
// re-run posts the same ids. Lines, in Stripe's sign: the net to stripe_balance, the fee to its
// expense, the gross off the clearing account —
//
//	charge +10000, fee 320:      Dr stripe_balance 9680, Dr fees_stripe_processing 320, Cr stripe_in_flight 10000
//	refund −2000:                Dr stripe_in_flight 2000, Cr stripe_balance 2000
//	dispute −2000, fee 1500:     Dr stripe_in_flight 2000, Dr fees_dispute 1500, Cr stripe_balance 3500
//	transfer −7000:              Dr transfers_connected 7000, Cr stripe_balance 7000
//	payout −5000:                Dr bank 5000, Cr stripe_balance 5000
//	stripe_fee −500:             Dr fees_stripe_processing 500, Cr stripe_balance 500
//
// A transaction that moves nothing (amount and fee zero) has no entry (ok false).
func EntryOf(t Txn, against journal.AccountID) (journal.Entry, bool) {
	kind := KindOf(t)
	id := unsafeID.ReplaceAllString(t.ID, "-")
	e := journal.Entry{ID: journal.EntryID(kind, id), Kind: kind, Area: Area, Source: t.ID, Date: t.Created.UTC(),
		Currency: t.Currency, Memo: memo(t)}
	add := func(a journal.AccountID, dr int64) {
		switch {
		case dr > 0:
			e.Lines = append(e.Lines, journal.Line{Account: a, Debit: dr})
		case dr < 0:
			e.Lines = append(e.Lines, journal.Line{Account: a, Credit: -dr})
		}
	}
	add(journal.StripeBalance, t.Net())
	add(feeAccountOf(t), t.Fee)
	add(against, -t.Amount)
	if len(e.Lines) < 2 {
		return journal.Entry{}, false
	}
	return e, true
}

func memo(t Txn) string {
	m := "Stripe " + t.Type + " " + t.Source
	if len(m) > 200 {
		m = m[:200]
	}
	return m
}

// Correction is the entry that turns want's effect into posted's, when a transaction was posted
// before against another account (to suspense on a day nothing of ours named it; the area booked it
// later): the difference of the two, account by account, id rec.correction.<txn id>. ok is false
// when they do not differ.
func Correction(posted, want journal.Entry) (journal.Entry, bool) {
	net := map[journal.AccountID]int64{}
	var order []journal.AccountID
	note := func(a journal.AccountID, n int64) {
		if _, seen := net[a]; !seen {
			order = append(order, a)
		}
		net[a] += n
	}
	for _, l := range want.Lines {
		note(l.Account, l.Debit-l.Credit)
	}
	for _, l := range posted.Lines {
		note(l.Account, l.Credit-l.Debit)
	}
	e := journal.Entry{ID: journal.EntryID(KindCorrection, want.ID[len(want.Kind)+1:]), Kind: KindCorrection, Area: Area,
		Source: want.Source, Date: want.Date, Currency: want.Currency, Memo: "correction of " + posted.ID}
	for _, a := range order {
		switch n := net[a]; {
		case n > 0:
			e.Lines = append(e.Lines, journal.Line{Account: a, Debit: n})
		case n < 0:
			e.Lines = append(e.Lines, journal.Line{Account: a, Credit: -n})
		}
	}
	if len(e.Lines) < 2 || posted.Currency != want.Currency {
		return journal.Entry{}, false
	}
	return e, true
}

// Entries are the entries of a result: one per transaction of the day, in txn id order.
func (r Result) Entries() []journal.Entry {
	var out []journal.Entry
	for _, p := range r.post {
		if e, ok := EntryOf(p.txn, p.against); ok {
			out = append(out, e)
		}
	}
	return out
}
