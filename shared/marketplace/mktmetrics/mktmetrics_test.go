package mktmetrics

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/store"
)

// memCounters is the counters in memory: the gauges and the day counters by day.
type memCounters struct {
	gauges           map[string]int64
	days             map[string]map[string]int64 // "2006-01-02" → counters
	gaugeErr, dayErr error
}

var _ counters = (*memCounters)(nil)

func newMemCounters() *memCounters {
	return &memCounters{gauges: map[string]int64{}, days: map[string]map[string]int64{}}
}

func (m *memCounters) Gauges(context.Context) (map[string]int64, error) {
	if m.gaugeErr != nil {
		return nil, m.gaugeErr
	}
	out := map[string]int64{}
	for k, v := range m.gauges {
		out[k] = v
	}
	return out, nil
}

func (m *memCounters) Days(_ context.Context, from, to time.Time) ([]map[string]int64, error) {
	if m.dayErr != nil {
		return nil, m.dayErr
	}
	var out []map[string]int64
	for d := from.UTC(); !d.After(to); d = d.AddDate(0, 0, 1) {
		if c, ok := m.days[d.Format("2006-01-02")]; ok {
			day := map[string]int64{}
			for k, v := range c {
				day[k] = v
			}
			out = append(out, day)
		}
	}
	return out, nil
}

func (m *memCounters) add(k store.Key, deltas map[string]int64) error {
	target := m.gauges
	if k != store.MarketplaceMetricsCurrentKey() {
		day := k.SK[len(store.MarketplaceMetricsDayPrefix):]
		if m.days[day] == nil {
			m.days[day] = map[string]int64{}
		}
		target = m.days[day]
	}
	for n, v := range deltas {
		target[n] += v
	}
	return nil
}

// countersHarness is the repository and how the marketplace's transactions add to its counters.
type countersHarness struct {
	c   counters
	add func(k store.Key, deltas map[string]int64) error
}

// testCountersContract runs on memCounters and on dynamoCounters (minidyn in `go test`, moto with
// the integration tag).
func testCountersContract(t *testing.T, h countersHarness) {
	ctx := context.Background()
	from, to, _ := PeriodBounds("2026-11")
	if g, err := h.c.Gauges(ctx); err != nil || len(g) != 0 {
		t.Fatalf("no gauges yet: %v %v", g, err)
	}
	if d, err := h.c.Days(ctx, from, to); err != nil || len(d) != 0 {
		t.Fatalf("no days yet: %v %v", d, err)
	}
	for _, w := range []struct {
		k store.Key
		d map[string]int64
	}{
		{store.MarketplaceMetricsCurrentKey(), map[string]int64{GaugePublishedCourses: 3, GaugePending: 700}},
		{store.MarketplaceMetricsCurrentKey(), map[string]int64{GaugePending: -200, GaugeAvailable: 200}},
		{store.MarketplaceMetricsDayKey(from.AddDate(0, 0, -1)), map[string]int64{CtrSales: 100}}, // October 31st
		{store.MarketplaceMetricsDayKey(from), map[string]int64{CtrSales: 1, CtrGMV: 1000}},
		{store.MarketplaceMetricsDayKey(from), map[string]int64{CtrSales: 1, CtrGMV: 500}},
		{store.MarketplaceMetricsDayKey(to.Add(23 * time.Hour)), map[string]int64{CtrRefunded: 300}}, // November 30th
		{store.MarketplaceMetricsDayKey(to.AddDate(0, 0, 1)), map[string]int64{CtrSales: 100}},       // December 1st
	} {
		if err := h.add(w.k, w.d); err != nil {
			t.Fatal(err)
		}
	}
	g, err := h.c.Gauges(ctx)
	if want := map[string]int64{GaugePublishedCourses: 3, GaugePending: 500, GaugeAvailable: 200}; err != nil || !reflect.DeepEqual(g, want) {
		t.Fatalf("gauges %v %v, want %v", g, err, want)
	}
	days, err := h.c.Days(ctx, from, to)
	if err != nil || len(days) != 2 {
		t.Fatalf("days of November: %v %v", days, err)
	}
	sum := map[string]int64{}
	for _, d := range days {
		for k, v := range d {
			sum[k] += v
		}
	}
	if want := map[string]int64{CtrSales: 2, CtrGMV: 1500, CtrRefunded: 300}; !reflect.DeepEqual(sum, want) {
		t.Fatalf("November's counters %v, want %v", sum, want)
	}
}

