//go:build integration

package seed_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/e2e"
	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/seed"
	"github.com/liberation/monetization/infra/local/stripestate"
	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/privacy/privacytest"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// The seed on an end-to-end harness (as the browser tests use it): a small catalog seeded twice
// leaves exactly the same items the second time; the history route then answers 90 days, the
// newest today's real snapshot; and every console page's data is there — the refundable payment in
// the learner's payments, the pending redemptions, the active license with its seats, the agents'
// queue with the urgent ticket, the month's payouts.
func TestSeedTwiceOnAHarnessChangesNothing(t *testing.T) {
	start := time.Now()
	// A Stripe stand-in, as in `make dev`: the seed tells it each purchase's charge. Its webhook
	// events go to the harness's gateway, known only once it has started (the relay).
	var hook atomic.Value
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		url, _ := hook.Load().(string)
		b, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequest(r.Method, url, bytes.NewReader(b))
		req.Header = r.Header.Clone()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	}))
	t.Cleanup(relay.Close)
	var stURL string
	h := e2e.Start(t, e2e.WithSetup(func(t testing.TB, env *localtest.Env) {
		_, stURL = stripestate.Start(t, stripestate.Config{StripeMock: env.Getenv(manifest.EnvStripeAPIBase),
			WebhookURL: relay.URL, WebhookSecret: env.Getenv(manifest.EnvWebhookSecret)})
		env.Runtime.Config.StripeAPIBase = stURL
	}))
	hook.Store(h.URL + seed.WebhookPath())

	var out bytes.Buffer
	cfg := seed.Config{BaseURL: h.URL, Auth: h.Auth, WebhookSecret: h.Env.Getenv(manifest.EnvWebhookSecret),
		StripeStateURL: stURL, Courses: 4, Learners: 4, Store: h.Env.Store(), Out: &out}
	first, err := seed.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("first seed: %v\n%s", err, out.String())
	}
	t.Logf("first run in %s:\n%s", time.Since(start).Round(time.Millisecond), out.String())
	// Written+Kept: on a fresh table every day is written, but an SDK retry of a put that had
	// landed finds its own item and counts it kept.
	if first.CoursesCreated != 4 || first.History.Written+first.History.Kept != seed.DefaultHistoryDays-1 ||
		first.History.Written == 0 || !first.History.TodayWritten {
		t.Fatalf("first run: %+v", first)
	}
	drainAll(t, h) // the messages of the first run (facts, receipts, payouts…) write before the count
	items := tableItems(t, h)

	out.Reset()
	second, err := seed.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("second seed: %v\n%s", err, out.String())
	}
	t.Logf("second run:\n%s", out.String())
	drainAll(t, h)
	again := tableItems(t, h)
	if len(again) != len(items) {
		t.Errorf("the second run changed the item count: %d → %d", len(items), len(again))
	}
	for k := range again {
		if _, ok := items[k]; !ok {
			t.Errorf("the second run added %s", k)
		}
	}
	if second.CoursesCreated != 0 || second.CoursesPublished != 0 || second.History.Written != 0 ||
		second.History.Kept != seed.DefaultHistoryDays-1 || second.History.TodayWritten {
		t.Errorf("second run: %+v", second)
	}
	// The ids a test relies on are the same both times.
	if first.RefundablePaymentID != second.RefundablePaymentID || first.LicenseID != second.LicenseID ||
		strings.Join(first.TicketIDs, ",") != strings.Join(second.TicketIDs, ",") ||
		strings.Join(first.PendingRedemptionIDs, ",") != strings.Join(second.PendingRedemptionIDs, ",") {
		t.Errorf("ids differ between runs:\n%+v\n%+v", first, second)
	}

	admin := h.Token(t, seed.AdminID, seed.AdminID+"@example.com", "admin")
	// 90 days of history through the route, oldest first, today's the real one.
	var hist struct {
		Days []struct {
			Day             string `json:"day"`
			MRRCents        int64  `json:"mrrCents"`
			PayingCustomers int64  `json:"payingCustomers"`
			Source          string `json:"source"`
			Support         *struct {
				SLAMetPercent *float64 `json:"slaMetPercent"`
			} `json:"support"`
		} `json:"days"`
		NextCursor string `json:"nextCursor"`
	}
	h.Call(t, "GET", "/admin/metrics/history?limit=366", admin, nil, http.StatusOK, &hist)
	today := time.Now().UTC().Format("2006-01-02")
	if len(hist.Days) != seed.DefaultHistoryDays || hist.NextCursor != "" || hist.Days[0].Day != first.History.From ||
		hist.Days[len(hist.Days)-1].Day != today || hist.Days[len(hist.Days)-2].Day != first.History.To {
		t.Fatalf("history: %d days (%+v … %+v), want %d ending today", len(hist.Days), hist.Days[0], hist.Days[len(hist.Days)-1], seed.DefaultHistoryDays)
	}
	for i, d := range hist.Days {
		demo := seed.IsDemo(billing.Snapshot{Source: d.Source})
		if demo != (i < len(hist.Days)-1) {
			t.Errorf("%s (source %q): marked as demo %t; want every day but today", d.Day, d.Source, demo)
		}
	}
	// Today's real snapshot has the seeded subscribers' MRR, and the demo history leads to it:
	// yesterday within 10 % of today, the first day well below.
	current, yesterday := hist.Days[len(hist.Days)-1], hist.Days[len(hist.Days)-2]
	if current.MRRCents <= 0 || current.PayingCustomers != int64(first.Subscribers) || first.Subscribers == 0 {
		t.Errorf("today's real snapshot: MRR %d, paying %d; want the %d seeded subscribers'", current.MRRCents, current.PayingCustomers, first.Subscribers)
	}
	if d := yesterday.MRRCents - current.MRRCents; d*10 > current.MRRCents || -d*10 > current.MRRCents {
		t.Errorf("yesterday's demo MRR %d cents, today's real %d: want within 10 %%", yesterday.MRRCents, current.MRRCents)
	}
	if hist.Days[0].MRRCents*2 > current.MRRCents {
		t.Errorf("the first demo day's MRR %d is not about 40 %% of today's %d", hist.Days[0].MRRCents, current.MRRCents)
	}
	var metrics struct {
		MRRCents        int64 `json:"mrrCents"`
		PayingCustomers int64 `json:"payingCustomers"`
		Support         struct {
			SLAMet        int64    `json:"slaMet"`
			SLABreached   int64    `json:"slaBreached"`
			SLAMetPercent *float64 `json:"slaMetPercent"`
		} `json:"support"`
	}
	h.Call(t, "GET", "/admin/metrics", admin, nil, http.StatusOK, &metrics)
	if metrics.MRRCents != current.MRRCents || metrics.PayingCustomers != current.PayingCustomers {
		t.Errorf("GET /admin/metrics %+v, today's snapshot %+v", metrics, current)
	}
	// The solved ticket's targets were met: support's SLA has a percentage (the demo days' too).
	if metrics.Support.SLAMet < 2 || metrics.Support.SLABreached != 0 || metrics.Support.SLAMetPercent == nil || *metrics.Support.SLAMetPercent != 100 {
		t.Errorf("support SLA after the solved ticket: %+v", metrics.Support)
	}
	if sp := yesterday.Support; sp == nil || sp.SLAMetPercent == nil || *sp.SLAMetPercent != 100 {
		t.Errorf("yesterday's demo SLA: %+v, want 100 %% as today", sp)
	}

	// The console's pages have their data.
	var pays struct {
		Payments []struct {
			ID            string `json:"id"`
			AmountCents   int64  `json:"amountCents"`
			RefundedCents int64  `json:"refundedCents"`
		} `json:"payments"`
	}
	h.Call(t, "GET", "/payments?limit=100", h.Token(t, first.RefundLearnerID, first.RefundLearnerID+"@example.com"), nil, http.StatusOK, &pays)
	found := false
	for _, p := range pays.Payments {
		found = found || (p.ID == first.RefundablePaymentID && p.AmountCents == first.RefundableAmountCents && p.RefundedCents == 0)
	}
	if !found {
		t.Errorf("the refundable payment %s is not among %s's payments: %+v", first.RefundablePaymentID, first.RefundLearnerID, pays.Payments)
	}
	// Besides the course purchase, a subscription payment to refund.
	pays.Payments = nil
	h.Call(t, "GET", "/admin/users/"+first.SubscriptionRefundUserID+"/payments?limit=100", admin, nil, http.StatusOK, &pays)
	found = false
	for _, p := range pays.Payments {
		found = found || (p.ID == first.RefundableSubscriptionPaymentID && p.AmountCents == first.RefundableSubscriptionAmountCents &&
			p.AmountCents > 0 && p.RefundedCents == 0)
	}
	if !found || first.RefundableSubscriptionPaymentID == first.RefundablePaymentID || second.RefundableSubscriptionPaymentID != first.RefundableSubscriptionPaymentID {
		t.Errorf("the refundable subscription payment %s (second run: %s) is not among %s's payments: %+v", first.RefundableSubscriptionPaymentID,
			second.RefundableSubscriptionPaymentID, first.SubscriptionRefundUserID, pays.Payments)
	}
	var reds struct {
		Redemptions []struct {
			ID string `json:"id"`
		} `json:"redemptions"`
	}
	h.Call(t, "GET", "/admin/redemptions?status=pending", admin, nil, http.StatusOK, &reds)
	if len(reds.Redemptions) != 3 || len(first.PendingRedemptionIDs) != 3 {
		t.Errorf("pending redemptions: %+v (report %v), want 3", reds.Redemptions, first.PendingRedemptionIDs)
	}
	var lics struct {
		Licenses []struct {
			ID        string `json:"id"`
			Status    string `json:"status"`
			SeatsUsed int64  `json:"seatsUsed"`
		} `json:"licenses"`
	}
	h.Call(t, "GET", "/admin/licenses", admin, nil, http.StatusOK, &lics)
	if len(lics.Licenses) != 1 || lics.Licenses[0].ID != first.LicenseID || lics.Licenses[0].Status != "active" || lics.Licenses[0].SeatsUsed != 4 {
		t.Errorf("licenses: %+v, want the seeded one active with 4 seats used", lics.Licenses)
	}
	var queue struct {
		Tickets []struct {
			ID       string `json:"id"`
			Priority string `json:"priority"`
			Tier     string `json:"tier"`
			SLA      struct {
				FirstReply struct {
					Status        string `json:"status"`
					TargetMinutes int64  `json:"targetMinutes"`
				} `json:"firstReply"`
			} `json:"sla"`
		} `json:"tickets"`
	}
	h.Call(t, "GET", "/support/queue", h.Token(t, seed.SupportAgentID, seed.SupportAgentID+"@example.com", manifest.GroupSupport), nil, http.StatusOK, &queue)
	urgent := 0
	for _, q := range queue.Tickets {
		if q.Priority == "urgent" && q.ID == first.UrgentTicketID {
			urgent++
			// The console's SLA clock counts down: enterprise urgent, 1 h to a first reply.
			if q.Tier != "enterprise" || q.SLA.FirstReply.Status != "running" || q.SLA.FirstReply.TargetMinutes != 60 {
				t.Errorf("the urgent ticket: tier %s, first reply %+v; want enterprise, running, 60 min", q.Tier, q.SLA.FirstReply)
			}
		}
	}
	if len(queue.Tickets) != 3 || urgent != 1 {
		t.Errorf("the agents' queue: %+v, want the 3 seeded tickets with the urgent one", queue.Tickets)
	}
	queue.Tickets = nil
	h.Call(t, "GET", "/support/queue?status=solved", h.Token(t, seed.SupportAgentID, seed.SupportAgentID+"@example.com", manifest.GroupSupport), nil, http.StatusOK, &queue)
	if len(queue.Tickets) != 1 || queue.Tickets[0].ID != first.SolvedTicketID || second.SolvedTicketID != first.SolvedTicketID {
		t.Errorf("solved tickets: %+v, want the seeded one %s (second run: %s)", queue.Tickets, first.SolvedTicketID, second.SolvedTicketID)
	}
	var payouts struct {
		Payouts []struct {
			InstructorID string `json:"instructorId"`
			Status       string `json:"status"`
		} `json:"payouts"`
	}
	h.Call(t, "GET", "/admin/payouts?period="+first.PayoutPeriod, admin, nil, http.StatusOK, &payouts)
	// The Connect-enabled instructors are paid (their released share is over the minimum); the
	// others, without an account, are carried.
	status := map[string]string{}
	for _, p := range payouts.Payouts {
		status[p.InstructorID] = p.Status
	}
	for _, id := range []string{"seed-instructor-2", "seed-instructor-3"} {
		if status[id] != "paid" && status[id] != "transferring" {
			t.Errorf("payout of %s: %q, want paid (or transferring); all: %v", id, status[id], status)
		}
	}
	if status[seed.InstructorID] != "" && status[seed.InstructorID] != "carried" {
		t.Errorf("payout of %s (no Connect account): %q, want carried", seed.InstructorID, status[seed.InstructorID])
	}
	t.Logf("payouts: %+v; whole test %s", payouts.Payouts, time.Since(start).Round(time.Millisecond))
}

// drainAll waits until every queue is empty (twice over: a consumer may queue to another).
func drainAll(t *testing.T, h *e2e.Harness) {
	t.Helper()
	for range 2 {
		for q := range h.Env.Resources.QueueURLs {
			h.Drain(t, q)
		}
	}
}

// tableItems are the table's items by PK|SK. A scan is fine here: the test's own table.
func tableItems(t *testing.T, h *e2e.Harness) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, it := range privacytest.Items(t, h.Env.Store()) {
		b, _ := json.Marshal(privacy.Row(it))
		out[k] = string(b)
	}
	return out
}
