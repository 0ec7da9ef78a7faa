//go:build integration

package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/facts"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/rewards"
)

// Earning through the real queues: the learning-events queue (as the EventBridge rule delivers)
// and the facts queue (as billing and the marketplace will send), consumed by the pollers, read
// back through the gateway.
func TestRewardsEarningThroughTheQueues(t *testing.T) {
	h := Start(t, WithSetup(func(_ testing.TB, env *localtest.Env) { env.WithFakeClock() }))
	clk := h.Env.Clock
	// A Tuesday morning, so that the test's lessons all fall on one UTC day.
	clk.Set(time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC))
	ana := rwUser("ana")
	tok := h.Token(t, ana, ana+"@example.com")

	// One learning event delivered three times earns once.
	for range 3 {
		rwLearning(t, h, rewards.EventLessonCompleted, "evt-"+ana+"-1", ana, "crs_spanish", "les_1", clk.Now())
	}
	h.Drain(t, manifest.LearningEventsQueue)
	if b := rwBalance(t, h, tok); b.Balance != 5 || b.Available != 5 || b.EarnedThisWeek != 5 {
		t.Fatalf("after 3 deliveries: %+v", b)
	}
	if txs := rwTransactions(t, h, tok); len(txs) != 1 || txs[0].Rule != "lesson.completed" || txs[0].Delta != 5 ||
		txs[0].SourceID != "crs_spanish/les_1" || txs[0].BalanceAfter != 5 {
		t.Fatalf("ledger: %+v", txs)
	}

	// Eleven more lessons the same day: the daily cap stops at 50.
	for i := 2; i <= 12; i++ {
		rwLearning(t, h, rewards.EventLessonCompleted, fmt.Sprintf("evt-%s-%d", ana, i), ana, "crs_spanish", fmt.Sprintf("les_%d", i), clk.Now())
	}
	h.Drain(t, manifest.LearningEventsQueue)
	if b := rwBalance(t, h, tok); b.Balance != 50 {
		t.Fatalf("after 12 lessons in a day: %+v", b)
	}
	if txs := rwTransactions(t, h, tok); len(txs) != 10 || txs[0].BalanceAfter != 50 || txs[0].Seq != 10 {
		t.Fatalf("ledger after the cap: %d entries, newest %+v", len(txs), txs[0])
	}

	// A course purchase earns pending tokens; a second purchase is refunded inside its window.
	bought := clk.Now()
	for _, id := range []string{"pur_keep", "pur_refunded"} {
		p := facts.CoursePurchasedFact{UserID: ana, CourseID: "crs_" + id, PurchaseID: id + "-" + ana, AmountCents: 4900,
			Currency: "usd", PurchasedAt: bought, RefundWindowEndsAt: bought.Add(30 * 24 * time.Hour)}
		rwSend(t, h, manifest.FactsQueue, facts.CoursePurchased, p.DedupeID(), p)
		rwSend(t, h, manifest.FactsQueue, facts.CoursePurchased, p.DedupeID(), p) // at least once
	}
	h.Drain(t, manifest.FactsQueue)
	if b := rwBalance(t, h, tok); b.Pending != 100 || b.Available != 50 || b.LifetimeEarned != 50 {
		t.Fatalf("two purchases: %+v", b)
	}
	r := facts.CourseRefundedFact{UserID: ana, CourseID: "crs_pur_refunded", PurchaseID: "pur_refunded-" + ana,
		RefundID: "re_1-" + ana, AmountCents: 4900, Currency: "usd", Full: true, RefundedAt: bought.Add(3 * 24 * time.Hour)}
	rwSend(t, h, manifest.FactsQueue, facts.CourseRefunded, r.DedupeID(), r)
	h.Drain(t, manifest.FactsQueue)
	if b := rwBalance(t, h, tok); b.Pending != 50 || b.Available != 50 {
		t.Fatalf("after the in-window refund: %+v", b)
	}

	// The hourly job before the window ends releases nothing; after it, the kept purchase.
	clk.Set(bought.Add(30*24*time.Hour - time.Minute))
	if rep := rwRelease(t, h); rep.Released != 0 {
		t.Fatalf("early run: %+v", rep)
	}
	clk.Set(bought.Add(30*24*time.Hour + time.Hour))
	if rep := rwRelease(t, h); rep.Released != 1 || rep.Due != 1 {
		t.Fatalf("run after the window: %+v", rep)
	}
	if rep := rwRelease(t, h); rep.Due != 0 {
		t.Fatalf("second run: %+v", rep)
	}
	b := rwBalance(t, h, tok)
	if b.Pending != 0 || b.Available != 100 || b.Balance != 100 || b.LifetimeEarned != 100 {
		t.Fatalf("after release: %+v", b)
	}
	var kinds []rewards.Kind
	for _, tx := range rwTransactions(t, h, tok)[:4] {
		kinds = append(kinds, tx.Kind)
	}
	if fmt.Sprint(kinds) != "[release cancel pending pending]" {
		t.Fatalf("newest entries: %v", kinds)
	}

	// A renewal fact earns by tier, once per invoice; a malformed fact is dropped, not dead-lettered.
	rn := facts.SubscriptionRenewedFact{UserID: ana, Tier: "enterprise", InvoiceID: "in_" + ana, PaidAt: clk.Now()}
	rwSend(t, h, manifest.FactsQueue, facts.SubscriptionRenewed, rn.DedupeID(), rn)
	rwSend(t, h, manifest.FactsQueue, facts.SubscriptionRenewed, rn.DedupeID(), rn)
	rwSend(t, h, manifest.FactsQueue, facts.ReviewPublished, "bad", map[string]string{"userId": ana})
	h.Drain(t, manifest.FactsQueue)
	if b := rwBalance(t, h, tok); b.Balance != 150 {
		t.Fatalf("after the renewal: %+v", b)
	}
	var metrics rewards.TokenMetrics
	rwGet(t, h, "/admin/tokens/metrics?days=40", h.Token(t, "root", "ops@example.com", "admin"), http.StatusOK, &metrics)
	if metrics.Issued != 150 || metrics.Outstanding != 150 || metrics.PendingEarned != 100 || metrics.PendingCancelled != 50 || metrics.PendingNow != 0 {
		t.Fatalf("metrics: %+v", metrics)
	}
	// GET /admin/metrics carries the same liability in its tokens section.
	var all struct {
		Tokens rewards.TokenMetrics `json:"tokens"`
	}
	rwGet(t, h, "/admin/metrics", h.Token(t, "root", "ops@example.com", "admin"), http.StatusOK, &all)
	if all.Tokens.Outstanding != 150 || all.Tokens.To != rewards.Day(clk.Now()) {
		t.Fatalf("tokens section of /admin/metrics: %+v", all.Tokens)
	}
}
