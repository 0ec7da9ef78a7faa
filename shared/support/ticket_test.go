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

// An Enterprise normal ticket (8 business hours to the first reply, 72 to resolution) opened on a
// Friday afternoon, over a weekend, a first reply and a pending pause.
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
	// Monday 10:00 (3 h used) an agent answers, meeting the first-reply target, and asks the
	// customer for logs: pending. The resolution clock waits for the customer.
	outs := tk.reply(RoleAgent, at("2026-12-07 10:00 Mon"))
	if len(outs) != 1 || outs[0].Target != sla.FirstReply || outs[0].Result != OutcomeMet || tk.Outcomes[sla.FirstReply] != OutcomeMet {
		t.Fatalf("first reply outcome %+v", outs)
	}
	tk.setStatus(StatusPending, at("2026-12-07 10:00 Mon"))
	if len(tk.Upcoming()) != 0 || tk.nextDue() != nil {
		t.Fatalf("pending ticket has events: %+v", tk.Upcoming())
	}
	// The customer answers on Tuesday 11:00: the resolution clock resumes with 3 h used; 54 h
	// (75 %) fall on Wednesday 2026-12-16 14:00, 72 h on Friday 2026-12-18 16:00.
	tk.reply(RoleRequester, at("2026-12-08 11:00 Tue"))
	if tk.Status != StatusOpen {
		t.Fatalf("status %s", tk.Status)
	}
	up = tk.Upcoming()
	if len(up) != 2 || !up[0].At.Equal(at("2026-12-16 14:00 Wed")) || !up[1].At.Equal(at("2026-12-18 16:00 Fri")) {
		t.Fatalf("after the pause %+v", up)
	}
	v := viewOf(tk, at("2026-12-08 12:00 Tue"))
	if r := v.SLA.Resolution; r.Status != "running" || r.ElapsedMinutes != 4*60 || !v.SLA.BusinessHours ||
		r.DueAt == nil || !r.DueAt.Equal(at("2026-12-18 16:00 Fri")) {
		t.Fatalf("view %+v", v.SLA)
	}
	if f := v.SLA.FirstReply; f.Status != OutcomeMet || f.ElapsedMinutes != 3*60 || f.DueAt != nil {
		t.Fatalf("first reply view %+v", f)
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
	if len(outs) != 1 || outs[0].Target != sla.Resolution || outs[0].Result != OutcomeMet || tk.SolvedAt == nil || tk.nextDue() != nil {
		t.Fatalf("solve %+v", outs)
	}
	// Reopened by the requester: the clock runs on from 6 h; Monday's met is taken back from Monday.
	outs = tk.reply(RoleRequester, at("2026-12-01 09:00 Tue"))
	if tk.Status != StatusOpen || tk.SolvedAt != nil || len(outs) != 1 || outs[0].Delta != -1 ||
		outs[0].Counter != "enterprise_urgent_resolution_met" || !outs[0].Day.Equal(at("2026-11-30 15:00 Mon")) {
		t.Fatalf("reopen %+v", outs)
	}
	// Solved again in time (7 h): met, counted on Tuesday; the late first reply stays counted once.
	outs, _ = tk.setStatus(StatusSolved, at("2026-12-01 10:00 Tue"))
	if len(outs) != 1 || outs[0].Result != OutcomeMet || outs[0].Delta != 1 || !outs[0].Day.Equal(at("2026-12-01 10:00 Tue")) {
		t.Fatalf("second solve %+v", outs)
	}
	if outs := tk.reply(RoleAgent, at("2026-12-01 10:30 Tue")); len(outs) != 0 || tk.Outcomes[sla.FirstReply] != OutcomeBreached {
		t.Fatalf("a later agent reply %+v", outs)
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
	if err != nil {
		t.Fatal(err)
	}
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
	// Answered, then pending: the entry goes, nothing replaces it.
	prev := tk
	next := tk
	next.Events, next.Outcomes = map[string]time.Time{}, map[string]string{}
	next.reply(RoleAgent, at("2026-11-30 09:05 Mon"))
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

// writeTicket stamps next over prev and returns the repository's transaction for it.
func writeTicket(prev Ticket, next *Ticket) ([]types.TransactWriteItem, error) {
	stamp(prev, next)
	return ticketItems(ticketWrite{Prev: prev, Next: *next, At: next.UpdatedAt})
}

func sk(item map[string]types.AttributeValue) string {
	return item["SK"].(*types.AttributeValueMemberS).Value
}

func TestReport(t *testing.T) {
	total := map[string]int64{"enterprise_urgent_firstReply_met": 3, "enterprise_urgent_firstReply_breached": 1,
		"enterprise_urgent_resolution_met": 4, "pro_low_firstReply_breached": 2}
	rep := buildReport(30, at("2026-11-01 00:00 Sun"), at("2026-11-30 00:00 Mon"), total)
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

// Pending without a reply: the first-reply target keeps running and stays on the breach job's
// schedule; only the resolution target waits for the customer.
func TestPendingDoesNotPauseFirstReply(t *testing.T) {
	tk := ticket(sla.TierEnterprise, sla.Normal, at("2026-12-04 15:00 Fri"))
	tk.setStatus(StatusPending, at("2026-12-07 10:00 Mon")) // 3 business hours used, no reply yet
	up := tk.Upcoming()
	if len(up) != 2 || up[0].ID() != "firstReply#warning" || !up[0].At.Equal(at("2026-12-07 13:00 Mon")) ||
		!up[1].At.Equal(at("2026-12-07 15:00 Mon")) {
		t.Fatalf("pending ticket's events %+v", up)
	}
	if due := tk.nextDue(); due == nil || !due.Equal(at("2026-12-07 13:00 Mon")) {
		t.Fatalf("next due %v", due)
	}
	v := viewOf(tk, at("2026-12-07 12:00 Mon"))
	if f := v.SLA.FirstReply; f.Status != "running" || f.ElapsedMinutes != 5*60 || f.DueAt == nil || !f.DueAt.Equal(at("2026-12-07 15:00 Mon")) {
		t.Fatalf("first reply while pending %+v", f)
	}
	if r := v.SLA.Resolution; r.Status != "paused" || r.ElapsedMinutes != 3*60 || r.DueAt != nil {
		t.Fatalf("resolution while pending %+v", r)
	}
	if !tk.breaching(at("2026-12-07 15:00 Mon")) {
		t.Fatal("a pending ticket past its first-reply target is not breaching")
	}
	// The reply comes late (Monday 16:00, 9 h): breached, though the ticket was pending.
	outs := tk.reply(RoleAgent, at("2026-12-07 16:00 Mon"))
	if len(outs) != 1 || outs[0].Target != sla.FirstReply || outs[0].Result != OutcomeBreached {
		t.Fatalf("late first reply on a pending ticket %+v", outs)
	}
}

// A solved ticket that is reopened owes its resolution again: the "met" counted at the first solve
// no longer stands, and a late second solve counts as a breach.
func TestReopenedTicketIsMeasuredAgain(t *testing.T) {
	tk := ticket(sla.TierEnterprise, sla.Urgent, at("2026-11-30 09:00 Mon")) // 1 h / 8 h, calendar
	tk.reply(RoleAgent, at("2026-11-30 09:30 Mon"))
	outs, _ := tk.setStatus(StatusSolved, at("2026-11-30 15:00 Mon")) // 6 h: met
	if len(outs) != 1 || outs[0].Target != sla.Resolution || outs[0].Result != OutcomeMet {
		t.Fatalf("first solve %+v", outs)
	}
	tk.reply(RoleRequester, at("2026-12-01 09:00 Tue")) // reopened: the clock runs on from 6 h
	if tk.Outcomes[sla.Resolution] == OutcomeMet {
		t.Fatal("a reopened ticket still counts its resolution as met")
	}
	if up := tk.Upcoming(); len(up) == 0 || up[len(up)-1].ID() != "resolution#breach" || !up[len(up)-1].At.Equal(at("2026-12-01 11:00 Tue")) {
		t.Fatalf("reopened ticket's events %+v", up)
	}
	outs, _ = tk.setStatus(StatusSolved, at("2026-12-01 12:00 Tue")) // 9 h > 8 h
	if len(outs) != 1 || outs[0].Target != sla.Resolution || outs[0].Result != OutcomeBreached || tk.Outcomes[sla.Resolution] != OutcomeBreached {
		t.Fatalf("late second solve %+v, outcomes %v", outs, tk.Outcomes)
	}
}

// A ticket stored with a due date the old calendar stalled on (2036, in Santiago) gets its true one
// on any write, such as the runbook's PATCH of its current priority.
func TestAWriteMovesAStaleDueDate(t *testing.T) {
	tk := ticket(sla.TierEnterprise, sla.Normal, at("2026-09-04 19:00 Fri")) // 15:00 in Santiago
	tk.TimeZone, tk.Version = "America/Santiago", 3
	stale := at("2036-09-11 19:00 Thu")
	tk.NextDueAt = &stale
	next := tk
	if err := next.setPriority(sla.Normal, at("2026-09-05 12:00 Sat")); err != nil {
		t.Fatal(err)
	}
	items, err := writeTicket(tk, &next)
	if err != nil || len(items) != 3 || items[1].Delete == nil || sk(items[1].Delete.Key) != store.SLADueKey(stale, tk.ID).SK ||
		sk(items[2].Put.Item) != store.SLADueKey(at("2026-09-07 16:00 Mon"), tk.ID).SK { // the warning: 13:00 −03
		t.Fatalf("items %+v, %v", items, err)
	}
}
