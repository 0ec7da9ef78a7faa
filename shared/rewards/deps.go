package rewards

import (
	"context"
	"log/slog"
	"time"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
	"github.com/liberation/monetization/shared/store"
)

// Deps is the area's production wiring, built per function from its runtime: the clock, the
// ports and the function's name, from which each route, consumer and job builds the one type of
// rules it runs, on only the ports that type uses (docs/decisions/0072):
//
//   - poster (post.go): the ledger — posting movements, adjustments, profile changes, balances;
//     the clock and Ledger.
//   - earner (earn.go, sources.go, refunds.go, jobs.go): earning rules, learning events and facts,
//     refunds' cancellations and clawbacks, the release job; a poster, EarnGuards, the store
//     (active learners) and the function's name (metrics).
//   - workflow (redemptions.go, transition.go): the redemption desk — create, read, list, cancel,
//     transitions and claims; a poster and Redemptions.
//   - boards (boards.go, social.go): leaderboard and friends reads; Boards and Social.
//
// Business time comes from Clock (a fake one in tests: week boundaries, daily caps, refund
// windows). A port left nil is the DynamoDB repository over Store, so a Deps built from a store
// alone (benchmarks, other areas' tests) still works. The exported Handle<Route>(fn, *Deps) and
// RunReleasePendingTokens take a Deps and build their type from it; the few exported methods left
// on Deps (below) delegate to those types for other packages (rewards/redeem, the e2e benchmarks).
type Deps struct {
	Clock clock.Clock
	// Store is the platform's records the frame and other areas read through it (idempotency
	// records, branding, activity); the area's own items go through the ports.
	Store *store.Store
	Log   *slog.Logger
	// Fn is the function's name (audit request ids, metrics).
	Fn string
	// Claims records the Idempotency-Key routes' requests; nil: Store.
	Claims idempotency.Store

	Ledger      Ledger
	Guards      EarnGuards
	Boards      Boards
	Redemptions Redemptions
	History     History
	Social      Social
	Metrics     Metrics
}

// NewDeps builds Deps for the runtime's function.
func NewDeps(rt *platform.Runtime) *Deps {
	s := store.Open(rt)
	return (&Deps{Clock: rt.Clock, Store: s, Log: rt.Log, Fn: rt.Fn.Name}).With(NewRepo(s))
}

// poster is the ledger over the Deps' clock and Ledger port.
func (d *Deps) poster() poster { return poster{clk: d.Clock, l: d.ledger()} }

// earner is the earning rules over the Deps' ports.
func (d *Deps) earner() earner {
	return earner{poster: d.poster(), guards: d.guards(), st: d.Store, fn: d.Fn}
}

// workflow is the redemption desk over the Deps' ports.
func (d *Deps) workflow() workflow { return workflow{poster: d.poster(), reds: d.redemptions()} }

// leaderboards is the board reads over the Deps' ports.
func (d *Deps) leaderboards() boards { return boards{b: d.boards(), s: d.social()} }

// What other packages call on a Deps: rewards/redeem (its approve, fulfil and reject routes, its
// e-mails and its tests) the redemption desk's and the ledger's methods, the end-to-end board
// benchmarks (infra/local/e2e) the global board's reads.

// GlobalTop is boards.GlobalTop.
func (d *Deps) GlobalTop(ctx context.Context, board string, k int) ([]leaderboard.Ranked, ReadStats, error) {
	return d.leaderboards().GlobalTop(ctx, board, k)
}

// PlayersAhead is boards.PlayersAhead.
func (d *Deps) PlayersAhead(ctx context.Context, board string, score int64) (int, bool, ReadStats, error) {
	return d.leaderboards().PlayersAhead(ctx, board, score)
}

// Post is poster.Post (redeem's tests fund accounts with it).
func (d *Deps) Post(ctx context.Context, userID string, plan func(context.Context, Account) (Plan, error)) (Account, Entry, error) {
	return d.poster().Post(ctx, userID, plan)
}

// Account is poster.Account (redeem's tests read balances with it).
func (d *Deps) Account(ctx context.Context, userID string) (Account, error) {
	return d.poster().Account(ctx, userID)
}

// CreateRedemption is workflow.CreateRedemption.
func (d *Deps) CreateRedemption(ctx context.Context, userID, email string, q RedemptionRequest, requestID string) (Redemption, error) {
	return d.workflow().CreateRedemption(ctx, userID, email, q, requestID)
}

// GetRedemption is workflow.GetRedemption.
func (d *Deps) GetRedemption(ctx context.Context, userID, id string) (Redemption, error) {
	return d.workflow().GetRedemption(ctx, userID, id)
}

// RedemptionByID is workflow.RedemptionByID.
func (d *Deps) RedemptionByID(ctx context.Context, id string) (Redemption, error) {
	return d.workflow().RedemptionByID(ctx, id)
}

// UpdateRedemption is workflow.UpdateRedemption.
func (d *Deps) UpdateRedemption(ctx context.Context, red Redemption, change func(*Redemption)) (Redemption, error) {
	return d.workflow().UpdateRedemption(ctx, red, change)
}

// Transition is workflow.Transition.
func (d *Deps) Transition(ctx context.Context, red Redemption, act Action, actor, requestID string, change func(*Redemption)) (Redemption, error) {
	return d.workflow().Transition(ctx, red, act, actor, requestID, change)
}

// Claim is workflow.Claim.
func (d *Deps) Claim(ctx context.Context, red Redemption, act Action, actor, requestID string, lease time.Duration, change func(*Redemption)) (Redemption, error) {
	return d.workflow().Claim(ctx, red, act, actor, requestID, lease, change)
}

// With wires every port to r.
func (d *Deps) With(r Repo) *Deps {
	d.Ledger, d.Guards, d.Boards, d.Redemptions, d.History, d.Social, d.Metrics = r, r, r, r, r, r, r
	return d
}

func (d *Deps) ledger() Ledger {
	if d.Ledger == nil {
		return NewRepo(d.Store)
	}
	return d.Ledger
}

func (d *Deps) guards() EarnGuards {
	if d.Guards == nil {
		return NewRepo(d.Store)
	}
	return d.Guards
}

func (d *Deps) boards() Boards {
	if d.Boards == nil {
		return NewRepo(d.Store)
	}
	return d.Boards
}

func (d *Deps) redemptions() Redemptions {
	if d.Redemptions == nil {
		return NewRepo(d.Store)
	}
	return d.Redemptions
}

func (d *Deps) history() History {
	if d.History == nil {
		return NewRepo(d.Store)
	}
	return d.History
}

func (d *Deps) social() Social {
	if d.Social == nil {
		return NewRepo(d.Store)
	}
	return d.Social
}

func (d *Deps) metrics() Metrics {
	if d.Metrics == nil {
		return NewRepo(d.Store)
	}
	return d.Metrics
}

func (d *Deps) claims() idempotency.Store {
	if d.Claims == nil {
		return d.Store
	}
	return d.Claims
}
