package rewards

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/store"
)

// Earning is one occurrence of an earning rule for a user.
type Earning struct {
	UserID   string
	Rule     string
	SourceID string // what the earning is idempotent on, with the user and the rule
	// Tokens overrides the rule's amount (a renewal earns by tier); 0 takes the rule's.
	Tokens int64
	// OccurredAt is when it happened: its UTC day is the day a daily cap counts it in.
	OccurredAt time.Time
	// ReleaseAt is when pending tokens become available (the end of the refund window).
	ReleaseAt time.Time
	// AmountCents is a purchase's price: its refunds take back the refunded fraction of its tokens.
	AmountCents int64
	Actor       string
}

// Outcome says what an earning, refund or release did.
type Outcome string

const (
	OutEarned    Outcome = "earned"    // tokens credited
	OutPending   Outcome = "pending"   // tokens earned as pending
	OutReleased  Outcome = "released"  // pending tokens became available
	OutCancelled Outcome = "cancelled" // pending tokens cancelled (refund inside the window)
	OutClawback  Outcome = "clawback"  // released tokens taken back (refund inside the window learnt late)
	OutDuplicate Outcome = "duplicate" // already done: nothing changed
	OutCapped    Outcome = "capped"    // the daily cap is reached: nothing earned
	OutIgnored   Outcome = "ignored"   // earns nothing (a free purchase, a refund after the window)
	OutRecorded  Outcome = "recorded"  // a refund counted that takes no whole token back yet
	OutRestored  Outcome = "restored"  // a refund that failed at Stripe gave back the tokens it took
)

// earnState is what the guard item says about one (user, rule, source).
type earnState struct {
	Exists      bool
	State       string
	Tokens      int64 // earned, before refunds
	ReleaseAt   time.Time
	AmountCents int64                 // a purchase's price (0: unknown)
	Refunds     map[string]refundSeen // a purchase's refunds counted, by id
	Cancelled   int64                 // of Tokens, taken back by refunds
	Released    bool                  // cancelled after its tokens were released
	Version     int64
}

// Remaining is what the earning still gives: the tokens earned less those refunds took back.
func (g earnState) Remaining() int64 { return g.Tokens - g.Cancelled }

// earner applies the earning rules: earnings (learning events, other areas' facts), refunds'
// cancellations and clawbacks, and the release job. It posts through the ledger (poster: the clock
// and the Ledger port) and keeps each earning's guard and daily caps through EarnGuards.
type earner struct {
	poster
	guards EarnGuards
	// st is the platform's records: a learning event counts its learner as active (licensing).
	st *store.Store
	// fn is the function's name (the rejected-messages metric).
	fn string
}

func (er earner) earnState(ctx context.Context, userID, rule, sourceID string) (earnState, earnItem, error) {
	it, found, err := er.guards.Guard(ctx, userID, rule, sourceID)
	if err != nil || !found {
		return earnState{}, earnItem{}, err
	}
	return earnState{Exists: true, State: it.State, Tokens: it.Tokens, ReleaseAt: it.ReleaseAt, AmountCents: it.AmountCents,
		Refunds: it.Refunds, Cancelled: it.Cancelled, Released: it.Released, Version: it.Version}, it, nil
}

// Earn credits an earning once per (user, rule, source), within the rule's daily cap; a pending
// rule's tokens wait for ReleaseAt. Replays, concurrent deliveries and capped earnings change
// nothing.
func (er earner) Earn(ctx context.Context, e Earning) (Outcome, Entry, error) {
	r, ok := Rules[e.Rule]
	if !ok || e.UserID == "" || e.SourceID == "" {
		return "", Entry{}, apperr.New(apperr.Invalid, "earning needs a known rule, a user and a source (rule %q)", e.Rule)
	}
	tokens := e.Tokens
	if tokens == 0 {
		tokens = r.Tokens
	}
	if tokens <= 0 {
		return OutIgnored, Entry{}, nil
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = er.clk.Now()
	}
	for attempt := 1; ; attempt++ {
		out, entry, err := er.earnOnce(ctx, e, r, tokens)
		var only guardOnly
		if !errors.As(err, &only) {
			return out, entry, err
		}
		err = er.guards.WriteGuard(ctx, *only.w.Guard)
		if store.IsConditionFailed(err) && attempt < postAttempts {
			continue // the guard moved (a refund, a redelivery): decide again
		}
		return out, Entry{}, err
	}
}

