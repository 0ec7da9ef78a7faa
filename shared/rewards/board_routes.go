package rewards

import (
	"context"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
)

// period reads ?period= (week when absent; an empty value is a 400, as an empty ?limit= is).
func period(r *httpapi.Request) (leaderboard.Period, error) {
	v, present := r.Event.QueryStringParameters["period"]
	p, ok := leaderboard.ParsePeriod(v)
	if !ok || (present && v == "") {
		return "", apperr.New(apperr.Invalid, "period must be week or all")
	}
	return p, nil
}

func wireGetGlobalLeaderboard(w wiring) (httpapi.Lambda, error) {
	return HandleGetGlobalLeaderboard(w.rt.Fn, w.d), nil
}

// HandleGetGlobalLeaderboard serves GET /leaderboards/global (public): display names, ranks and
// scores of the best players, nothing else.
func HandleGetGlobalLeaderboard(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, getGlobalLeaderboard(d.Clock, d.leaderboards()))
}

func getGlobalLeaderboard(clk clock.Clock, bs boards) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		p, err := period(r)
		if err != nil {
			return httpapi.Response{}, err
		}
		limit, err := r.Limit(100, 100)
		if err != nil {
			return httpapi.Response{}, err
		}
		now := clk.Now()
		top, stats, err := bs.GlobalTop(ctx, leaderboard.Key(p, now), int(limit))
		if err != nil {
			return httpapi.Response{}, err
		}
		logging.From(ctx).Info("leaderboard read", "queries", stats.Queries, "itemsRead", stats.ItemsRead)
		resp := httpapi.OK(boardView("global", p, now, top, ""))
		// The same for every caller: shared caches may keep it briefly.
		resp.Headers = map[string]string{"cache-control": "public, max-age=30"}
		return resp, nil
	}
}

// RankView is GET /leaderboards/global/me.
type RankView struct {
	Period string `json:"period"`
	Week   string `json:"week,omitempty"`
	Score  int64  `json:"score"`
	// Rank is exact within the top 1,000; absent beyond it, when the score is 0, or when opted out.
	Rank *int `json:"rank,omitempty"`
	// Percentile: the share of ranked players (0–100) with a lower score, from the board's histogram.
	Percentile int   `json:"percentile"`
	Players    int64 `json:"players"`
	OptedOut   bool  `json:"optedOut"`
}

func wireGetMyGlobalRank(w wiring) (httpapi.Lambda, error) {
	return HandleGetMyGlobalRank(w.rt.Fn, w.d), nil
}

// HandleGetMyGlobalRank serves GET /leaderboards/global/me.
func HandleGetMyGlobalRank(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, getMyGlobalRank(d.Clock, d.ledger(), d.leaderboards()))
}

func getMyGlobalRank(clk clock.Clock, l Ledger, bs boards) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		p, err := period(r)
		if err != nil {
			return httpapi.Response{}, err
		}
		now := clk.Now()
		a, err := l.Account(ctx, r.Principal.UserID)
		if err != nil {
			return httpapi.Response{}, err
		}
		board := leaderboard.Key(p, now)
		v := RankView{Period: string(p), Score: a.Score(p, now), OptedOut: a.OptOut}
		if p == leaderboard.Week {
			v.Week = leaderboard.WeekID(now)
		}
		h, err := bs.Histogram(ctx, board)
		if err != nil {
			return httpapi.Response{}, err
		}
		v.Players = h.Total()
		if !onBoard(a, v.Score) {
			return httpapi.OK(v), nil
		}
		v.Percentile = h.Percentile(v.Score)
		ahead, exact, stats, err := bs.PlayersAhead(ctx, board, v.Score)
		if err != nil {
			return httpapi.Response{}, err
		}
		logging.From(ctx).Info("rank read", "queries", stats.Queries, "itemsRead", stats.ItemsRead)
		if exact {
			rank := ahead + 1
			v.Rank = &rank
		}
		return httpapi.OK(v), nil
	}
}

func wireGetFriendsLeaderboard(w wiring) (httpapi.Lambda, error) {
	return HandleGetFriendsLeaderboard(w.rt.Fn, w.d), nil
}

// HandleGetFriendsLeaderboard serves GET /leaderboards/friends: the caller and whom they follow.
func HandleGetFriendsLeaderboard(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, getFriendsLeaderboard(d.Clock, d.leaderboards()))
}

func getFriendsLeaderboard(clk clock.Clock, bs boards) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		p, err := period(r)
		if err != nil {
			return httpapi.Response{}, err
		}
		me := r.Principal.UserID
		follows, err := bs.Following(ctx, me)
		if err != nil {
			return httpapi.Response{}, err
		}
		ids := []string{me}
		for _, f := range follows {
			ids = append(ids, f.FollowedID)
		}
		now := clk.Now()
		rows, err := memberBoard(ctx, bs.b, leaderboard.Key(p, now), me, ids)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(boardView("friends", p, now, rows, me)), nil
	}
}

// ClassBoardView is a class's board.
type ClassBoardView struct {
	ClassID   string `json:"classId"`
	ClassName string `json:"className"`
	BoardView
}

func wireGetClassLeaderboard(w wiring) (httpapi.Lambda, error) {
	return HandleGetClassLeaderboard(w.rt.Fn, w.d), nil
}

// HandleGetClassLeaderboard serves GET /leaderboards/classes/{classId} for its owner and members.
func HandleGetClassLeaderboard(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, getClassLeaderboard(d.Clock, d.leaderboards()))
}

func getClassLeaderboard(clk clock.Clock, bs boards) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		p, err := period(r)
		if err != nil {
			return httpapi.Response{}, err
		}
		me := r.Principal.UserID
		c, _, err := classFor(ctx, bs.s, r.PathParam("classId"), me)
		if err != nil {
			return httpapi.Response{}, err
		}
		ms, err := bs.s.Members(ctx, c.ID)
		if err != nil {
			return httpapi.Response{}, err
		}
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = m.UserID
		}
		now := clk.Now()
		rows, err := memberBoard(ctx, bs.b, leaderboard.Key(p, now), me, ids)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(ClassBoardView{ClassID: c.ID, ClassName: c.Name, BoardView: boardView("class", p, now, rows, me)}), nil
	}
}
