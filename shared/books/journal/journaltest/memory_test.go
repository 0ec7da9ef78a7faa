package journaltest

import (
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/journal"
)

func init() {
	journal.Register(journal.Rule{Area: "jtest", Kind: "jt.move", Summary: "a test move",
		Accounts: []journal.AccountID{journal.StripeInFlight, journal.RevenueSubscriptions}})
}

func entry(id string, amount int64, party string) journal.Entry {
	return journal.Entry{ID: "jt.move." + id, Kind: "jt.move", Area: "jtest", Source: id, Currency: "usd",
		Date: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Lines: []journal.Line{
			{Account: journal.StripeInFlight, Debit: amount, Party: party}, {Account: journal.RevenueSubscriptions, Credit: amount}}}
}

// TestMemoryFollowsTransactPostingsRule: new entries are posted in order, the same entry again is
// left out, the same id with other content refuses the whole change (nothing posted), an invalid
// entry is refused; Net sums per account and party; what Get returns cannot change what is kept.
func TestMemoryFollowsTransactPostingsRule(t *testing.T) {
	var m Memory
	todo, err := m.Check([]journal.Entry{entry("a", 100, "u1"), entry("b", 50, "")})
	if err != nil || len(todo) != 2 {
		t.Fatalf("check: %v %v", todo, err)
	}
	m.Post(todo...)
	if todo, err := m.Check([]journal.Entry{entry("a", 100, "u1"), entry("c", 7, "")}); err != nil || len(todo) != 1 || todo[0].Source != "c" {
		t.Fatalf("the same entry again: %v %v", todo, err)
	}
	if _, err := m.Check([]journal.Entry{entry("c", 7, ""), entry("a", 101, "u1")}); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("other content under a posted id: %v", err)
	}
	bad := entry("d", 5, "")
	bad.Lines[1].Credit = 4
	if _, err := m.Check([]journal.Entry{bad}); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("an unbalanced entry: %v", err)
	}
	got, _ := m.Get("jt.move.a")
	got.Lines[0].Debit = 999
	if es := m.Entries(); len(es) != 2 || es[0].Source != "a" || es[0].Lines[0].Debit != 100 || es[1].Source != "b" {
		t.Fatalf("entries %+v", es)
	}
	n := m.Net()
	if n[journal.StripeInFlight]["u1"] != 100 || n[journal.StripeInFlight][""] != 50 || n[journal.RevenueSubscriptions][""] != -150 {
		t.Fatalf("net %v", n)
	}
}
