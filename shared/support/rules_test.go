package support

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/auth"
	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/idempotency/idemtest"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/mail/mailtest"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/support/sla"
)

// harness wires support's rules to the in-memory fakes: nothing is started.
type harness struct {
	clk    *clock.Fake
	repo   *memRepo
	orgs   *memOrgs
	mail   *mailtest.Recorder
	claims *idemtest.Store
	d      *Deps
}

const agentsAddr = "agents@support.example"

func newHarness(t0 time.Time) *harness {
	h := &harness{clk: clock.NewFake(t0), repo: newMemRepo(), orgs: newMemOrgs(), mail: &mailtest.Recorder{}, claims: idemtest.New(nil)}
	h.d = &Deps{Config: platform.Config{MailFrom: "Liberation <no-reply@liberation.example>", AppURL: "https://app.example/"},
		Clock: h.clk, Repo: h.repo, Orgs: h.orgs, Claims: h.claims, Mail: h.mail, AgentsEmail: agentsAddr,
		Tier: storedTier(h.orgs, h.repo)}
	return h
}

var fn = manifest.Function{Name: "support-test"}

func (h *harness) create() httpapi.Handler {
	return handleCreate(h.d.Clock, h.d.Tier, h.d.Repo, h.d.Orgs)
}
func (h *harness) get() httpapi.Handler { return handleGet(h.d.Clock, h.d.Repo, h.d.Repo, h.d.Orgs) }
func (h *harness) reply() httpapi.Handler {
	d := h.d
	return handleReply(fn, replyDeps{clock: d.Clock, tickets: d.Repo, orgs: d.Orgs, agents: d.Repo, activity: d.Orgs, note: d.notifier()})
}
func (h *harness) patch() httpapi.Handler  { return handleUpdate(fn, h.d.Clock, h.d.Repo, h.d.Repo) }
func (h *harness) queue() httpapi.Handler  { return handleQueue(h.d.Clock, h.d.Repo, h.d.Repo) }
func (h *harness) mine() httpapi.Handler   { return handleListMine(h.d.Clock, h.d.Repo) }
func (h *harness) report() httpapi.Handler { return handleReport(h.d.Clock, h.d.Repo) }
func (h *harness) check() checker {
	return checker{clock: h.d.Clock, tickets: h.d.Repo, schedule: h.d.Repo, note: h.d.notifier()}
}

type call struct {
	user   string
	agent  bool
	path   map[string]string
	query  map[string]string
	body   any
	status int // expected
	code   apperr.Code
}

