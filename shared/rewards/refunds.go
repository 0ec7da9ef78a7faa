package rewards

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/liberation/monetization/shared/store"
)

// RefundNotice is one refund (or lost dispute) of a course purchase, as the marketplace's
// course.refunded fact tells it.
type RefundNotice struct {
	UserID     string
	PurchaseID string
	RefundID   string // a refund's id, or a lost dispute's: what the refund counts once by
	Cents      int64  // this refund's amount
	// PurchaseCents is the purchase's price (0 when the fact did not say; the purchase fact does).
	PurchaseCents int64
	Full          bool // the purchase is refunded entirely (decides only while the price is unknown)
	Dispute       bool // a lost dispute: the money went back whatever the refund window says
	// Reversed: the refund failed or was canceled at Stripe after it was told, so it no longer
	// counts (the marketplace tells it again with this set). A lost dispute is never reversed.
	Reversed bool
	At       time.Time
}

// keptTokens is what a purchase earning of tokens, bought for amount cents, keeps after refunds:
// the tokens follow the price kept, floor(tokens × (amount − refunded) / amount), never below zero,
// over the refunds that count — those dated inside the refund window (ending at releaseAt) and any
// lost dispute. A lost dispute takes everything, as a full refund does; so does any refund of a
// purchase whose price is unknown (facts from before prices were sent), as refunds always did.
func keptTokens(tokens, amount int64, releaseAt time.Time, refunds map[string]refundSeen) int64 {
	var refunded int64
	counted := false
	for _, r := range refunds {
		switch {
		case r.Reversed:
			continue // it failed at Stripe: the money stayed, and so do the tokens
		case !r.Dispute && r.At.After(releaseAt):
			continue // after the window the tokens stay
		case r.Dispute || amount <= 0:
			return 0
		}
		refunded, counted = refunded+r.Cents, true
	}
	switch {
	case !counted:
		return tokens
	case refunded >= amount:
		return 0
	}
	return tokens * (amount - refunded) / amount
}

// decideRefund is the refund policy: what refund n does to a purchase earning in state g when
// available tokens are available. It returns the ledger change (Kind "" when no token moves), the
// guard's next state, the outcome, and whether the guard changes at all. Refunds are counted by
// id, so redeliveries and any order of several partial refunds end the same; what they take is
// the difference between what the earning still gives and what the refunds counted leave of it.
// Released tokens are clawed back from what is available; the rest is owed (Account.Apply has
// later tokens pay it), never forgiven. A reversed refund is decideReversal's.
func decideRefund(g earnState, n RefundNotice, available int64) (Change, earnState, Outcome, bool) {
	if n.Reversed {
		return decideReversal(g, n)
	}
	// A refund already counted, or already reversed (its reversal came first), is not counted
	// again; a lost dispute is final, so only a reversal told under its id would not stop it.
	if r, seen := g.Refunds[n.RefundID]; seen && !(r.Reversed && n.Dispute) || g.State == EarnCancelled {
		return Change{}, g, OutDuplicate, false
	}
	next := withRefunds(g)
	next.Refunds[n.RefundID] = refundSeen{Cents: n.Cents, At: n.At.UTC(), Full: n.Full, Dispute: n.Dispute}
	if next.AmountCents == 0 {
		next.AmountCents = n.PurchaseCents
	}
	if !g.Exists || g.State == EarnAwaiting {
		// Before its purchase: kept until the purchase says what it earns (planAfterRefunds).
		next.Exists, next.State = true, EarnAwaiting
		return Change{}, next, OutCancelled, true
	}
	if g.State != EarnPending && g.State != EarnReleased {
		return Change{}, g, OutIgnored, false
	}
	if !n.Dispute && n.At.After(g.ReleaseAt) {
		return Change{}, g, OutIgnored, false // after the window: the tokens stay
	}
	target := keptTokens(g.Tokens, next.AmountCents, g.ReleaseAt, next.Refunds)
	move := max(g.Remaining()-target, 0)
	next.Cancelled += move
	if target == 0 {
		// Remember whether its tokens had been released: a reversal gives them back as they were.
		next.State, next.Released = EarnCancelled, g.Released || g.State == EarnReleased
	}
	switch {
	case move == 0:
		return Change{}, next, OutRecorded, true
	case g.State == EarnPending:
		return Change{Kind: KindCancel, PendingDelta: -move}, next, OutCancelled, true
	}
	take := min(move, max(available, 0))
	c := Change{Kind: KindClawback, Delta: -take, OwedDelta: move - take, Earned: -move}
	if take < move {
		c.Reason = "refund learnt after release; " + itoa(move-take) + " tokens were held or spent and are owed"
	}
	return c, next, OutClawback, true
}

