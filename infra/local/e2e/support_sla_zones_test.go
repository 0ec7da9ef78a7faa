//go:build integration

package e2e

// Issue 14's SLA proof through the local gateway, on an injected clock: business hours in a zone
// whose clock jumps at midnight (America/Santiago springs forward at Saturday 24:00), through the
// breach job.

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/manifest"
)

// newOrgInZone is newOrg with the organisation's time zone set on the license.
func newOrgInZone(t *testing.T, h *Harness, zone string, now time.Time) org {
	t.Helper()
	platform := h.Token(t, "ops-"+suffix(), "ops@liberation.example", "admin")
	email := "it-" + suffix() + "@acme.example"
	var lic license
	h.Call(t, http.MethodPost, "/admin/licenses", platform, map[string]any{
		"orgName": "Acme " + suffix(), "seats": 5, "startsAt": now.Add(-time.Hour), "expiresAt": now.Add(365 * 24 * time.Hour),
		"overagePolicy": "block", "expirationPolicy": "restrict", "adminEmails": []string{email}, "timeZone": zone,
	}, http.StatusCreated, &lic)
	admin := h.Token(t, "admin-"+suffix(), email)
	h.Call(t, http.MethodPost, "/licenses/activate", admin, map[string]string{"key": lic.Key}, http.StatusOK, &lic)
	return org{lic: lic, admin: admin, adminEmail: email}
}

// An Enterprise normal ticket (8 business hours to the first reply) opened in Santiago on Friday
// 2026-09-04 15:00 (−04), the weekend Chile springs forward at Saturday 24:00: 2 business hours on
// Friday, none over the weekend, so the warning (6 h) is due Monday 13:00 −03 and the breach
// Monday 15:00 −03, and the job sends each once at that time.
func TestSantiagoWeekendThroughTheBreachJob(t *testing.T) {
	h := Start(t, WithFakeClock())
	h.Clock.Set(utcAt("2026-09-04 19:00")) // Friday 15:00 in Santiago
	o := newOrgInZone(t, h, "America/Santiago", h.Clock.Now())
	_, learner := o.member(t, h, o.invite(t, h, 1))
	agents := h.Env.Vars[manifest.EnvSupportEmail]

	var tk ticketView
	h.Call(t, http.MethodPost, "/support/tickets", learner, map[string]string{"subject": "Reports are empty",
		"body": "Every report shows no rows.", "priority": "normal"}, http.StatusCreated, &tk)
	if tk.Tier != "enterprise" || !tk.SLA.BusinessHours || tk.SLA.FirstReply.DueAt == nil ||
		!tk.SLA.FirstReply.DueAt.Equal(utcAt("2026-09-07 18:00")) {
		t.Fatalf("first reply due %v, want Monday 2026-09-07 15:00 −03 (18:00 UTC): %+v", tk.SLA.FirstReply.DueAt, tk.SLA)
	}
	agent := h.Token(t, "agent-"+suffix(), "agent-"+suffix()+"@support.liberation.example", manifest.GroupSupport)
	get := func() ticketView {
		var v ticketView
		h.Call(t, http.MethodGet, "/support/tickets/"+tk.ID, agent, nil, http.StatusOK, &v)
		return v
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
	for _, tc := range []struct {
		at                              string // UTC
		elapsed                         int64  // business minutes so far
		due, warnings, escalations, brk int
		status                          string
	}{
		{"2026-09-05 23:30", 120, 0, 0, 0, 0, "running"},  // Saturday evening, before the jump
		{"2026-09-06 20:00", 120, 0, 0, 0, 0, "running"},  // Sunday: nothing counts, nothing due
		{"2026-09-07 15:59", 359, 0, 0, 0, 0, "running"},  // Monday 12:59 −03
		{"2026-09-07 16:00", 360, 1, 1, 0, 0, "running"},  // 13:00 −03: 6 h, the warning
		{"2026-09-07 17:59", 479, 0, 0, 0, 0, "running"},  // the warning is not sent again
		{"2026-09-07 18:00", 480, 1, 0, 1, 1, "breached"}, // 15:00 −03: 8 h, the escalation
		{"2026-09-07 18:30", 510, 0, 0, 0, 0, "breached"}, // once
	} {
		h.Clock.Set(utcAt(tc.at))
		rep := runCheck(t, h)
		if rep.Due != tc.due || rep.Warnings != tc.warnings || rep.Escalations != tc.escalations || rep.BreachesRecorded != tc.brk {
			t.Fatalf("%s: check %+v", tc.at, rep)
		}
		if v := get(); v.SLA.FirstReply.ElapsedMinutes != tc.elapsed || v.SLA.FirstReply.Status != tc.status {
			t.Fatalf("%s: first reply %+v", tc.at, v.SLA.FirstReply)
		}
	}
	h.Env.Mailpit.WaitFor(t, "to:"+agents, 2)
	if w, e := count("SLA warning"), count("SLA breached"); w != 1 || e != 1 {
		t.Fatalf("%d warnings, %d escalations", w, e)
	}
}
