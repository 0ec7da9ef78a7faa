//go:build integration

package e2e

// Issue 8's support proof through the local gateway, on an injected clock: the SLA clock over a
// weekend and a pending pause; the breach job run twice sends one warning and one escalation;
// agents-only routes; branded replies; org isolation of licenses and tickets.

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/manifest"
)

type slaTarget struct {
	Status         string     `json:"status"`
	TargetMinutes  int64      `json:"targetMinutes"`
	ElapsedMinutes int64      `json:"elapsedMinutes"`
	DueAt          *time.Time `json:"dueAt"`
}

type ticketView struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Tier      string `json:"tier"`
	Priority  string `json:"priority"`
	LicenseID string `json:"licenseId"`
	SLA       struct {
		BusinessHours bool      `json:"businessHours"`
		FirstReply    slaTarget `json:"firstReply"`
		Resolution    slaTarget `json:"resolution"`
		Breaching     bool      `json:"breaching"`
	} `json:"sla"`
}

type checkReport struct {
	Due              int `json:"due"`
	Warnings         int `json:"warnings"`
	Escalations      int `json:"escalations"`
	AlreadySent      int `json:"alreadySent"`
	BreachesRecorded int `json:"breachesRecorded"`
}

func runCheck(t *testing.T, h *Harness) checkReport {
	t.Helper()
	var rep checkReport
	if err := jsonUnmarshal(h.RunJob(t, "support-sla-check").Result, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

func utcAt(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// An Enterprise normal ticket (8 business hours to the first reply) opened on Friday 15:00 UTC.
func TestSLAClockOverAWeekendAndAPendingPause(t *testing.T) {
	h := Start(t, WithFakeClock())
	h.Clock.Set(utcAt("2026-12-04 15:00")) // Friday
	o := newOrg(t, h, 5, "block", "restrict", h.Clock.Now())
	userID, learner := o.member(t, h, o.invite(t, h, 1))
	agent := h.Token(t, "agent-"+suffix(), "agent-"+suffix()+"@support.liberation.example", manifest.GroupSupport)

	var tk ticketView
	h.Call(t, http.MethodPost, "/support/tickets", learner, map[string]string{"subject": "Export fails",
		"body": "The CSV export times out.", "priority": "normal"}, http.StatusCreated, &tk)
	if tk.Tier != "enterprise" || tk.LicenseID != o.lic.ID || !tk.SLA.BusinessHours || tk.SLA.FirstReply.TargetMinutes != 8*60 ||
		tk.SLA.Resolution.TargetMinutes != 72*60 {
		t.Fatalf("ticket %+v", tk)
	}
	// 2 business hours on Friday, none over the weekend: due Monday 15:00.
	if !tk.SLA.FirstReply.DueAt.Equal(utcAt("2026-12-07 15:00")) {
		t.Fatalf("first reply due %s", tk.SLA.FirstReply.DueAt)
	}
	get := func() ticketView {
		var v ticketView
		h.Call(t, http.MethodGet, "/support/tickets/"+tk.ID, learner, nil, http.StatusOK, &v)
		return v
	}
	h.Clock.Set(utcAt("2026-12-06 20:00")) // Sunday evening: still 2 h
	if v := get(); v.SLA.FirstReply.ElapsedMinutes != 120 || v.SLA.FirstReply.Status != "running" {
		t.Fatalf("Sunday %+v", v.SLA.FirstReply)
	}
	if rep := runCheck(t, h); rep.Due != 0 {
		t.Fatalf("the breach job found something due on Sunday: %+v", rep)
	}
	// Monday 10:00 (3 h used) an agent answers (the first reply is met) and sets it pending: the
	// resolution clock pauses (pending never pauses a first reply still owed: decision 0066).
	h.Clock.Set(utcAt("2026-12-07 10:00"))
	h.Call(t, http.MethodPost, "/support/tickets/"+tk.ID+"/replies", agent, map[string]string{"body": "Please send the logs."}, http.StatusCreated, nil)
	h.Call(t, http.MethodPatch, "/support/tickets/"+tk.ID, agent, map[string]string{"status": "pending"}, http.StatusOK, nil)
	h.Clock.Set(utcAt("2026-12-08 10:59")) // Tuesday: still 3 h
	if v := get(); v.Status != "pending" || v.SLA.FirstReply.Status != "met" || v.SLA.Resolution.Status != "paused" ||
		v.SLA.Resolution.ElapsedMinutes != 180 || v.SLA.Resolution.DueAt != nil {
		t.Fatalf("pending %+v %+v %+v", v.Status, v.SLA.FirstReply, v.SLA.Resolution)
	}
	if rep := runCheck(t, h); rep.Due != 0 {
		t.Fatalf("a pending ticket is on the schedule: %+v", rep)
	}
	// The customer answers on Tuesday 11:00: open again, 69 of 72 h left → due Friday 2026-12-18 16:00.
	h.Clock.Set(utcAt("2026-12-08 11:00"))
	h.Call(t, http.MethodPost, "/support/tickets/"+tk.ID+"/replies", learner, map[string]string{"body": "Here are the logs."}, http.StatusCreated, nil)
	v := get()
	if v.Status != "open" || v.SLA.Resolution.Status != "running" || !v.SLA.Resolution.DueAt.Equal(utcAt("2026-12-18 16:00")) {
		t.Fatalf("resumed %+v %+v", v.Status, v.SLA.Resolution)
	}
	_ = userID
}

// An urgent Enterprise ticket (1 calendar hour to the first reply): the breach job, run twice at
// 75 % and twice at 100 %, sends exactly one warning and one escalation, records one breach, and
// the SLA report counts it.
func TestBreachJobRunTwiceSendsOneWarningAndOneEscalation(t *testing.T) {
	h := Start(t, WithFakeClock())
	t0 := utcAt("2026-12-01 10:00") // a Tuesday; urgent targets are calendar hours anyway
	h.Clock.Set(t0)
	o := newOrg(t, h, 5, "block", "restrict", t0)
	_, learner := o.member(t, h, o.invite(t, h, 1))
	agents := h.Env.Vars[manifest.EnvSupportEmail]
	platform := h.Token(t, "ops-"+suffix(), "ops@liberation.example", "admin")

	var tk ticketView
	h.Call(t, http.MethodPost, "/support/tickets", learner, map[string]string{"subject": "Everyone is locked out",
		"body": "SSO returns an error for every user.", "priority": "urgent"}, http.StatusCreated, &tk)
	if tk.SLA.BusinessHours || tk.SLA.FirstReply.TargetMinutes != 60 {
		t.Fatalf("ticket %+v", tk.SLA)
	}
	count := func(subject string) int {
		n := 0
		for _, m := range h.Env.Mailpit.Search(t, "to:"+agents) {
			if strings.Contains(m.Subject, subject) && strings.Contains(m.Subject, tk.ID) {
				n++
			}
		}
		return n
	}
	h.Clock.Set(t0.Add(44 * time.Minute))
	if rep := runCheck(t, h); rep.Warnings != 0 || rep.Due != 0 {
		t.Fatalf("before 75 %%: %+v", rep)
	}
	h.Clock.Set(t0.Add(46 * time.Minute)) // past 45 minutes = 75 %
	first, second := runCheck(t, h), runCheck(t, h)
	if first.Warnings != 1 || first.Escalations != 0 || second.Warnings != 0 || second.Due != 0 {
		t.Fatalf("warning runs: %+v then %+v", first, second)
	}
	h.Env.Mailpit.WaitFor(t, "to:"+agents, 1)
	if n := count("SLA warning"); n != 1 {
		t.Fatalf("%d warnings", n)
	}
	h.Clock.Set(t0.Add(61 * time.Minute)) // past the hour
	first, second = runCheck(t, h), runCheck(t, h)
	if first.Escalations != 1 || first.BreachesRecorded != 1 || second.Escalations != 0 || second.BreachesRecorded != 0 {
		t.Fatalf("escalation runs: %+v then %+v", first, second)
	}
	if w, e := count("SLA warning"), count("SLA breached"); w != 1 || e != 1 {
		t.Fatalf("%d warnings, %d escalations", w, e)
	}
	// The ticket shows the breach, the agents' queue lists it as breaching, the report counts it.
	agent := h.Token(t, "agent-"+suffix(), "agent-"+suffix()+"@support.liberation.example", manifest.GroupSupport)
	var v ticketView
	h.Call(t, http.MethodGet, "/support/tickets/"+tk.ID, agent, nil, http.StatusOK, &v)
	if v.SLA.FirstReply.Status != "breached" || !v.SLA.Breaching {
		t.Fatalf("ticket after the breach %+v", v.SLA)
	}
	var queue struct {
		Tickets []ticketView `json:"tickets"`
	}
	h.Call(t, http.MethodGet, "/support/queue?status=open&breaching=true", agent, nil, http.StatusOK, &queue)
	if len(queue.Tickets) != 1 || queue.Tickets[0].ID != tk.ID {
		t.Fatalf("breaching queue %+v", queue)
	}
	refused(t, h, http.MethodGet, "/support/queue", learner, nil, http.StatusForbidden, "this route is for the support group")
	refused(t, h, http.MethodPatch, "/support/tickets/"+tk.ID, learner, map[string]string{"status": "solved"}, http.StatusForbidden, "this route is for the support group")
	var report struct {
		Rows []struct {
			Tier, Priority string
			FirstReply     struct {
				Met, Breached int64
				MetPercent    *float64
			}
		} `json:"rows"`
	}
	h.Call(t, http.MethodGet, "/admin/support/sla?days=30", platform, nil, http.StatusOK, &report)
	if r := report.Rows[0]; r.Tier != "enterprise" || r.Priority != "urgent" || r.FirstReply.Breached != 1 || r.FirstReply.Met != 0 ||
		r.FirstReply.MetPercent == nil || *r.FirstReply.MetPercent != 0 {
		t.Fatalf("report %+v", report.Rows[0])
	}
	// A late first reply completes the target without counting it again.
	h.Call(t, http.MethodPost, "/support/tickets/"+tk.ID+"/replies", agent, map[string]string{"body": "We are on it."}, http.StatusCreated, nil)
	h.Call(t, http.MethodGet, "/admin/support/sla?days=30", platform, nil, http.StatusOK, &report)
	if r := report.Rows[0]; r.FirstReply.Breached != 1 || r.FirstReply.Met != 0 {
		t.Fatalf("report after the reply %+v", r)
	}
}

// A seat holder's support e-mails come in their organisation's branding.
func TestBrandedSupportReply(t *testing.T) {
	h := Start(t)
	o := newOrg(t, h, 5, "block", "restrict", time.Now().UTC())
	h.Call(t, http.MethodPut, "/licenses/"+o.lic.ID+"/branding", o.admin, map[string]any{"displayName": "Acme Academy",
		"logoUrl": "https://cdn.acme.example/logo.png", "primaryColor": "#0B3D91", "accentColor": "#FC3D21",
		"emailFromName": "Acme Learning Desk", "supportEmail": "learning@acme.example"}, http.StatusOK, nil)
	id := "learner-" + suffix()
	email := id + "@acme.example"
	learner := h.Token(t, id, email)
	h.Call(t, http.MethodPost, "/licenses/join", learner, map[string]string{"code": o.invite(t, h, 1)}, http.StatusCreated, nil)
	var tk ticketView
	h.Call(t, http.MethodPost, "/support/tickets", learner, map[string]string{"subject": "Certificate <missing>",
		"body": "My certificate is missing.", "priority": "low"}, http.StatusCreated, &tk)
	agent := h.Token(t, "agent-"+suffix(), "agent-"+suffix()+"@support.liberation.example", manifest.GroupSupport)
	h.Call(t, http.MethodPost, "/support/tickets/"+tk.ID+"/replies", agent, map[string]string{"body": "Fixed <b>now</b>."}, http.StatusCreated, nil)
	m := h.Env.Mailpit.Get(t, h.Env.Mailpit.WaitFor(t, "to:"+email, 1)[0].ID)
	if m.From.Name != "Acme Learning Desk" || !strings.Contains(m.HTML, "#0B3D91") || !strings.Contains(m.HTML, "https://cdn.acme.example/logo.png") ||
		!strings.Contains(m.HTML, "Fixed &lt;b&gt;now&lt;/b&gt;.") || strings.Contains(m.HTML, "<b>now</b>") ||
		!strings.Contains(m.Subject, "Certificate <missing>") || !strings.Contains(m.Text, "Fixed <b>now</b>.") {
		t.Fatalf("reply e-mail from %+v, subject %q:\n%s", m.From, m.Subject, m.HTML)
	}
	// The learner's reply goes to the agents' address in the platform's branding.
	h.Call(t, http.MethodPost, "/support/tickets/"+tk.ID+"/replies", learner, map[string]string{"body": "Thanks!"}, http.StatusCreated, nil)
	am := h.Env.Mailpit.Get(t, h.Env.Mailpit.WaitFor(t, "to:"+h.Env.Vars[manifest.EnvSupportEmail], 1)[0].ID)
	if am.From.Name != "Liberation" || !strings.Contains(am.Text, "Thanks!") {
		t.Fatalf("agents' e-mail from %+v:\n%s", am.From, am.Text)
	}
}

// A seat holder (and the admin) of organisation A gets 404 on B's license and B's tickets.
func TestOrgIsolation(t *testing.T) {
	h := Start(t)
	now := time.Now().UTC()
	a, b := newOrg(t, h, 5, "block", "restrict", now), newOrg(t, h, 5, "block", "restrict", now)
	aUser, aMember := a.member(t, h, a.invite(t, h, 1))
	bUser, bMember := b.member(t, h, b.invite(t, h, 1))
	var bTicket ticketView
	h.Call(t, http.MethodPost, "/support/tickets", bMember, map[string]string{"subject": "B's problem", "body": "Private.",
		"priority": "high"}, http.StatusCreated, &bTicket)
	id := b.lic.ID
	for _, caller := range []string{aMember, a.admin} {
		h.Call(t, http.MethodGet, "/licenses/"+id, caller, nil, http.StatusNotFound, nil)
		h.Call(t, http.MethodGet, "/licenses/"+id+"/seats", caller, nil, http.StatusNotFound, nil)
		h.Call(t, http.MethodGet, "/licenses/"+id+"/usage", caller, nil, http.StatusNotFound, nil)
		h.Call(t, http.MethodPost, "/licenses/"+id+"/invites", caller, map[string]any{"maxUses": 5}, http.StatusNotFound, nil)
		h.Call(t, http.MethodPost, "/licenses/"+id+"/seats", caller, map[string]any{"email": "x@acme.example"}, http.StatusNotFound, nil)
		h.Call(t, http.MethodPut, "/licenses/"+id+"/branding", caller, map[string]any{"displayName": "Pwned", "primaryColor": "#000000",
			"accentColor": "#000000", "emailFromName": "Pwned", "supportEmail": "p@evil.example"}, http.StatusNotFound, nil)
		h.Call(t, http.MethodDelete, "/licenses/"+id+"/seats/"+bUser, caller, nil, http.StatusNotFound, nil)
		h.Call(t, http.MethodGet, "/support/tickets/"+bTicket.ID, caller, nil, http.StatusNotFound, nil)
		h.Call(t, http.MethodPost, "/support/tickets/"+bTicket.ID+"/replies", caller, map[string]string{"body": "hi"}, http.StatusNotFound, nil)
	}
	// B's admin reads B's member's ticket; a join with B's code by A's member is refused (one seat per user).
	h.Call(t, http.MethodGet, "/support/tickets/"+bTicket.ID, b.admin, nil, http.StatusOK, nil)
	refused(t, h, http.MethodPost, "/licenses/join", aMember, map[string]string{"code": b.invite(t, h, 5)}, http.StatusConflict, "another organisation")
	// A's admin sees only A's seat.
	var seats struct {
		Seats []seatView `json:"seats"`
	}
	h.Call(t, http.MethodGet, "/licenses/"+a.lic.ID+"/seats", a.admin, nil, http.StatusOK, &seats)
	if len(seats.Seats) != 1 || seats.Seats[0].UserID != aUser {
		t.Fatalf("A's seats %+v", seats)
	}
}

// Fields a caller may not set are unknown fields (400), and nothing is stored.
func TestEnterpriseMassAssignmentIsRefused(t *testing.T) {
	h := Start(t)
	o := newOrg(t, h, 2, "block", "restrict", time.Now().UTC())
	code := o.invite(t, h, 5)
	id := "mass-" + suffix()
	user := h.Token(t, id, id+"@acme.example")
	for _, tc := range []struct {
		method, path, token string
		body                any
		field               string
	}{
		{http.MethodPost, "/support/tickets", user, map[string]any{"subject": "s", "body": "b", "priority": "low", "tier": "enterprise"}, "tier"},
		{http.MethodPost, "/support/tickets", user, map[string]any{"subject": "s", "body": "b", "priority": "low", "status": "solved"}, "status"},
		{http.MethodPost, "/licenses/join", user, map[string]any{"code": code, "overage": false}, "overage"},
		{http.MethodPost, "/licenses/" + o.lic.ID + "/invites", o.admin, map[string]any{"maxUses": 1, "licenseId": "lic_other"}, "licenseId"},
		{http.MethodPut, "/licenses/" + o.lic.ID + "/branding", o.admin, map[string]any{"displayName": "A", "primaryColor": "#000000",
			"accentColor": "#000000", "emailFromName": "A", "supportEmail": "a@acme.example", "seats": 1000}, "seats"},
		{http.MethodPost, "/licenses/activate", o.admin, map[string]any{"key": o.lic.Key, "seats": 1000}, "seats"},
	} {
		refused(t, h, tc.method, tc.path, tc.token, tc.body, http.StatusBadRequest, tc.field)
	}
	var mine struct {
		Tickets []ticketView `json:"tickets"`
	}
	h.Call(t, http.MethodGet, "/support/tickets", user, nil, http.StatusOK, &mine)
	var lic license
	h.Call(t, http.MethodGet, "/licenses/"+o.lic.ID, o.admin, nil, http.StatusOK, &lic)
	if len(mine.Tickets) != 0 || lic.SeatsUsed != 0 || lic.Seats != 2 || lic.Branding != nil {
		t.Fatalf("something was stored: %d tickets, license %+v", len(mine.Tickets), lic)
	}
}