// do runs a handler as user and decodes its body into out (when not nil).
func do(t *testing.T, hd httpapi.Handler, c call, out any) {
	t.Helper()
	p := auth.Principal{UserID: c.user, Email: strings.ToUpper(c.user) + "@Example.com"}
	if c.agent {
		p.Groups = []string{manifest.GroupSupport}
	}
	ev := &events.APIGatewayV2HTTPRequest{PathParameters: c.path, QueryStringParameters: c.query}
	if c.body != nil {
		b, _ := json.Marshal(c.body)
		ev.Body = string(b)
	}
	res, err := hd(context.Background(), &httpapi.Request{Event: ev, Principal: p, ID: "req-1"})
	if c.code != "" {
		if !apperr.Is(err, c.code) {
			t.Fatalf("%s: got %v, want %s", c.user, err, c.code)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: %v", c.user, err)
	}
	if c.status != 0 && res.Status != c.status {
		t.Fatalf("%s: status %d, want %d", c.user, res.Status, c.status)
	}
	if out != nil {
		b, _ := json.Marshal(res.Body)
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
	}
}

func id(v string) map[string]string { return map[string]string{"ticketId": v} }

func (h *harness) open(t *testing.T, user, priority string) TicketView {
	t.Helper()
	var v TicketView
	do(t, h.create(), call{user: user, body: map[string]string{"subject": "Help", "body": "It broke.", "priority": priority},
		status: http.StatusCreated}, &v)
	return v
}

// The SLA follows the requester's tier at creation: free without a subscription, the stored tier,
// free once a cancellation reached its end, Enterprise for a granted seat (whose ticket counts in
// the license's usage and runs in its organisation's zone).
func TestCreateByTier(t *testing.T) {
	t0 := at("2026-11-30 09:00 Mon")
	h := newHarness(t0)
	h.repo.subs["pro"] = records.Subscription{Tier: sla.TierPro, CurrentPeriodEnd: t0.Add(24 * time.Hour)}
	h.repo.subs["ended"] = records.Subscription{Tier: sla.TierPro, CancelAtPeriodEnd: true, CurrentPeriodEnd: t0.Add(-time.Hour)}
	h.repo.subs["notier"] = records.Subscription{}
	h.orgs.seats["seat"] = licensing.SeatInfo{LicenseID: "lic1", TimeZone: "Europe/Paris", Grant: licensing.Grant{Granted: true}}
	h.orgs.seats["lapsed"] = licensing.SeatInfo{LicenseID: "lic2"}
	h.repo.subs["lapsed"] = records.Subscription{Tier: sla.TierPro, CurrentPeriodEnd: t0.Add(time.Hour)}
	for user, want := range map[string]string{"free": sla.TierFree, "pro": sla.TierPro, "ended": sla.TierFree, "notier": sla.TierFree,
		"seat": sla.TierEnterprise, "lapsed": sla.TierPro} {
		v := h.open(t, user, sla.Urgent)
		if v.Tier != want || v.Status != StatusOpen || len(v.Messages) != 1 || v.Messages[0].Role != RoleRequester {
			t.Fatalf("%s: %+v", user, v)
		}
		stored, err := h.repo.Ticket(context.Background(), v.ID)
		if err != nil || stored.Version != 1 || stored.RequesterEmail != user+"@example.com" {
			t.Fatalf("%s stored %+v %v", user, stored, err)
		}
		if (want == sla.TierFree) != (stored.NextDueAt == nil) {
			t.Fatalf("%s: due %v", user, stored.NextDueAt)
		}
	}
	if h.repo.usage["lic1#urgent"] != 1 || len(h.repo.usage) != 2 {
		t.Fatalf("usage %v", h.repo.usage)
	}
	if len(h.orgs.active) != 6 {
		t.Fatalf("activity %v", h.orgs.active)
	}
	// A failing licensing read fails the create; nothing is written.
	h.orgs.err = apperr.New(apperr.Unavailable, "down")
	writes := h.repo.writes
	do(t, h.create(), call{user: "x", body: map[string]string{"subject": "Help", "body": "b", "priority": sla.Low}, code: apperr.Unavailable}, nil)
	h.orgs.err = nil
	if h.repo.writes != writes {
		t.Fatal("written after a failed tier read")
	}
	do(t, h.create(), call{user: "x", body: map[string]string{"subject": "Help", "body": "b", "priority": "asap"}, code: apperr.Invalid}, nil)
	do(t, h.create(), call{user: "x", body: map[string]string{"subject": "", "body": "b", "priority": sla.Low}, code: apperr.Invalid}, nil)
	do(t, h.create(), call{user: "x", body: map[string]string{"subject": "s", "body": " ", "priority": sla.Low}, code: apperr.Invalid}, nil)
	do(t, h.create(), call{user: "x", body: map[string]string{"subject": "s", "body": "a\x00b", "priority": sla.Low}, code: apperr.Invalid}, nil)
	do(t, h.create(), call{user: "x", body: map[string]string{"subject": "s", "body": strings.Repeat("a", MaxBody+1), "priority": sla.Low}, code: apperr.Invalid}, nil)
}

// Replies by the requester, an org admin of their license and an agent; anyone else gets the 404
// of a ticket that does not exist. Each reply tells the other side by e-mail, once.
func TestRepliesAndAccess(t *testing.T) {
	t0 := at("2026-11-30 09:00 Mon")
	h := newHarness(t0)
	h.orgs.seats["req"] = licensing.SeatInfo{LicenseID: "lic1", Grant: licensing.Grant{Granted: true}}
	h.orgs.admins["lic1#boss"] = true
	h.orgs.branding["req"] = licensing.Branding{DisplayName: "Acme", EmailFromName: "Acme Support"}
	v := h.open(t, "req", sla.Normal)

	// Another user, or an id of the wrong shape: 404.
	do(t, h.get(), call{user: "stranger", path: id(v.ID), code: apperr.NotFound}, nil)
	do(t, h.reply(), call{user: "stranger", path: id(v.ID), body: map[string]string{"body": "hi"}, code: apperr.NotFound}, nil)
	do(t, h.get(), call{user: "req", path: id("nope"), code: apperr.NotFound}, nil)
	h.orgs.admins["lic1#boss"] = false
	do(t, h.get(), call{user: "boss", path: id(v.ID), code: apperr.NotFound}, nil)
	h.orgs.admins["lic1#boss"] = true

	var m MessageView
	do(t, h.reply(), call{user: "boss", path: id(v.ID), body: map[string]string{"body": "Any news?"}, status: http.StatusCreated}, &m)
	if m.Role != RoleOrgAdmin || len(h.mail.To(agentsAddr)) != 1 {
		t.Fatalf("org admin reply %+v, %d e-mails", m, len(h.mail.To(agentsAddr)))
	}
	h.clk.Advance(time.Hour)
	do(t, h.reply(), call{user: "agent1", agent: true, path: id(v.ID), body: map[string]string{"body": "On it.\n\nCheers"}, status: http.StatusCreated}, &m)
	if m.Role != RoleAgent {
		t.Fatalf("agent reply %+v", m)
	}
	sent := h.mail.To("req@example.com")
	if len(sent) != 1 || !strings.Contains(sent[0].From, "Acme Support") || !strings.Contains(sent[0].Text, "On it.") ||
		!strings.Contains(sent[0].Text, "https://app.example/support/tickets/"+v.ID) {
		t.Fatalf("e-mail to the requester %+v", sent)
	}
	var got TicketView
	do(t, h.get(), call{user: "req", path: id(v.ID)}, &got)
	if len(got.Messages) != 3 || got.FirstReplyAt == nil || got.SLA.FirstReply.Status != OutcomeMet {
		t.Fatalf("ticket %+v", got)
	}
	do(t, h.get(), call{user: "boss", path: id(v.ID)}, &got)
	do(t, h.get(), call{user: "agent2", agent: true, path: id(v.ID)}, &got)
	// The agent appeared in the directory by using the routes.
	if a, err := h.repo.Agent(context.Background(), "agent1"); err != nil || a.Email != "agent1@example.com" {
		t.Fatalf("agent profile %+v %v", a, err)
	}
	// A failing branding read does not undo the reply.
	h.orgs.err = apperr.New(apperr.Unavailable, "down")
	do(t, h.reply(), call{user: "agent1", agent: true, path: id(v.ID), body: map[string]string{"body": "More"}, status: http.StatusCreated}, nil)
	h.orgs.err = nil
	// The message limit.
	tk, _ := h.repo.Ticket(context.Background(), v.ID)
	tk.Messages = MaxMessages
	h.repo.tickets[v.ID] = tk
	do(t, h.reply(), call{user: "req", path: id(v.ID), body: map[string]string{"body": "again"}, code: apperr.Unprocessable}, nil)
	do(t, h.reply(), call{user: "req", path: id(v.ID), body: map[string]string{"body": ""}, code: apperr.Invalid}, nil)
}

// Agents change status (pending, solved, reopened), assignment and priority; every change is
// audited, and a late completion counts as a breach at once.
func TestStatusAndAssignment(t *testing.T) {
	t0 := at("2026-11-30 09:00 Mon")
	h := newHarness(t0)
	h.orgs.seats["req"] = licensing.SeatInfo{LicenseID: "lic1", Grant: licensing.Grant{Granted: true}}
	v := h.open(t, "req", sla.Urgent) // enterprise urgent: 1 h first reply, 8 h resolution, calendar

	str := func(s string) *string { return &s }
	patch := func(body patchRequest, code apperr.Code) TicketView {
		t.Helper()
		var out TicketView
		do(t, h.patch(), call{user: "agent1", agent: true, path: id(v.ID), body: body, code: code}, &out)
		return out
	}
	patch(patchRequest{}, apperr.Invalid)
	patch(patchRequest{Status: str("closed")}, apperr.Invalid)
	patch(patchRequest{Priority: str("asap")}, apperr.Invalid)
	patch(patchRequest{Assignee: str("ghost")}, apperr.Unprocessable)
	patch(patchRequest{Assignee: str(strings.Repeat("x", 129))}, apperr.Invalid)
	// agent1 claims it (agents are in the directory once they used the routes; agentsSeen is per
	// process, so the profile is put here rather than relied on from another test).
	h.repo.agents["agent1"] = Agent{UserID: "agent1", Email: "agent1@example.com"}
	got := patch(patchRequest{Assignee: str("agent1")}, "")
	if got.Assignee != "agent1" {
		t.Fatalf("assignee %q", got.Assignee)
	}
	// Pending without a reply: the first-reply clock runs on, the resolution clock pauses.
	h.clk.Advance(10 * time.Minute)
	got = patch(patchRequest{Status: str(StatusPending)}, "")
	if got.Status != StatusPending || got.SLA.FirstReply.Status != "running" || got.SLA.Resolution.Status != "paused" {
		t.Fatalf("pending %+v", got.SLA)
	}
	// The customer answers: open again.
	h.clk.Advance(10 * time.Minute)
	do(t, h.reply(), call{user: "req", path: id(v.ID), body: map[string]string{"body": "logs attached"}, status: http.StatusCreated}, nil)
	if tk, _ := h.repo.Ticket(context.Background(), v.ID); tk.Status != StatusOpen {
		t.Fatalf("after the customer's reply %s", tk.Status)
	}
	// Raised priority keeps elapsed time; answered late (2 h > 1 h): a breach, counted at once.
	patch(patchRequest{Priority: str(sla.High)}, "")
	patch(patchRequest{Priority: str(sla.Urgent)}, "")
	h.clk.Advance(2 * time.Hour)
	do(t, h.reply(), call{user: "agent1", agent: true, path: id(v.ID), body: map[string]string{"body": "fixed"}, status: http.StatusCreated}, nil)
	got = patch(patchRequest{Status: str(StatusSolved)}, "")
	if got.SLA.FirstReply.Status != OutcomeBreached || got.SLA.Resolution.Status != OutcomeMet || got.SolvedAt == nil {
		t.Fatalf("solved %+v", got.SLA)
	}
	day := t0.Format("2006-01-02")
	if s := h.repo.stats[day]; s["enterprise_urgent_firstReply_breached"] != 1 || s["enterprise_urgent_resolution_met"] != 1 ||
		h.repo.dayCtrs[day][store.CtrSLABreaches] != 1 {
		t.Fatalf("statistics %v %v", h.repo.stats, h.repo.dayCtrs)
	}
	// Reopened: the met is taken back; unassigned.
	h.clk.Advance(time.Hour)
	got = patch(patchRequest{Status: str(StatusOpen), Assignee: str("")}, "")
	if got.Status != StatusOpen || got.Assignee != "" || h.repo.stats[day]["enterprise_urgent_resolution_met"] != 0 {
		t.Fatalf("reopened %+v %v", got, h.repo.stats)
	}
	if n := len(h.repo.audits); n != 6 || h.repo.audits[n-1].Action != "support.ticket.update" || h.repo.audits[n-1].Details["status"] != StatusOpen {
		t.Fatalf("audits %+v", h.repo.audits)
	}
	do(t, h.patch(), call{user: "agent1", agent: true, path: id("tkt_missing"), body: patchRequest{Status: str(StatusOpen)}, code: apperr.NotFound}, nil)
}

// A write that loses its race reads again and recomputes; a ticket that keeps changing gives up
// with a Conflict.
func TestUpdateRetriesALostRace(t *testing.T) {
	t0 := at("2026-11-30 09:00 Mon")
	h := newHarness(t0)
	v := h.open(t, "req", sla.Normal)
	ctx := context.Background()
	raced := 0
	h.repo.beforeWrite = func(w ticketWrite) {
		if raced < 1 {
			raced++
			tk := h.repo.tickets[w.Next.ID]
			tk.Version++ // another writer got there first
			h.repo.tickets[w.Next.ID] = tk
		}
	}
	got, _, err := update(ctx, h.clk, h.repo, v.ID, func(w *ticketWrite, now time.Time) error {
		w.Next.Subject = "changed"
		return nil
	})
	if err != nil || got.Version != 3 || raced != 1 {
		t.Fatalf("after a lost race %+v %v", got, err)
	}
	h.repo.beforeWrite = func(w ticketWrite) {
		tk := h.repo.tickets[w.Next.ID]
		tk.Version++
		h.repo.tickets[w.Next.ID] = tk
	}
	if _, _, err := update(ctx, h.clk, h.repo, v.ID, func(*ticketWrite, time.Time) error { return nil }); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("always racing: %v", err)
	}
}

