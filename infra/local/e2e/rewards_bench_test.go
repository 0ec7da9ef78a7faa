//go:build integration

package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/registry"
	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
	"github.com/liberation/monetization/shared/store"
)

// BenchmarkGlobalLeaderboardTop100 is the cost of reading the top 100 of the weekly global board
// (GET /leaderboards/global?period=week&limit=100) with 1,000 and 100,000 players on it: the
// DynamoDB items the read touches per request (what DynamoDB bills, and what must not grow with the
// number of players — items/op, queries/op) and the handler's p50/p99, the handler invoked directly.
//
//   - store=moto: the real local table. moto's Query walks every item of the table to find one
//     partition (docs/performance.md), so its latency grows with the table whatever our code does;
//     the 100,000-player run takes ~15 minutes and runs only with BENCH_MOTO_100K=1.
//   - store=index: the same handler on an in-memory GSI2 that serves a partition in order, as
//     DynamoDB does — our code's own cost at each size, and the same items read as on moto.
//
// go test -run '^$' -bench GlobalLeaderboard -benchtime 20x ./infra/local/e2e/
func BenchmarkGlobalLeaderboardTop100(b *testing.B) {
	sizes := []struct {
		store   string
		players int
	}{{"moto", 1_000}, {"index", 1_000}, {"index", 100_000}}
	if os.Getenv("BENCH_MOTO_100K") == "1" {
		sizes = append(sizes, struct {
			store   string
			players int
		}{"moto", 100_000})
	}
	for _, sz := range sizes {
		b.Run(fmt.Sprintf("store=%s/players=%d", sz.store, sz.players), func(b *testing.B) {
			s := seededBoard(b, sz.store, sz.players)
			ev := events.APIGatewayV2HTTPRequest{RawPath: "/leaderboards/global", RouteKey: "GET /leaderboards/global",
				QueryStringParameters: map[string]string{"period": "week", "limit": "100"}}
			ctx := context.Background()
			measure(b, func() {
				ev.RequestContext.RequestID = "bench"
				resp, err := s.handler(ctx, ev)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("%v %d %s", err, resp.StatusCode, resp.Body)
				}
			})
			top, stats, err := s.deps.GlobalTop(ctx, s.board, 100)
			if err != nil || len(top) != 100 {
				b.Fatalf("top: %d rows, %v", len(top), err)
			}
			b.ReportMetric(float64(stats.ItemsRead), "items/op")
			b.ReportMetric(float64(stats.Queries), "queries/op")
		})
	}
}

type benchBoard struct {
	handler httpapi.Lambda
	deps    *rewards.Deps
	board   string
}

var (
	benchBoardsMu sync.Mutex
	benchBoards   = map[string]*benchBoard{}
)

// boardItems are the score items and histogram items a board of n players holds, as the earnings
// would have left them (shard, sort key, buckets). Deterministic per n.
func boardItems(n int, board string, now time.Time) []map[string]types.AttributeValue {
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	hist := make([]map[int]int64, leaderboard.Shards)
	for i := range hist {
		hist[i] = map[int]int64{}
	}
	out := make([]map[string]types.AttributeValue, 0, n+leaderboard.Shards)
	for i := 0; i < n; i++ {
		user := fmt.Sprintf("bench-%07d", i)
		// Weekly scores: most learners earn a little, a few a lot (5 to ~2,000 tokens).
		score := int64(5 * (1 + int(rng.ExpFloat64()*20)))
		reached := now.Add(-time.Duration(rng.IntN(3600*24*3)) * time.Second)
		shard := leaderboard.ShardOf(user)
		k := store.LeaderboardScoreKey(user, board)
		g2, g2s := store.LeaderboardShardGSI2(rewards.GlobalScope, board, shard, leaderboard.SortKey(score, reached, user))
		out = append(out, map[string]types.AttributeValue{
			"PK": store.S(k.PK), "SK": store.S(k.SK), "GSI2PK": store.S(g2), "GSI2SK": store.S(g2s),
			"type": store.S("leaderboard-score"), "userId": store.S(user), "board": store.S(board),
			"displayName": store.S(fmt.Sprintf("Learner %d", i)), "optOut": &types.AttributeValueMemberBOOL{Value: false},
			"score": store.N(score), "reachedAt": store.S(reached.Format(time.RFC3339Nano)),
		})
		hist[shard][leaderboard.Bucket(score)]++
	}
	for shard, h := range hist {
		k := store.LeaderboardHistogramKey(rewards.GlobalScope, board, shard)
		item := map[string]types.AttributeValue{"PK": store.S(k.PK), "SK": store.S(k.SK)}
		for bucket, c := range h {
			item[leaderboard.BucketAttr(bucket)] = store.N(c)
		}
		out = append(out, item)
	}
	return out
}

