// Package reconcile is the daily reconciliation of the journal with Stripe (issue 17, docs/books.md
// "Two clearing accounts", docs/runbooks/reconciliation-difference.md): it lists a day's balance
// transactions from Stripe, matches each to the journal entries the areas posted for the same
// Stripe object (by source object id and amount, whatever the entry's kind), posts what Stripe did
// — its balance transactions with their fees — from the clearing accounts into stripe_balance, and
// reports matched items, items missing in our books, items missing at Stripe and amount
// differences, to the cent, with the object ids.
//
// Match is pure (a function of Stripe's items and the journal's entries); Postings turns its
// result into entries with deterministic ids (rec.<type>.<txn id>), so re-running a day posts
// nothing twice.
package reconcile

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/books/journal"
)

// Txn is one of Stripe's balance transactions, as the reconciliation needs it.
type Txn struct {
	ID       string // txn_…
	Type     string // charge, refund, adjustment, transfer, transfer_refund, payout, stripe_fee, …
	Category string // reporting_category (dispute, dispute_reversal, …)
	Source   string // the object that moved the money: ch_, re_, dp_, tr_, trr_, po_, fee_ …
	Currency string // lower case
	Amount   int64  // gross, signed: what the object moved (−2000 for a $20 refund)
	Fee      int64  // Stripe's fee on it (positive when Stripe takes it)
	Created  time.Time
	// Refs are the other ids our books may know the object by: a charge's PaymentIntent and
	// invoice, a transfer's group (our payout id) or a reversal's transfer. The areas' entries name
	// what they saw first (a sale may name its PaymentIntent; a payout entry names our payout id).
	Refs []string
}

// Net is what the transaction did to our Stripe balance.
func (t Txn) Net() int64 { return t.Amount - t.Fee }

// Role is what a balance transaction is to the books.
type Role int

const (
	// Claimed: an area books the business event first (a charge, a refund, a dispute, a
	// transfer); the transaction must match an entry of theirs.
	Claimed Role = iota
	// Payout: Stripe paid our balance out to our bank; nothing of ours precedes it.
	Payout
	// FeeOnly: a fee Stripe charged on its own (no business event of ours behind it).
	FeeOnly
)

// RoleOf says what a transaction type is to the books (an unknown type is Claimed: if no area
// booked it, it is reported and goes to suspense).
func RoleOf(typ string) Role {
	switch typ {
	case "payout", "payout_cancel", "payout_failure":
		return Payout
	case "stripe_fee", "stripe_fx_fee", "tax_fee":
		return FeeOnly
	}
	return Claimed
}

// clearingOf is the account a matched transaction clears (docs/books.md "Two clearing accounts"):
// transfers clear transfers_connected, payouts move the balance to the bank, Stripe's own fees are
// the expense itself, everything else clears stripe_in_flight.
func clearingOf(typ string) journal.AccountID {
	switch {
	case strings.HasPrefix(typ, "transfer"):
		return journal.TransfersConnected
	case RoleOf(typ) == Payout:
		return journal.Bank
	case RoleOf(typ) == FeeOnly:
		return journal.FeesStripeProcessing
	}
	return journal.StripeInFlight
}

// feeAccountOf is where a transaction's fee goes: a dispute's fee is a dispute fee.
func feeAccountOf(t Txn) journal.AccountID {
	if t.Type == "adjustment" && strings.HasPrefix(t.Category, "dispute") {
		return journal.FeesDispute
	}
	return journal.FeesStripeProcessing
}

// Claim is what one area entry says Stripe will move: the entry's net debit on the clearing
// accounts (stripe_in_flight, transfers_connected), in Stripe's sign (a sale debits
// stripe_in_flight: Stripe's charge adds to the balance; a refund credits it: Stripe's refund takes
// from it), for the objects its Source names (comma-separated when one entry books several refunds).
type Claim struct {
	EntryID  string
	Kind     string
	Sources  []string
	Currency string
	Amount   int64
	Date     time.Time
}

