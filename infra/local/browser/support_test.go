//go:build integration

package browser

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ticket is the part of GET /support/tickets/{id} the support test reads.
type ticket struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Assignee string `json:"assignee"`
	Messages []struct {
		AuthorID string `json:"authorId"`
		Role     string `json:"role"`
		Body     string `json:"body"`
	} `json:"messages"`
}

// choose picks an option of the <select> labelled label (within the CSS selector within) as a
// user's choice would: the value changes and the change event fires.
func (b *tab) choose(within, label, value string) {
	b.t.Helper()
	b.do(chromedp.Focus(field(within, label)))
	b.eval(fmt.Sprintf(`(() => { const e = %s; e.value = %s; e.dispatchEvent(new Event('change', {bubbles: true})); return e.value; })()`,
		field(within, label), jsString(value)), nil)
}

// A support agent (group support) works the queue: it lists the seeded tickets with SLA clocks
// that count down; the agent opens the urgent one (or another with a running clock), assigns it to themselves, replies and sets it
// pending, each through its confirmation dialog; GET /support/tickets/{id} then shows the agent as
// assignee, the reply as the agent's message and the new status.
func TestConsoleSupportAgentClaimsAndAnswers(t *testing.T) {
	b, s := consoleTab(t, desktopW, desktopH)
	agent := s.seed.SupportAgentID
	b.signIn(s, agent, "support")
	b.waitText("main h1", "Support")
	b.waitIdle()
	if links := b.navLinks(); len(links) != 1 || links[0] != "#/support" {
		t.Errorf("a support agent's nav offers %v, want only #/support", links)
	}
	for _, id := range s.seed.TicketIDs {
		b.waitSelector(fmt.Sprintf(`main a[data-ticket-id=%q]`, id))
	}

	// Every seeded ticket's row has both SLA clocks; the agent works the urgent ticket if its
	// first-response clock runs, else the first seeded one whose does, and that clock counts down.
	type clockReading struct {
		Text  string `json:"text"`
		Left  string `json:"left"`
		Count int    `json:"count"`
	}
	readClock := func(id string) clockReading {
		var c clockReading
		b.eval(fmt.Sprintf(`(() => { const r = document.querySelector(%s);
			const e = r && r.querySelector('time[data-sla="First response"]');
			return {text: e ? e.innerText.trim() : '', left: e ? e.dataset.secondsLeft : '', count: r ? r.querySelectorAll('time[data-sla]').length : 0}; })()`,
			jsString(fmt.Sprintf(`main tr:has(a[data-ticket-id=%q])`, id))), &c)
		return c
	}
	picked := ""
	for _, id := range append([]string{s.seed.UrgentTicketID}, s.seed.TicketIDs...) {
		c := readClock(id)
		if c.Count != 2 {
			t.Errorf("ticket %s's row has %d SLA clocks, want first response and resolution", id, c.Count)
		}
		if _, err := strconv.Atoi(c.Left); err == nil && picked == "" {
			picked = id
		}
	}
	if picked == "" {
		t.Fatalf("no seeded ticket has a running first-response clock (the seeded requesters' tier has no SLA targets?): %+v",
			readClock(s.seed.UrgentTicketID))
	}
	c1 := readClock(picked)
	if !strings.HasSuffix(c1.Text, " left") && !strings.HasPrefix(c1.Text, "breached") {
		t.Errorf("first-response clock reads %q", c1.Text)
	}
	time.Sleep(2100 * time.Millisecond)
	c2 := readClock(picked)
	left1, _ := strconv.Atoi(c1.Left)
	left2, _ := strconv.Atoi(c2.Left)
	if d := left1 - left2; d < 1 || d > 4 {
		t.Errorf("the clock went from %d to %d seconds left in 2.1 s: not counting down", left1, left2)
	}
	b.shot("support-queue")

	// Open the ticket and claim it.
	b.click(chromedp.JSPath(fmt.Sprintf(`document.querySelector(%s)`, jsString(fmt.Sprintf(`main a[data-ticket-id=%q]`, picked)))))
	b.waitSelector("section.ticket h2#ticket-title")
	b.waitIdle()
	b.click(button("section.ticket", "Assign to me"))
	b.waitText("dialog[open]", "Assign this ticket to you?")
	b.click(dialogButton("Assign"))
	b.waitText("section.ticket [role=status]", "The ticket is assigned to you.")
	b.waitSelector(fmt.Sprintf(`section.ticket [data-assignee=%q]`, agent))
	b.waitIdle()

	// Reply.
	reply := fmt.Sprintf("Thanks for writing in — we are on it (browser test %d).", time.Now().UnixNano())
	b.fill(field("section.ticket form", "Reply"), reply)
	b.click(button("section.ticket form", "Send reply"))
	b.waitText("dialog[open]", "Send this reply?")
	b.axe("the support ticket with its reply dialog open")
	b.click(dialogButton("Send"))
	b.waitText("section.ticket [role=status]", "Your reply was sent")
	b.waitText("section.ticket ol.messages li", reply)
	b.waitIdle()

	// Change the status to pending.
	b.choose("section.ticket form", "Status", "pending")
	b.click(button("section.ticket form", "Change status"))
	b.waitText("dialog[open]", "Change the status to pending?")
	b.click(dialogButton("Change"))
	b.waitText("section.ticket [role=status]", "The ticket is now pending.")
	b.waitSelector(`section.ticket [data-ticket-status="pending"]`)
	b.waitIdle()
	b.axe("an open support ticket after the agent's actions")
	b.shot("support-ticket")

	var got ticket
	s.api(t, http.MethodGet, "/support/tickets/"+picked, agent, []string{"support"}, nil, http.StatusOK, &got)
	if got.Assignee != agent {
		t.Errorf("assignee %q, want %q", got.Assignee, agent)
	}
	if got.Status != "pending" {
		t.Errorf("status %q, want pending", got.Status)
	}
	found := false
	for _, m := range got.Messages {
		if m.Body == reply && m.AuthorID == agent && m.Role == "agent" {
			found = true
		}
	}
	if !found {
		t.Errorf("the reply is not among the ticket's messages as the agent's: %+v", got.Messages)
	}
}