// seededBoard builds the handler on a board of n players, once per store and size for the run:
// on moto the items go straight in with BatchWriteItem, 25 at a time.
func seededBoard(b *testing.B, backend string, n int) *benchBoard {
	b.Helper()
	benchBoardsMu.Lock()
	defer benchBoardsMu.Unlock()
	key := backend + strconv.Itoa(n)
	if s, ok := benchBoards[key]; ok {
		return s
	}
	now := time.Now().UTC()
	board := leaderboard.Key(leaderboard.Week, now)
	items := boardItems(n, board, now)
	fn := manifest.MustByName("get-global-leaderboard")
	s := &benchBoard{board: board}
	if backend == "index" {
		idx := newMemIndex(items)
		st := store.New(idx, "bench", clock.System{}, []byte("bench-cursor-secret-0123456789"))
		s.deps = &rewards.Deps{Clock: clock.System{}, Store: st, Fn: fn.Name}
		s.handler = quiet(func() httpapi.Lambda { return rewards.HandleGetGlobalLeaderboard(fn, s.deps) })
		benchBoards[key] = s
		return s
	}
	env := localtest.New(b)
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	db := dynamodb.NewFromConfig(awsCfg)
	start := time.Now()
	for i := 0; i < len(items); i += 25 {
		var batch []types.WriteRequest
		for _, it := range items[i:min(i+25, len(items))] {
			batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		for len(batch) > 0 {
			out, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{env.Resources.Table: batch}})
			if err != nil {
				b.Fatal(err)
			}
			batch = out.UnprocessedItems[env.Resources.Table]
		}
	}
	b.Logf("seeded %d players in %s", n, time.Since(start).Round(time.Millisecond))
	s.handler = quiet(func() httpapi.Lambda {
		built, err := registry.Handler(env.Runtime, fn)
		if err != nil {
			b.Fatal(err)
		}
		return built.(httpapi.Lambda)
	})
	s.deps = rewards.NewDeps(env.RuntimeFor(b, fn))
	benchBoards[key] = s
	return s
}

// quiet builds a handler whose request log lines go nowhere (they would drown the benchmark's
// output): the route's logger takes os.Stdout when it is built.
func quiet(build func() httpapi.Lambda) httpapi.Lambda {
	stdout := os.Stdout
	os.Stdout, _ = os.Open(os.DevNull)
	defer func() { os.Stdout = stdout }()
	return build()
}

// memIndex serves Query on the table's GSI2 (and on base-table partitions) from sorted slices, as
// DynamoDB serves a partition: the cost of a Query is the items it returns, not the table's size.
// It implements what the leaderboard reads use (key condition "#pk = :pk" with an optional
// "#sk >= :floor", ScanIndexForward, Limit, ExclusiveStartKey, Select=COUNT) and nothing else.
type memIndex struct {
	gsi2 map[string][]map[string]types.AttributeValue // GSI2PK → items by GSI2SK ascending
	base map[string][]map[string]types.AttributeValue // PK → items by SK ascending
}

func newMemIndex(items []map[string]types.AttributeValue) *memIndex {
	m := &memIndex{gsi2: map[string][]map[string]types.AttributeValue{}, base: map[string][]map[string]types.AttributeValue{}}
	for _, it := range items {
		if pk, ok := it["GSI2PK"].(*types.AttributeValueMemberS); ok {
			m.gsi2[pk.Value] = append(m.gsi2[pk.Value], it)
		}
		pk := it["PK"].(*types.AttributeValueMemberS).Value
		m.base[pk] = append(m.base[pk], it)
	}
	for k := range m.gsi2 {
		sortBy(m.gsi2[k], "GSI2SK")
	}
	for k := range m.base {
		sortBy(m.base[k], "SK")
	}
	return m
}

func sortBy(items []map[string]types.AttributeValue, attr string) {
	sort.Slice(items, func(i, j int) bool { return str(items[i][attr]) < str(items[j][attr]) })
}

