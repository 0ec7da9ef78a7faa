// Package leaderboard is the arithmetic of the rewards leaderboards, with no storage: periods and
// week boundaries, the write-sharded score index (shard of a player, sort key of a score), the
// exact merge of the shards' top entries with competition ranks, and the score histogram that gives
// a percentile beyond the exactly ranked top. docs/decisions/0041 explains the design.
package leaderboard

import (
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Period is what a board counts: tokens earned this week, or ever.
type Period string

const (
	Week Period = "week" // Monday 00:00 UTC to the next Monday; resets
	All  Period = "all"  // since the first earning
)

// ParsePeriod reads the period query parameter ("" is week, the board learners see first).
func ParsePeriod(s string) (Period, bool) {
	switch Period(s) {
	case "", Week:
		return Week, true
	case All:
		return All, true
	}
	return "", false
}

// WeekStart is the Monday 00:00 UTC starting the week of t.
func WeekStart(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	back := (int(day.Weekday()) + 6) % 7 // Monday → 0, Sunday → 6
	return day.AddDate(0, 0, -back)
}

// WeekID names the week of t by its ISO 8601 year and week ("2026-W05"). ISO weeks start on Monday,
// so the id changes exactly at WeekStart.
func WeekID(t time.Time) string {
	y, w := t.UTC().ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// Key names one board instance: the period and, for the weekly board, the week ("2026-W05").
func Key(p Period, at time.Time) string {
	if p == Week {
		return string(Week) + "#" + WeekID(at)
	}
	return string(All)
}

// Shards is how many partitions of the score index one board instance is spread over. Each
// earning writes one shard; a top-K read merges all of them (docs/decisions/0041).
const Shards = 8

// ShardOf is the player's shard: a stable hash of the user id.
func ShardOf(userID string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(userID))
	return int(h.Sum32() % Shards)
}

// scoreDigits is the width of a score in a sort key (scores are token counts, far below 10^12).
const scoreDigits = 12

// MaxScore is the largest score a sort key can hold.
const MaxScore = 999_999_999_999

// SortKey orders a board's entries in one index partition: score ascending, and within a score the
// earlier reach last, so a descending Query returns the best first and, among equal scores, whoever
// reached the score first. The user id makes keys unique.
func SortKey(score int64, reachedAt time.Time, userID string) string {
	if score > MaxScore {
		score = MaxScore
	}
	return fmt.Sprintf("%0*d#%019d#%s", scoreDigits, score, math.MaxInt64-reachedAt.UnixNano(), userID)
}

// ScoreFloor is the smallest sort key of any entry with score ≥ s ("SK >= ScoreFloor(s+1)" selects
// the players strictly ahead of a score s).
func ScoreFloor(s int64) string { return fmt.Sprintf("%0*d", scoreDigits, s) }

// ScoreOfKey reads the score back from a sort key.
func ScoreOfKey(k string) (int64, bool) {
	head, _, _ := strings.Cut(k, "#")
	n, err := strconv.ParseInt(head, 10, 64)
	return n, err == nil
}

// Row is one entry of a board: a player's score in the period.
type Row struct {
	UserID      string
	DisplayName string
	Score       int64
	ReachedAt   time.Time
	SortKey     string
}

// Ranked is a row with its rank. Ties share a rank (1, 2, 2, 4).
type Ranked struct {
	Row
	Rank int
}

// Less orders rows best first: higher score, then earlier reach, then user id.
func Less(a, b Row) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	if !a.ReachedAt.Equal(b.ReachedAt) {
		return a.ReachedAt.Before(b.ReachedAt)
	}
	return a.UserID < b.UserID
}

// Rank sorts rows best first and gives each its competition rank: one more than the number of rows
// with a strictly higher score.
func Rank(rows []Row) []Ranked {
	sorted := append([]Row(nil), rows...)
	sort.SliceStable(sorted, func(i, j int) bool { return Less(sorted[i], sorted[j]) })
	out := make([]Ranked, len(sorted))
	for i, r := range sorted {
		rank := i + 1
		if i > 0 && r.Score == sorted[i-1].Score {
			rank = out[i-1].Rank
		}
		out[i] = Ranked{Row: r, Rank: rank}
	}
	return out
}

// ShardPage is what has been read of one shard so far, best first.
type ShardPage struct {
	Rows []Row
	More bool // the shard may hold further rows below the last one read
}

// MergeTop merges the shards' pages into the best k rows, ranked. It also says which shards must be
// read further before the answer is exact: a shard that may hold more rows and whose last row read
// would still make the top k (so a row after it might too). The caller reads those and merges again
// until none is left.
func MergeTop(pages []ShardPage, k int) (top []Ranked, readMore []int) {
	var all []Row
	for _, p := range pages {
		all = append(all, p.Rows...)
	}
	ranked := Rank(all)
	if len(ranked) > k {
		ranked = ranked[:k]
	}
	for i, p := range pages {
		if !p.More {
			continue
		}
		if len(p.Rows) == 0 || len(ranked) < k || !Less(ranked[len(ranked)-1].Row, p.Rows[len(p.Rows)-1]) {
			readMore = append(readMore, i)
		}
	}
	return ranked, readMore
}

// Histogram buckets: a score s falls in bucket i when Edges[i] ≤ s < Edges[i+1] (the last bucket is
// open). Edges grow roughly geometrically, so a bucket's share of players stays meaningful from a
// first lesson to a lifetime of learning.
var Edges = []int64{1, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000,
	3000, 5000, 7500, 10000, 15000, 20000, 30000, 50000, 75000, 100000, 200000, 500000, 1000000}

// Bucket returns the histogram bucket of score s, or -1 for a score below 1 (not on the board).
func Bucket(s int64) int {
	if s < Edges[0] {
		return -1
	}
	return sort.Search(len(Edges), func(i int) bool { return Edges[i] > s }) - 1
}

// BucketAttr is the attribute name of bucket i on a histogram item.
func BucketAttr(i int) string { return "b" + strconv.Itoa(i) }

// Histogram counts ranked players per bucket.
type Histogram map[int]int64

// Moves returns the bucket count changes when a player's score goes from old to new, being on the
// board (opted in) before and after as given. Empty when nothing changes.
func Moves(oldScore int64, wasOn bool, newScore int64, isOn bool) map[int]int64 {
	out := map[int]int64{}
	if b := Bucket(oldScore); wasOn && b >= 0 {
		out[b]--
	}
	if b := Bucket(newScore); isOn && b >= 0 {
		out[b]++
	}
	for b, n := range out {
		if n == 0 {
			delete(out, b)
		}
	}
	return out
}

// Total is the number of ranked players.
func (h Histogram) Total() int64 {
	var n int64
	for _, c := range h {
		n += c
	}
	return n
}

// Percentile estimates the share of ranked players (0–100) whose score is below s: every player of
// the buckets below s's, and half of the others in s's own bucket (their order inside a bucket is
// unknown). Zero when nobody else is ranked.
func (h Histogram) Percentile(s int64) int {
	total := h.Total()
	b := Bucket(s)
	if total <= 1 || b < 0 {
		return 0
	}
	var below int64
	for i, c := range h {
		if i < b {
			below += c
		}
	}
	// Twice the estimate, to keep the half bucket exact in integers.
	twice := 2*below + max(h[b]-1, 0)
	return int(twice * 100 / (2 * (total - 1)))
}
