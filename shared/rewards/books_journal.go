package rewards

import (
	"strings"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
)

// Rewards' posting rules (docs/books.md, "Token redemption: credit" and "Token redemption:
// coupon"). A redemption's write carries its journal entries (RedemptionWrite.Entries), built here
// from the redemption before and after the write alone (pure functions) and written by the
// repository in the write's own transaction, so the books and the redemptions cannot disagree.
//
//   - A StripeCredit redemption that becomes fulfilled — the workflow records it so only with the
//     Stripe customer balance transaction that credited the user — posts rwd.credit: the credit is
//     an expense when granted, because the customer holds it at Stripe (Dr
//     marketing_token_redemptions / Cr customer_credit, both on the user's party). An invoice that
//     uses it later debits customer_credit (payments' pay.invoice).
//   - A fulfilled credit that stops being fulfilled posts rwd.credit_revoked, the exact reverse,
//     with the amount the credit posted. Today's state machine has no such move (fulfilled is
//     final, and a rejection revokes at Stripe only approved redemptions, which posted nothing, so
//     the credit and its reversal at Stripe both stay outside the books); the rule keeps the
//     builder total over (before, after), so any later move out of fulfilled is booked.
//   - A coupon posts nothing when it is issued: it is a promise with no balance at Stripe and costs
//     nothing unless a checkout applies it, and the area that books that checkout books the
//     discount (docs/books.md, "Token redemption: coupon"). Merchandise moves no money we book.
//
// Entry ids are "<kind>.<redemption id>": one credit and one revocation per redemption at most.

// Area is rewards' area name in the journal.
const Area = "rewards"

// Rewards' posting kinds.
const (
	JournalCredit        = "rwd.credit"         // rwd.credit.<redemption>: a customer-balance credit granted
	JournalCreditRevoked = "rwd.credit_revoked" // rwd.credit_revoked.<redemption>: a granted credit taken back
)

const journalMemoMax = 200

func init() {
	accts := []journal.AccountID{journal.MarketingTokenRedemptions, journal.CustomerCredit}
	journal.Register(journal.Rule{Area: Area, Kind: JournalCredit,
		Summary: "tokens redeemed for a Stripe customer-balance credit: the credit granted is a marketing expense", Accounts: accts})
	journal.Register(journal.Rule{Area: Area, Kind: JournalCreditRevoked,
		Summary: "a token-funded customer-balance credit taken back: the expense reversed", Accounts: accts})
}

// credited reports whether r stands for a customer-balance credit granted at Stripe.
func credited(r Redemption) bool {
	return r.Fulfilment == rewardcatalog.StripeCredit && r.Status == Fulfilled
}

// redemptionEntries are the journal entries of writing after over before (the zero Redemption for
// a new one): rwd.credit when a credit becomes fulfilled, rwd.credit_revoked when a fulfilled
// credit stops being so, nothing otherwise. A credit without its amount, currency or Stripe
// balance transaction is a bug of the caller and refused (apperr.Internal), never posted as zero.
func redemptionEntries(before, after Redemption) ([]journal.Entry, error) {
	was, is := credited(before), credited(after)
	switch {
	case !was && is:
		if after.BalanceTransaction == "" {
			return nil, apperr.New(apperr.Internal, "journal: credit redemption %s fulfilled without its Stripe balance transaction", after.ID)
		}
		e, err := creditEntry(JournalCredit, after, after.FulfilledAt, false)
		return one(e, err)
	case was && !is:
		// The amount is the one the credit posted (before's), never a recomputation.
		r := before
		r.UserID, r.ID = after.UserID, after.ID
		e, err := creditEntry(JournalCreditRevoked, r, after.UpdatedAt, true)
		return one(e, err)
	}
	return nil, nil
}

func one(e journal.Entry, err error) ([]journal.Entry, error) {
	if err != nil {
		return nil, err
	}
	return []journal.Entry{e}, nil
}

// creditEntry is r's credit (reverse: taken back) as kind's entry dated at.
func creditEntry(kind string, r Redemption, at time.Time, reverse bool) (journal.Entry, error) {
	if r.CreditCents <= 0 || r.CreditCurrency == "" {
		return journal.Entry{}, apperr.New(apperr.Internal, "journal: credit redemption %s has amount %d %q",
			r.ID, r.CreditCents, r.CreditCurrency)
	}
	memo := "token redemption " + r.RewardName
	if r.BalanceTransaction != "" {
		memo += " (Stripe " + r.BalanceTransaction + ")"
	}
	if reverse {
		memo = "revoked: " + memo
	}
	// Granted: Dr marketing_token_redemptions / Cr customer_credit; taken back: the reverse (the
	// debit line first either way).
	dr, cr := journal.MarketingTokenRedemptions, journal.CustomerCredit
	if reverse {
		dr, cr = cr, dr
	}
	lines := []journal.Line{{Account: dr, Debit: r.CreditCents, Party: r.UserID}, {Account: cr, Credit: r.CreditCents, Party: r.UserID}}
	e := journal.Entry{ID: journal.EntryID(kind, r.ID), Kind: kind, Area: Area, Source: r.ID, Date: at.UTC(),
		Currency: strings.ToLower(r.CreditCurrency), Memo: clip(memo, journalMemoMax), Lines: lines}
	if err := e.Validate(); err != nil {
		return journal.Entry{}, apperr.Wrap(err, apperr.Internal, "journal: rewards built an invalid entry")
	}
	return e, nil
}

// clip cuts s to at most n bytes at a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}

// redemptionWrite is the write of after over before (read: the version read, 0 for a new one) with
// the journal entries it posts.
func redemptionWrite(before, after Redemption, read int64) (RedemptionWrite, error) {
	entries, err := redemptionEntries(before, after)
	if err != nil {
		return RedemptionWrite{}, err
	}
	return RedemptionWrite{Redemption: after, Read: read, Entries: entries}, nil
}