// Claims are the claims of entries: every entry that moves a clearing account, except the
// reconciliation's own.
func Claims(entries []journal.Entry) []Claim {
	var out []Claim
	for _, e := range entries {
		if e.Area == Area {
			continue
		}
		var n int64
		moves := false
		for _, l := range e.Lines {
			if l.Account == journal.StripeInFlight || l.Account == journal.TransfersConnected {
				n += l.Debit - l.Credit
				moves = true
			}
		}
		if !moves || n == 0 {
			continue
		}
		var srcs []string
		for _, s := range strings.Split(e.Source, ",") {
			if s = strings.TrimSpace(s); s != "" {
				srcs = append(srcs, s)
			}
		}
		out = append(out, Claim{EntryID: e.ID, Kind: e.Kind, Sources: srcs, Currency: e.Currency, Amount: n, Date: e.Date})
	}
	return out
}

// Item is a difference or a match as the report shows it: the objects, the entries and the cents.
type Item struct {
	// Objects are the Stripe object ids (the balance transactions' sources, and the ids our
	// entries name) the item is about.
	Objects []string `json:"objects"`
	// Txns are Stripe's balance transactions of the item.
	Txns []string `json:"txns,omitempty"`
	// Types are their types (charge, refund, …).
	Types []string `json:"types,omitempty"`
	// Entries are our journal entries of the item.
	Entries  []string `json:"entries,omitempty"`
	Currency string   `json:"currency"`
	// StripeCents is Σ Stripe's gross amounts, BooksCents Σ our clearing claims (same sign
	// convention); DifferenceCents = StripeCents − BooksCents.
	StripeCents     int64 `json:"stripeCents"`
	BooksCents      int64 `json:"booksCents"`
	DifferenceCents int64 `json:"differenceCents"`
	FeeCents        int64 `json:"feeCents,omitempty"`
	// Posted is the account Stripe's side was posted against (the clearing account, or suspense).
	Posted string `json:"posted,omitempty"`
}

// Result is what matching one day found. Matched holds the matched groups (and payouts, which
// need no entry of ours); the other three are the differences.
type Result struct {
	Matched           []Item `json:"matched"`
	MissingInBooks    []Item `json:"missingInBooks"`
	MissingAtStripe   []Item `json:"missingAtStripe"`
	AmountDifferences []Item `json:"amountDifferences"`

	// post lists each of the day's transactions with the account its gross clears.
	post []posting
}

// Differences is the number of differences.
func (r Result) Differences() int {
	return len(r.MissingInBooks) + len(r.MissingAtStripe) + len(r.AmountDifferences)
}

type posting struct {
	txn     Txn
	against journal.AccountID
}