func str(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

var errNotInBench = errors.New("memIndex: not used by the leaderboard read")

func (m *memIndex) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	pk := str(in.ExpressionAttributeValues[":pk"])
	part, skAttr := m.base[pk], "SK"
	if aws.ToString(in.IndexName) == "GSI2" {
		part, skAttr = m.gsi2[pk], "GSI2SK"
	}
	var floor string
	if f, ok := in.ExpressionAttributeValues[":floor"]; ok {
		floor = str(f)
	}
	// Positions in scan order.
	n := len(part)
	at := func(i int) map[string]types.AttributeValue {
		if in.ScanIndexForward != nil && !*in.ScanIndexForward {
			return part[n-1-i]
		}
		return part[i]
	}
	desc := in.ScanIndexForward != nil && !*in.ScanIndexForward
	i := 0
	if floor != "" && !desc { // ascending: start at the floor
		i = sort.Search(n, func(j int) bool { return str(at(j)[skAttr]) >= floor })
	}
	if start := in.ExclusiveStartKey; start != nil {
		i = sort.Search(n, func(j int) bool {
			if in.ScanIndexForward != nil && !*in.ScanIndexForward {
				return str(at(j)[skAttr]) < str(start[skAttr])
			}
			return str(at(j)[skAttr]) > str(start[skAttr])
		})
	}
	limit := n
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	below := func(it map[string]types.AttributeValue) bool { return desc && floor != "" && str(it[skAttr]) < floor }
	out := &dynamodb.QueryOutput{}
	for ; i < n && !below(at(i)); i++ { // descending: past the floor, everything is below it
		it := at(i)
		out.Count++
		if in.Select != types.SelectCount {
			out.Items = append(out.Items, it)
		}
		if int(out.Count) == limit {
			if i+1 < n && !below(at(i+1)) {
				out.LastEvaluatedKey = map[string]types.AttributeValue{"PK": it["PK"], "SK": it["SK"], skAttr: it[skAttr]}
				if skAttr == "GSI2SK" {
					out.LastEvaluatedKey["GSI2PK"] = it["GSI2PK"]
				}
			}
			break
		}
	}
	return out, nil
}

func (m *memIndex) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, errNotInBench
}
func (m *memIndex) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, errNotInBench
}
func (m *memIndex) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, errNotInBench
}
func (m *memIndex) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return nil, errNotInBench
}

var _ store.DynamoAPI = (*memIndex)(nil)

// The benchmark's in-memory index answers the leaderboard reads exactly as moto does: the same top
// 100 (ranks, names, scores), the same items read, the same players ahead of a score.
func TestMemIndexAnswersLikeMoto(t *testing.T) {
	now := time.Now().UTC()
	board := leaderboard.Key(leaderboard.Week, now)
	items := boardItems(1000, board, now)
	env := localtest.New(t)
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(awsCfg)
	for i := 0; i < len(items); i += 25 {
		var batch []types.WriteRequest
		for _, it := range items[i:min(i+25, len(items))] {
			batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		if _, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{env.Resources.Table: batch}}); err != nil {
			t.Fatal(err)
		}
	}
	moto := rewards.NewDeps(env.RuntimeFor(t, manifest.MustByName("get-global-leaderboard")))
	mem := &rewards.Deps{Clock: clock.System{}, Store: store.New(newMemIndex(items), "bench", clock.System{}, []byte("0123456789abcdef"))}
	ctx := context.Background()
	for _, k := range []int{1, 37, 100} {
		a, sa, err1 := moto.GlobalTop(ctx, board, k)
		b, sb, err2 := mem.GlobalTop(ctx, board, k)
		if err1 != nil || err2 != nil || fmt.Sprint(a) != fmt.Sprint(b) || sa != sb || len(a) != k {
			t.Fatalf("top %d: moto %v %+v %v\nmem %v %+v %v", k, len(a), sa, err1, len(b), sb, err2)
		}
	}
	for _, score := range []int64{5, 50, 200, 100000} {
		a, ea, _, err1 := moto.PlayersAhead(ctx, board, score)
		b, eb, _, err2 := mem.PlayersAhead(ctx, board, score)
		if err1 != nil || err2 != nil || a != b || ea != eb {
			t.Fatalf("ahead of %d: moto %d %v %v, mem %d %v %v", score, a, ea, err1, b, eb, err2)
		}
	}
}