// earnOnce is one planning of Earn; a guardOnly error asks the caller to write just the guard.
func (er earner) earnOnce(ctx context.Context, e Earning, r Rule, tokens int64) (Outcome, Entry, error) {
	guardKey := store.TokenEarnKey(e.UserID, e.Rule, e.SourceID)
	out := OutEarned
	_, entry, err := er.Post(ctx, e.UserID, func(ctx context.Context, a Account) (Plan, error) {
		g, read, err := er.earnState(ctx, e.UserID, e.Rule, e.SourceID)
		if err != nil {
			return Plan{}, err
		}
		if g.Exists && g.State == EarnAwaiting {
			// Refunds came first: the purchase earns what they leave.
			return er.planAfterRefunds(g, read, e, tokens, a.Seq+1, &out)
		}
		var capped int64
		var extras []Extra
		var addCap func(int64) Extra
		if r.DailyCap > 0 && !g.Exists {
			if addCap, capped, err = er.capCounter(ctx, e.UserID, r.ID, Day(e.OccurredAt)); err != nil {
				return Plan{}, err
			}
		}
		c, state, o := planEarning(r, tokens, g, capped)
		if out = o; state == "" {
			return Plan{}, ErrNoop
		}
		if addCap != nil {
			extras = append(extras, addCap(c.Delta+c.PendingDelta))
		}
		now := er.clk.Now()
		c.SourceID, c.Actor = e.SourceID, e.Actor
		guard := earnItem{PK: guardKey.PK, SK: guardKey.SK, Type: "token-earning", UserID: e.UserID, Rule: r.ID,
			SourceID: e.SourceID, State: state, Tokens: c.Delta + c.PendingDelta, EntrySeq: a.Seq + 1, At: now, UpdatedAt: now,
			AmountCents: e.AmountCents}
		if state == EarnPending {
			guard.ReleaseAt = e.ReleaseAt.UTC()
			guard.GSI2PK, guard.GSI2SK = store.TokenPendingGSI2(e.ReleaseAt, e.UserID, r.ID, e.SourceID)
		}
		x, err := guardPut(guard, g)
		if err != nil {
			return Plan{}, err
		}
		// A concurrent delivery of the same source won: this one is its duplicate.
		x.Fail = func(context.Context) error { out = OutDuplicate; return ErrNoop }
		return Plan{Change: c, Extras: append(extras, x)}, nil
	})
	if err == ErrNoop {
		logging.From(ctx).Info("earning changed nothing", "rule", e.Rule, "sourceId", e.SourceID, "outcome", out)
		return out, Entry{}, nil
	}
	return out, entry, err
}

// planEarning is the earning policy: what an occurrence of rule r worth tokens does, given what
// the guard of its (user, rule, source) says and what the user already earned by r today. An empty
// state means nothing changes (a duplicate, or the daily cap is reached).
func planEarning(r Rule, tokens int64, g earnState, earnedToday int64) (Change, string, Outcome) {
	if g.Exists {
		return Change{}, "", OutDuplicate
	}
	grant := CapGrant(r, tokens, earnedToday)
	switch {
	case grant <= 0:
		return Change{}, "", OutCapped
	case r.Pending:
		return Change{Kind: KindPending, Rule: r.ID, PendingDelta: grant}, EarnPending, OutPending
	}
	return Change{Kind: KindEarn, Rule: r.ID, Delta: grant, Earned: grant}, EarnEarned, OutEarned
}

// decideRelease: a pending earning whose window ended at or before now becomes available.
func decideRelease(g earnState, rule, sourceID string, now time.Time) (Change, Outcome) {
	switch {
	case !g.Exists || g.State != EarnPending:
		return Change{}, OutDuplicate
	case now.Before(g.ReleaseAt):
		return Change{}, OutIgnored
	}
	left := g.Remaining() // what partial refunds left of it
	return Change{Kind: KindRelease, Rule: rule, SourceID: sourceID, Actor: "system:scheduler",
		Delta: left, PendingDelta: -left, Earned: left}, OutReleased
}

// capKeep is how long a day's cap counter is kept after the day.
const capKeep = 8 * 24 * time.Hour

// capCounter reads what the user earned by rule on day and returns the write that adds a grant to
// it, conditioned on the value read (a concurrent earning makes Post plan again).
func (er earner) capCounter(ctx context.Context, userID, rule, day string) (func(int64) Extra, int64, error) {
	earned, exists, err := er.guards.Cap(ctx, userID, rule, day)
	if err != nil {
		return nil, 0, err
	}
	return func(grant int64) Extra {
		return Extra{Write: Write{Cap: &CapWrite{UserID: userID, Rule: rule, Day: day, Exists: exists, Read: earned,
			Earned: earned + grant}}}
	}, earned, nil
}

// Release makes one pending earning available if it still is pending (the release job; safe to
// run twice).
func (er earner) Release(ctx context.Context, userID, rule, sourceID string) (Outcome, Entry, error) {
	out := OutReleased
	_, entry, err := er.Post(ctx, userID, func(ctx context.Context, a Account) (Plan, error) {
		g, it, err := er.earnState(ctx, userID, rule, sourceID)
		if err != nil {
			return Plan{}, err
		}
		c, o := decideRelease(g, rule, sourceID, er.clk.Now())
		if out = o; o != OutReleased {
			return Plan{}, ErrNoop
		}
		// Over the guard's version: a refund and the release racing on it, exactly one wins and the
		// other plans again from what it did.
		it.State, it.UpdatedAt, it.GSI2PK, it.GSI2SK = EarnReleased, er.clk.Now(), "", ""
		x, err := guardPut(it, g)
		if err != nil {
			return Plan{}, err
		}
		extras := []Extra{x}
		if a.ErasedAs != "" {
			// An erased person's pending tokens are forfeited when their refund window ends,
			// never released (privacy_erase.go): the erasure forfeited what was available.
			c, extras = forfeitAtRelease(a, c, extras)
		}
		return Plan{Change: c, Extras: extras}, nil
	})
	if err == ErrNoop {
		return out, Entry{}, nil
	}
	return out, entry, err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
