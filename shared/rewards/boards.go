package rewards

import (
	"context"
	"sync"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
)

// Reading the boards (docs/decisions/0041). The global board is the write-sharded score index
// (GSI2, one partition per shard of a board instance) merged at read time: a top-K read costs
// about K plus a page per shard, whatever the number of players. Friends and class boards read the
// score items of their (bounded) member lists by key.

// AnonymousName stands for a player who set no display name: nothing that identifies them.
const AnonymousName = "Anonymous learner"

// ReadStats is what a board read cost (benchmarks and logs).
type ReadStats struct {
	Queries   int
	ItemsRead int
}

// boards reads the leaderboards: the global board's shards and histograms (Boards), and the
// friends and class members whose scores make the friends and class boards (Social). The board
// routes (board_routes.go) take it.
type boards struct {
	b Boards
	s Social
}

// GlobalTop returns the best k players of a board instance, exactly ranked.
func (bs boards) GlobalTop(ctx context.Context, board string, k int) ([]leaderboard.Ranked, ReadStats, error) {
	return globalTop(ctx, bs.b, board, k)
}

func globalTop(ctx context.Context, b Boards, board string, k int) ([]leaderboard.Ranked, ReadStats, error) {
	pages := make([]leaderboard.ShardPage, leaderboard.Shards)
	starts := make([]Position, leaderboard.Shards)
	var stats ReadStats
	// Every shard in parallel, a little more than its even share of k; the merge then says which
	// shards may hold more of the top (rarely one or two), and only those are read on.
	first := int32(k*3/(2*leaderboard.Shards) + 2)
	shards := make([]int, leaderboard.Shards)
	for i := range shards {
		shards[i] = i
	}
	for round := 0; len(shards) > 0; round++ {
		if round > k {
			return nil, stats, apperr.New(apperr.Internal, "leaderboard merge did not settle")
		}
		limit := first // later rounds read the shards that may hold more of the top, a page at a time
		var (
			mu   sync.Mutex
			wg   sync.WaitGroup
			errs []error
		)
		for _, s := range shards {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rows, next, err := b.ShardPage(ctx, board, s, limit, starts[s])
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				stats.Queries++
				stats.ItemsRead += len(rows)
				pages[s].Rows = append(pages[s].Rows, rows...)
				pages[s].More, starts[s] = next != nil, next
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			return nil, stats, errs[0]
		}
		var top []leaderboard.Ranked
		top, shards = leaderboard.MergeTop(pages, k)
		if len(shards) == 0 {
			return top, stats, nil
		}
	}
	return nil, stats, nil
}

// rankLimit is how far down a board ranks are exact for GET /leaderboards/global/me.
const rankLimit = 1000

// PlayersAhead counts the players of a board instance with a score above score, up to rankLimit
// (at which it stops: "not in the top 1,000"). It reads at most about rankLimit index entries.
func (bs boards) PlayersAhead(ctx context.Context, board string, score int64) (int, bool, ReadStats, error) {
	return playersAhead(ctx, bs.b, board, score)
}

func playersAhead(ctx context.Context, b Boards, board string, score int64) (int, bool, ReadStats, error) {
	var stats ReadStats
	count := func(shard int, limit int32, start Position) (int, Position, error) {
		return b.CountAbove(ctx, board, shard, score+1, limit, start)
	}
	type part struct {
		n    int
		next Position
		err  error
	}
	parts := make([]part, leaderboard.Shards)
	share := int32(rankLimit / leaderboard.Shards)
	var wg sync.WaitGroup
	for s := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, next, err := count(s, share, nil)
			parts[s] = part{n, next, err}
		}()
	}
	wg.Wait()
	total := 0
	for _, p := range parts {
		if p.err != nil {
			return 0, false, stats, p.err
		}
		total += p.n
		stats.Queries++
		stats.ItemsRead += p.n
	}
	// Shards with more above the score than their share: read on within what is left of the budget.
	for s := range parts {
		for next := parts[s].next; next != nil && total < rankLimit; {
			n, nn, err := count(s, int32(rankLimit-total), next)
			if err != nil {
				return 0, false, stats, err
			}
			total, next = total+n, nn
			stats.Queries++
			stats.ItemsRead += n
		}
	}
	if total >= rankLimit {
		return rankLimit, false, stats, nil
	}
	return total, true, stats, nil
}

// Histogram reads a board instance's score histogram (one Query of its shard items).
func (bs boards) Histogram(ctx context.Context, board string) (leaderboard.Histogram, error) {
	return bs.b.Histogram(ctx, board)
}

// BoardRow is one line of a board on the wire. The public board has display names, ranks and
// scores only — nothing that links to a user.
type BoardRow struct {
	Rank        int    `json:"rank"`
	DisplayName string `json:"displayName"`
	Score       int64  `json:"score"`
	You         bool   `json:"you,omitempty"`
}

func displayName(s string) string {
	if s == "" {
		return AnonymousName
	}
	return s
}

// BoardView is a board on the wire.
type BoardView struct {
	Board   string     `json:"board"`  // global, friends, class
	Period  string     `json:"period"` // week or all
	Week    string     `json:"week,omitempty"`
	Resets  *time.Time `json:"resetsAt,omitempty"`
	Entries []BoardRow `json:"entries"`
}

func boardView(kind string, p leaderboard.Period, now time.Time, rows []leaderboard.Ranked, me string) BoardView {
	v := BoardView{Board: kind, Period: string(p), Entries: make([]BoardRow, len(rows))}
	if p == leaderboard.Week {
		v.Week = leaderboard.WeekID(now)
		next := leaderboard.WeekStart(now).AddDate(0, 0, 7)
		v.Resets = &next
	}
	for i, r := range rows {
		v.Entries[i] = BoardRow{Rank: r.Rank, DisplayName: displayName(r.DisplayName), Score: r.Score, You: me != "" && r.UserID == me}
	}
	return v
}

// memberBoard ranks a bounded list of players (friends, a class) on a board instance: players
// with a score, minus those who opted out — except the viewer, who always sees themself.
func memberBoard(ctx context.Context, b Boards, board, viewer string, members []string) ([]leaderboard.Ranked, error) {
	scores, err := b.Scores(ctx, board, members)
	if err != nil {
		return nil, err
	}
	var rows []leaderboard.Row
	for _, u := range members {
		s, ok := scores[u]
		if !ok || s.Score <= 0 || (s.OptOut && u != viewer) {
			continue
		}
		rows = append(rows, leaderboard.Row{UserID: u, DisplayName: s.DisplayName, Score: s.Score, ReachedAt: s.ReachedAt})
	}
	return leaderboard.Rank(rows), nil
}
