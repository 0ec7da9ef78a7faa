package support

import (
	"context"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/support/sla"
)

// testRepoContract checks the semantics support's rules rely on from storage. It runs on memRepo
// and on dynamoRepo (in process without the integration tag, on moto with it: newTestStore), so
// the fake the unit tests use cannot drift from the real repository. The table may be shared: it
// checks only its own items.
func testRepoContract(t *testing.T, r storage) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	user := "u-" + ids.Random(6)
	tk := newTicket(ids.New("tkt", now), user, user+"@example.com", sla.TierEnterprise, sla.Urgent, "Down", now)
	tk.Messages = 1
	stamp(Ticket{}, &tk)
	msg := Message{ID: ids.New("msg", now), TicketID: tk.ID, AuthorID: user, Role: RoleRequester, Body: "help", At: now}
	if err := r.WriteTicket(ctx, ticketWrite{Next: tk, Message: &msg, At: now}); err != nil {
		t.Fatal(err)
	}
	// A second create of the same id fails and writes nothing (not even its message).
	dup := msg
	dup.ID = ids.New("msg", now.Add(time.Second))
	if err := r.WriteTicket(ctx, ticketWrite{Next: tk, Message: &dup, At: now}); !store.LostRace(err) {
		t.Fatalf("second create: %v, want a lost race", err)
	}
	got, err := r.Ticket(ctx, tk.ID)
	if err != nil || got.Version != 1 || got.Events == nil || got.Outcomes == nil || got.NextDueAt == nil ||
		!got.NextDueAt.Equal(now.Add(45*time.Minute)) {
		t.Fatalf("read back %+v %v", got, err)
	}
	if _, err := r.Ticket(ctx, "tkt_"+ids.Random(4)); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a missing ticket: %v", err)
	}
	if _, err := r.Ticket(ctx, ids.New("tkt", now)); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a well-formed id of no ticket: %v", err)
	}
	if _, err := r.Ticket(ctx, "not-a-ticket"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a malformed id: %v", err)
	}
	if msgs, err := r.Messages(ctx, tk.ID); err != nil || len(msgs) != 1 || msgs[0].ID != msg.ID || msgs[0].Body != "help" {
		t.Fatalf("messages %+v %v", msgs, err)
	}
	// On the schedule at its due time, not before.
	if e, ok := findDue(t, r, now.Add(45*time.Minute), tk.ID); !ok || !e.At.Equal(now.Add(45*time.Minute)) {
		t.Fatalf("schedule entry %+v %v", e, ok)
	}
	if _, ok := findDue(t, r, now.Add(44*time.Minute), tk.ID); ok {
		t.Fatal("listed before it is due")
	}

	// A change over the version read wins once; a second writer from the same read loses, and
	// nothing of it is written (message, statistics).
	next := got
	next.Events, next.Outcomes = copyMap(got.Events), copyMap(got.Outcomes)
	outs := next.reply(RoleAgent, now.Add(2*time.Hour)) // late: a breach
	stamp(got, &next)
	reply := Message{ID: ids.New("msg", now.Add(2*time.Hour)), TicketID: tk.ID, AuthorID: "agent", Role: RoleAgent, Body: "late", At: now.Add(2 * time.Hour)}
	w := ticketWrite{Prev: got, Next: next, Message: &reply, Outcomes: outs, At: now.Add(2 * time.Hour)}
	if err := r.WriteTicket(ctx, w); err != nil {
		t.Fatal(err)
	}
	stale := w
	other := reply
	other.ID = ids.New("msg", now.Add(3*time.Hour))
	stale.Message, stale.Next.Subject = &other, "stale"
	if err := r.WriteTicket(ctx, stale); !store.LostRace(err) {
		t.Fatalf("a write over a stale version: %v, want a lost race", err)
	}
	if msgs, _ := r.Messages(ctx, tk.ID); len(msgs) != 2 || msgs[1].ID != reply.ID {
		t.Fatalf("messages after the race %+v", msgs)
	}
	got, _ = r.Ticket(ctx, tk.ID)
	if got.Version != 2 || got.Subject != "Down" || got.Outcomes[sla.FirstReply] != OutcomeBreached {
		t.Fatalf("after the race %+v", got)
	}
	// The entry moved with the ticket (to the resolution warning at 6 h); the old one is gone.
	if _, ok := findDue(t, r, now.Add(45*time.Minute), tk.ID); ok {
		t.Fatal("the old schedule entry stayed")
	}
	e, ok := findDue(t, r, now.Add(6*time.Hour), tk.ID)
	if !ok || !e.At.Equal(now.Add(6*time.Hour)) {
		t.Fatalf("moved entry %+v %v", e, ok)
	}
	if err := r.DropDue(ctx, e); err != nil {
		t.Fatal(err)
	}
	if _, ok := findDue(t, r, now.Add(6*time.Hour), tk.ID); ok {
		t.Fatal("dropped entry still listed")
	}
	// Statistics: the breach counts on its day; a count taken back goes to the day it was counted.
	day := now.Add(2 * time.Hour)
	before, _ := r.SLAStats(ctx, day, day)
	back := outcome{Target: sla.FirstReply, Result: OutcomeBreached, Counted: Counted{Counter: "contract_" + user, Day: day}, Delta: 1}
	cur := got
	nx := cur
	stamp(cur, &nx)
	if err := r.WriteTicket(ctx, ticketWrite{Prev: cur, Next: nx, Outcomes: []outcome{back, back}, At: day}); err != nil {
		t.Fatal(err)
	}
	after, err := r.SLAStats(ctx, day, day)
	if err != nil || after["contract_"+user] != 2 || after["enterprise_urgent_firstReply_breached"] < 1 ||
		after["enterprise_urgent_firstReply_breached"] != before["enterprise_urgent_firstReply_breached"] {
		t.Fatalf("statistics %v (before %v) %v", after, before, err)
	}
	if none, _ := r.SLAStats(ctx, day.AddDate(0, 0, 2), day.AddDate(0, 0, 3)); none["contract_"+user] != 0 {
		t.Fatalf("counted on another day %v", none)
	}

	// Lists: the requester's newest first by pages; the queue by status.
	later := newTicket(ids.New("tkt", now.Add(time.Minute)), user, user+"@example.com", sla.TierFree, sla.Low, "Later", now.Add(time.Minute))
	stamp(Ticket{}, &later)
	if err := r.WriteTicket(ctx, ticketWrite{Next: later, At: now}); err != nil {
		t.Fatal(err)
	}
	p, err := r.RequesterTickets(ctx, user, 1, "")
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != later.ID || p.NextCursor == "" {
		t.Fatalf("page 1 %+v %v", p, err)
	}
	p, err = r.RequesterTickets(ctx, user, 1, p.NextCursor)
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != tk.ID {
		t.Fatalf("page 2 %+v %v", p, err)
	}
	if !inQueue(t, r, StatusOpen, tk.ID) || inQueue(t, r, StatusSolved, tk.ID) {
		t.Fatal("queue by status")
	}

	// Agents.
	agent := "agent-" + ids.Random(4)
	if _, err := r.Agent(ctx, agent); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown agent: %v", err)
	}
	if err := r.SaveAgent(ctx, Agent{UserID: agent, Email: "a@example.com", LastSeen: now}); err != nil {
		t.Fatal(err)
	}
	if a, err := r.Agent(ctx, agent); err != nil || a.Email != "a@example.com" || !a.LastSeen.Equal(now) {
		t.Fatalf("agent %+v %v", a, err)
	}

	// A seat holder's new ticket counts in its license's usage and carries its audit record, in the
	// same write; without a due time it is on no schedule.
	holder := "s-" + ids.Random(6)
	seat := newTicket(ids.New("tkt", now.Add(2*time.Second)), holder, holder+"@example.com", sla.TierEnterprise, sla.High, "Seat", now)
	seat.LicenseID, seat.TimeZone = "lic-"+holder, "Europe/Paris"
	stamp(Ticket{}, &seat)
	au := audit.Entry{Actor: holder, Action: "support.ticket.create", Target: "ticket:" + seat.ID, RequestID: "req-contract"}
	if err := r.WriteTicket(ctx, ticketWrite{Next: seat, CountUsage: true, At: now, Audit: &au}); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Ticket(ctx, seat.ID); err != nil || got.LicenseID != seat.LicenseID || got.TimeZone != "Europe/Paris" || got.Version != 1 {
		t.Fatalf("a seat holder's ticket %+v %v", got, err)
	}
	solved := seat
	solved.Events, solved.Outcomes = copyMap(seat.Events), copyMap(seat.Outcomes)
	if _, err := solved.setStatus(StatusSolved, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	stamp(seat, &solved)
	if solved.NextDueAt != nil {
		t.Fatalf("a solved ticket is due at %v", solved.NextDueAt)
	}
	if err := r.WriteTicket(ctx, ticketWrite{Prev: seat, Next: solved, At: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, ok := findDue(t, r, now.Add(365*24*time.Hour), seat.ID); ok {
		t.Fatal("a solved ticket stayed on the schedule")
	}
	if !inQueue(t, r, StatusSolved, seat.ID) || inQueue(t, r, StatusOpen, seat.ID) {
		t.Fatal("the solved ticket is not in the solved queue only")
	}
}

func findDue(t *testing.T, r storage, until time.Time, id string) (dueEntry, bool) {
	t.Helper()
	var found dueEntry
	ok := false
	if err := r.EachDue(context.Background(), until, func(e dueEntry) error {
		if e.TicketID == id {
			found, ok = e, true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return found, ok
}

func inQueue(t *testing.T, r storage, status, id string) bool {
	t.Helper()
	cursor := ""
	for {
		p, err := r.Queue(context.Background(), status, 100, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range p.Items {
			if tk.ID == id {
				return true
			}
		}
		if p.NextCursor == "" {
			return false
		}
		cursor = p.NextCursor
	}
}

// The in-memory repository keeps the contract the DynamoDB one keeps.
func TestMemRepoContract(t *testing.T) { testRepoContract(t, newMemRepo()) }

// The DynamoDB repository keeps the contract the fake keeps: on minidyn in `go test`, on moto with
// the integration tag (backend_*_test.go).
func TestDynamoRepoContract(t *testing.T) { testRepoContract(t, &dynamoRepo{newTestStore(t, nil)}) }
