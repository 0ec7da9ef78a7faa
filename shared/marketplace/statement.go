package marketplace

import (
	"context"
	"html"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/money"
	"github.com/liberation/monetization/shared/privacy"
)

// E-mail idempotency, as for receipts: one statement per payout.
const (
	emailScope      = "email"
	emailInFlight   = 90 * time.Second // beyond the consumer's 60 s timeout
	emailTTL        = 400 * 24 * time.Hour
	maxStatementRow = 200
	// DedupeHeader carries the dedupe id on every e-mail (find it in mailpit and SES logs).
	DedupeHeader = "X-Liberation-Dedupe"
)

// StatementDedupeID names a payout's one statement e-mail.
func StatementDedupeID(payoutID string) string { return "statement#" + payoutID }

// Statement is what a payout statement says.
type Statement struct {
	Payout  Payout
	From    time.Time
	To      time.Time
	Entries []LedgerEntry
	Balance ledger.Buckets
}

// statementLabels name ledger entry kinds for people.
var statementLabels = map[string]string{
	ledger.KindSale: "Sale", ledger.KindRelease: "Released (refund window passed)", ledger.KindRefund: "Refund",
	ledger.KindDisputeHold: "Dispute opened (held)", ledger.KindDisputeWon: "Dispute won (returned)",
	ledger.KindDisputeLost: "Dispute lost", ledger.KindPayout: "Payout", ledger.KindPayoutReversal: "Payout reversed",
}

// Render returns the statement's subject, plain text and HTML. No templates (they would bloat the
// binary): plain string building, every value escaped in the HTML.
func (s Statement) Render() (subject, text, htmlBody string) {
	f := func(c int64) string { return money.Format(c, s.Payout.Currency) }
	subject = "Your Liberation payout for " + s.Payout.Period + ": " + f(s.Payout.AmountCents)
	var sales, refunds int
	var salesCents, reversedCents int64
	type row struct{ date, what, amount string }
	var rows []row
	for _, e := range s.Entries {
		delta := e.Pending + e.Available + e.Held
		switch e.Kind {
		case ledger.KindSale:
			sales++
			salesCents += delta
		case ledger.KindRefund, ledger.KindDisputeLost:
			refunds++
			reversedCents -= delta
		}
		what := statementLabels[e.Kind]
		if what == "" {
			what = e.Kind
		}
		if e.Memo != "" {
			what += ": " + e.Memo
		}
		amount := f(delta)
		if e.Kind == ledger.KindPayout || e.Kind == ledger.KindPayoutReversal {
			amount = f(e.Paid)
		} else if e.Kind == ledger.KindRelease {
			amount = f(e.Available)
		}
		rows = append(rows, row{e.At.UTC().Format("2006-01-02"), what, amount})
	}
	period := s.From.UTC().Format("2006-01-02") + " to " + s.To.UTC().Format("2006-01-02")
	summary := [][2]string{
		{"Sales", itoa(int64(sales)) + ", your share " + f(salesCents)},
		{"Refunds and lost disputes", itoa(int64(refunds)) + ", reversed " + f(reversedCents)},
		{"Payout", f(s.Payout.AmountCents) + " (Stripe transfer " + s.Payout.TransferID + ")"},
		{"Balance now", "available " + f(s.Balance.Available) + ", pending " + f(s.Balance.Pending) + ", held " + f(s.Balance.Held)},
	}

	var t strings.Builder
	t.WriteString("Hello,\n\nWe have paid you " + f(s.Payout.AmountCents) + " for " + s.Payout.Period + ".\n\n")
	t.WriteString("Activity from " + period + ":\n")
	for _, r := range rows {
		t.WriteString("  " + r.date + "  " + r.what + "  " + r.amount + "\n")
	}
	if len(rows) == 0 {
		t.WriteString("  (no activity)\n")
	}
	t.WriteString("\n")
	for _, kv := range summary {
		t.WriteString(kv[0] + ": " + kv[1] + "\n")
	}
	t.WriteString("\nEarnings stay pending for 30 days after a sale (the refund window), then become available and are paid on the 1st of each month.\n\nLiberation\n")

	esc := html.EscapeString
	var h strings.Builder
	h.WriteString(`<!doctype html><html><body style="font-family:Arial,sans-serif;color:#111">`)
	h.WriteString("<p>Hello,</p><p>We have paid you <strong>" + esc(f(s.Payout.AmountCents)) + "</strong> for " + esc(s.Payout.Period) + ".</p>")
	h.WriteString("<p>Activity from " + esc(period) + ":</p><table cellpadding=\"4\" style=\"border-collapse:collapse\">")
	for _, r := range rows {
		h.WriteString("<tr><td>" + esc(r.date) + "</td><td>" + esc(r.what) + "</td><td style=\"text-align:right\">" + esc(r.amount) + "</td></tr>")
	}
	h.WriteString("</table><table cellpadding=\"4\">")
	for _, kv := range summary {
		h.WriteString("<tr><th style=\"text-align:left\">" + esc(kv[0]) + "</th><td>" + esc(kv[1]) + "</td></tr>")
	}
	h.WriteString("</table><p>Earnings stay pending for 30 days after a sale (the refund window), then become available and are paid on the 1st of each month.</p><p>Liberation</p></body></html>")
	return subject, t.String(), h.String()
}