// decideReversal is what the reversal of refund n — it failed or was canceled at Stripe, so the
// money stayed — does to purchase earning g: the refund stops counting, and what the earning's
// other refunds leave of its tokens (keptTokens) is given back, as the difference with what it
// still gives. Inside the window, or cancelled before its release, the tokens are pending again
// (the release job releases them as usual); once released, they are available again, and
// Account.Apply has them pay first what is owed (the debt a clawback left, typically this
// refund's). The reversal is kept on the guard under the refund's id, so the refund told after it
// is never counted and a redelivery changes nothing; a lost dispute is final and never reversed.
func decideReversal(g earnState, n RefundNotice) (Change, earnState, Outcome, bool) {
	r, seen := g.Refunds[n.RefundID]
	switch {
	case n.Dispute || seen && r.Dispute && !r.Reversed:
		return Change{}, g, OutIgnored, false
	case seen && r.Reversed:
		return Change{}, g, OutDuplicate, false
	case !seen:
		r = refundSeen{Cents: n.Cents, At: n.At.UTC(), Full: n.Full}
	}
	r.Reversed = true
	next := withRefunds(g)
	next.Refunds[n.RefundID] = r
	if next.AmountCents == 0 {
		next.AmountCents = n.PurchaseCents
	}
	switch g.State {
	case "", EarnAwaiting:
		// Before its purchase: the purchase earns what the refunds that still count leave.
		next.Exists, next.State = true, EarnAwaiting
		return Change{}, next, OutRecorded, true
	case EarnPending, EarnReleased, EarnCancelled:
	default:
		return Change{}, g, OutIgnored, false
	}
	give := max(keptTokens(g.Tokens, next.AmountCents, g.ReleaseAt, next.Refunds)-g.Remaining(), 0)
	next.Cancelled -= give
	switch {
	case give == 0:
		return Change{}, next, OutRecorded, true // took no whole token, or was never counted
	case g.State == EarnReleased || g.State == EarnCancelled && g.Released:
		next.State = EarnReleased
		return Change{Kind: KindEarn, Delta: give, Earned: give, Reason: reversedReason(n, give)}, next, OutRestored, true
	}
	next.State = EarnPending
	return Change{Kind: KindPending, PendingDelta: give, Reason: reversedReason(n, give)}, next, OutRestored, true
}

func reversedReason(n RefundNotice, give int64) string {
	return "refund " + n.RefundID + " failed or was canceled; its " + itoa(give) + " tokens are given back"
}

// withRefunds is g with a copy of its refunds to change (the guard read stays as it was read).
func withRefunds(g earnState) earnState {
	next := g
	next.Refunds = maps.Clone(g.Refunds)
	if next.Refunds == nil {
		next.Refunds = map[string]refundSeen{}
	}
	return next
}

// errGuardOnly stops a Post whose refund moves no token: only the guard is written.
var errGuardOnly = errors.New("guard only")

// Refund applies refund n of the purchase n.PurchaseID (rule course.purchased): inside the refund
// window it cancels the refunded fraction of the pending tokens or — learnt after their release —
// claws it back, what cannot be taken being owed; a lost dispute takes all, whenever it comes. A
// refund that arrives before its purchase is kept on the guard, and the purchase earns what it
// leaves. A reversed refund (failed or canceled at Stripe) gives back what it took. Every write is conditioned on the guard's version, so redeliveries, other refunds and the
// release job racing it change nothing twice.
func (er earner) Refund(ctx context.Context, n RefundNotice) (Outcome, Entry, error) {
	guardKey := store.TokenEarnKey(n.UserID, RuleCoursePurchased, n.PurchaseID)
	for attempt := 1; ; attempt++ {
		out := OutIgnored
		var guardOnly Write
		_, entry, err := er.Post(ctx, n.UserID, func(ctx context.Context, a Account) (Plan, error) {
			g, it, err := er.earnState(ctx, n.UserID, RuleCoursePurchased, n.PurchaseID)
			if err != nil {
				return Plan{}, err
			}
			c, next, o, write := decideRefund(g, n, a.Available)
			if out = o; !write {
				return Plan{}, ErrNoop
			}
			x, err := guardPut(nextGuard(it, next, guardKey, n, er.clk.Now()), g)
			if err != nil {
				return Plan{}, err
			}
			if c.Kind == "" {
				guardOnly = x.Write
				return Plan{}, errGuardOnly
			}
			c.Rule, c.SourceID, c.Actor = RuleCoursePurchased, n.PurchaseID, "system:facts"
			return Plan{Change: c, Extras: []Extra{x}}, nil
		})
		switch {
		case err == ErrNoop:
			return out, Entry{}, nil
		case err == errGuardOnly:
			err = er.guards.WriteGuard(ctx, *guardOnly.Guard)
			if store.IsConditionFailed(err) && attempt < postAttempts {
				continue // the guard moved (another refund, the purchase, the release): decide again
			}
			return out, Entry{}, err
		}
		return out, entry, err
	}
}

