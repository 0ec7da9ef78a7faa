package journal

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/apperr"
)

// Entry is one balanced journal entry: what one money event did to the books.
type Entry struct {
	// ID is deterministic from the event's source: Kind + "." + the source object id (and a step
	// when one object yields several entries), e.g. "mkt.sale.ch_123". The entry item is written
	// only if no entry has this id, so a source is posted at most once.
	ID       string
	Kind     string    // the posting rule's kind
	Area     string    // the area that posts it (must be the rule's)
	Source   string    // the source object id (Stripe charge, refund, transfer; our sale or payout id)
	Date     time.Time // effective time: the day it counts on in balances and statements
	Currency string    // lower-case ISO 4217 code, as Stripe writes it
	Memo     string
	Lines    []Line
}

// Line is one line of an entry: an amount on one side of one account.
type Line struct {
	Account AccountID
	Debit   int64  // minor units; exactly one of Debit and Credit is positive
	Credit  int64  // minor units
	Party   string // optional sub-ledger: the instructor or user the amount belongs to
	Memo    string
}

// Limits of an entry. MaxLines bounds the transaction items an entry adds (ItemCount).
const (
	MaxLines     = 20
	maxIDLen     = 200
	maxSourceLen = 200
	maxMemoLen   = 500
	maxPartyLen  = 128
)

// EntryID is the conventional id of kind's entry for source ("mkt.sale" + "ch_123" →
// "mkt.sale.ch_123").
func EntryID(kind, source string) string { return kind + "." + source }

// idPattern: entry ids are in keys (no '#', the key separator) and in exports.
var (
	idPattern       = regexp.MustCompile(`^[A-Za-z0-9._:-]+$`)
	currencyPattern = regexp.MustCompile(`^[a-z]{3}$`)
	minDate         = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDate         = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// Validate checks an entry before it is written. Every failure is an apperr.Invalid naming what is
// wrong: an entry that does not balance is a bug in a posting rule, never something to write.
func (e Entry) Validate() error {
	bad := func(format string, args ...any) error {
		return apperr.New(apperr.Invalid, "journal entry %q: "+format, append([]any{e.ID}, args...)...)
	}
	rule, ok := RuleOf(e.Kind)
	switch {
	case e.ID == "" || len(e.ID) > maxIDLen || !idPattern.MatchString(e.ID):
		return bad("id must be 1..%d characters of A-Z a-z 0-9 . _ : -", maxIDLen)
	case !ok:
		return bad("kind %q is not a registered posting rule", e.Kind)
	case !strings.HasPrefix(e.ID, e.Kind+".") || len(e.ID) == len(e.Kind)+1:
		return bad("id must be the kind %q, a dot and the source", e.Kind)
	case e.Area != rule.Area:
		return bad("area %q is not the rule's area %q", e.Area, rule.Area)
	case e.Source == "" || len(e.Source) > maxSourceLen:
		return bad("source must be 1..%d characters", maxSourceLen)
	case e.Date.IsZero():
		return bad("date is not set")
	case e.Date.Before(minDate) || e.Date.After(maxDate):
		return bad("date %s is out of range", e.Date.UTC().Format(time.RFC3339))
	// shared/money has no list of known currencies (only their exponents), so the shape is what
	// can be checked here; Stripe refuses an unknown code before any event reaches an area.
	case !currencyPattern.MatchString(e.Currency):
		return bad("currency %q is not a lower-case ISO 4217 code", e.Currency)
	case len(e.Memo) > maxMemoLen:
		return bad("memo is longer than %d characters", maxMemoLen)
	case len(e.Lines) < 2:
		return bad("an entry has at least two lines, not %d", len(e.Lines))
	case len(e.Lines) > MaxLines:
		return bad("an entry has at most %d lines, not %d", MaxLines, len(e.Lines))
	}
	var debits, credits int64
	for i, l := range e.Lines {
		switch {
		case !Known(l.Account):
			return bad("line %d: account %q is not in the chart of accounts", i, l.Account)
		case !slices.Contains(rule.Accounts, l.Account):
			return bad("line %d: account %q is not one of rule %q's accounts", i, l.Account, e.Kind)
		case l.Debit < 0 || l.Credit < 0:
			return bad("line %d: amounts are never negative (post the other side)", i)
		case (l.Debit > 0) == (l.Credit > 0):
			return bad("line %d: exactly one of debit and credit is positive", i)
		case len(l.Party) > maxPartyLen || strings.ContainsAny(l.Party, "\r\n"):
			return bad("line %d: party must be one line of at most %d characters", i, maxPartyLen)
		case len(l.Memo) > maxMemoLen:
			return bad("line %d: memo is longer than %d characters", i, maxMemoLen)
		}
		var ok1, ok2 bool
		debits, ok1 = addChecked(debits, l.Debit)
		credits, ok2 = addChecked(credits, l.Credit)
		if !ok1 || !ok2 {
			return bad("the amounts overflow")
		}
	}
	if debits != credits {
		return bad("debits %d and credits %d differ", debits, credits)
	}
	return nil
}

// addChecked adds two non-negative amounts, reporting an overflow instead of wrapping around.
func addChecked(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return a, false
	}
	return s, true
}

// Total is the entry's Σ debits (= Σ credits for a valid entry).
func (e Entry) Total() int64 {
	var t int64
	for _, l := range e.Lines {
		t += l.Debit
	}
	return t
}

// accounts returns the distinct accounts of the entry in first-appearance order.
func (e Entry) accounts() []AccountID {
	var out []AccountID
	for _, l := range e.Lines {
		if !slices.Contains(out, l.Account) {
			out = append(out, l.Account)
		}
	}
	return out
}

// ItemCount is the number of transaction items Items returns for e: the entry, one posting per
// line and one balance update per distinct account — 1 + 2 × lines at most (41 for MaxLines), 5
// for a two-line entry. A caller adds its own items and stays within DynamoDB's 100 per transaction.
func ItemCount(e Entry) int { return 1 + len(e.Lines) + len(e.accounts()) }

// digest is a hash of the entry's content: a re-post with the same id and the same content is a
// no-op, with other content a conflict.
func (e Entry) digest() string {
	c := e
	c.Date = e.Date.UTC()
	b, _ := json.Marshal(c) // plain strings and numbers: cannot fail
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Posting is one line of an entry as it stands on its account: what an account's history and an
// export line show.
type Posting struct {
	EntryID  string
	Line     int // the line's index in its entry
	Date     time.Time
	Account  AccountID
	Debit    int64
	Credit   int64
	Currency string
	Kind     string
	Area     string
	Source   string
	Party    string
	Memo     string
}

// lineMemo is line i's memo, else the entry's (what a posting and an export line show).
func (e Entry) lineMemo(i int) string {
	if e.Lines[i].Memo != "" {
		return e.Lines[i].Memo
	}
	return e.Memo
}

// Postings returns e's lines as postings, in line order.
func (e Entry) Postings() []Posting {
	out := make([]Posting, 0, len(e.Lines))
	for i, l := range e.Lines {
		out = append(out, Posting{EntryID: e.ID, Line: i, Date: e.Date.UTC(), Account: l.Account, Debit: l.Debit,
			Credit: l.Credit, Currency: e.Currency, Kind: e.Kind, Area: e.Area, Source: e.Source, Party: l.Party, Memo: e.lineMemo(i)})
	}
	return out
}
