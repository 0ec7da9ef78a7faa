package licensing

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/notify"
)

// send e-mails content to to in branding b, once per dedupe id.
func (d *Deps) send(ctx context.Context, b Branding, to, dedupe string, c notify.Content) (notify.Outcome, error) {
	text, html := notify.Render(b.Brand(), c)
	return notify.SendOnce(ctx, d.Sent, d.Mail, dedupe, mail.Message{From: b.From(d.Config.MailFrom), To: to,
		Subject: c.Subject, Text: text, HTML: html})
}

// appLink is a link into the web app (APP_URL), or "" when it is not configured.
func (d *Deps) appLink(path string, query url.Values) string {
	base := strings.TrimRight(d.Config.AppURL, "/")
	if base == "" {
		return ""
	}
	u := base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

func action(label, link string) *notify.Link {
	if link == "" {
		return nil
	}
	return &notify.Link{Label: label, URL: link}
}

func inviteMail(l License, b Branding, code, joinURL string, until time.Time) notify.Content {
	name := orgLabel(l, b)
	return notify.Content{
		Subject: "You're invited to " + name + " on " + b.Brand().Name,
		Heading: "Join " + name,
		Paragraphs: []string{
			name + " has a seat for you. Sign in and enter this invite code to take it:",
			code,
		},
		Facts:  [][2]string{{"Invite code", code}, {"Valid until", until.UTC().Format("2 January 2006")}},
		Action: action("Take your seat", joinURL),
		Footer: "You get this e-mail because an administrator of " + name + " invited this address.",
	}
}

func seatMail(l License, b Branding, link string) notify.Content {
	name := orgLabel(l, b)
	return notify.Content{
		Subject:    "You now have a seat at " + name,
		Heading:    "Welcome to " + name,
		Paragraphs: []string{"An administrator of " + name + " gave you a seat. Your account now has every Enterprise feature."},
		Action:     action("Open the app", link),
		Footer:     "You get this e-mail because an administrator of " + name + " assigned you a seat.",
	}
}

func expiringMail(l License, b Branding, days int) notify.Content {
	name := orgLabel(l, b)
	when := "in 1 day"
	if days > 1 {
		when = fmt.Sprintf("in %d days", days)
	}
	effect := map[string]string{
		ExpireRestrict: "Your people keep their access, but no new seats can be taken.",
		ExpireRevoke:   "Every seat holder loses Enterprise access at that moment.",
		ExpireMaintain: "Access continues, but the license is no longer covered by your agreement.",
	}[l.ExpirationPolicy]
	return notify.Content{
		Subject:    fmt.Sprintf("Your %s license expires %s", b.Brand().Name, when),
		Heading:    "The license of " + name + " expires " + when,
		Paragraphs: []string{"It expires on " + l.ExpiresAt.UTC().Format("2 January 2006, 15:04 MST") + ". " + effect, "Contact your account manager to renew it."},
		Facts: [][2]string{{"License", l.ID}, {"Seats", fmt.Sprintf("%d of %d taken", l.SeatsUsed, l.Seats)},
			{"Expiration policy", l.ExpirationPolicy}},
		Footer: "You get this e-mail as an administrator of " + name + ".",
	}
}

func usageMail(l License, b Branding, u UsageView, link string) notify.Content {
	name := orgLabel(l, b)
	t := u.SupportTickets
	return notify.Content{
		Subject:    fmt.Sprintf("%s usage report for %s", name, u.Month),
		Heading:    "Usage of " + name + " in " + u.Month,
		Paragraphs: []string{"Here is how your organisation used its license last month."},
		Facts: [][2]string{
			{"Seats assigned", fmt.Sprintf("%d of %d", u.SeatsAssigned, u.Seats)},
			{"Peak seats", fmt.Sprint(u.PeakSeats)},
			{"Monthly active learners", fmt.Sprint(u.MonthlyActiveLearners)},
			{"Course enrolments", fmt.Sprint(u.CourseEnrolments)},
			{"Support tickets", fmt.Sprintf("%d urgent, %d high, %d normal, %d low", t["urgent"], t["high"], t["normal"], t["low"])},
			{"Overage seat-days (true-up)", fmt.Sprint(u.OverageSeatDays)},
		},
		Action: action("See usage", link),
		Footer: "You get this e-mail monthly as an administrator of " + name + ".",
	}
}

// orgLabel is how e-mails name the organisation: its branded name when set.
func orgLabel(l License, b Branding) string {
	if b.Custom {
		return b.DisplayName
	}
	return l.OrgName
}
