package rewards

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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
	Actor     string
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
)

// earnState is what the guard item says about one (user, rule, source).
type earnState struct {
	Exists    bool
	State     string
	Tokens    int64
	ReleaseAt time.Time
}

func (d *Deps) earnState(ctx context.Context, k store.Key) (earnState, earnItem, error) {
	var it earnItem
	err := d.Store.GetConsistent(ctx, k, &it)
	if apperr.Is(err, apperr.NotFound) {
		return earnState{}, it, nil
	}
	if err != nil {
		return earnState{}, it, err
	}
	return earnState{Exists: true, State: it.State, Tokens: it.Tokens, ReleaseAt: it.ReleaseAt}, it, nil
}

// Earn credits an earning once per (user, rule, source), within the rule's daily cap; a pending
// rule's tokens wait for ReleaseAt. Replays, concurrent deliveries and capped earnings change
// nothing.
func (d *Deps) Earn(ctx context.Context, e Earning) (Outcome, Entry, error) {
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
		e.OccurredAt = d.Clock.Now()
	}
	guardKey := store.TokenEarnKey(e.UserID, e.Rule, e.SourceID)
	out := OutEarned
	_, entry, err := d.Post(ctx, e.UserID, func(ctx context.Context, a Account) (Plan, error) {
		g, _, err := d.earnState(ctx, guardKey)
		if err != nil {
			return Plan{}, err
		}
		var capped int64
		var extras []Extra
		var addCap func(int64) Extra
		if r.DailyCap > 0 && !g.Exists {
			if addCap, capped, err = d.capCounter(ctx, e.UserID, r.ID, Day(e.OccurredAt)); err != nil {
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
		now := d.Clock.Now()
		c.SourceID, c.Actor = e.SourceID, e.Actor
		guard := earnItem{PK: guardKey.PK, SK: guardKey.SK, Type: "token-earning", UserID: e.UserID, Rule: r.ID,
			SourceID: e.SourceID, State: state, Tokens: c.Delta + c.PendingDelta, EntrySeq: a.Seq + 1, At: now, UpdatedAt: now}
		if state == EarnPending {
			guard.ReleaseAt = e.ReleaseAt.UTC()
			guard.GSI2PK, guard.GSI2SK = store.TokenPendingGSI2(e.ReleaseAt, e.UserID, r.ID, e.SourceID)
		}
		item, err := store.Marshal(guard)
		if err != nil {
			return Plan{}, err
		}
		extras = append(extras, Extra{
			Item: types.TransactWriteItem{Put: &types.Put{Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
			// A concurrent delivery of the same source won: this one is its duplicate.
			Fail: func(context.Context) error { out = OutDuplicate; return ErrNoop },
		})
		return Plan{Change: c, Extras: extras}, nil
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
	return Change{Kind: KindRelease, Rule: rule, SourceID: sourceID, Actor: "system:scheduler",
		Delta: g.Tokens, PendingDelta: -g.Tokens, Earned: g.Tokens}, OutReleased
}

// capCounter reads what the user earned by rule on day and returns the transaction item that adds
// a grant to it, conditioned on the value read (a concurrent earning makes Post plan again).
func (d *Deps) capCounter(ctx context.Context, userID, rule, day string) (func(int64) Extra, int64, error) {
	k := store.TokenCapKey(userID, rule, day)
	var c capItem
	err := d.Store.GetConsistent(ctx, k, &c)
	exists := err == nil
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return nil, 0, err
	}
	expires, _ := time.Parse("2006-01-02", day)
	return func(grant int64) Extra {
		upd := &types.Update{
			Key:                      k.Item(),
			UpdateExpression:         aws.String("SET #t = :t, earned = :new, expiresAt = :exp"),
			ExpressionAttributeNames: map[string]string{"#t": "type"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":t": store.S("token-cap"), ":new": store.N(c.Earned + grant),
				":exp": store.N(expires.Add(8 * 24 * time.Hour).Unix()),
			},
			ConditionExpression: aws.String("attribute_not_exists(PK)"),
		}
		if exists {
			upd.ConditionExpression = aws.String("earned = :old")
			upd.ExpressionAttributeValues[":old"] = store.N(c.Earned)
		}
		return Extra{Item: types.TransactWriteItem{Update: upd}}
	}, c.Earned, nil
}

// Refund applies a refund of the purchase sourceID (rule course.purchased) made at refundedAt:
// inside the refund window, pending tokens are cancelled, or — if they were already released
// because the refund was learnt late — taken back as far as the available tokens allow. A refund
// that arrives before its purchase leaves a cancelled guard, so the purchase earns nothing.
func (d *Deps) Refund(ctx context.Context, userID, sourceID string, refundedAt time.Time) (Outcome, Entry, error) {
	guardKey := store.TokenEarnKey(userID, RuleCoursePurchased, sourceID)
	for range postAttempts {
		g, _, err := d.earnState(ctx, guardKey)
		if err != nil {
			return "", Entry{}, err
		}
		if !g.Exists {
			now := d.Clock.Now()
			err := d.Store.Put(ctx, earnItem{PK: guardKey.PK, SK: guardKey.SK, Type: "token-earning", UserID: userID,
				Rule: RuleCoursePurchased, SourceID: sourceID, State: EarnCancelled, At: now, UpdatedAt: now,
				Note: "refunded before the purchase was seen"}, "attribute_not_exists(PK)", nil, nil)
			if store.IsConditionFailed(err) {
				continue // the purchase arrived meanwhile: decide again
			}
			return OutCancelled, Entry{}, err
		}
		break
	}
	out := OutIgnored
	_, entry, err := d.Post(ctx, userID, func(ctx context.Context, a Account) (Plan, error) {
		g, _, err := d.earnState(ctx, guardKey)
		if err != nil {
			return Plan{}, err
		}
		c, state, o := decideRefund(g, refundedAt, a.Available)
		out = o
		if state == "" {
			return Plan{}, ErrNoop
		}
		c.Rule, c.SourceID, c.Actor = RuleCoursePurchased, sourceID, "system:facts"
		return Plan{Change: c, Extras: []Extra{guardMove(guardKey, g.State, state, d.Clock.Now())}}, nil
	})
	if err == ErrNoop {
		return out, Entry{}, nil
	}
	return out, entry, err
}

// decideRefund is the refund policy: what a refund at refundedAt does to a purchase earning in
// state g when available tokens are available. An empty state means nothing changes.
func decideRefund(g earnState, refundedAt time.Time, available int64) (Change, string, Outcome) {
	inWindow := !refundedAt.After(g.ReleaseAt)
	switch {
	case g.State == EarnPending && inWindow:
		return Change{Kind: KindCancel, PendingDelta: -g.Tokens}, EarnCancelled, OutCancelled
	case g.State == EarnReleased && inWindow:
		take := min(g.Tokens, max(available, 0))
		c := Change{Kind: KindClawback, Delta: -take, Earned: -g.Tokens}
		if take < g.Tokens {
			c.Reason = "refund inside the window learnt after release; " +
				itoa(g.Tokens-take) + " tokens were already spent or held"
		}
		return c, EarnCancelled, OutClawback
	case g.State == EarnCancelled:
		return Change{}, "", OutDuplicate
	}
	return Change{}, "", OutIgnored // after the window: the tokens stay
}

// guardMove is the transaction item moving a guard from one state to another, conditioned on the
// state read (the release job and a refund race on it: exactly one wins). Leaving "pending" drops
// the guard from the release job's index.
func guardMove(k store.Key, from, to string, now time.Time) Extra {
	return Extra{Item: types.TransactWriteItem{Update: &types.Update{
		Key:                      k.Item(),
		UpdateExpression:         aws.String("SET #st = :to, updatedAt = :now REMOVE GSI2PK, GSI2SK"),
		ConditionExpression:      aws.String("#st = :from"),
		ExpressionAttributeNames: map[string]string{"#st": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":to": store.S(to), ":from": store.S(from), ":now": store.S(now.UTC().Format(time.RFC3339Nano)),
		},
	}}}
}

// Release makes one pending earning available if it still is pending (the release job; safe to
// run twice).
func (d *Deps) Release(ctx context.Context, userID, rule, sourceID string) (Outcome, Entry, error) {
	guardKey := store.TokenEarnKey(userID, rule, sourceID)
	out := OutReleased
	_, entry, err := d.Post(ctx, userID, func(ctx context.Context, a Account) (Plan, error) {
		g, _, err := d.earnState(ctx, guardKey)
		if err != nil {
			return Plan{}, err
		}
		c, o := decideRelease(g, rule, sourceID, d.Clock.Now())
		if out = o; o != OutReleased {
			return Plan{}, ErrNoop
		}
		return Plan{Change: c, Extras: []Extra{guardMove(guardKey, EarnPending, EarnReleased, d.Clock.Now())}}, nil
	})
	if err == ErrNoop {
		return out, Entry{}, nil
	}
	return out, entry, err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
