//go:build integration

package apispec_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/billing"
)

// consoleContract: the operator console's read routes (issue 20, part A) answer the documented
// bodies. GET /admin/users/{userId}/payments pages alice's payments (she has two by now) and answers
// an empty list for bob; GET /admin/metrics/history answers snapshots with every section and one
// written before the console's sections existed (null sections), paged by cursor. Both are GETs: no
// idempotency probe.
func consoleContract(t *testing.T, c *contract, alice, bob *caller) {
	t.Helper()
	admin := newCaller(true)

	// A user's payments (admin).
	var page struct {
		Payments []struct {
			ID string `json:"id"`
		} `json:"payments"`
		NextCursor string `json:"nextCursor"`
	}
	path := func(u string) map[string]string { return map[string]string{"userId": u} }
	res := c.call(req{fn: "list-user-payments", as: admin, path: path(alice.sub), query: map[string]string{"limit": "1"}}, 200)
	res.json(t, &page)
	if len(page.Payments) != 1 || page.NextCursor == "" {
		t.Fatalf("alice's payments, first page: %s", res.body)
	}
	first := page.Payments[0].ID
	res = c.call(req{fn: "list-user-payments", as: admin, path: path(alice.sub), query: map[string]string{"limit": "1", "cursor": page.NextCursor}}, 200)
	c.call(req{fn: "list-user-payments", as: admin, path: path(bob.sub), query: map[string]string{"cursor": page.NextCursor}}, 400)
	page.NextCursor = ""
	res.json(t, &page)
	if len(page.Payments) != 1 || page.Payments[0].ID == first {
		t.Fatalf("alice's payments, second page: %s", res.body)
	}
	res = c.call(req{fn: "list-user-payments", as: admin, path: path(bob.sub)}, 200)
	if string(res.body) != `{"payments":[]}` {
		t.Fatalf("bob's payments: %s", res.body)
	}
	c.call(req{fn: "list-user-payments", as: admin, path: path(strings.Repeat("u", 129)), invalid: true}, 400)
	c.call(req{fn: "list-user-payments", as: admin, path: path(alice.sub), query: map[string]string{"limit": "101"}, invalid: true}, 400)
	c.call(req{fn: "list-user-payments", as: alice, path: path(alice.sub)}, 403)
	c.call(req{fn: "list-user-payments", path: path(alice.sub)}, 401)

	// The metrics history (admin): two full snapshots and one of the shape written before issue 20.
	ctx, st := context.Background(), c.env.Store()
	for i, d := range []int{1, 3} {
		s := billing.SnapshotForDay(time.Date(2025, 6, d, 0, 15, 0, 0, time.UTC))
		s.MRRCents, s.PayingCustomers = int64(1000*(i+1)), int64(i+1)
		revenue, refunded, pct := int64(5000), int64(100), 99.5
		s.PaymentsRevenue30dCents, s.PaymentsRefunded30dCents = &revenue, &refunded
		s.Marketplace = &billing.SnapshotMarketplace{Period: "2025-06", Sales: 2, GMVCents: 4000, PlatformRevenueCents: 1200,
			InstructorEarningsCents: 2800}
		s.Tokens = &billing.SnapshotTokens{Issued: 10, Redeemed: 2, Outstanding: 50}
		s.Enterprise = &billing.SnapshotEnterprise{LicensesActive: 1, SeatsSold: 10, SeatsUsed: 4}
		s.Support = &billing.SupportStats{SLAMet: 199, SLABreached: 1, SLAMetPercent: &pct}
		if d == 3 { // a demo day of `make seed`: its source is in the schema
			s.Source = billing.SnapshotSourceSeed
		}
		if ok, err := billing.WriteSnapshot(ctx, st, s); !ok || err != nil {
			t.Fatalf("write snapshot: %v %v", ok, err)
		}
	}
	old := billing.SnapshotForDay(time.Date(2025, 6, 2, 0, 15, 0, 0, time.UTC)) // no new sections: nil pointers
	old.ActiveSubscriptions = nil
	if ok, err := billing.WriteSnapshot(ctx, st, old); !ok || err != nil {
		t.Fatalf("write old snapshot: %v %v", ok, err)
	}
	june := map[string]string{"from": "2025-06-01", "to": "2025-06-30"}
	var hist struct {
		Days []struct {
			Day     string `json:"day"`
			Support any    `json:"support"`
			Source  string `json:"source"`
		} `json:"days"`
		NextCursor string `json:"nextCursor"`
	}
	res = c.call(req{fn: "get-metrics-history", as: admin, query: june}, 200)
	res.json(t, &hist)
	if len(hist.Days) != 3 || hist.Days[0].Day != "2025-06-01" || hist.Days[1].Support != nil || hist.Days[2].Support == nil || hist.NextCursor != "" ||
		hist.Days[0].Source != "" || hist.Days[2].Source != "seed" {
		t.Fatalf("June's history: %s", res.body)
	}
	res = c.call(req{fn: "get-metrics-history", as: admin, query: map[string]string{"from": june["from"], "to": june["to"], "limit": "2"}}, 200)
	res.json(t, &hist)
	if len(hist.Days) != 2 || hist.NextCursor == "" {
		t.Fatalf("June's first page: %s", res.body)
	}
	next := hist.NextCursor
	hist.NextCursor = ""
	res = c.call(req{fn: "get-metrics-history", as: admin, query: map[string]string{"from": june["from"], "to": june["to"], "limit": "2", "cursor": next}}, 200)
	res.json(t, &hist)
	if len(hist.Days) != 1 || hist.Days[0].Day != "2025-06-03" {
		t.Fatalf("June's second page: %s", res.body)
	}
	c.call(req{fn: "get-metrics-history", as: admin}, 200) // the default range
	c.call(req{fn: "get-metrics-history", as: admin, query: map[string]string{"from": "2025-07-01", "cursor": next}}, 400)
	c.call(req{fn: "get-metrics-history", as: admin, query: map[string]string{"from": "2025-6-1"}, invalid: true}, 400)
	c.call(req{fn: "get-metrics-history", as: admin, query: map[string]string{"from": "2025-06-30", "to": "2025-06-01"}}, 400)
	c.call(req{fn: "get-metrics-history", as: admin, query: map[string]string{"from": "2024-01-01", "to": "2025-06-01"}}, 400)
	c.call(req{fn: "get-metrics-history", as: admin, query: map[string]string{"limit": "367"}, invalid: true}, 400)
	c.call(req{fn: "get-metrics-history", as: alice}, 403)
	c.call(req{fn: "get-metrics-history"}, 401)
}
