package redeem

import (
	"context"
	"fmt"
	"strings"

	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/notify"
	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
)

// E-mails of the redemption workflow: one per transition the user should hear about (approved,
// fulfilled, rejected), exactly once per (redemption, status) — notify.SendOnce, an idempotency
// record of the scope "email", as for receipts. Laid out by notify.Render (no templates; every value
// escaped) in the user's branding.

// brandingFor chooses the branding of a user's messages — the only place it is chosen: their
// organisation's white-label settings when they hold an enterprise seat (licensing.BrandingFor),
// else the platform's. A failed lookup sends in the platform's branding rather than not at all.
func brandingFor(ctx context.Context, d *Deps, userID string) licensing.Branding {
	b, err := licensing.BrandingFor(ctx, d.Store, userID)
	if err != nil {
		logging.From(ctx).Warn("branding not read; sending in the platform's", "err", err.Error())
		return licensing.PlatformBranding()
	}
	return b
}

// Message renders the e-mail announcing red's status (approved, fulfilled or rejected) in branding
// b, from our sending address mailFrom, with a link to the app's rewards page.
func Message(b licensing.Branding, mailFrom, appURL string, red rewards.Redemption, to string) (mail.Message, bool) {
	var subject, lead string
	var facts [][2]string // label, value
	switch red.Status {
	case rewards.Approved:
		subject = "Your reward is approved: " + red.RewardName
		lead = "Good news: your request for " + red.RewardName + " is approved."
		if red.Fulfilment == rewardcatalog.Manual {
			lead += " We are preparing it and will tell you when it is on its way."
		} else {
			lead += " We are delivering it now and will e-mail you as soon as it is ready."
		}
	case rewards.Fulfilled:
		subject = "Your reward is here: " + red.RewardName
		switch red.Fulfilment {
		case rewardcatalog.StripeCoupon:
			lead = "Here is your single-use code for 20% off one course. Enter it at checkout; it is valid for " +
				fmt.Sprint(rewardcatalog.CouponValidDays) + " days and only for your account."
			facts = append(facts, [2]string{"Your code", red.CouponCode})
		case rewardcatalog.StripeCredit:
			lead = "We added the credit to your account balance. It is taken off your next subscription invoices automatically."
		default:
			lead = "Your " + red.RewardName + " is on its way."
			if red.Note != "" {
				facts = append(facts, [2]string{"Shipping note", red.Note})
			}
		}
	case rewards.Rejected:
		subject = "Your reward request was not approved"
		lead = "We could not approve your request for " + red.RewardName + ". The " + fmt.Sprint(red.Cost) +
			" tokens are back in your available balance."
		if red.Reason != "" {
			facts = append(facts, [2]string{"Reason", red.Reason})
		}
	default:
		return mail.Message{}, false
	}
	facts = append(facts, [2]string{"Reward", red.RewardName}, [2]string{"Tokens", fmt.Sprint(red.Cost)},
		[2]string{"Request", red.ID})
	c := notify.Content{Subject: subject, Heading: subject, Paragraphs: []string{lead}, Facts: facts,
		Footer: "You get this e-mail because you redeemed tokens."}
	if appURL != "" {
		c.Action = &notify.Link{Label: "Your rewards", URL: strings.TrimRight(appURL, "/") + "/rewards"}
	}
	text, htmlBody := notify.Render(b.Brand(), c)
	return mail.Message{From: b.From(mailFrom), To: to, Subject: subject, Text: text, HTML: htmlBody}, true
}

// EmailDedupeID names the e-mail announcing red's current status.
func EmailDedupeID(red rewards.Redemption) string {
	return "redemption#" + red.ID + "#" + string(red.Status)
}

// notify sends the e-mail for red's status once, and records it on the redemption. It reports
// whether the e-mail is out (or was already); a failure is logged and counted (the transition
// itself stands; docs/runbooks/rewards-redemptions-and-queues.md says what to do).
func (d *Deps) notify(ctx context.Context, red rewards.Redemption) (rewards.Redemption, bool) {
	log := logging.From(ctx)
	if red.Email == "" {
		log.Warn("redemption has no e-mail address; nothing sent", "redemptionId", red.ID)
		return red, false
	}
	msg, ok := Message(brandingFor(ctx, d, red.UserID), d.Config.MailFrom, d.Config.AppURL, red, red.Email)
	if !ok {
		return red, false
	}
	if _, err := notify.SendOnce(ctx, d.Store, d.Mail, EmailDedupeID(red), msg); err != nil {
		log.Error("redemption e-mail not sent", "redemptionId", red.ID, "status", red.Status, "err", err.Error())
		metric.Emit(ctx, log, d.Fn, rewards.MetricEmailFailures, 1)
		return red, false
	}
	if n, err := d.UpdateRedemption(ctx, red, func(r *rewards.Redemption) { r.NotifiedStatus = red.Status }); err == nil {
		red = n
	}
	return red, true
}
