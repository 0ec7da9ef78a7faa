package support

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/idempotency/idemtest"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/mail/mailtest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/privacy/privacytest"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/storetest"
	"github.com/liberation/monetization/shared/support/sla"
)

// The support eraser on the table (in process; moto with the integration tag), over tickets made
// through the area's handlers: enterprise tickets (seat holders) opened by the subject and by
// another requester, replies both ways, agents' status changes (solved: SLA outcomes counted and
// the TTL set; one solved and reopened).

const (
	eSubj      = "usr_zelda"
	eSubjEmail = "usr_zelda@example.com" // what the handlers store for the test principal
	eSubjName  = "Zelda Quartz"
	eOther     = "usr_olga"
	ePseudonym = "anon_01JERASE0000000000000000"
)

var eSubject = privacy.ErasureSubject{UserID: eSubj, Emails: []string{eSubjEmail}, Pseudonym: ePseudonym, RequestID: "per_01JERASE0000000000000000"}

type supportWorld struct {
	t    *testing.T
	clk  *clock.Fake
	s    *store.Store
	repo *dynamoRepo
	d    *Deps
	mine []string // the subject's ticket ids
	all  []string
}

func newSupportWorld(t *testing.T) *supportWorld {
	clk := clock.NewFake(at("2026-11-30 09:00 Mon"))
	s := newTestStore(t, clk)
	repo := &dynamoRepo{s}
	orgs := newMemOrgs()
	for _, u := range []string{eSubj, eOther} {
		orgs.seats[u] = licensing.SeatInfo{LicenseID: "lic1", Grant: licensing.Grant{Granted: true}}
	}
	w := &supportWorld{t: t, clk: clk, s: s, repo: repo, d: &Deps{Config: platform.Config{MailFrom: "Liberation <no-reply@liberation.example>",
		AppURL: "https://app.example/"}, Clock: clk, Repo: repo, Orgs: orgs, Claims: idemtest.New(nil), Mail: &mailtest.Recorder{},
		AgentsEmail: agentsAddr, Tier: storedTier(orgs, repo)}}
	ctx := context.Background()
	// The agent is "agent_erasure", used by no other test: the routes remember the agents whose
	// profile they wrote per process (agentsSeen), and another test expects its agent's written.
	if err := repo.SaveAgent(ctx, Agent{UserID: "agent_erasure", Email: "agent_erasure@example.com", LastSeen: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	// The subject is also an agent (their profile holds their address).
	if err := repo.SaveAgent(ctx, Agent{UserID: eSubj, Email: eSubjEmail, LastSeen: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	solved, reopened := StatusSolved, StatusOpen
	// The subject: an urgent ticket answered and solved, a normal one still open.
	t1 := w.open(eSubj, sla.Urgent, eSubjName+" cannot sign in", "I am "+eSubjName+", write to "+eSubjEmail+" or call 555-0100.")
	w.reply("agent_erasure", true, t1, "Dear "+eSubjName+", you wrote: \"I am "+eSubjName+"\". Fixed.")
	w.patch(t1, patchRequest{Status: &solved})
	t2 := w.open(eSubj, sla.Normal, "Invoice for "+eSubjName, "Please resend my invoice.")
	w.reply(eSubj, false, t2, "Any news? "+eSubjName)
	// Another requester: one solved, one solved and reopened, and a reply.
	t3 := w.open(eOther, sla.Urgent, "Olga's upload fails", "My upload fails.")
	w.reply("agent_erasure", true, t3, "Dear Olga, try again.")
	w.patch(t3, patchRequest{Status: &solved})
	t4 := w.open(eOther, sla.High, "Olga's second question", "How do seats work?")
	w.patch(t4, patchRequest{Status: &solved})
	w.patch(t4, patchRequest{Status: &reopened})
	w.mine, w.all = []string{t1, t2}, []string{t1, t2, t3, t4}
	clk.Advance(time.Hour)
	return w
}

func (w *supportWorld) open(user, priority, subject, body string) string {
	w.t.Helper()
	var v TicketView
	do(w.t, handleCreate(w.d.Clock, w.d.Tier, w.d.Repo, w.d.Orgs), call{user: user,
		body: map[string]string{"subject": subject, "body": body, "priority": priority}, status: http.StatusCreated}, &v)
	w.clk.Advance(10 * time.Minute)
	return v.ID
}

func (w *supportWorld) reply(user string, agent bool, ticketID, body string) {
	w.t.Helper()
	d := w.d
	h := handleReply(fn, replyDeps{clock: d.Clock, tickets: d.Repo, orgs: d.Orgs, agents: d.Repo, activity: d.Orgs, note: d.notifier()})
	do(w.t, h, call{user: user, agent: agent, path: id(ticketID), body: map[string]string{"body": body}, status: http.StatusCreated}, nil)
	w.clk.Advance(10 * time.Minute)
}

func (w *supportWorld) patch(ticketID string, p patchRequest) {
	w.t.Helper()
	do(w.t, handleUpdate(fn, w.d.Clock, w.d.Repo, w.d.Repo), call{user: "agent_erasure", agent: true, path: id(ticketID), body: p}, nil)
	w.clk.Advance(10 * time.Minute)
}

// restoreTable makes the table exactly snap again.
func restoreTable(t *testing.T, s *store.Store, snap map[string]map[string]types.AttributeValue) {
	t.Helper()
	ctx := context.Background()
	for k, it := range privacytest.Items(t, s) {
		if _, ok := snap[k]; !ok {
			if err := s.Transact(ctx, []types.TransactWriteItem{{Delete: &types.Delete{Key: map[string]types.AttributeValue{"PK": it["PK"], "SK": it["SK"]}}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, it := range snap {
		if _, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: it}); err != nil {
			t.Fatal(err)
		}
	}
}

// supportInvariants: the agents' queue counts per status and the SLA figures.
type supportInvariants struct {
	Queue map[string]int
	Stats map[string]int64
}

func (w *supportWorld) invariants() supportInvariants {
	w.t.Helper()
	ctx := context.Background()
	inv := supportInvariants{Queue: map[string]int{}}
	for _, st := range []string{StatusOpen, StatusPending, StatusSolved} {
		page, err := w.repo.Queue(ctx, st, 100, "")
		if err != nil {
			w.t.Fatal(err)
		}
		inv.Queue[st] = len(page.Items)
	}
	stats, err := w.repo.SLAStats(ctx, w.clk.Now().AddDate(0, 0, -30), w.clk.Now())
	if err != nil {
		w.t.Fatal(err)
	}
	inv.Stats = stats
	return inv
}

func (w *supportWorld) eraser(s *store.Store) privacy.Eraser {
	return PersonalDataEraser(privacy.Reader{S: s}, &dynamoRepo{s}, w.clk)
}

// subjectKey reports the subject's items: their tickets' partitions and their agent profile.
func (w *supportWorld) subjectKey(k string) bool {
	for _, id := range w.mine {
		if strings.HasPrefix(k, store.TicketPK(id)+"|") {
			return true
		}
	}
	ak := store.SupportAgentKey(eSubj)
	return k == ak.PK+"|"+ak.SK
}

// TestEraseSupportKeepsEveryInvariant: the queue's counts per status and the SLA figures are as
// before, every item that is not the subject's (others' tickets, the schedule, the statistics, the
// license's usage, the audit trail) is byte-identical, the subject's tickets keep everything the
// figures use but say nothing of them (no name, no address anywhere in the table), and a second run
// changes nothing.
func TestEraseSupportKeepsEveryInvariant(t *testing.T) {
	w := newSupportWorld(t)
	ctx := context.Background()
	before := w.invariants()
	snap := privacytest.Items(t, w.s)
	ticketsBefore := map[string]Ticket{}
	for _, id := range w.all {
		tk, err := w.repo.Ticket(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		ticketsBefore[id] = tk
	}

	changed, holds, _, err := privacytest.Run(ctx, w.eraser(w.s), eSubject, "")
	if err != nil || len(holds) != 0 {
		t.Fatalf("erase: %v, holds %v", err, holds)
	}
	// A step counts the rows it changed: the 2 tickets (each with its messages) and the agent
	// profile.
	if changed != 2+1 {
		t.Errorf("changed %d rows, want 3", changed)
	}
	if after := w.invariants(); !reflect.DeepEqual(after, before) {
		t.Errorf("invariants moved:\n%+v\n%+v", before, after)
	}
	erased := privacytest.Items(t, w.s)
	for k, it := range snap {
		if !w.subjectKey(k) && !reflect.DeepEqual(erased[k], it) {
			t.Errorf("%s changed:\n%v\n%v", k, it, erased[k])
		}
	}
	for k := range erased {
		if _, was := snap[k]; !was {
			t.Errorf("the erasure wrote a new item %s", k)
		}
	}
	for k, it := range erased {
		var m map[string]any
		_ = attributevalue.UnmarshalMap(it, &m)
		text := fmt.Sprint(m)
		for _, p := range []string{"Zelda", eSubjEmail, "555-0100"} {
			if strings.Contains(text, p) {
				t.Errorf("%s still holds %q: %s", k, p, text)
			}
		}
		if w.subjectKey(k) && m["type"] == "support-message" && m["body"] != privacy.ErasedText {
			t.Errorf("message %s kept its body", k)
		}
	}
	if ak := store.SupportAgentKey(eSubj); erased[ak.PK+"|"+ak.SK] != nil {
		t.Error("the subject's agent profile is still there")
	}
	for _, id := range w.mine {
		b, a := ticketsBefore[id], mustTicket(t, w.repo, id)
		if a.Subject != privacy.ErasedText || a.RequesterEmail != eSubject.PseudonymEmail() || a.ErasedAs != ePseudonym {
			t.Errorf("ticket %s not erased: %+v", id, a)
		}
		// What the SLA figures, the queue and the schedule use is untouched.
		a.Subject, a.RequesterEmail, a.ErasedAs, a.Version = b.Subject, b.RequesterEmail, b.ErasedAs, b.Version
		if !reflect.DeepEqual(a, b) {
			t.Errorf("ticket %s changed beyond its personal values:\n%+v\n%+v", id, b, a)
		}
	}

	changed, _, _, err = privacytest.Run(ctx, w.eraser(w.s), eSubject, "")
	if err != nil || changed != 0 {
		t.Fatalf("second run: changed %d, err %v", changed, err)
	}
	if !reflect.DeepEqual(privacytest.Items(t, w.s), erased) {
		t.Error("the second run changed the table")
	}
}

func mustTicket(t *testing.T, r *dynamoRepo, id string) Ticket {
	t.Helper()
	tk, err := r.Ticket(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestSolvedTicketsExpireTwoYearsLater: solving sets the TTL to ClosedTicketRetention after the
// solve, reopening clears it (a ticket being worked on is kept), solving again sets it anew.
func TestSolvedTicketsExpireTwoYearsLater(t *testing.T) {
	w := newSupportWorld(t)
	for _, id := range w.all {
		tk := mustTicket(t, w.repo, id)
		switch {
		case tk.Status == StatusSolved && (tk.SolvedAt == nil || tk.ExpiresAt != tk.SolvedAt.Add(ClosedTicketRetention).Unix()):
			t.Errorf("solved ticket %s: solvedAt %v, expiresAt %d", id, tk.SolvedAt, tk.ExpiresAt)
		case tk.Status != StatusSolved && tk.ExpiresAt != 0:
			t.Errorf("%s ticket %s expires at %d", tk.Status, id, tk.ExpiresAt)
		}
	}
	reopened := mustTicket(t, w.repo, w.all[3])
	if reopened.Status != StatusOpen || reopened.ExpiresAt != 0 {
		t.Fatalf("reopened ticket %+v", reopened)
	}
	solved := StatusSolved
	w.patch(reopened.ID, patchRequest{Status: &solved})
	if tk := mustTicket(t, w.repo, reopened.ID); tk.SolvedAt == nil || tk.ExpiresAt != tk.SolvedAt.Add(ClosedTicketRetention).Unix() ||
		time.Unix(tk.ExpiresAt, 0).Before(w.clk.Now().AddDate(1, 11, 0)) {
		t.Errorf("solved again: %+v", tk)
	}
}

// TestEraseSupportResumesAfterAFailure fails the erasure at each of its writes in turn, resumes from
// the last cursor returned, and ends with exactly the table an uninterrupted run leaves.
func TestEraseSupportResumesAfterAFailure(t *testing.T) {
	w := newSupportWorld(t)
	ctx := context.Background()
	snap := privacytest.Items(t, w.s)
	if _, _, _, err := privacytest.Run(ctx, w.eraser(w.s), eSubject, ""); err != nil {
		t.Fatal(err)
	}
	want := privacytest.Items(t, w.s)
	// The erasure's 7 writes: 4 message bodies (each ticket's opening message and a reply), the 2
	// tickets, the agent profile.
	for n := int64(1); n <= 7; n++ {
		restoreTable(t, w.s, snap)
		broken := *w.s
		broken.DB = &storetest.FailingWrites{DynamoAPI: w.s.DB, FailAt: n}
		_, _, last, err := privacytest.Run(ctx, w.eraser(&broken), eSubject, "")
		if !errors.Is(err, storetest.ErrInjected) {
			t.Fatalf("fail at write %d: %v", n, err)
		}
		if _, _, _, err := privacytest.Run(ctx, w.eraser(w.s), eSubject, last); err != nil {
			t.Fatalf("resume after write %d: %v", n, err)
		}
		if got := privacytest.Items(t, w.s); !reflect.DeepEqual(got, want) {
			for k := range want {
				if !reflect.DeepEqual(got[k], want[k]) {
					t.Errorf("fail at write %d: %s is\n%v\nwant\n%v", n, k, got[k], want[k])
				}
			}
		}
	}
}