func TestMemCountersContract(t *testing.T) {
	m := newMemCounters()
	testCountersContract(t, countersHarness{c: m, add: m.add})
}

func TestDynamoCountersContract(t *testing.T) {
	s := newTestStore(t)
	testCountersContract(t, countersHarness{c: dynamoCounters{s}, add: func(k store.Key, deltas map[string]int64) error {
		return s.Transact(context.Background(), store.Append(nil, store.AddCounters(k, deltas)))
	}})
}

// Read is the period's section of the admin metrics: the gauges now and the sum of the period's
// days; a malformed period is a 400; a failed read is an error, never zeros.
func TestRead(t *testing.T) {
	ctx := context.Background()
	m := newMemCounters()
	m.gauges = map[string]int64{GaugePublishedCourses: 4, GaugePending: 1, GaugeAvailable: 2, GaugeHeld: 3, GaugePaid: 5}
	m.days["2026-02-01"] = map[string]int64{CtrSales: 2, CtrFreeEnrollments: 1, CtrGMV: 2000, CtrPlatformRevenue: 600,
		CtrInstructorEarnings: 1400, CtrRefunded: 100, CtrDisputeLost: 50, CtrReleased: 700, CtrPaidOut: 650, CtrPayouts: 1,
		CtrDuplicateSales: 1, CtrRejectedSales: 1, CtrParkedEvents: 9, CtrReviews: 3}
	m.days["2026-02-28"] = map[string]int64{CtrSales: 1, CtrGMV: 999}
	m.days["2026-03-01"] = map[string]int64{CtrSales: 50}
	got, err := read(ctx, m, "2026-02")
	want := Metrics{Period: "2026-02", From: "2026-02-01", To: "2026-02-28", Currency: "usd", PublishedCourses: 4,
		Sales: 3, FreeEnrollments: 1, GMVCents: 2999, PlatformRevenueCents: 600, InstructorEarningsCents: 1400, RefundedCents: 100,
		DisputeLostCents: 50, ReleasedCents: 700, PaidOutCents: 650, Payouts: 1, DuplicateSales: 1, RejectedSales: 1,
		Earnings: Earnings{PendingCents: 1, AvailableCents: 2, HeldCents: 3, PaidCents: 5}}
	if err != nil || got != want {
		t.Fatalf("read:\n got %+v\nwant %+v (%v)", got, want, err)
	}
	for _, bad := range []string{"", "2026-13", "26-02", "2026-2"} {
		if _, err := read(ctx, m, bad); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("period %q: %v", bad, err)
		}
	}
	boom := errors.New("throttled")
	m.dayErr = boom
	if got, err := read(ctx, m, "2026-02"); !errors.Is(err, boom) || got.Sales != 0 {
		t.Fatalf("days unreadable: %+v %v", got, err)
	}
	m.gaugeErr = boom
	if _, err := read(ctx, m, "2026-02"); !errors.Is(err, boom) {
		t.Fatalf("gauges unreadable: %v", err)
	}
}

// Read over the table, as billing's admin metrics call it.
func TestReadOnTheTable(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	at := time.Date(2026, 5, 17, 12, 0, 0, 0, time.UTC)
	if err := s.Transact(ctx, store.Append(nil,
		store.AddCounters(store.MarketplaceMetricsCurrentKey(), map[string]int64{GaugePublishedCourses: 2, GaugeHeld: 40}),
		store.AddCounters(store.MarketplaceMetricsDayKey(at), map[string]int64{CtrSales: 3, CtrGMV: 4500}))); err != nil {
		t.Fatal(err)
	}
	m, err := Read(ctx, s, "2026-05")
	if err != nil || m.PublishedCourses != 2 || m.Earnings.HeldCents != 40 || m.Sales != 3 || m.GMVCents != 4500 || m.To != "2026-05-31" {
		t.Fatalf("%+v %v", m, err)
	}
	if m, err := Read(ctx, s, "2026-06"); err != nil || m.Sales != 0 || m.PublishedCourses != 2 {
		t.Fatalf("another month: %+v %v", m, err)
	}
}
