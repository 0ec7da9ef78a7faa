package support

import (
	"maps"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/support/sla"
)

// A reopened ticket's met is taken back from the day it was counted, and the breach the job
// records afterwards counts on its own day: the report ends at one breach, no met.
func TestStatsFollowAReopenedTicket(t *testing.T) {
	tk := ticket(sla.TierEnterprise, sla.Urgent, at("2026-11-30 09:00 Mon")) // 1 h / 8 h, calendar
	var all []outcome
	all = append(all, tk.reply(RoleAgent, at("2026-11-30 09:30 Mon"))...)
	outs, _ := tk.setStatus(StatusSolved, at("2026-11-30 15:00 Mon"))
	all = append(all, outs...)
	all = append(all, tk.reply(RoleRequester, at("2026-12-01 09:00 Tue"))...)
	// Solved at exactly 75 %, so the warning was never sent: it is due at the reopen, the breach at 8 h.
	due := tk.Due(at("2026-12-01 11:00 Tue"))
	if len(due) != 2 || due[0].ID() != "resolution#warning" || !due[0].At.Equal(at("2026-12-01 09:00 Tue")) ||
		due[1].ID() != "resolution#breach" || !due[1].At.Equal(at("2026-12-01 11:00 Tue")) {
		t.Fatalf("due after the reopen %+v", due)
	}
	all = append(all, tk.record(due, at("2026-12-01 11:00 Tue"))...)
	if again := tk.record(due, at("2026-12-01 11:05 Tue")); len(again) != 0 {
		t.Fatalf("recorded twice %+v", again)
	}
	if tk.Outcomes[sla.Resolution] != OutcomeBreached || breaches(all) != 1 {
		t.Fatalf("outcomes %v, %d breaches", tk.Outcomes, breaches(all))
	}
	days := statDeltas(all)
	want := []struct {
		day    string
		deltas map[string]int64
	}{
		{"2026-11-30", map[string]int64{"enterprise_urgent_firstReply_met": 1, "enterprise_urgent_resolution_met": 0}}, // met +1 and −1 cancel
		{"2026-12-01", map[string]int64{"enterprise_urgent_resolution_breached": 1}},
	}
	if len(days) != len(want) {
		t.Fatalf("%d statistics days", len(days))
	}
	for i, w := range want {
		if got := days[i]; got.Day.Format("2006-01-02") != w.day || !maps.Equal(got.Deltas, w.deltas) {
			t.Fatalf("day %d: %s %v", i, got.Day, got.Deltas)
		}
	}
	// Written, the cancelled counter is no update at all.
	tk2 := tk
	tk2.Version = 1
	items, err := ticketItems(ticketWrite{Prev: tk, Next: tk2, Outcomes: all, At: at("2026-12-01 11:00 Tue")})
	if err != nil {
		t.Fatal(err)
	}
	var updates []string
	for _, it := range items {
		if it.Update != nil {
			updates = append(updates, sk(it.Update.Key))
		}
	}
	if len(updates) != 3 || updates[0] != "DAY#2026-11-30" || updates[1] != "DAY#2026-12-01" {
		t.Fatalf("updates %v", updates) // two statistics days and the breaches' day counter
	}
}

// Taking back needs where the met went: tickets stored before they kept it counted at the solve.
func TestTakeBackOfATicketStoredBefore(t *testing.T) {
	solved := at("2026-11-30 15:00 Mon")
	tk := ticket(sla.TierEnterprise, sla.High, at("2026-11-30 09:00 Mon"))
	tk.Status, tk.SolvedAt, tk.Outcomes[sla.Resolution] = StatusSolved, &solved, OutcomeMet
	tk.Meter = tk.Meter.Solve(tk.Clock(), solved)
	outs, err := tk.setStatus(StatusPending, at("2026-12-01 09:00 Tue")) // leaving solved, to pending
	if err != nil || len(outs) != 1 || outs[0].Delta != -1 || outs[0].Counter != "enterprise_high_resolution_met" ||
		!outs[0].Day.Equal(solved) || tk.Outcomes[sla.Resolution] != "" || tk.Meter.Complete(sla.Resolution) {
		t.Fatalf("take back %+v, %v", outs, err)
	}
	if _, err := tk.setStatus("closed", at("2026-12-01 10:00 Tue")); err == nil || tk.Status != StatusPending {
		t.Fatalf("unknown status: %v, %s", err, tk.Status)
	}
}

// The meter keeps its stored shape (the resolution clock at the top level) and adds the first-reply
// clock; a meter stored with one clock reads as before and separates at its next change.
func TestMeterStoredShape(t *testing.T) {
	tk := ticket(sla.TierEnterprise, sla.Urgent, at("2026-11-30 09:00 Mon"))
	item, err := store.Marshal(tk)
	if err != nil {
		t.Fatal(err)
	}
	m := item["meter"].(*types.AttributeValueMemberM).Value
	for _, k := range []string{"elapsedSeconds", "runningSince", "firstReplyClock"} {
		if m[k] == nil {
			t.Fatalf("stored meter lacks %s: %v", k, m)
		}
	}
	delete(m, "firstReplyClock") // as stored before the clocks were separate
	var old Ticket
	if err := attributevalue.UnmarshalMap(item, &old); err != nil {
		t.Fatal(err)
	}
	c := old.Clock()
	if old.Meter.FirstReplyClock != nil || old.Meter.TargetElapsed(sla.FirstReply, c, at("2026-11-30 09:20 Mon")) != 20*time.Minute {
		t.Fatalf("old meter %+v", old.Meter)
	}
	old.setStatus(StatusPending, at("2026-11-30 09:20 Mon"))
	if got := old.Meter.TargetElapsed(sla.FirstReply, c, at("2026-11-30 09:50 Mon")); got != 50*time.Minute {
		t.Fatalf("old meter's first reply while pending: %v", got)
	}
	if got := old.Meter.TargetElapsed(sla.Resolution, c, at("2026-11-30 09:50 Mon")); got != 20*time.Minute {
		t.Fatalf("old meter's resolution while pending: %v", got)
	}
}
