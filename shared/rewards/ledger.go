// Package rewards is the token rewards area (seed section 4): earning rules and their sources
// (learning events, other areas' facts, admin adjustments), a ledger per user whose spendable
// balance never goes below zero, the leaderboards' write side and read routes, friends and
// classes, the redemption workflow up to approval, and the release of pending tokens.
// Admin transitions that call Stripe or send e-mail live in rewards/redeem, the catalogue in
// rewards/rewardcatalog (no DynamoDB), the leaderboard arithmetic in rewards/leaderboard.
package rewards

import (
	"errors"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
)

// Account is a user's token account: the one item every token movement of the user rewrites, over
// the version it was read at, in the same transaction as the entry that explains it.
//
//	balance   = tokens the user owns = Σ entry.delta
//	held      = owned tokens reserved by pending or approved redemptions = Σ entry.heldDelta
//	available = balance − held, what can be spent or held; never below zero
//	pending   = earned tokens not yet owned (a purchase inside its refund window) = Σ entry.pendingDelta
//	owed      = tokens a clawback could not take (they were held or spent) = Σ entry.owedDelta;
//	            paid first from any tokens that become available, so owed > 0 only while available = 0
//
// Earned tokens also count towards the leaderboards: lifetimeEarned (the all-time score) and
// weekEarned for weekID (the weekly score); spending never lowers them.
type Account struct {
	UserID         string
	Balance        int64
	Held           int64
	Available      int64
	Pending        int64
	Owed           int64
	LifetimeEarned int64
	WeekID         string
	WeekEarned     int64
	// When the current scores were reached (ties: earlier reach shows first).
	WeekReachedAt time.Time
	AllReachedAt  time.Time
	// Seq numbers the user's ledger entries (the last one written); Version every write of the item.
	Seq     int64
	Version int64
	// The leaderboard profile.
	DisplayName string
	OptOut      bool
	UpdatedAt   time.Time
	// WriteID is random per write: a transaction whose answer was lost recognises its own commit.
	WriteID string
	// ErasedAs is the pseudonym of an erased person (privacy_erase.go): the account is kept, tied to
	// it, and every later movement keeps it.
	ErasedAs string
}

// EarnedThisWeek is the weekly score at now: zero once a new week started.
func (a Account) EarnedThisWeek(now time.Time) int64 {
	if a.WeekID != leaderboard.WeekID(now) {
		return 0
	}
	return a.WeekEarned
}

// Score is the account's score on the period's board at now.
func (a Account) Score(p leaderboard.Period, now time.Time) int64 {
	if p == leaderboard.Week {
		return a.EarnedThisWeek(now)
	}
	return a.LifetimeEarned
}

// Kind names what an entry did.
type Kind string

const (
	KindEarn     Kind = "earn"     // tokens earned, available at once
	KindPending  Kind = "pending"  // tokens earned but pending (refund window)
	KindRelease  Kind = "release"  // pending tokens became available
	KindCancel   Kind = "cancel"   // pending tokens cancelled (refund inside the window)
	KindClawback Kind = "clawback" // released tokens taken back (a refund inside the window learnt late)
	KindAdjust   Kind = "adjust"   // an admin grant or deduction
	KindHold     Kind = "hold"     // tokens held for a redemption
	KindUnhold   Kind = "unhold"   // held tokens released (redemption cancelled or rejected)
	KindRedeem   Kind = "redeem"   // held tokens spent (redemption fulfilled)
	KindProfile  Kind = "profile"  // no entry: the leaderboard profile changed
	// KindForfeit: an erased person's tokens forfeited (privacy_erase.go): delta = −available at the
	// erasure, pendingDelta = −pending when a pending earning's window ends.
	KindForfeit Kind = "forfeit"
)

// Change is one movement to apply to an account.
type Change struct {
	Kind     Kind
	Rule     string // earning rule ("lesson.completed", …) or "admin.adjustment"
	Reason   string // free text for adjustments and redemption decisions
	SourceID string // the id the movement is idempotent on (event, course, invoice, redemption …)
	Actor    string // who caused it: a user id, an admin id, or a system actor

	Delta        int64 // change of balance
	HeldDelta    int64 // change of held
	PendingDelta int64 // change of pending
	OwedDelta    int64 // change of owed: + what a clawback could not take (Apply subtracts repayments)
	// Earned is the change of the scores (lifetime and this week): positive for earnings and
	// grants, negative for deductions and clawbacks, zero for holds and spending.
	Earned int64

	// Profile changes (KindProfile only).
	DisplayName *string
	OptOut      *bool
	// ErasedAs, when set, ties the account to an erased person's pseudonym (any kind).
	ErasedAs string
}

// Entry is one line of a user's ledger: a change and the account after it.
type Entry struct {
	ID             string
	UserID         string
	Seq            int64
	Kind           Kind
	Rule           string
	Reason         string
	SourceID       string
	Actor          string
	Delta          int64
	HeldDelta      int64
	PendingDelta   int64
	OwedDelta      int64 // + a debt incurred, − a debt repaid (Delta already has the repayment taken off)
	Earned         int64
	BalanceAfter   int64
	HeldAfter      int64
	PendingAfter   int64
	AvailableAfter int64
	OwedAfter      int64
	At             time.Time
	// ErasedAs: an entry of an erased account is tied to its pseudonym from the start.
	ErasedAs string
}

