//go:build integration

package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
)

// Latency of whole requests through the local gateway (HTTP → API Gateway v2 event → JWT check →
// handler → moto DynamoDB → response). moto is a Python server, so these numbers are an upper bound
// on our code's cost, not a prediction of AWS latency; see docs/performance.md.
//
// go test -run '^$' -bench . -benchtime 300x ./infra/local/e2e/
func BenchmarkGatewayGetSubscription(b *testing.B) {
	h := Start(b)
	user := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	if status := h.PostWebhook(b, stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: user})); status != http.StatusOK {
		b.Fatalf("seed: %d", status)
	}
	tok := h.Token(b, user, user+"@example.com")
	measure(b, func() {
		if status, body, _ := h.Do(b, http.MethodGet, "/subscription", tok, nil); status != http.StatusOK {
			b.Fatalf("%d %s", status, body)
		}
	})
}

func BenchmarkGatewayWebhookInvoicePaid(b *testing.B) {
	h := Start(b)
	user := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	measure(b, func() {
		if status := h.PostWebhook(b, stripeevents.MustBuild(stripeevents.InvoicePaid, stripeevents.Options{UserID: user})); status != http.StatusOK {
			b.Fatalf("%d", status)
		}
	})
}

// measure runs f b.N times and reports p50/p99 in milliseconds beside ns/op.
func measure(b *testing.B, f func()) {
	b.Helper()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		f()
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
