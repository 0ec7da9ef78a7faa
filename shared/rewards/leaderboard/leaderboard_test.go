package leaderboard

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestWeekBoundaries(t *testing.T) {
	for _, tc := range []struct {
		now, start, id string
	}{
		{"2026-02-01T23:59:59.999Z", "2026-01-26T00:00:00Z", "2026-W05"}, // Sunday night: still week 5
		{"2026-02-02T00:00:00Z", "2026-02-02T00:00:00Z", "2026-W06"},     // Monday 00:00 UTC: week 6
		{"2026-02-04T12:00:00Z", "2026-02-02T00:00:00Z", "2026-W06"},
		{"2026-02-08T23:30:00-05:00", "2026-02-09T00:00:00Z", "2026-W07"}, // Sunday in New York is Monday in UTC
		{"2025-12-31T10:00:00Z", "2025-12-29T00:00:00Z", "2026-W01"},      // ISO year differs from the calendar's
		{"2027-01-03T10:00:00Z", "2026-12-28T00:00:00Z", "2026-W53"},
	} {
		now := at(tc.now)
		if got := WeekStart(now); !got.Equal(at(tc.start)) {
			t.Errorf("WeekStart(%s) = %s, want %s", tc.now, got, tc.start)
		}
		if got := WeekID(now); got != tc.id {
			t.Errorf("WeekID(%s) = %s, want %s", tc.now, got, tc.id)
		}
		if WeekID(WeekStart(now)) != WeekID(now) || WeekID(WeekStart(now).Add(-time.Nanosecond)) == WeekID(now) {
			t.Errorf("%s: the week id must change exactly at WeekStart", tc.now)
		}
	}
	if Key(Week, at("2026-02-02T00:00:00Z")) != "week#2026-W06" || Key(All, at("2026-02-02T00:00:00Z")) != "all" {
		t.Error("board keys")
	}
}

func TestParsePeriod(t *testing.T) {
	for in, want := range map[string]Period{"": Week, "week": Week, "all": All} {
		if got, ok := ParsePeriod(in); !ok || got != want {
			t.Errorf("ParsePeriod(%q) = %q, %v", in, got, ok)
		}
	}
	for _, bad := range []string{"month", "WEEK", "all "} {
		if _, ok := ParsePeriod(bad); ok {
			t.Errorf("ParsePeriod(%q) accepted", bad)
		}
	}
}

// A descending walk of sort keys is the board's order: higher score first, then earlier reach.
func TestSortKeyOrder(t *testing.T) {
	t0 := at("2026-02-02T10:00:00Z")
	keys := []string{
		SortKey(100, t0.Add(time.Second), "b"),
		SortKey(100, t0, "a"),
		SortKey(99, t0, "c"),
		SortKey(1000, t0.Add(time.Hour), "d"),
		SortKey(5, t0, "e"),
	}
	sort.Sort(sort.Reverse(sort.StringSlice(keys)))
	var got []string
	for _, k := range keys {
		s, _ := ScoreOfKey(k)
		got = append(got, fmt.Sprint(s, k[len(k)-1:]))
	}
	if fmt.Sprint(got) != "[1000d 100a 100b 99c 5e]" {
		t.Fatalf("order %v", got)
	}
	if !(SortKey(101, t0, "x") >= ScoreFloor(101) && SortKey(100, t0.Add(time.Hour), "x") < ScoreFloor(101)) {
		t.Fatal("ScoreFloor(s+1) must separate scores above s")
	}
}

func TestRankTies(t *testing.T) {
	t0 := at("2026-02-02T10:00:00Z")
	rows := []Row{
		{UserID: "late", Score: 50, ReachedAt: t0.Add(time.Minute)},
		{UserID: "first", Score: 80, ReachedAt: t0},
		{UserID: "early", Score: 50, ReachedAt: t0},
		{UserID: "last", Score: 10, ReachedAt: t0},
		{UserID: "tie3", Score: 10, ReachedAt: t0.Add(-time.Hour)},
	}
	var got []string
	for _, r := range Rank(rows) {
		got = append(got, fmt.Sprintf("%d:%s", r.Rank, r.UserID))
	}
	if want := "[1:first 2:early 2:late 4:tie3 4:last]"; fmt.Sprint(got) != want {
		t.Fatalf("ranks %v, want %s", got, want)
	}
}