// Match matches Stripe's transactions with the journal's claims.
//
// txns and claims may reach beyond the day [day, day+1) (a webhook booked a minute after midnight;
// a refund Stripe recorded the day before we heard of it): the caller passes a window around the
// day, and matching runs over the whole window, but only groups with a transaction of the day, or
// — without any transaction — a claim dated on the day, are reported. So each difference is
// reported on exactly one day, and a neighbouring day's items only help to match.
//
// Grouping: a transaction and a claim belong together when they name a common object id (the
// transaction's Source or one of its Refs, the claim's Sources) in the same currency and with the
// same sign — a refund (−) and its refund failure (+) name the same refund but are two movements.
// Groups are the connected components of that relation, so an entry booking two refunds matches the
// two refunds' transactions together. A group matches when Σ Stripe = Σ books; Payout and FeeOnly
// transactions need no claim.
func Match(day time.Time, txns []Txn, claims []Claim) Result {
	day = dayOf(day)
	next := day.AddDate(0, 0, 1)
	inDay := func(t time.Time) bool { return !t.Before(day) && t.Before(next) }

	// Movements that undid themselves on one side only are matched on their own, before grouping
	// (reversedPairs): left in, their two signs would each be a difference.
	var res Result
	txns, claims = settleReversals(&res, inDay, txns, claims)

	// Nodes: transactions 0..len(txns)-1, claims after them.
	n := len(txns) + len(claims)
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(a, b int) {
		if ra, rb := find(a), find(b); ra != rb {
			parent[max(ra, rb)] = min(ra, rb) // the smaller index roots: deterministic
		}
	}
	type key struct {
		currency string
		positive bool
		id       string
	}
	first := map[key]int{}
	link := func(k key, node int) {
		if k.id == "" {
			return
		}
		if o, ok := first[k]; ok {
			union(o, node)
		} else {
			first[k] = node
		}
	}
	for i, t := range txns {
		if RoleOf(t.Type) != Claimed {
			continue // stands alone: nothing of ours names it
		}
		for _, id := range append([]string{t.Source}, t.Refs...) {
			link(key{t.Currency, t.Amount > 0, id}, i)
		}
	}
	for j, c := range claims {
		for _, id := range c.Sources {
			link(key{c.Currency, c.Amount > 0, id}, len(txns)+j)
		}
	}

	groups := map[int][]int{}
	var roots []int
	for i := 0; i < n; i++ {
		r := find(i)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], i)
	}

	for _, r := range roots {
		var it Item
		var today, claimToday bool
		var ts []Txn
		for _, node := range groups[r] {
			if node < len(txns) {
				t := txns[node]
				ts = append(ts, t)
				today = today || inDay(t.Created)
				it.Txns = append(it.Txns, t.ID)
				it.Types = append(it.Types, t.Type)
				if t.Source != "" { // a fee Stripe charged on its own has none: its txn id names it
					it.Objects = append(it.Objects, t.Source)
				}
				it.Objects = append(it.Objects, t.Refs...)
				it.StripeCents += t.Amount
				it.FeeCents += t.Fee
				it.Currency = t.Currency
			} else {
				c := claims[node-len(txns)]
				claimToday = claimToday || inDay(c.Date)
				it.Entries = append(it.Entries, c.EntryID)
				it.Objects = append(it.Objects, c.Sources...)
				it.BooksCents += c.Amount
				it.Currency = c.Currency
			}
		}
		if !today && !(len(ts) == 0 && claimToday) {
			continue // another day's group
		}
		it.DifferenceCents = it.StripeCents - it.BooksCents
		it.Objects = sortedUnique(it.Objects)
		it.Types = sortedUnique(it.Types)
		slices.Sort(it.Txns)
		slices.Sort(it.Entries)

		against := journal.Suspense
		switch {
		case len(ts) == 0:
			res.MissingAtStripe = append(res.MissingAtStripe, it)
			continue
		case len(ts) == 1 && RoleOf(ts[0].Type) == FeeOnly:
			// A fee Stripe charged on its own: booked as the expense it is (docs/books.md), and
			// reported, because nothing of ours foresaw it.
			against = clearingOf(ts[0].Type)
			it.Posted = string(against)
			res.MissingInBooks = append(res.MissingInBooks, it)
		case len(ts) == 1 && RoleOf(ts[0].Type) == Payout:
			// Nothing of ours precedes a payout of our balance: this run books it (to the bank).
			against = clearingOf(ts[0].Type)
			it.Posted = string(against)
			it.BooksCents, it.DifferenceCents = it.StripeCents, 0
			res.Matched = append(res.Matched, it)
		case len(it.Entries) == 0:
			it.Posted = string(against)
			res.MissingInBooks = append(res.MissingInBooks, it)
		default:
			// Ours and Stripe's: cleared as matched; an amount difference stays in the clearing
			// account (which then is not zero: the report and the account both say so).
			against = ""
			var accts []string
			for _, t := range ts {
				accts = append(accts, string(clearingOf(t.Type)))
			}
			it.Posted = strings.Join(sortedUnique(accts), ",")
			if it.DifferenceCents == 0 {
				res.Matched = append(res.Matched, it)
			} else {
				res.AmountDifferences = append(res.AmountDifferences, it)
			}
		}
		for _, t := range ts {
			if !inDay(t.Created) {
				continue // posted on its own day's run
			}
			a := against
			if a == "" {
				a = clearingOf(t.Type)
			}
			res.post = append(res.post, posting{txn: t, against: a})
		}
	}
	order := func(items []Item) {
		slices.SortFunc(items, func(a, b Item) int {
			return cmp.Or(cmp.Compare(strings.Join(a.Objects, ","), strings.Join(b.Objects, ",")),
				cmp.Compare(strings.Join(a.Entries, ","), strings.Join(b.Entries, ",")))
		})
	}
	order(res.Matched)
	order(res.MissingInBooks)
	order(res.MissingAtStripe)
	order(res.AmountDifferences)
	slices.SortFunc(res.post, func(a, b posting) int { return cmp.Compare(a.txn.ID, b.txn.ID) })
	return res
}

