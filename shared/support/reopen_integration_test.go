//go:build integration

package support

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
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
	items, err := writeTicket(Ticket{}, &tk)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Store.Transact(ctx, items); err != nil {
		t.Fatal(err)
	}
	step := func(at time.Time, change func(t *Ticket, now time.Time) []outcome) {
		t.Helper()
		clk.Set(at)
		if _, _, err := update(ctx, d, tk.ID, func(t *Ticket, now time.Time) ([]outcome, []types.TransactWriteItem, error) {
			return change(t, now), nil, nil
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
	var days []map[string]types.AttributeValue
	for day := t0; !day.After(clk.Now()); day = day.Add(24 * time.Hour) {
		out, err := d.Store.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.Store.Table,
			Key: store.SLAStatsKey(day).Item(), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		days = append(days, out.Item)
	}
	row := buildReport(30, t0, clk.Now(), days).Rows[0]
	if row.Tier != sla.TierEnterprise || row.Priority != sla.Urgent || row.Resolution.Met != 0 || row.Resolution.Breached != 1 ||
		row.FirstReply.Met != 1 {
		t.Fatalf("report row %+v (resolution %+v)", row, row.Resolution)
	}
	got, err := getTicket(ctx, d.Store, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Outcomes[sla.Resolution] != OutcomeBreached {
		t.Fatalf("ticket outcomes %v", got.Outcomes)
	}
}
