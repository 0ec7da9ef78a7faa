package support

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/support/sla"
)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04 Mon", s)
	if err != nil {
		panic(err)
	}
	return t
}

func ticket(tier, prio string, now time.Time) Ticket {
	return newTicket("tkt_01JDZ9B7C8D9E0F1G2H3J4K5MN", "u1", "u1@example.com", tier, prio, "Help", now)
}

// An Enterprise normal ticket (8 business hours to first reply) opened on a Friday afternoon, over
// a weekend and a pending pause.
func TestSLAOverAWeekendAndAPendingPause(t *testing.T) {
	tk := ticket(sla.TierEnterprise, sla.Normal, at("2026-12-04 15:00 Fri"))
	up := tk.Upcoming()
	// 75 % of 8 h = 6 h: Fri 15–17 (2 h) + Mon 09–13 → Mon 13:00; breach at Mon 15:00.
	if len(up) != 4 || !up[0].At.Equal(at("2026-12-07 13:00 Mon")) || !up[1].At.Equal(at("2026-12-07 15:00 Mon")) {
		t.Fatalf("upcoming %+v", up)
	}
	if len(tk.Due(at("2026-12-06 23:59 Sun"))) != 0 {
		t.Fatal("something due over the weekend")
	}
	// Monday 10:00 an agent asks the customer for logs: pending.
	tk.setStatus(StatusPending, at("2026-12-07 10:00 Mon"))
	if len(tk.Upcoming()) != 0 || tk.nextDue() != nil {
		t.Fatalf("pending ticket has events: %+v", tk.Upcoming())
	}
	// The customer answers on Tuesday 11:00: the clock resumes with 3 h used.
	tk.reply(RoleRequester, at("2026-12-08 11:00 Tue"))
	if tk.Status != StatusOpen {
		t.Fatalf("status %s", tk.Status)
	}
	up = tk.Upcoming()
	if !up[0].At.Equal(at("2026-12-08 14:00 Tue")) || !up[1].At.Equal(at("2026-12-08 16:00 Tue")) {
		t.Fatalf("after the pause %+v", up)
	}
	v := viewOf(tk, at("2026-12-08 12:00 Tue"))
	if v.SLA.FirstReply.Status != "running" || v.SLA.FirstReply.ElapsedMinutes != 4*60 || !v.SLA.BusinessHours ||
		v.SLA.FirstReply.DueAt == nil || !v.SLA.FirstReply.DueAt.Equal(at("2026-12-08 16:00 Tue")) {
		t.Fatalf("view %+v", v.SLA)
	}
	// The first agent reply at 15:00 (7 h used) meets the target.
	outs := tk.reply(RoleAgent, at("2026-12-08 15:00 Tue"))
	if len(outs) != 1 || outs[0] != (outcome{sla.FirstReply, OutcomeMet}) || tk.Outcomes[sla.FirstReply] != OutcomeMet {
		t.Fatalf("first reply outcome %+v", outs)
	}
	// A second agent reply changes nothing.
	if outs := tk.reply(RoleAgent, at("2026-12-08 16:00 Tue")); len(outs) != 0 {
		t.Fatalf("second reply %+v", outs)
	}
}

func TestSLAInTheOrganisationsTimeZone(t *testing.T) {
	tk := ticket(sla.TierEnterprise, sla.Low, at("2026-12-04 21:00 Fri")) // 16:00 in New York
	tk.TimeZone = "America/New_York"
	up := tk.Upcoming() // 75 % of 24 business hours = 18 h: Fri 1 h, Mon 8, Tue 8, Wed 1 → Wed 10:00 EST
	if !up[0].At.Equal(at("2026-12-09 15:00 Wed")) {
		t.Fatalf("warning at %s", up[0].At)
	}
	tk.TimeZone = "Nowhere/Invalid" // never fail a ticket on a zone: UTC
	if up := tk.Upcoming(); !up[0].At.Equal(at("2026-12-09 11:00 Wed")) {
		t.Fatalf("fallback warning at %s", up[0].At)
	}
}

func TestLateCompletionIsABreach(t *testing.T) {
	tk := ticket(sla.TierEnterprise, sla.Urgent, at("2026-11-30 09:00 Mon"))
	outs := tk.reply(RoleAgent, at("2026-11-30 10:30 Mon")) // 90 min > 1 h
	if len(outs) != 1 || outs[0].Result != OutcomeBreached || tk.Events["firstReply#breach"].IsZero() {
		t.Fatalf("late first reply %+v %+v", outs, tk.Events)
	}
	// Solved at 6 h: the resolution target (8 h) is met.
	outs, _ = tk.setStatus(StatusSolved, at("2026-11-30 15:00 Mon"))
	if len(outs) != 1 || outs[0] != (outcome{sla.Resolution, OutcomeMet}) || tk.SolvedAt == nil || tk.nextDue() != nil {
		t.Fatalf("solve %+v", outs)
	}
	// Reopened by the requester: the clock runs on from 6 h; the outcome stays counted once.
	tk.reply(RoleRequester, at("2026-12-01 09:00 Tue"))
	if tk.Status != StatusOpen || tk.SolvedAt != nil {
		t.Fatalf("reopen %+v", tk)
	}
	if outs, _ := tk.setStatus(StatusSolved, at("2026-12-01 12:00 Tue")); len(outs) != 0 {
		t.Fatalf("outcome counted twice %+v", outs)
	}
}

