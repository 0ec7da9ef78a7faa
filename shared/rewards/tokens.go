package rewards

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// BalanceView is GET /tokens.
type BalanceView struct {
	Balance        int64  `json:"balance"`
	Held           int64  `json:"held"`
	Pending        int64  `json:"pending"`
	Available      int64  `json:"available"`
	Owed           int64  `json:"owed"` // taken back by a clawback but not yet paid: later earnings pay it first
	LifetimeEarned int64  `json:"lifetimeEarned"`
	EarnedThisWeek int64  `json:"earnedThisWeek"`
	Week           string `json:"week"`
}

func balanceView(a Account, now time.Time) BalanceView {
	return BalanceView{Balance: a.Balance, Held: a.Held, Pending: a.Pending, Available: a.Available, Owed: a.Owed,
		LifetimeEarned: a.LifetimeEarned, EarnedThisWeek: a.EarnedThisWeek(now), Week: weekOf(now)}
}

// EntryView is one ledger entry on the wire.
type EntryView struct {
	ID             string    `json:"id"`
	Seq            int64     `json:"seq"`
	Kind           Kind      `json:"kind"`
	Rule           string    `json:"rule,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	SourceID       string    `json:"sourceId,omitempty"`
	Delta          int64     `json:"delta"`
	HeldDelta      int64     `json:"heldDelta"`
	PendingDelta   int64     `json:"pendingDelta"`
	OwedDelta      int64     `json:"owedDelta"`
	BalanceAfter   int64     `json:"balanceAfter"`
	HeldAfter      int64     `json:"heldAfter"`
	PendingAfter   int64     `json:"pendingAfter"`
	AvailableAfter int64     `json:"availableAfter"`
	OwedAfter      int64     `json:"owedAfter"`
	CreatedAt      time.Time `json:"createdAt"`
}

func entryView(e Entry) EntryView {
	return EntryView{ID: e.ID, Seq: e.Seq, Kind: e.Kind, Rule: e.Rule, Reason: e.Reason, SourceID: e.SourceID,
		Delta: e.Delta, HeldDelta: e.HeldDelta, PendingDelta: e.PendingDelta, OwedDelta: e.OwedDelta,
		BalanceAfter: e.BalanceAfter, HeldAfter: e.HeldAfter, PendingAfter: e.PendingAfter, AvailableAfter: e.AvailableAfter,
		OwedAfter: e.OwedAfter, CreatedAt: e.At.UTC()}
}

func wireGetTokenBalance(w wiring) (httpapi.Lambda, error) {
	return HandleGetTokenBalance(w.rt.Fn, w.d), nil
}

// HandleGetTokenBalance serves GET /tokens.
func HandleGetTokenBalance(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, getTokenBalance(d.Clock, d.ledger()))
}

func getTokenBalance(clk clock.Clock, l Ledger) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		a, err := l.Account(ctx, r.Principal.UserID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(balanceView(a, clk.Now())), nil
	}
}

func wireListTokenTransactions(w wiring) (httpapi.Lambda, error) {
	return HandleListTokenTransactions(w.rt.Fn, w.d), nil
}

// HandleListTokenTransactions serves GET /tokens/transactions.
func HandleListTokenTransactions(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, listTokenTransactions(d.history()))
}

func listTokenTransactions(h History) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		return httpapi.ListPage(ctx, r, "transactions", listLimits,
			func(ctx context.Context, limit int32, cursor string) ([]Entry, string, error) {
				return h.Entries(ctx, r.Principal.UserID, limit, cursor)
			}, entryView)
	}
}

// AdjustmentRequest is the body of POST /admin/tokens/adjustments.
type AdjustmentRequest struct {
	UserID string `json:"userId"`
	Amount int64  `json:"amount"` // positive: grant; negative: deduction
	Reason string `json:"reason"`
}

// Validate checks the request.
func (q *AdjustmentRequest) Validate() error {
	switch {
	case !validID(q.UserID):
		return apperr.New(apperr.Invalid, "userId is required (at most %d characters, no '#')", maxIDLength)
	case q.Amount == 0 || q.Amount > MaxAdjustment || q.Amount < -MaxAdjustment:
		return apperr.New(apperr.Invalid, "amount must be a non-zero number of tokens from -%d to %d", MaxAdjustment, MaxAdjustment)
	}
	if err := CheckText("reason", q.Reason, 3, 200); err != nil {
		return err
	}
	q.Reason = strings.TrimSpace(q.Reason)
	return nil
}

func wireAdjustTokens(w wiring) (httpapi.Lambda, error) { return HandleAdjustTokens(w.rt.Fn, w.d), nil }

// HandleAdjustTokens serves POST /admin/tokens/adjustments: an audited grant or deduction. The
// caller's Idempotency-Key is also the adjustment's source id, so the same key never moves tokens
// twice, even after the replay window.
func HandleAdjustTokens(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.IdempotentRequired(d.claims(), fn.Name, adjustTokens(d.poster())))
}

func adjustTokens(p poster) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var q AdjustmentRequest
		if err := r.Decode(&q); err != nil {
			return httpapi.Response{}, err
		}
		admin := r.Principal.UserID
		source := "adj:" + admin + ":" + r.Header(httpapi.IdempotencyHeader)
		guardKey := store.TokenEarnKey(q.UserID, RuleAdminAdjustment, source)
		acct, entry, err := p.Post(ctx, q.UserID, func(ctx context.Context, a Account) (Plan, error) {
			now := p.clk.Now()
			guard := earnItem{PK: guardKey.PK, SK: guardKey.SK, Type: "token-earning",
				UserID: q.UserID, Rule: RuleAdminAdjustment, SourceID: source, State: EarnEarned, Tokens: q.Amount,
				EntrySeq: a.Seq + 1, At: now, UpdatedAt: now}
			rec := audit.Entry{Actor: admin, Action: "tokens.adjust", Target: "user:" + q.UserID,
				RequestID: r.ID, Details: map[string]string{"amount": itoa(q.Amount), "reason": q.Reason}}
			return Plan{
				Change: Change{Kind: KindAdjust, Rule: RuleAdminAdjustment, Reason: q.Reason, SourceID: source,
					Actor: admin, Delta: q.Amount, Earned: q.Amount},
				Extras: []Extra{
					// A guard created once (never over a version): the key is the adjustment's.
					{Write: Write{Guard: &GuardWrite{Item: guard}},
						Fail: func(context.Context) error {
							return apperr.New(apperr.Conflict, "this Idempotency-Key was already used for an adjustment of this user")
						}},
					{Write: Write{Audit: &rec}},
				},
			}, nil
		})
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusCreated, map[string]any{
			"userId": q.UserID, "transaction": entryView(entry), "balance": balanceView(acct, p.clk.Now()),
		}), nil
	}
}