// ErrInsufficient is the refusal of a movement the available tokens do not cover.
var ErrInsufficient = errors.New("insufficient available tokens")

// Apply returns the account after c at now and the entry recording it (a zero entry for a profile
// change). It refuses — changing nothing — a movement that would take available, held, pending or
// owed below zero: available below zero is a 409 the caller can show ("you have 300 tokens
// available"), the others are bugs. Tokens the movement makes available pay what is owed first
// (the entry's delta is then net of the repayment and its owedDelta says how much was repaid).
func (a Account) Apply(c Change, now time.Time) (Account, Entry, error) {
	n := a
	n.UpdatedAt = now
	n.Version++
	if c.ErasedAs != "" {
		n.ErasedAs = c.ErasedAs
	}
	if n.WeekID != leaderboard.WeekID(now) {
		n.WeekID, n.WeekEarned, n.WeekReachedAt = leaderboard.WeekID(now), 0, time.Time{}
	}
	if c.Kind == KindProfile {
		if c.DisplayName != nil {
			n.DisplayName = *c.DisplayName
		}
		if c.OptOut != nil {
			n.OptOut = *c.OptOut
		}
		return n, Entry{}, nil
	}
	n.Balance += c.Delta
	n.Held += c.HeldDelta
	n.Pending += c.PendingDelta
	n.Owed += c.OwedDelta
	n.Available = n.Balance - n.Held
	switch {
	case n.Available < 0:
		return a, Entry{}, apperr.Wrap(ErrInsufficient, apperr.Conflict,
			"not enough tokens: %d available, %d needed", a.Available, a.Available-n.Available)
	case n.Held < 0 || n.Pending < 0 || n.Owed < 0:
		return a, Entry{}, apperr.New(apperr.Internal, "ledger invariant: held %d, pending %d, owed %d", n.Held, n.Pending, n.Owed)
	}
	// A debt is never forgiven and never sits beside spendable tokens: whatever becomes available
	// (an earning, a release, a grant, a hold released by a cancellation) pays it first — so holding
	// tokens in a redemption and cancelling it after a refund cannot dodge the clawback.
	if pay := min(n.Owed, n.Available); pay > 0 {
		n.Balance, n.Available, n.Owed = n.Balance-pay, n.Available-pay, n.Owed-pay
		c.Delta, c.OwedDelta = c.Delta-pay, c.OwedDelta-pay
	}
	if c.Earned != 0 {
		// Scores never go below zero: a deduction larger than what was earned ends at zero.
		n.LifetimeEarned = max(n.LifetimeEarned+c.Earned, 0)
		n.WeekEarned = max(n.WeekEarned+c.Earned, 0)
		n.AllReachedAt, n.WeekReachedAt = now, now
	}
	n.Seq++
	e := Entry{UserID: a.UserID, Seq: n.Seq, Kind: c.Kind, Rule: c.Rule, Reason: c.Reason, SourceID: c.SourceID,
		Actor: c.Actor, Delta: c.Delta, HeldDelta: c.HeldDelta, PendingDelta: c.PendingDelta, OwedDelta: c.OwedDelta,
		Earned: c.Earned, BalanceAfter: n.Balance, HeldAfter: n.Held, PendingAfter: n.Pending, AvailableAfter: n.Available,
		OwedAfter: n.Owed, At: now, ErasedAs: n.ErasedAs}
	return n, e, nil
}

// Verify checks a user's whole ledger against the account: the account's balance, held, pending
// and owed are the sums of the entries, each entry's "after" values are the running sums, sequence
// numbers run 1..n without gaps, available never went below zero, and nothing was owed while
// tokens were available. Entries are in sequence order.
func Verify(a Account, entries []Entry) error {
	var bal, held, pend, owed int64
	for i, e := range entries {
		if e.Seq != int64(i+1) {
			return apperr.New(apperr.Internal, "entry %d has seq %d", i+1, e.Seq)
		}
		bal, held, pend, owed = bal+e.Delta, held+e.HeldDelta, pend+e.PendingDelta, owed+e.OwedDelta
		if e.BalanceAfter != bal || e.HeldAfter != held || e.PendingAfter != pend || e.AvailableAfter != bal-held || e.OwedAfter != owed {
			return apperr.New(apperr.Internal, "entry %d: after (%d, %d, %d, %d, %d), sums (%d, %d, %d, %d, %d)", e.Seq,
				e.BalanceAfter, e.HeldAfter, e.PendingAfter, e.AvailableAfter, e.OwedAfter, bal, held, pend, bal-held, owed)
		}
		if bal-held < 0 || held < 0 || pend < 0 || owed < 0 || owed > 0 && bal-held > 0 {
			return apperr.New(apperr.Internal, "entry %d leaves available %d, held %d, pending %d, owed %d", e.Seq, bal-held, held, pend, owed)
		}
	}
	if a.Balance != bal || a.Held != held || a.Pending != pend || a.Available != bal-held || a.Owed != owed || a.Seq != int64(len(entries)) {
		return apperr.New(apperr.Internal, "account (%d, %d, %d, %d, owed %d, seq %d) ≠ entries (%d, %d, %d, %d, %d, %d)",
			a.Balance, a.Held, a.Pending, a.Available, a.Owed, a.Seq, bal, held, pend, bal-held, owed, len(entries))
	}
	return nil
}
