//go:build integration

package support

import (
	"context"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/support/sla"
)

// A ticket solved in time, reopened by the customer and then escalated by the breach job: the SLA
// report shows its resolution breached, not met (the met of the first solve is taken back from the
// day it was counted).
func TestReopenedTicketBreachCountsInTheReport(t *testing.T) {
	env := localtest.New(t)
	clk := env.WithFakeClock()
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC) // Monday; urgent targets are calendar hours
	clk.Set(t0)
	d, err := NewDeps(env.RuntimeFor(t, manifest.MustByName("support-sla-check")))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tk := newTicket(ids.New("tkt", t0), "u-"+ids.Random(4), "u@acme.example", sla.TierEnterprise, sla.Urgent, "Down", t0)
	stamp(Ticket{}, &tk)
	if err := d.Repo.WriteTicket(ctx, ticketWrite{Next: tk, At: t0}); err != nil {
		t.Fatal(err)
	}
	step := func(at time.Time, change func(t *Ticket, now time.Time) []outcome) {
		t.Helper()
		clk.Set(at)
		if _, _, err := update(ctx, d.Clock, d.Repo, tk.ID, func(w *ticketWrite, now time.Time) error {
			w.Outcomes = change(&w.Next, now)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	step(t0.Add(30*time.Minute), func(t *Ticket, now time.Time) []outcome { return t.reply(RoleAgent, now) })
	step(t0.Add(6*time.Hour), func(t *Ticket, now time.Time) []outcome { o, _ := t.setStatus(StatusSolved, now); return o })
	step(t0.Add(24*time.Hour), func(t *Ticket, now time.Time) []outcome { return t.reply(RoleRequester, now) })

	clk.Set(t0.Add(26*time.Hour + time.Minute)) // Tuesday 11:01: 6 h + 2 h 01 > 8 h
	rep, err := RunCheck(ctx, d, "support-sla-check")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Escalations != 1 || rep.BreachesRecorded != 1 {
		t.Fatalf("check after the reopen %+v", rep)
	}
	total, err := d.Repo.SLAStats(ctx, t0, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	row := buildReport(30, t0, clk.Now(), total).Rows[0]
	if row.Tier != sla.TierEnterprise || row.Priority != sla.Urgent || row.Resolution.Met != 0 || row.Resolution.Breached != 1 ||
		row.FirstReply.Met != 1 {
		t.Fatalf("report row %+v (resolution %+v)", row, row.Resolution)
	}
	got, err := d.Repo.Ticket(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Outcomes[sla.Resolution] != OutcomeBreached {
		t.Fatalf("ticket outcomes %v", got.Outcomes)
	}
}