// The agents' queue by status, oldest first, and breaching=true; the requester's list, newest
// first, by pages.
func TestQueueAndList(t *testing.T) {
	t0 := at("2026-11-30 09:00 Mon")
	h := newHarness(t0)
	h.orgs.seats["req"] = licensing.SeatInfo{LicenseID: "lic1", Grant: licensing.Grant{Granted: true}}
	first := h.open(t, "req", sla.Urgent)
	h.clk.Advance(time.Minute)
	second := h.open(t, "req", sla.Low)
	h.clk.Advance(2 * time.Hour) // urgent's first reply (1 h) is past
	type list struct {
		Tickets    []TicketView `json:"tickets"`
		NextCursor string       `json:"nextCursor"`
	}
	var l list
	do(t, h.queue(), call{user: "agent1", agent: true}, &l)
	if len(l.Tickets) != 2 || l.Tickets[0].ID != first.ID {
		t.Fatalf("queue %+v", l)
	}
	do(t, h.queue(), call{user: "agent1", agent: true, query: map[string]string{"breaching": "true"}}, &l)
	if len(l.Tickets) != 1 || l.Tickets[0].ID != first.ID || !l.Tickets[0].SLA.Breaching {
		t.Fatalf("breaching %+v", l)
	}
	do(t, h.queue(), call{user: "agent1", agent: true, query: map[string]string{"status": StatusSolved, "breaching": "false"}}, &l)
	if len(l.Tickets) != 0 {
		t.Fatalf("solved %+v", l)
	}
	do(t, h.queue(), call{user: "agent1", agent: true, query: map[string]string{"status": "closed"}, code: apperr.Invalid}, nil)
	do(t, h.queue(), call{user: "agent1", agent: true, query: map[string]string{"breaching": "yes"}, code: apperr.Invalid}, nil)
	do(t, h.queue(), call{user: "agent1", agent: true, query: map[string]string{"limit": "0"}, code: apperr.Invalid}, nil)

	do(t, h.mine(), call{user: "req", query: map[string]string{"limit": "1"}}, &l)
	if len(l.Tickets) != 1 || l.Tickets[0].ID != second.ID || l.NextCursor == "" {
		t.Fatalf("mine %+v", l)
	}
	do(t, h.mine(), call{user: "req", query: map[string]string{"limit": "1", "cursor": l.NextCursor}}, &l)
	if len(l.Tickets) != 1 || l.Tickets[0].ID != first.ID || l.NextCursor != "" {
		t.Fatalf("mine, page 2 %+v", l)
	}
	do(t, h.mine(), call{user: "req", query: map[string]string{"limit": "500"}, code: apperr.Invalid}, nil)
	do(t, h.mine(), call{user: "other"}, &l)
	if len(l.Tickets) != 0 {
		t.Fatalf("another user's list %+v", l)
	}
}