func TestPriorityChangeKeepsElapsedTime(t *testing.T) {
	tk := ticket(sla.TierEnterprise, sla.Low, at("2026-11-30 09:00 Mon"))
	if err := tk.setPriority("critical", at("2026-11-30 10:00 Mon")); err == nil {
		t.Fatal("unknown priority accepted")
	}
	tk.setPriority(sla.Urgent, at("2026-11-30 09:30 Mon")) // 30 business minutes, now calendar hours
	up := tk.Upcoming()
	if !up[0].At.Equal(at("2026-11-30 09:45 Mon")) || !up[1].At.Equal(at("2026-11-30 10:00 Mon")) {
		t.Fatalf("urgent after 30 min: %+v", up)
	}
	if !tk.breaching(at("2026-11-30 10:00 Mon")) || tk.breaching(at("2026-11-30 09:59 Mon")) {
		t.Fatal("breaching")
	}
	pro := ticket(sla.TierPro, sla.Urgent, at("2026-11-30 09:00 Mon"))
	if v := viewOf(pro, at("2026-11-30 10:00 Mon")); v.SLA.Resolution.Status != "none" || v.SLA.FirstReply.TargetMinutes != 24*60 {
		t.Fatalf("pro view %+v", v.SLA)
	}
	free := ticket(sla.TierFree, sla.Urgent, at("2026-11-30 09:00 Mon"))
	if free.nextDue() != nil || free.breaching(at("2027-01-01 00:00 Fri")) {
		t.Fatal("free ticket has an SLA")
	}
}

// writeTicket moves the ticket's schedule entry with the ticket, in the same transaction.
func TestWriteTicketMovesTheScheduleEntry(t *testing.T) {
	tk := ticket(sla.TierEnterprise, sla.Urgent, at("2026-11-30 09:00 Mon"))
	items, err := writeTicket(Ticket{}, &tk)
	if err != nil || len(items) != 2 || tk.Version != 1 {
		t.Fatalf("%d items, %v", len(items), err)
	}
	if cond := *items[0].Put.ConditionExpression; cond != "attribute_not_exists(PK)" {
		t.Fatalf("create condition %s", cond)
	}
	due := items[1].Put.Item
	if sk(due) != store.SLADueKey(at("2026-11-30 09:45 Mon"), tk.ID).SK {
		t.Fatalf("due entry %s", sk(due))
	}
	// Pending: the entry goes, nothing replaces it.
	prev := tk
	next := tk
	next.setStatus(StatusPending, at("2026-11-30 09:10 Mon"))
	items, _ = writeTicket(prev, &next)
	if len(items) != 2 || items[1].Delete == nil || sk(items[1].Delete.Key) != store.SLADueKey(at("2026-11-30 09:45 Mon"), tk.ID).SK ||
		!strings.Contains(*items[0].Put.ConditionExpression, "version") {
		t.Fatalf("pending items %+v", items)
	}
	// A change that keeps the due time writes only the ticket.
	prev = tk
	same := tk
	same.Assignee = "agent-1"
	if items, _ = writeTicket(prev, &same); len(items) != 1 {
		t.Fatalf("unchanged due time: %d items", len(items))
	}
}

func sk(item map[string]types.AttributeValue) string {
	return item["SK"].(*types.AttributeValueMemberS).Value
}

func TestReport(t *testing.T) {
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	items := []map[string]types.AttributeValue{
		{"enterprise_urgent_firstReply_met": n("3"), "enterprise_urgent_firstReply_breached": n("1"), "PK": &types.AttributeValueMemberS{Value: "SLASTATS"}},
		{"enterprise_urgent_resolution_met": n("4"), "pro_low_firstReply_breached": n("2")},
	}
	rep := buildReport(30, at("2026-11-01 00:00 Sun"), at("2026-11-30 00:00 Mon"), items)
	if len(rep.Rows) != 8 || rep.Rows[0].Tier != "enterprise" || rep.Rows[0].Priority != "urgent" {
		t.Fatalf("rows %+v", rep.Rows)
	}
	u := rep.Rows[0]
	if u.Met != 7 || u.Breached != 1 || *u.MetPercent != 87.5 || *u.FirstReply.MetPercent != 75 || *u.Resolution.MetPercent != 100 {
		t.Fatalf("enterprise urgent %+v", u)
	}
	proLow := rep.Rows[7]
	if proLow.Tier != "pro" || proLow.Priority != "low" || *proLow.MetPercent != 0 || proLow.Resolution.MetPercent != nil {
		t.Fatalf("pro low %+v", proLow)
	}
}
