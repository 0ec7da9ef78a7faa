//go:build integration

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/books/backfill/walk"
	"github.com/liberation/monetization/shared/books/backfill/walk/walktest"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/marketplace"
)

// The journal backfill end to end: a course sold and partly refunded through the webhook posts its
// entries live; with the journal wiped from the table (the table as it was before the journal),
// the backfill-journal job run through the gateway — first as a dry run, which posts nothing, then
// for real — posts them again: the same trial balance, the sale's entry with the same lines (keyed
// by its charge, which the sale learned from the refund; live posting keyed it by the
// PaymentIntent it knew then); a run after the walk is done posts nothing.
func TestBooksBackfill(t *testing.T) {
	m := startMarket(t)
	s := m.Env.Store()
	itok := m.Token(t, m.id("instr"), "instr@example.com", "instructor")
	admin := m.Token(t, m.id("admin"), "ops@example.com", "admin")
	c, _ := m.publishedCourse(t, itok, "Backfilled "+m.run, 4999)
	paidAt := time.Now().UTC().Add(-time.Hour)
	sl, paid := m.purchase(m.id("learner"), c.ID, 4999, paidAt)
	post(t, m.Harness, paid)
	m.refund(t, sl, 1500)

	day := time.Now().UTC()
	live := walktest.Entries(t, s)
	saleID := ""
	for id, e := range live {
		if e.Kind == marketplace.JournalSale {
			saleID = id
		}
	}
	if saleID == "" || len(live) < 2 {
		t.Fatalf("the live journal: %v", live)
	}
	before := trialBalanceRoute(t, m.Harness, admin, day)
	if n := walktest.Wipe(t, s); n == 0 {
		t.Fatal("nothing wiped")
	}

	run := func(detail map[string]string) walk.Report {
		t.Helper()
		status, body, _ := m.Do(t, http.MethodPost, "/_local/jobs/backfill-journal", "", detail)
		var res struct {
			Result walk.Report `json:"result"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &res) != nil {
			t.Fatalf("backfill-journal: %d %s", status, body)
		}
		return res.Result
	}
	dry := run(map[string]string{"dryRun": "true"})
	if !dry.Done || !dry.DryRun || dry.Posted != len(live) || len(walktest.Entries(t, s)) != 0 {
		t.Fatalf("dry run: %+v", dry.State)
	}
	rep := run(nil)
	if !rep.Done || rep.Posted != len(live) || rep.Skipped != 0 || rep.PostedByKind[marketplace.JournalSale] != 1 {
		t.Fatalf("backfill: %+v", rep.State)
	}
	rebuilt := walktest.Entries(t, s)
	want := live[saleID]
	want.ID, want.Source = journal.EntryID(marketplace.JournalSale, sl.charge), sl.charge
	if !journal.Same(rebuilt[want.ID], want) {
		t.Fatalf("the sale's entry rebuilt as %+v, live %+v", rebuilt[want.ID], live[saleID])
	}
	if after := trialBalanceRoute(t, m.Harness, admin, day); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("trial balance after the backfill:\n%v\nlive:\n%v", after, before)
	}
	if again := run(nil); !again.Done || again.ThisRun.Posted != 0 || len(walktest.Entries(t, s)) != len(live) {
		t.Fatalf("a run after the walk: %+v", again)
	}
}