// MergeTop over shards read page by page gives exactly the brute-force top k, for random boards
// with many ties, and asks for more only from shards that may still hold part of the top.
func TestMergeTopMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	t0 := at("2026-02-02T00:00:00Z")
	for trial := 0; trial < 200; trial++ {
		n := rng.IntN(400)
		k := 1 + rng.IntN(100)
		var all []Row
		shards := make([][]Row, Shards)
		for i := 0; i < n; i++ {
			r := Row{UserID: fmt.Sprintf("u%04d", i), Score: 1 + int64(rng.IntN(30)), ReachedAt: t0.Add(time.Duration(rng.IntN(1000)) * time.Second)}
			all = append(all, r)
			s := ShardOf(r.UserID)
			shards[s] = append(shards[s], r)
		}
		for s := range shards {
			sort.Slice(shards[s], func(i, j int) bool { return Less(shards[s][i], shards[s][j]) })
		}
		want := Rank(all)
		if len(want) > k {
			want = want[:k]
		}
		// Read like the repository: a first page per shard, then further pages where asked.
		pages := make([]ShardPage, Shards)
		next := make([]int, Shards)
		read := func(s, limit int) {
			end := min(next[s]+limit, len(shards[s]))
			pages[s].Rows = append(pages[s].Rows, shards[s][next[s]:end]...)
			next[s] = end
			pages[s].More = end < len(shards[s])
		}
		for s := range Shards {
			read(s, k*3/(2*Shards)+2)
		}
		var got []Ranked
		for round := 0; ; round++ {
			var more []int
			got, more = MergeTop(pages, k)
			if len(more) == 0 {
				break
			}
			if round > k {
				t.Fatalf("trial %d: merge does not settle", trial)
			}
			for _, s := range more {
				read(s, k*3/(2*Shards)+2)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("trial %d (n=%d, k=%d):\n got %v\nwant %v", trial, n, k, got, want)
		}
	}
}

func TestShardOfIsStableAndSpread(t *testing.T) {
	counts := make([]int, Shards)
	for i := 0; i < 8000; i++ {
		u := fmt.Sprintf("user-%d", i)
		if a, b := ShardOf(u), ShardOf(strings.Clone(u)); a != b {
			t.Fatal("unstable shard") // the same name, in another string, lands in the same shard
		}
		counts[ShardOf(u)]++
	}
	for s, c := range counts {
		if c < 800 || c > 1200 { // 1,000 expected per shard
			t.Errorf("shard %d has %d of 8000", s, c)
		}
	}
}

func TestBucketsAndMoves(t *testing.T) {
	for s, want := range map[int64]int{0: -1, 1: 0, 4: 0, 5: 1, 9: 1, 10: 2, 999: 13, 1000: 14, 5_000_000: len(Edges) - 1} {
		if got := Bucket(s); got != want {
			t.Errorf("Bucket(%d) = %d, want %d", s, got, want)
		}
	}
	for _, tc := range []struct {
		old   int64
		wasOn bool
		new   int64
		isOn  bool
		want  string
	}{
		{0, true, 5, true, "map[1:1]"},       // first earning
		{5, true, 9, true, "map[]"},          // same bucket
		{5, true, 10, true, "map[1:-1 2:1]"}, // next bucket
		{10, true, 10, false, "map[2:-1]"},   // opted out
		{10, false, 15, true, "map[2:1]"},    // opted back in
		{10, false, 50, false, "map[]"},      // off the board
		{7, true, 0, true, "map[1:-1]"},      // deducted to zero
	} {
		if got := fmt.Sprint(Moves(tc.old, tc.wasOn, tc.new, tc.isOn)); got != tc.want {
			t.Errorf("Moves(%d,%v,%d,%v) = %s, want %s", tc.old, tc.wasOn, tc.new, tc.isOn, got, tc.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	h := Histogram{0: 50, 1: 30, 2: 19, 14: 1} // 100 players; one has ≥ 1000
	if h.Total() != 100 {
		t.Fatalf("total %d", h.Total())
	}
	for score, want := range map[int64]int{
		1000: 100, // the 99 others are all below
		10:   89,  // 80 below, and half of the other 18 in bucket 2: (80 + 9) / 99
		1:    24,  // half of the other 49 in bucket 0 → 24.5 / 99
	} {
		if got := h.Percentile(score); got != want {
			t.Errorf("Percentile(%d) = %d, want %d", score, got, want)
		}
	}
	if (Histogram{3: 1}).Percentile(30) != 0 || (Histogram{}).Percentile(5) != 0 {
		t.Error("alone or empty: 0")
	}
}
