package redeem

import (
	"context"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/rewards/catalog"
)

// E-mails of the redemption workflow: one per transition the user should hear about (approved,
// fulfilled, rejected), exactly once per (redemption, status) — the dedupe id is an idempotency
// record of the scope "email", as for receipts. Bodies are built with strings.Builder and every
// value is escaped with html.EscapeString (no text/template or html/template: they add hundreds of
// kilobytes to a binary).

// DedupeHeader carries the dedupe id on every e-mail (find it in mailpit and in SES logs).
const DedupeHeader = "X-Liberation-Dedupe"

const (
	emailScope    = "email"
	emailInFlight = 60 * time.Second
	emailTTL      = 400 * 24 * time.Hour
)

// Branding is how a message looks: the product name, its colour and the sender.
type Branding struct {
	Product string
	Color   string
	From    string
	AppURL  string
}

// brandingFor chooses the branding of a user's messages. Enterprise white-label settings (the
// organisation of the user's license) plug in here and only here; until then everyone gets the
// platform's.
func brandingFor(_ context.Context, d *Deps, _ string) Branding {
	return Branding{Product: "Liberation", Color: "#1d4ed8", From: d.Config.MailFrom, AppURL: d.Config.AppURL}
}

// Message renders the e-mail announcing red's status (approved, fulfilled or rejected).
func Message(b Branding, red rewards.Redemption, to string) (mail.Message, bool) {
	var subject, lead string
	var lines [][2]string // label, value
	switch red.Status {
	case rewards.Approved:
		subject = "Your reward is approved: " + red.RewardName
		lead = "Good news: your request for " + red.RewardName + " is approved."
		if red.Fulfilment == catalog.Manual {
			lead += " We are preparing it and will tell you when it is on its way."
		} else {
			lead += " We are delivering it now and will e-mail you as soon as it is ready."
		}
	case rewards.Fulfilled:
		subject = "Your reward is here: " + red.RewardName
		switch red.Fulfilment {
		case catalog.StripeCoupon:
			lead = "Here is your single-use code for 20% off one course. Enter it at checkout; it is valid for " +
				fmt.Sprint(catalog.CouponValidDays) + " days and only for your account."
			lines = append(lines, [2]string{"Your code", red.CouponCode})
		case catalog.StripeCredit:
			lead = "We added the credit to your account balance. It is taken off your next subscription invoices automatically."
		default:
			lead = "Your " + red.RewardName + " is on its way."
			if red.Note != "" {
				lines = append(lines, [2]string{"Shipping note", red.Note})
			}
		}
	case rewards.Rejected:
		subject = "Your reward request was not approved"
		lead = "We could not approve your request for " + red.RewardName + ". The " + fmt.Sprint(red.Cost) +
			" tokens are back in your available balance."
		if red.Reason != "" {
			lines = append(lines, [2]string{"Reason", red.Reason})
		}
	default:
		return mail.Message{}, false
	}
	lines = append(lines, [2]string{"Reward", red.RewardName}, [2]string{"Tokens", fmt.Sprint(red.Cost)},
		[2]string{"Request", red.ID})

	var text, h strings.Builder
	text.WriteString(lead + "\n\n")
	for _, l := range lines {
		text.WriteString(l[0] + ": " + l[1] + "\n")
	}
	link := strings.TrimRight(b.AppURL, "/") + "/rewards"
	if b.AppURL != "" {
		text.WriteString("\nYour rewards: " + link + "\n")
	}
	text.WriteString("\n— " + b.Product + "\n")

	e := html.EscapeString
	h.WriteString(`<!doctype html><html><body style="font-family:sans-serif;color:#111">`)
	h.WriteString(`<h1 style="color:` + e(b.Color) + `;font-size:20px">` + e(b.Product) + ` rewards</h1>`)
	h.WriteString(`<p>` + e(lead) + `</p><table cellpadding="4">`)
	for _, l := range lines {
		h.WriteString(`<tr><th align="left">` + e(l[0]) + `</th><td>` + e(l[1]) + `</td></tr>`)
	}
	h.WriteString(`</table>`)
	if b.AppURL != "" {
		h.WriteString(`<p><a href="` + e(link) + `">Your rewards</a></p>`)
	}
	h.WriteString(`</body></html>`)
	return mail.Message{From: b.From, To: to, Subject: subject, Text: text.String(), HTML: h.String()}, true
}

// EmailDedupeID names the e-mail announcing red's current status.
func EmailDedupeID(red rewards.Redemption) string {
	return "redemption#" + red.ID + "#" + string(red.Status)
}

// notify sends the e-mail for red's status once, and records it on the redemption. It reports
// whether the e-mail is out; a failure is logged and counted (the transition itself stands; the
// runbook docs/runbooks/rewards-redemptions.md says how to resend).
func (d *Deps) notify(ctx context.Context, red rewards.Redemption) (rewards.Redemption, bool) {
	log := logging.From(ctx)
	fail := func(what string, err error) (rewards.Redemption, bool) {
		log.Error("redemption e-mail not sent", "redemptionId", red.ID, "status", red.Status, "step", what, "err", err.Error())
		metric.Emit(ctx, log, d.Fn, rewards.MetricEmailFailures, 1)
		return red, false
	}
	if red.Email == "" {
		log.Warn("redemption has no e-mail address; nothing sent", "redemptionId", red.ID)
		return red, false
	}
	msg, ok := Message(brandingFor(ctx, d, red.UserID), red, red.Email)
	if !ok {
		return red, false
	}
	id := EmailDedupeID(red)
	prior, err := d.Store.BeginIdempotent(ctx, emailScope, id, idempotency.Hash([]byte(id)), emailInFlight, emailTTL)
	if err != nil {
		return fail("claim", err)
	}
	if prior == nil {
		msg.Headers = map[string]string{DedupeHeader: id}
		if err := d.Mail.Send(ctx, msg); err != nil {
			_ = d.Store.ReleaseIdempotent(context.WithoutCancel(ctx), emailScope, id)
			return fail("send", err)
		}
		if err := d.Store.CompleteIdempotent(context.WithoutCancel(ctx), emailScope, id, 200, `{"sent":true}`); err != nil {
			log.Error("e-mail sent but its record not completed", "err", err.Error())
		}
	}
	if n, err := d.UpdateRedemption(ctx, red, func(r *rewards.Redemption) { r.NotifiedStatus = red.Status }); err == nil {
		red = n
	}
	return red, true
}