// The breach job warns once at 75 %, escalates once at 100 % (recording the breach, its statistics
// and the metric once), however many runs overlap; a late run escalates without the stale warning.
func TestBreachJob(t *testing.T) {
	t0 := at("2026-12-01 10:00 Tue")
	h := newHarness(t0)
	h.orgs.seats["req"] = licensing.SeatInfo{LicenseID: "lic1", Grant: licensing.Grant{Granted: true}}
	v := h.open(t, "req", sla.Urgent)
	ctx := context.Background()
	runAll := func() CheckReport {
		var (
			mu  sync.Mutex
			sum CheckReport
			wg  sync.WaitGroup
		)
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rep, err := h.check().run(ctx, "support-sla-check")
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				sum.Warnings += rep.Warnings
				sum.Escalations += rep.Escalations
				sum.BreachesRecorded += rep.BreachesRecorded
				mu.Unlock()
			}()
		}
		wg.Wait()
		return sum
	}
	if rep := runAll(); rep.Warnings != 0 {
		t.Fatalf("nothing due yet: %+v", rep)
	}
	h.clk.Set(t0.Add(50 * time.Minute))
	if rep := runAll(); rep.Warnings != 1 || rep.Escalations != 0 {
		t.Fatalf("warning %+v", rep)
	}
	h.clk.Set(t0.Add(70 * time.Minute))
	if rep := runAll(); rep.Escalations != 1 || rep.BreachesRecorded != 1 || rep.Warnings != 0 {
		t.Fatalf("escalation %+v", rep)
	}
	if n := len(h.mail.To(agentsAddr)); n != 2 {
		t.Fatalf("%d e-mails to the agents", n)
	}
	got, _ := h.repo.Ticket(ctx, v.ID)
	if got.Outcomes[sla.FirstReply] != OutcomeBreached || got.NextDueAt == nil || !got.NextDueAt.Equal(t0.Add(6*time.Hour)) {
		t.Fatalf("ticket %+v", got)
	}
	if h.repo.stats["2026-12-01"]["enterprise_urgent_firstReply_breached"] != 1 {
		t.Fatalf("statistics %v", h.repo.stats)
	}
	// Late: the resolution warning and breach are both due; only the escalation goes out, assigned
	// tickets' warnings would go to the assignee.
	h.clk.Set(t0.Add(9 * time.Hour))
	rep, err := h.check().run(ctx, "support-sla-check")
	if err != nil || rep.Escalations != 1 || rep.Warnings != 0 || rep.BreachesRecorded != 1 {
		t.Fatalf("late run %+v %v", rep, err)
	}
	if got, _ := h.repo.Ticket(ctx, v.ID); got.NextDueAt != nil || len(h.repo.due) != 0 {
		t.Fatalf("still scheduled %+v %v", got.NextDueAt, h.repo.due)
	}
	// An e-mail claimed by another run is left to it; a failed send is retried by the next run.
	w := h.open(t, "req", sla.Urgent)
	h.clk.Advance(50 * time.Minute)
	h.mail.Fail = errors.New("mail down")
	if rep, err := h.check().run(ctx, "support-sla-check"); err == nil || rep.Failures != 1 {
		t.Fatalf("failed send %+v %v", rep, err)
	}
	h.mail.Fail = nil
	if rep, err := h.check().run(ctx, "support-sla-check"); err != nil || rep.Warnings != 1 {
		t.Fatalf("retried send %+v %v", rep, err)
	}
	// Entries a ticket no longer points at (or of a ticket gone) are dropped.
	gone, stale := dueKey(t0, "tkt_01JDZ9B7C8D9E0F1G2H3J4K5MN"), dueKey(t0, w.ID)
	h.repo.due[gone] = dueEntry{TicketID: "tkt_01JDZ9B7C8D9E0F1G2H3J4K5MN", At: t0, Key: gone}
	h.repo.due[stale] = dueEntry{TicketID: w.ID, At: t0, Key: stale}
	if _, err := h.check().run(ctx, "support-sla-check"); err != nil || h.repo.due[gone].Key != "" || h.repo.due[stale].Key != "" {
		t.Fatalf("stale entries kept %v %v", h.repo.due, err)
	}
}