// ledgerEntries reads an instructor's entries between from and to (at most maxStatementRow).
func ledgerEntries(ctx context.Context, d *Deps, instructorID string, from, to time.Time) ([]LedgerEntry, error) {
	return d.Courses.LedgerEntries(ctx, instructorID, from, to, maxStatementRow)
}

// sendStatement e-mails a paid payout's statement once (a dedupe claim, released on failure so the
// message's retry sends it). An instructor without an e-mail address gets none (logged).
func sendStatement(ctx context.Context, d *Deps, po Payout) error {
	log := logging.From(ctx).With("payoutId", po.ID)
	prof, err := d.Books.Instructor(ctx, po.InstructorID)
	if err != nil {
		return err
	}
	to := prof.Email
	if to == "" {
		if u, err := (records.Records{S: d.Store}).GetUser(ctx, po.InstructorID); err == nil {
			to = u.Email
		}
	}
	// An erased instructor's profile keeps the pseudonym's address (privacy_erase.go): no mail goes
	// there (".invalid"), so it is no address.
	if to == "" || privacy.IsErasedEmail(to) || strings.ContainsAny(to, "\r\n") {
		log.Warn("no e-mail address for the payout statement")
		return nil
	}
	dedupe := StatementDedupeID(po.ID)
	prior, err := d.Store.BeginIdempotent(ctx, emailScope, dedupe, idempotency.Hash([]byte(dedupe)), emailInFlight, emailTTL)
	if err != nil {
		return err
	}
	if prior != nil {
		return nil
	}
	err = func() error {
		now := d.Clock.Now()
		from, until := statementWindow(po.Period, now)
		entries, err := ledgerEntries(ctx, d, po.InstructorID, from, until)
		if err != nil {
			return err
		}
		bal, err := d.Books.Balance(ctx, po.InstructorID)
		if err != nil {
			return err
		}
		subject, text, body := Statement{Payout: po, From: from, To: until, Entries: entries, Balance: bal.Buckets}.Render()
		return d.Mail.Send(ctx, mail.Message{From: d.Config.MailFrom, To: to, Subject: subject, Text: text, HTML: body,
			Headers: map[string]string{DedupeHeader: dedupe}})
	}()
	if err != nil {
		if rErr := d.Store.ReleaseIdempotent(context.WithoutCancel(ctx), emailScope, dedupe); rErr != nil {
			log.Error("statement claim not released", "err", rErr.Error())
		}
		return err
	}
	if err := d.Store.CompleteIdempotent(context.WithoutCancel(ctx), emailScope, dedupe, 200, `{"sent":true}`); err != nil {
		log.Error("statement sent but its record not completed", "err", err.Error())
	}
	log.Info("payout statement sent")
	return nil
}
