package tokenmetrics

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/liberation/monetization/shared/store"
)

// memSource is Source in memory: counter items by key, each a set of named counters (absent ones
// read as zero), as the ledger's ADD updates leave them.
type memSource struct {
	mu     sync.Mutex
	days   map[string]map[string]int64 // "<day>#<shard>" → counters
	gauges map[string]map[string]int64 // shard → gauges
}

var _ Source = (*memSource)(nil)

func newMemSource() *memSource {
	return &memSource{days: map[string]map[string]int64{}, gauges: map[string]map[string]int64{}}
}

func add(into map[string]map[string]int64, k string, deltas map[string]int64) {
	if into[k] == nil {
		into[k] = map[string]int64{}
	}
	for n, d := range deltas {
		into[k][n] += d
	}
}

func counters(m map[string]int64) Counters {
	item, err := attributevalue.MarshalMap(m)
	if err != nil {
		panic(err)
	}
	var c Counters
	if err := attributevalue.UnmarshalMap(item, &c); err != nil {
		panic(err)
	}
	return c
}

func (m *memSource) DayCounters(_ context.Context, from, to string) ([]Counters, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Counters
	for _, k := range slices.Sorted(maps.Keys(m.days)) {
		if k >= from && k <= to+"~" {
			out = append(out, counters(m.days[k]))
		}
	}
	return out, nil
}

func (m *memSource) Gauges(context.Context) ([]Counters, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Counters
	for _, k := range slices.Sorted(maps.Keys(m.gauges)) {
		out = append(out, counters(m.gauges[k]))
	}
	return out, nil
}

// seeder adds to a day's counters of a shard (day != "") or to a shard's gauges (day == "").
type seeder func(t *testing.T, day string, shard int, deltas map[string]int64)

// testSourceContract checks what ReadFrom relies on: a day range holds every shard of its first
// and last day and nothing outside it, counters never written read as zero, and the gauges are one
// item per shard.
func testSourceContract(t *testing.T, src Source, seed seeder) {
	ctx := context.Background()
	seed(t, "2020-03-01", 0, map[string]int64{"issued": 1000}) // before the range
	seed(t, "2020-03-02", 0, map[string]int64{"issued": 5, "pendingEarned": 50})
	seed(t, "2020-03-03", 3, map[string]int64{"issued": 7, "redeemed": 2, "deducted": 1})
	seed(t, "2020-03-04", 0, map[string]int64{"issued": 1, "pendingCancelled": 20})
	seed(t, "2020-03-04", 7, map[string]int64{"heldNew": 4})
	seed(t, "2020-03-04", 7, map[string]int64{"heldNew": 6})  // counters add up
	seed(t, "2020-03-05", 0, map[string]int64{"issued": 100}) // after the range
	seed(t, "", 0, map[string]int64{"outstanding": 10, "held": 3, "pending": 2})
	seed(t, "", 5, map[string]int64{"outstanding": 4})

	items, err := src.DayCounters(ctx, "2020-03-02", "2020-03-04")
	if err != nil {
		t.Fatal(err)
	}
	var sum Counters
	for _, it := range items {
		sum.Issued += it.Issued
		sum.Redeemed += it.Redeemed
		sum.Deducted += it.Deducted
		sum.PendingEarned += it.PendingEarned
		sum.PendingCancelled += it.PendingCancelled
		sum.HeldNew += it.HeldNew
		sum.Outstanding += it.Outstanding
	}
	if want := (Counters{Issued: 13, Redeemed: 2, Deducted: 1, PendingEarned: 50, PendingCancelled: 20, HeldNew: 10}); len(items) != 4 || sum != want {
		t.Fatalf("days: %d items, sum %+v, want 4 and %+v", len(items), sum, want)
	}
	if items, err := src.DayCounters(ctx, "2020-04-01", "2020-04-30"); err != nil || len(items) != 0 {
		t.Fatalf("days without counters: %+v %v", items, err)
	}
	if items, err := src.DayCounters(ctx, "2020-03-05", "2020-03-05"); err != nil || len(items) != 1 || items[0].Issued != 100 {
		t.Fatalf("one day: %+v %v", items, err)
	}
	gauges, err := src.Gauges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(gauges, func(a, b Counters) int { return int(b.Outstanding - a.Outstanding) })
	if want := []Counters{{Outstanding: 10, Held: 3, Pending: 2}, {Outstanding: 4}}; !slices.Equal(gauges, want) {
		t.Fatalf("gauges %+v, want %+v", gauges, want)
	}
}

func TestMemSourceContract(t *testing.T) {
	m := newMemSource()
	testSourceContract(t, m, func(_ *testing.T, day string, shard int, deltas map[string]int64) {
		if day == "" {
			add(m.gauges, store.TokenMetricsCurrentKey(shard).SK, deltas)
			return
		}
		add(m.days, store.TokenMetricsDayKey(day, shard).SK, deltas)
	})
}

// The table keeps the contract: in process in `go test`, on moto with the integration tag. The
// counters are written as the ledger writes them (store.AddCounters in a transaction).
func TestDynamoSourceContract(t *testing.T) {
	s := newTestStore(t)
	testSourceContract(t, NewSource(s), func(t *testing.T, day string, shard int, deltas map[string]int64) {
		k := store.TokenMetricsCurrentKey(shard)
		if day != "" {
			k = store.TokenMetricsDayKey(day, shard)
		}
		if !strings.HasPrefix(k.PK, "TOKMETRICS#") {
			t.Fatalf("key %+v", k)
		}
		if err := s.Transact(context.Background(), store.Append(nil, store.AddCounters(k, deltas))); err != nil {
			t.Fatal(err)
		}
	})
}