// A claim another run holds is left to it.
func TestBreachJobLeavesAClaimedSend(t *testing.T) {
	t0 := at("2026-12-01 10:00 Tue")
	h := newHarness(t0)
	h.orgs.seats["req"] = licensing.SeatInfo{LicenseID: "lic1", Grant: licensing.Grant{Granted: true}}
	v := h.open(t, "req", sla.Urgent)
	h.clk.Set(t0.Add(50 * time.Minute))
	hold := &holdingClaims{Store: h.claims}
	h.d.Claims = hold
	rep, err := h.check().run(context.Background(), "support-sla-check")
	if err != nil || rep.LeftToOtherRun != 1 || rep.Warnings != 0 {
		t.Fatalf("claimed elsewhere %+v %v", rep, err)
	}
	if got, _ := h.repo.Ticket(context.Background(), v.ID); len(got.Events) != 0 {
		t.Fatalf("recorded an event another run sends %+v", got.Events)
	}
	hold.completed = true
	if rep, _ := h.check().run(context.Background(), "support-sla-check"); rep.AlreadySent != 1 {
		t.Fatalf("already sent %+v", rep)
	}
}

// holdingClaims answers every claim as held by another run (or, completed, as already sent).
type holdingClaims struct {
	*idemtest.Store
	completed bool
}

