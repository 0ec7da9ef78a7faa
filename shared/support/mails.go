package support

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/notify"
	"github.com/liberation/monetization/shared/support/sla"
)

// notifier sends support's e-mails, each once per dedupe id (claimed in Claims before it is sent).
type notifier struct {
	MailFrom, AppURL string
	Mail             mail.Sender
	Claims           idempotency.Store
	// AgentsEmail is the support team's address.
	AgentsEmail string
	// Brandings answers the requester's organisation's branding.
	Brandings brandings
}

// notifier is the e-mail part of the wiring.
func (d *Deps) notifier() notifier {
	return notifier{MailFrom: d.Config.MailFrom, AppURL: d.Config.AppURL, Mail: d.Mail, Claims: d.Claims,
		AgentsEmail: d.AgentsEmail, Brandings: d.Orgs}
}

// send e-mails c to to in branding b, once per dedupe id.
func (d notifier) send(ctx context.Context, b licensing.Branding, to, dedupe string, c notify.Content) (notify.Outcome, error) {
	text, html := notify.Render(b.Brand(), c)
	return notify.SendOnce(ctx, d.Claims, d.Mail, dedupe, mail.Message{From: b.From(d.MailFrom), To: to,
		Subject: c.Subject, Text: text, HTML: html})
}

func (d notifier) ticketLink(id string) *notify.Link {
	base := strings.TrimRight(d.AppURL, "/")
	if base == "" {
		return nil
	}
	return &notify.Link{Label: "Open the ticket", URL: base + "/support/tickets/" + id}
}

// replyToRequester tells the requester an agent answered (in their organisation's branding).
func replyToRequester(d notifier, t Ticket, body string) notify.Content {
	return notify.Content{
		Subject:    "Re: " + t.Subject + " [" + t.ID + "]",
		Heading:    "Support replied to your ticket",
		Paragraphs: append([]string{"On \u201c" + t.Subject + "\u201d:"}, paragraphs(body)...),
		Action:     d.ticketLink(t.ID),
		Footer:     "You get this e-mail because you opened this ticket.",
	}
}

// replyToAgents tells the assignee (or the team) the customer wrote.
func replyToAgents(d notifier, t Ticket, body string) notify.Content {
	return notify.Content{
		Subject:    "Customer reply: " + t.Subject + " [" + t.ID + "]",
		Heading:    "The customer replied",
		Paragraphs: append([]string{fmt.Sprintf("%s priority, %s tier, now %s.", t.Priority, t.Tier, t.Status)}, paragraphs(body)...),
		Action:     d.ticketLink(t.ID),
		Footer:     "You get this e-mail as the ticket's assignee or as the support team.",
	}
}

// slaMail is the warning (75 %) or escalation (breach) of an event.
func slaMail(d notifier, t Ticket, e sla.Event, now time.Time) notify.Content {
	target := map[string]string{sla.FirstReply: "first reply", sla.Resolution: "resolution"}[e.Target]
	d0 := t.Policy().Target(e.Target)
	hours := "calendar"
	if t.Policy().Business {
		hours = "business"
	}
	facts := [][2]string{{"Ticket", t.ID}, {"Priority", t.Priority}, {"Tier", t.Tier}, {"Status", t.Status},
		{"Target", fmt.Sprintf("%s within %s (%s hours)", target, d0, hours)}, {"Assignee", or(t.Assignee, "unassigned")}}
	if e.Kind == sla.Warning {
		return notify.Content{
			Subject:    fmt.Sprintf("SLA warning: %s due soon on %s", target, t.ID),
			Heading:    fmt.Sprintf("75 %% of the %s target has passed", target),
			Paragraphs: []string{"\u201c" + t.Subject + "\u201d will breach its " + target + " target unless it is answered soon."},
			Facts:      facts, Action: d.ticketLink(t.ID),
			Footer: "Sent by the SLA check at " + now.UTC().Format(time.RFC3339) + ".",
		}
	}
	return notify.Content{
		Subject:    fmt.Sprintf("SLA breached: %s on %s (escalation)", target, t.ID),
		Heading:    fmt.Sprintf("The %s target was breached", target),
		Paragraphs: []string{"\u201c" + t.Subject + "\u201d breached its " + target + " target. It is escalated to the support team."},
		Facts:      facts, Action: d.ticketLink(t.ID),
		Footer: "Sent by the SLA check at " + now.UTC().Format(time.RFC3339) + ".",
	}
}

func paragraphs(body string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
