package catalog_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/catalog/catalogtest"
)

// Search on the in-memory index alone, at 1,000 and 10,000 published courses: the request mix of
// catalogtest.SyntheticQueries, p50/p99 per query; and what loading a snapshot costs (decode and
// index build), which a search function pays once per snapshot version.
//
//	go test -run '^$' -bench . -benchmem ./shared/marketplace/catalog/
func BenchmarkSearchIndex(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		ls := catalogtest.SyntheticListings(n, 1)
		snap := catalog.NewSnapshot(ls, time.Now())
		enc, err := snap.Encode()
		if err != nil {
			b.Fatal(err)
		}
		var queries []catalog.Query
		for _, p := range catalogtest.SyntheticQueries(ls) {
			q, _, err := catalog.ParseQuery(p)
			if err != nil {
				b.Fatal(err)
			}
			queries = append(queries, q)
		}
		b.Run(fmt.Sprintf("load/courses=%d", n), func(b *testing.B) {
			b.ReportMetric(float64(len(enc)), "snapshot-bytes")
			for i := 0; i < b.N; i++ {
				s, err := catalog.DecodeSnapshot(enc)
				if err != nil {
					b.Fatal(err)
				}
				catalog.NewIndex(s)
			}
		})
		ix := catalog.NewIndex(snap)
		b.Run(fmt.Sprintf("search/courses=%d", n), func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			hits := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				hits += len(ix.Search(queries[i%len(queries)]).Hits)
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			if hits == 0 {
				b.Fatal("no query matched anything: the benchmark measures nothing")
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[(len(lat)-1)*99/100].Microseconds()), "p99-µs")
		})
	}
}