func (c *holdingClaims) BeginIdempotent(ctx context.Context, scope, key, hash string, a, b time.Duration) (*idempotency.Record, error) {
	if c.completed {
		return &idempotency.Record{Status: idempotency.Completed}, nil
	}
	return nil, apperr.Wrap(idempotency.ErrInProgress, apperr.Conflict, "in progress")
}

// The SLA report sums the statistics of the days asked.
func TestReportHandler(t *testing.T) {
	h := newHarness(at("2026-11-30 12:00 Mon"))
	h.repo.stats["2026-11-30"] = map[string]int64{"pro_high_resolution_met": 3, "pro_high_resolution_breached": 1}
	h.repo.stats["2026-10-01"] = map[string]int64{"pro_high_resolution_met": 100}
	var rep SLAReport
	do(t, h.report(), call{user: "admin", query: map[string]string{"days": "7"}}, &rep)
	var row SLARow
	for _, r := range rep.Rows {
		if r.Tier == sla.TierPro && r.Priority == sla.High {
			row = r
		}
	}
	if rep.Days != 7 || rep.From != "2026-11-24" || row.Resolution.Met != 3 || *row.Resolution.MetPercent != 75 {
		t.Fatalf("report %+v", rep)
	}
	do(t, h.report(), call{user: "admin"}, &rep)
	if rep.Days != 30 {
		t.Fatalf("default days %d", rep.Days)
	}
	do(t, h.report(), call{user: "admin", query: map[string]string{"days": "0"}, code: apperr.Invalid}, nil)
}

