package rewards

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
	"github.com/liberation/monetization/shared/store"
)

// ErrNoop is what a plan returns when the movement was already made (a replayed event) or earns
// nothing: Post then writes nothing and returns it.
var ErrNoop = errors.New("nothing to do")

// Extra is a transaction item a plan adds to the account's write (a guard, a redemption, an audit
// record). When its condition fails, Fail says why (a 409 for the caller); a nil Fail means the
// item changed under us and the whole movement is planned again from fresh reads.
type Extra struct {
	Item types.TransactWriteItem
	Fail func(ctx context.Context) error
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

// Post applies the movement plan(account) to userID's account: the account item over the version
// read, its ledger entry, the scores and histograms of the boards, the token metrics and the plan's
// extras, in one TransactWriteItems. It returns the account after the movement and its entry.
func (d *Deps) Post(ctx context.Context, userID string, plan func(context.Context, Account) (Plan, error)) (Account, Entry, error) {
	for attempt := 1; ; attempt++ {
		a, err := d.Account(ctx, userID)
		if err != nil {
			return a, Entry{}, err
		}
		p, err := plan(ctx, a)
		if err != nil {
			return a, Entry{}, err
		}
		now := d.Clock.Now()
		n, e, err := a.Apply(p.Change, now)
		if err != nil {
			return a, Entry{}, err
		}
		n.WriteID = writeID()
		if e.Seq != 0 {
			e.ID = ids.New("tok", now)
		}
		items, err := d.transaction(a, n, e, now)
		if err != nil {
			return a, Entry{}, err
		}
		fails := make([]func(context.Context) error, len(items), len(items)+len(p.Extras))
		for _, x := range p.Extras {
			items = append(items, x.Item)
			fails = append(fails, x.Fail)
		}
		err = d.Store.Transact(ctx, items)
		if err == nil || d.ownWrite(ctx, err, n) {
			return n, e, nil
		}
		retry := store.IsTransactionConflict(err)
		for _, i := range store.FailedItems(err) {
			if i < len(fails) && fails[i] != nil {
				return a, Entry{}, fails[i](ctx)
			}
			retry = true // the account or a counter moved: plan again
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
func (d *Deps) ownWrite(ctx context.Context, err error, n Account) bool {
	if !store.IsConditionFailed(err) {
		return false
	}
	cur, rErr := d.Account(ctx, n.UserID)
	return rErr == nil && cur.Version == n.Version && cur.WriteID == n.WriteID
}

// writeID is a random token naming one write attempt.
func writeID() string {
	b := make([]byte, 12)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// pause backs off before planning again, with jitter so that racing writers spread out.
func pause(ctx context.Context, attempt int) error {
	d := time.Duration(rand.IntN(5*attempt)+1) * time.Millisecond
	select {
	case <-ctx.Done():
		return apperr.Wrap(ctx.Err(), apperr.Unavailable, "interrupted")
	case <-time.After(d):
		return nil
	}
}

// Account reads a user's account (strongly consistent); a user who never earned has the zero account.
func (d *Deps) Account(ctx context.Context, userID string) (Account, error) {
	var it accountItem
	err := d.Store.GetConsistent(ctx, store.TokenAccountKey(userID), &it)
	if apperr.Is(err, apperr.NotFound) {
		return Account{UserID: userID}, nil
	}
	if err != nil {
		return Account{}, err
	}
	return it.account(), nil
}

// transaction is the account's part of a movement from a to n: the account itself (index 0, over
// the version read), the entry, and what follows from the account (scores, histograms, metrics).
func (d *Deps) transaction(a, n Account, e Entry, now time.Time) ([]types.TransactWriteItem, error) {
	acct, err := store.Marshal(n.item())
	if err != nil {
		return nil, err
	}
	put := &types.Put{Item: acct}
	if a.Version == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		put.ConditionExpression = aws.String("version = :v")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": store.N(a.Version)}
	}
	items := []types.TransactWriteItem{{Put: put}}
	if e.Seq != 0 {
		entry, err := store.Marshal(e.item())
		if err != nil {
			return nil, err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{Item: entry,
			ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	}
	for _, p := range []leaderboard.Period{leaderboard.Week, leaderboard.All} {
		board, err := boardItems(a, n, p, now)
		if err != nil {
			return nil, err
		}
		items = append(items, board...)
	}
	return store.Append(items, metricItems(e, leaderboard.ShardOf(n.UserID))...), nil
}

// onBoard: a player shows on the global board with a positive score unless opted out.
func onBoard(a Account, score int64) bool { return !a.OptOut && score > 0 }

// Score items are kept for some weeks after their week (friends' history); the all-time one forever.
const weekScoreKeep = 8 * 7 * 24 * time.Hour

// boardItems writes the player's score item for period p and moves them between histogram buckets
// when their score or presence on the board changed.
func boardItems(a, n Account, p leaderboard.Period, now time.Time) ([]types.TransactWriteItem, error) {
	oldScore, newScore := a.Score(p, now), n.Score(p, now)
	changed := oldScore != newScore || a.DisplayName != n.DisplayName || a.OptOut != n.OptOut
	if !changed || (oldScore == 0 && newScore == 0) {
		return nil, nil
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
	item, err := store.Marshal(si)
	if err != nil {
		return nil, err
	}
	out := []types.TransactWriteItem{{Put: &types.Put{Item: item}}}
	moves := leaderboard.Moves(oldScore, onBoard(a, oldScore), newScore, onBoard(n, newScore))
	if len(moves) > 0 {
		deltas := map[string]int64{}
		for b, c := range moves {
			deltas[leaderboard.BucketAttr(b)] = c
		}
		out = store.Append(out, store.AddCounters(store.LeaderboardHistogramKey(GlobalScope, board, shard), deltas))
	}
	return out, nil
}

// GlobalScope names the global board in index keys.
const GlobalScope = "global"

// Token metric counters (TOKMETRICS items; GET /admin/tokens/metrics).
const (
	CtrIssued           = "issued"           // credited to balances: earnings, releases, grants
	CtrPendingEarned    = "pendingEarned"    // earned as pending
	CtrPendingCancelled = "pendingCancelled" // pending cancelled by refunds
	CtrDeducted         = "deducted"         // taken back: deductions and clawbacks
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

// metricItems counts an entry in the day's counters and the gauges, in the user's shard.
func metricItems(e Entry, shard int) []*types.TransactWriteItem {
	if e.Seq == 0 {
		return nil
	}
	day := map[string]int64{}
	for k, v := range balanceCounts(e) {
		day[k] = v
	}
	if e.PendingDelta > 0 {
		day[CtrPendingEarned] = e.PendingDelta
	}
	if e.Kind == KindCancel {
		day[CtrPendingCancelled] = -e.PendingDelta
	}
	if e.Kind == KindHold {
		day[CtrHeldNew] = e.HeldDelta
	}
	gauges := map[string]int64{GaugeOutstanding: e.Delta, GaugeHeld: e.HeldDelta, GaugePending: e.PendingDelta}
	return []*types.TransactWriteItem{
		store.AddCounters(store.TokenMetricsDayKey(Day(e.At), shard), day),
		store.AddCounters(store.TokenMetricsCurrentKey(shard), gauges),
	}
}
