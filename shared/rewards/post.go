package rewards

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
	"github.com/liberation/monetization/shared/store"
)

// ErrNoop is what a plan returns when the movement was already made (a replayed event) or earns
// nothing: Post then writes nothing and returns it.
var ErrNoop = errors.New("nothing to do")

// Extra is a write a plan adds to the account's movement (a guard, a cap, a redemption, an audit
// record). When its condition fails, Fail says why (a 409 for the caller); a nil Fail means the
// item changed under us and the whole movement is planned again from fresh reads.
type Extra struct {
	Write Write
	Fail  func(ctx context.Context) error
}

// Plan is a movement planned from the account as read.
type Plan struct {
	Change Change
	Extras []Extra
}

// postAttempts bounds how often a movement is planned again after another write to the same
// account won the race. Each loss means another movement of this user committed; a burst of
// concurrent requests settles in a few rounds.
const postAttempts = 12

// poster is the ledger's writer: it posts movements and reads balances, with the clock and the
// Ledger port only. Adjustments and profile changes post with it; earner and workflow build on it.
type poster struct {
	clk clock.Clock
	l   Ledger
}

// Post applies the movement plan(account) to userID's account: the account item over the version
// read, its ledger entry, the scores and histograms of the boards, the token metrics and the plan's
// extras, in one TransactWriteItems. It returns the account after the movement and its entry.
func (p poster) Post(ctx context.Context, userID string, plan func(context.Context, Account) (Plan, error)) (Account, Entry, error) {
	for attempt := 1; ; attempt++ {
		a, err := p.l.Account(ctx, userID)
		if err != nil {
			return a, Entry{}, err
		}
		pl, err := plan(ctx, a)
		if err != nil {
			return a, Entry{}, err
		}
		now := p.clk.Now()
		n, e, err := a.Apply(pl.Change, now)
		if err != nil {
			return a, Entry{}, err
		}
		n.WriteID = writeID()
		if e.Seq != 0 {
			e.ID = ids.New("tok", now)
		}
		m := Movement{From: a, To: n, Entry: e, At: now}
		for _, x := range pl.Extras {
			m.Writes = append(m.Writes, x.Write)
		}
		err = p.l.Commit(ctx, m)
		if err == nil || p.ownWrite(ctx, err, n) {
			emitTokens(ctx, e)
			return n, e, nil
		}
		retry := store.IsTransactionConflict(err) || store.IsConditionFailed(err)
		var wf *WriteFailed
		if errors.As(err, &wf) {
			for _, i := range wf.Writes {
				if i < len(pl.Extras) && pl.Extras[i].Fail != nil {
					return a, Entry{}, pl.Extras[i].Fail(ctx)
				}
			}
		}
		if !retry {
			return a, Entry{}, err
		}
		if attempt == postAttempts {
			return a, Entry{}, apperr.Wrap(err, apperr.Conflict, "too many concurrent changes to this account; retry")
		}
		if err := pause(ctx, attempt); err != nil {
			return a, Entry{}, err
		}
	}
}

// ownWrite reports whether a transaction refused on its conditions had in fact committed: the SDK
// retries a request whose answer it lost (a timeout, a 5xx), and the retry then fails the version
// condition its own first attempt satisfied. The account then carries exactly the version and
// write id this attempt wrote (random per attempt: concurrent writers that read the same version
// at the same instant still differ).
func (p poster) ownWrite(ctx context.Context, err error, n Account) bool {
	if !store.IsConditionFailed(err) {
		return false
	}
	cur, rErr := p.l.Account(ctx, n.UserID)
	return rErr == nil && cur.Version == n.Version && cur.WriteID == n.WriteID
}