// The lists answer TicketPage as documented (docs/openapi.yaml): "tickets" is an array even when
// empty, and "nextCursor" is always there, empty on the last page.
func TestListsKeepTheirShape(t *testing.T) {
	h := newHarness(at("2026-11-30 09:00 Mon"))
	h.open(t, "req", sla.Low)
	for name, c := range map[string]struct {
		hd          httpapi.Handler
		c           call
		tickets     int
		lastPage    bool
		wantTickets string
	}{
		"mine, last page":     {h.mine(), call{user: "req"}, 1, true, ""},
		"mine, a page of one": {h.mine(), call{user: "req", query: map[string]string{"limit": "1"}}, 1, true, ""},
		"mine, none":          {h.mine(), call{user: "nobody"}, 0, true, "[]"},
		"queue, none solved":  {h.queue(), call{user: "agent1", agent: true, query: map[string]string{"status": StatusSolved}}, 0, true, "[]"},
		"queue, open":         {h.queue(), call{user: "agent1", agent: true}, 1, true, ""},
	} {
		var body map[string]json.RawMessage
		do(t, c.hd, c.c, &body)
		var tickets []json.RawMessage
		if err := json.Unmarshal(body["tickets"], &tickets); err != nil || len(tickets) != c.tickets || len(body) != 2 {
			t.Errorf("%s: %d tickets in %s", name, len(tickets), body["tickets"])
		}
		if c.wantTickets != "" && string(body["tickets"]) != c.wantTickets {
			t.Errorf("%s: tickets %s, want %s", name, body["tickets"], c.wantTickets)
		}
		if cur, ok := body["nextCursor"]; !ok || c.lastPage && string(cur) != `""` {
			t.Errorf("%s: nextCursor %s (present %v)", name, cur, ok)
		}
	}
	// A page that is not the last carries the cursor of the next.
	h.open(t, "req", sla.Low)
	var body map[string]json.RawMessage
	do(t, h.mine(), call{user: "req", query: map[string]string{"limit": "1"}}, &body)
	if string(body["nextCursor"]) == `""` || len(body["nextCursor"]) < 3 {
		t.Fatalf("a first page of two: nextCursor %s", body["nextCursor"])
	}
}
