package support

import (
	"fmt"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/privacy/privacytest"
	"github.com/liberation/monetization/shared/store"
)

// Support exports the tickets the person opened with every message of each (an agent's reply
// without the agent's id) — not another requester's tickets, nor the assignee.
func TestPersonalDataExporter(t *testing.T) {
	s := newTestStore(t, nil)
	it := privacytest.Item
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ticket := func(id, requester string) map[string]any {
		pk, sk := store.RequesterTicketsGSI1(requester, at, id)
		return it(store.TicketKey(id), "support-ticket", map[string]any{"id": id, "requesterId": requester, "subject": "subject of " + id,
			"GSI1PK": pk, "GSI1SK": sk, "assignee": "agent-7", "assigneeEmail": "agent7@support.example"})
	}
	for i := 0; i < 3; i++ {
		id := fmt.Sprintf("tkt_%d", i)
		privacytest.Seed(t, s, ticket(id, "u1"),
			it(store.TicketMessageKey(id, at, "m1"), "support-message", map[string]any{"authorId": "u1", "role": "requester", "body": "help " + id}),
			it(store.TicketMessageKey(id, at.Add(time.Minute), "m2"), "support-message", map[string]any{"authorId": "agent-7", "role": "agent", "body": "done " + id}))
	}
	privacytest.Seed(t, s, ticket("tkt_other", "u2"))
	items, _ := privacytest.All(t, PersonalDataExporter(privacy.Reader{S: s}), privacy.Subject{UserID: "u1"}, 2)
	if got := privacytest.Count(items); got["ticket"] != 3 || got["ticket-message"] != 6 || len(items) != 9 {
		t.Fatalf("items %v", got)
	}
	privacytest.Holds(t, items, []string{"help tkt_2", "done tkt_0", `"role":"agent"`, `"ticketId":"tkt_1"`},
		[]string{"tkt_other", "agent-7", "agent7@"})
}