// settleReversals takes out of the grouping what moved and came back on one side only, and
// reports it matched (each pair is reported on the day of one of its items):
//
//   - at Stripe, with nothing of ours naming the object: a refund and its refund_failure, a
//     chargeback and its reversal (a refund that failed, a dispute opened and won, before any
//     event reached us) — Σ 0 at Stripe and in our books; the transactions are posted against
//     their clearing account, which they leave where it was;
//   - in our books, with no transaction naming the object: entries for the same objects that net
//     to zero (a payout booked and then refused by Stripe: mkt.payout and mkt.payout_failed) —
//     Stripe moved nothing, and nothing is posted.
func settleReversals(res *Result, inDay func(time.Time) bool, txns []Txn, claims []Claim) ([]Txn, []Claim) {
	named := map[string]bool{} // ids a claim names
	for _, c := range claims {
		for _, id := range c.Sources {
			named[c.Currency+"|"+id] = true
		}
	}
	moved := map[string]bool{} // ids a Claimed transaction names
	bySource := map[string][]int{}
	for i, t := range txns {
		if RoleOf(t.Type) != Claimed {
			continue
		}
		for _, id := range append([]string{t.Source}, t.Refs...) {
			moved[t.Currency+"|"+id] = true
		}
		if t.Source != "" {
			bySource[t.Currency+"|"+t.Source] = append(bySource[t.Currency+"|"+t.Source], i)
		}
	}
	drop := map[int]bool{}
	for _, k := range slices.Sorted(maps.Keys(bySource)) {
		idx := bySource[k]
		var sum int64
		var pos, neg bool
		for _, i := range idx {
			sum += txns[i].Amount
			pos, neg = pos || txns[i].Amount > 0, neg || txns[i].Amount < 0
		}
		if named[k] || sum != 0 || !pos || !neg {
			continue
		}
		it := Item{Currency: txns[idx[0]].Currency}
		today := false
		for _, i := range idx {
			t := txns[i]
			drop[i] = true
			today = today || inDay(t.Created)
			it.Txns = append(it.Txns, t.ID)
			it.Types = append(it.Types, t.Type)
			it.Objects = append(it.Objects, append([]string{t.Source}, t.Refs...)...)
			it.FeeCents += t.Fee
			if inDay(t.Created) {
				res.post = append(res.post, posting{txn: t, against: clearingOf(t.Type)})
			}
		}
		if today {
			it.Objects, it.Types = sortedUnique(it.Objects), sortedUnique(it.Types)
			slices.Sort(it.Txns)
			it.Posted = string(clearingOf(txns[idx[0]].Type))
			res.Matched = append(res.Matched, it)
		}
	}
	keptTxns := make([]Txn, 0, len(txns))
	for i, t := range txns {
		if !drop[i] {
			keptTxns = append(keptTxns, t)
		}
	}

	byKey := map[string][]int{} // claims by their exact set of objects
	for j, c := range claims {
		byKey[c.Currency+"|"+strings.Join(sortedUnique(c.Sources), ",")] = append(byKey[c.Currency+"|"+strings.Join(sortedUnique(c.Sources), ",")], j)
	}
	dropClaim := map[int]bool{}
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		idx := byKey[k]
		c0 := claims[idx[0]]
		var sum int64
		var pos, neg, seen bool
		for _, j := range idx {
			sum += claims[j].Amount
			pos, neg = pos || claims[j].Amount > 0, neg || claims[j].Amount < 0
		}
		for _, id := range c0.Sources {
			seen = seen || moved[c0.Currency+"|"+id]
		}
		if len(c0.Sources) == 0 || seen || sum != 0 || !pos || !neg {
			continue
		}
		it := Item{Currency: c0.Currency, Objects: sortedUnique(c0.Sources)}
		today := false
		for _, j := range idx {
			dropClaim[j] = true
			today = today || inDay(claims[j].Date)
			it.Entries = append(it.Entries, claims[j].EntryID)
		}
		if today {
			slices.Sort(it.Entries)
			res.Matched = append(res.Matched, it)
		}
	}
	keptClaims := make([]Claim, 0, len(claims))
	for j, c := range claims {
		if !dropClaim[j] {
			keptClaims = append(keptClaims, c)
		}
	}
	return keptTxns, keptClaims
}

func sortedUnique(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

func dayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