// nextGuard is the guard item it moved to state next by refund n.
func nextGuard(it earnItem, next earnState, k store.Key, n RefundNotice, now time.Time) earnItem {
	if it.PK == "" {
		it = earnItem{PK: k.PK, SK: k.SK, Type: "token-earning", UserID: n.UserID, Rule: RuleCoursePurchased,
			SourceID: n.PurchaseID, At: now, Note: "refunded before the purchase was seen"}
	}
	it.State, it.Refunds, it.AmountCents, it.Cancelled, it.UpdatedAt = next.State, next.Refunds, next.AmountCents, next.Cancelled, now
	it.Released = next.Released
	switch {
	case it.State != EarnPending:
		it.GSI2PK, it.GSI2SK = "", "" // off the release job's index
	case it.GSI2PK == "":
		// Pending again (a reversed refund gave back a cancelled earning): due for the release job.
		it.GSI2PK, it.GSI2SK = store.TokenPendingGSI2(it.ReleaseAt, it.UserID, it.Rule, it.SourceID)
	}
	return it
}

// afterRefunds is what purchase e worth tokens earns when its refunds came first (guard g
// "awaiting"): pending, what those refunds leave of its tokens; nothing when they left nothing.
func afterRefunds(g earnState, e Earning, tokens int64) (Change, earnState, Outcome) {
	next := g
	if e.AmountCents > 0 {
		next.AmountCents = e.AmountCents
	}
	kept := keptTokens(tokens, next.AmountCents, e.ReleaseAt, g.Refunds)
	next.Tokens, next.ReleaseAt = tokens, e.ReleaseAt.UTC()
	if kept <= 0 {
		// Refunded in full before it was seen: it earns nothing, but it is recorded as cancelled with
		// what it would have earned, so a refund reversed later gives its tokens back.
		next.State, next.Cancelled = EarnCancelled, tokens
		return Change{}, next, OutDuplicate
	}
	next.State, next.Cancelled = EarnPending, tokens-kept
	return Change{Kind: KindPending, Rule: e.Rule, SourceID: e.SourceID, Actor: e.Actor, PendingDelta: kept}, next, OutPending
}

// planAfterRefunds plans afterRefunds over the guard it read as g (the entry will be seq).
func (er earner) planAfterRefunds(g earnState, it earnItem, e Earning, tokens, seq int64, out *Outcome) (Plan, error) {
	c, next, o := afterRefunds(g, e, tokens)
	*out = o
	it.State, it.Tokens, it.Cancelled, it.AmountCents, it.ReleaseAt = next.State, next.Tokens, next.Cancelled, next.AmountCents, next.ReleaseAt
	it.UpdatedAt = er.clk.Now()
	if c.Kind == "" {
		// Nothing to post: only the guard changes (cancelled, off the release index).
		it.GSI2PK, it.GSI2SK = "", ""
		x, err := guardPut(it, g)
		if err != nil {
			return Plan{}, err
		}
		return Plan{}, guardOnly{x.Write}
	}
	it.EntrySeq = seq
	it.GSI2PK, it.GSI2SK = store.TokenPendingGSI2(e.ReleaseAt, e.UserID, e.Rule, e.SourceID)
	x, err := guardPut(it, g)
	if err != nil {
		return Plan{}, err
	}
	return Plan{Change: c, Extras: []Extra{x}}, nil
}

// guardOnly stops a Post that writes only an earning's guard (no token moves): the caller writes
// it with WriteGuard and plans again if the guard moved meanwhile.
type guardOnly struct{ w Write }

func (guardOnly) Error() string { return "guard only" }

// guardPut writes guard it over read, the state it was read in: created only if absent, else only
// if still at the version read (guards written before versions existed have none). A nil Fail:
// a guard that moved makes Post plan again from fresh reads.
func guardPut(it earnItem, read earnState) (Extra, error) {
	return Extra{Write: Write{Guard: &GuardWrite{Item: it, Read: read}}}, nil
}