// writeID is a random token naming one write attempt.
func writeID() string {
	b := make([]byte, 12)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// pause backs off before planning again: store.Backoff, the one back-off formula.
func pause(ctx context.Context, attempt int) error {
	if err := store.Backoff(ctx, attempt); err != nil {
		return apperr.Wrap(err, apperr.Unavailable, "interrupted")
	}
	return nil
}

// Account reads a user's account (strongly consistent); a user who never earned has the zero account.
func (p poster) Account(ctx context.Context, userID string) (Account, error) {
	return p.l.Account(ctx, userID)
}

// onBoard: a player shows on the global board with a positive score unless opted out.
func onBoard(a Account, score int64) bool { return !a.OptOut && score > 0 }

// Score items are kept for some weeks after their week (friends' history); the all-time one forever.
const weekScoreKeep = 8 * 7 * 24 * time.Hour

// boardChange is a player's score item for one period and, when their score or presence on the
// global board changed, the moves between histogram buckets (attribute → delta) in their shard.
type boardChange struct {
	Score   scoreItem
	Shard   int
	Buckets map[string]int64
}

// boardChanges is what a movement from a to n changes on the boards (week and all-time).
func boardChanges(a, n Account, now time.Time) []boardChange {
	var out []boardChange
	for _, p := range []leaderboard.Period{leaderboard.Week, leaderboard.All} {
		if b, ok := boardChangeOf(a, n, p, now); ok {
			out = append(out, b)
		}
	}
	return out
}

func boardChangeOf(a, n Account, p leaderboard.Period, now time.Time) (boardChange, bool) {
	oldScore, newScore := a.Score(p, now), n.Score(p, now)
	changed := oldScore != newScore || a.DisplayName != n.DisplayName || a.OptOut != n.OptOut
	if !changed || (oldScore == 0 && newScore == 0) {
		return boardChange{}, false
	}
	board := leaderboard.Key(p, now)
	reached := n.AllReachedAt
	si := scoreItem{Type: "leaderboard-score", UserID: n.UserID, Board: board, DisplayName: n.DisplayName,
		OptOut: n.OptOut, Score: newScore}
	if p == leaderboard.Week {
		reached = n.WeekReachedAt
		si.ExpiresAt = leaderboard.WeekStart(now).Add(weekScoreKeep).Unix()
	}
	si.ReachedAt = reached
	k := store.LeaderboardScoreKey(n.UserID, board)
	si.PK, si.SK = k.PK, k.SK
	shard := leaderboard.ShardOf(n.UserID)
	if onBoard(n, newScore) {
		si.GSI2PK, si.GSI2SK = store.LeaderboardShardGSI2(GlobalScope, board, shard, leaderboard.SortKey(newScore, reached, n.UserID))
	}
	b := boardChange{Score: si, Shard: shard}
	for bucket, c := range leaderboard.Moves(oldScore, onBoard(a, oldScore), newScore, onBoard(n, newScore)) {
		if b.Buckets == nil {
			b.Buckets = map[string]int64{}
		}
		b.Buckets[leaderboard.BucketAttr(bucket)] = c
	}
	return b, true
}

// GlobalScope names the global board in index keys.
const GlobalScope = "global"

// Token metric counters (TOKMETRICS items; GET /admin/tokens/metrics).
const (
	CtrIssued           = "issued"           // credited to balances: earnings, releases, grants
	CtrPendingEarned    = "pendingEarned"    // earned as pending
	CtrPendingCancelled = "pendingCancelled" // pending cancelled by refunds (or forfeited: erasure)
	CtrDeducted         = "deducted"         // taken back: deductions, clawbacks and forfeitures (erasure)
	CtrRedeemed         = "redeemed"         // spent on fulfilled redemptions
	CtrHeldNew          = "heldNew"          // held for new redemptions
	GaugeOutstanding    = "outstanding"      // Σ balances: the liability
	GaugeHeld           = "held"             // Σ held
	GaugePending        = "pending"          // Σ pending
)

// balanceCounts is how an entry's change of balance counts: spent (redeemed), or credited
// (issued) and taken back (deducted). A repayment of what was owed is a deduction of its own, so an
// earning of 50 that repays 30 counts 50 issued and 30 deducted (its delta is +20), and
// issued − redeemed − deducted stays the sum of the balances.
func balanceCounts(e Entry) map[string]int64 {
	out := map[string]int64{}
	if e.Kind == KindRedeem {
		out[CtrRedeemed] = -e.Delta
		return out
	}
	repaid := max(-e.OwedDelta, 0)
	switch gross := e.Delta + repaid; {
	case gross > 0:
		out[CtrIssued] = gross
	case gross < 0:
		repaid -= gross
	}
	if repaid > 0 {
		out[CtrDeducted] = repaid
	}
	return out
}

// metricDeltas is how an entry counts in the day's counters and the gauges (nil: no entry).
func metricDeltas(e Entry) (day, gauges map[string]int64) {
	if e.Seq == 0 {
		return nil, nil
	}
	day = map[string]int64{}
	for k, v := range balanceCounts(e) {
		day[k] = v
	}
	if e.PendingDelta > 0 {
		day[CtrPendingEarned] = e.PendingDelta
	}
	if e.Kind == KindCancel || e.Kind == KindForfeit && e.PendingDelta < 0 {
		day[CtrPendingCancelled] = -e.PendingDelta
	}
	if e.Kind == KindHold {
		day[CtrHeldNew] = e.HeldDelta
	}
	return day, map[string]int64{GaugeOutstanding: e.Delta, GaugeHeld: e.HeldDelta, GaugePending: e.PendingDelta}
}

// emitTokens reports a committed entry as the business metrics TokensIssued and TokensRedeemed (the
// same amounts as the issued / redeemed counters, balanceCounts) and TokensClawedBack (what a
// clawback took back, debt included). Called once per committed movement, never for a planned one
// that lost its race.
func emitTokens(ctx context.Context, e Entry) {
	log := logging.From(ctx)
	c := balanceCounts(e)
	for _, x := range []struct {
		name string
		v    int64
	}{{metric.TokensIssued, c[CtrIssued]}, {metric.TokensRedeemed, c[CtrRedeemed]}} {
		if x.v > 0 {
			metric.Record(ctx, log, metric.Point{Name: x.name, Unit: metric.Count, Value: x.v})
		}
	}
	if e.Kind == KindClawback && e.Earned < 0 {
		metric.Record(ctx, log, metric.Point{Name: metric.TokensClawedBack, Unit: metric.Count, Value: -e.Earned})
	}
}
