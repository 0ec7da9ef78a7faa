package payments

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/journal"
)

// Payments' posting rules (docs/books.md: "Subscription payment", "Refund", "Dispute lost",
// "Dispute won", "Token redemption: credit"). Every change of payments that moves money carries its
// journal entries, built here from the change alone (pure functions) and written by Repo in the
// change's own transaction, so the books and payments' records cannot disagree.
//
// Only subscription payments (Payment.Kind "subscription", recorded from invoice.paid) post. A
// one-off purchase (Kind "purchase", a paid Checkout Session in mode payment) is a course sale: the
// marketplace books it in the same transaction (mkt.sale debits stripe_in_flight for the charge) and
// books its refunds and disputes on the sale (mkt.refund, mkt.dispute…), so payments posts nothing
// for it — posting here too would count the charge twice.
//
// Amounts follow payments' own records to the cent: the invariant (books_history_test.go) is
// revenue_subscriptions − refunds_subscriptions − disputes_subscriptions = Σ over subscription
// payments of (amount + customer credit applied − refunded − disputed amounts Stripe withholds).

// Area is payments' area name in the journal.
const Area = "payments"

// Payments' posting kinds. Entry ids are "<kind>.<source>": at most one entry per Stripe object and
// kind, so a redelivered event, a retried route or a re-run job posts nothing twice.
const (
	JournalInvoice       = "pay.invoice"        // pay.invoice.<invoice>: a subscription invoice paid
	JournalRefund        = "pay.refund"         // pay.refund.<refund>: a refund counts (pending or succeeded)
	JournalRefundFailed  = "pay.refund_failed"  // pay.refund_failed.<refund>: a counted refund failed, was canceled or superseded
	JournalDisputeOpened = "pay.dispute_opened" // pay.dispute_opened.<dispute>: Stripe withdrew the disputed funds
	JournalDisputeWon    = "pay.dispute_won"    // pay.dispute_won.<dispute>: Stripe reinstated them
)

// A lost dispute posts nothing for a subscription payment: the funds left when it was opened
// (pay.dispute_opened) and losing keeps them gone (docs/books.md, "Dispute lost"). An inquiry
// (status warning_*) withdraws nothing, so it posts nothing until it becomes a chargeback.

func init() {
	for _, r := range []journal.Rule{
		{Area: Area, Kind: JournalInvoice, Summary: "a subscription invoice paid: revenue, in flight from Stripe (and customer credit used)",
			Accounts: []journal.AccountID{journal.StripeInFlight, journal.CustomerCredit, journal.RevenueSubscriptions}},
		{Area: Area, Kind: JournalRefund, Summary: "a subscription payment refunded (in part)",
			Accounts: []journal.AccountID{journal.RefundsSubscriptions, journal.StripeInFlight}},
		{Area: Area, Kind: JournalRefundFailed, Summary: "a subscription refund failed or was canceled: the money stays",
			Accounts: []journal.AccountID{journal.StripeInFlight, journal.RefundsSubscriptions}},
		{Area: Area, Kind: JournalDisputeOpened, Summary: "a subscription payment disputed: Stripe withdrew the funds",
			Accounts: []journal.AccountID{journal.DisputesSubscriptions, journal.StripeInFlight}},
		{Area: Area, Kind: JournalDisputeWon, Summary: "a subscription payment dispute won: Stripe reinstated the funds",
			Accounts: []journal.AccountID{journal.StripeInFlight, journal.DisputesSubscriptions}},
	} {
		journal.Register(r)
	}
}

// posts reports whether payments posts entries for p (subscription payments only; see above).
func posts(p Payment) bool { return p.Kind == PaymentKindSubscription }

// invoiceEntry is the entry of a subscription payment recorded from invoice source (nil for a
// payment payments does not post). Revenue is what the invoice was worth: the charge plus the
// customer-balance credit it used (docs/books.md, "Token redemption: credit").
func invoiceEntry(p Payment, source string) (*journal.Entry, error) {
	if !posts(p) {
		return nil, nil
	}
	source = firstNonEmpty(source, p.InvoiceID, p.ChargeID, p.PaymentIntentID)
	if p.AmountCents <= 0 || p.CreditAppliedCents < 0 || source == "" {
		return nil, apperr.New(apperr.Internal, "journal: payment %s has amount %d, credit %d, source %q",
			p.ID, p.AmountCents, p.CreditAppliedCents, source)
	}
	e := newEntry(JournalInvoice, source, p.PaidAt, p.Currency, "invoice "+firstNonEmpty(p.InvoiceNumber, source))
	e.Lines = append(e.Lines, journal.Line{Account: journal.StripeInFlight, Debit: p.AmountCents})
	if p.CreditAppliedCents > 0 {
		e.Lines = append(e.Lines, journal.Line{Account: journal.CustomerCredit, Debit: p.CreditAppliedCents, Party: p.UserID})
	}
	e.Lines = append(e.Lines, journal.Line{Account: journal.RevenueSubscriptions, Credit: p.AmountCents + p.CreditAppliedCents})
	return checked(e)
}

// refundEntry is the entry of a refund of p whose counting changed: from not counting (absent,
// or a status that is no money out) to counting posts pay.refund; the other way pay.refund_failed.
// nil when counting did not change or p is not posted.
func refundEntry(p Payment, before *Refund, after Refund, at time.Time) (*journal.Entry, error) {
	was := before != nil && RefundCounts(before.Status)
	is := RefundCounts(after.Status)
	if !posts(p) || was == is || after.AmountCents == 0 {
		return nil, nil
	}
	if after.AmountCents < 0 {
		return nil, apperr.New(apperr.Internal, "journal: refund %s has a negative amount", after.ID)
	}
	cur := firstNonEmpty(after.Currency, p.Currency)
	if is {
		e := newEntry(JournalRefund, after.ID, at, cur, "refund of payment "+p.ID)
		e.Lines = []journal.Line{{Account: journal.RefundsSubscriptions, Debit: after.AmountCents},
			{Account: journal.StripeInFlight, Credit: after.AmountCents}}
		return checked(e)
	}
	e := newEntry(JournalRefundFailed, after.ID, at, cur, "refund "+after.Status+" of payment "+p.ID)
	e.Lines = []journal.Line{{Account: journal.StripeInFlight, Debit: after.AmountCents},
		{Account: journal.RefundsSubscriptions, Credit: after.AmountCents}}
	return checked(e)
}

// disputeWithdrawn reports a dispute status in which Stripe has withdrawn the disputed funds at
// some point: a chargeback (needs_response, under_review, won, lost), not an inquiry (warning_*).
func disputeWithdrawn(status string) bool {
	return status != "" && !strings.HasPrefix(status, "warning_")
}

// disputeEntries are the entries of a dispute moving from before (nil: first sight) to after:
// pay.dispute_opened when it becomes a chargeback (Stripe withdraws the funds), pay.dispute_won
// when it is won (Stripe reinstates them). A dispute first seen already won posts both, as Stripe
// moved the money twice. Each happens at most once: won is final, and a dispute that was a
// chargeback stays one (Dispute.Chargeback) even if a stale inquiry event is applied after it.
func disputeEntries(p Payment, before *Dispute, after Dispute, at time.Time) ([]journal.Entry, error) {
	if !posts(p) || after.AmountCents == 0 {
		return nil, nil
	}
	if after.AmountCents < 0 {
		return nil, apperr.New(apperr.Internal, "journal: dispute %s has a negative amount", after.ID)
	}
	prev, prevWithdrawn := "", false
	if before != nil {
		prev, prevWithdrawn = before.Status, before.Chargeback || disputeWithdrawn(before.Status)
	}
	cur := firstNonEmpty(after.Currency, p.Currency)
	var out []journal.Entry
	if !prevWithdrawn && disputeWithdrawn(after.Status) {
		opened := at
		if before == nil && !after.OpenedAt.IsZero() && after.OpenedAt.Before(at) {
			opened = after.OpenedAt // Stripe withdrew when the dispute was created
		}
		e := newEntry(JournalDisputeOpened, after.ID, opened, cur, "dispute of payment "+p.ID)
		e.Lines = []journal.Line{{Account: journal.DisputesSubscriptions, Debit: after.AmountCents},
			{Account: journal.StripeInFlight, Credit: after.AmountCents}}
		ce, err := checked(e)
		if err != nil {
			return nil, err
		}
		out = append(out, *ce)
	}
	won := string(stripe.DisputeStatusWon)
	if prev != won && after.Status == won {
		e := newEntry(JournalDisputeWon, after.ID, at, cur, "dispute won on payment "+p.ID)
		e.Lines = []journal.Line{{Account: journal.StripeInFlight, Debit: after.AmountCents},
			{Account: journal.DisputesSubscriptions, Credit: after.AmountCents}}
		ce, err := checked(e)
		if err != nil {
			return nil, err
		}
		out = append(out, *ce)
	}
	return out, nil
}

func newEntry(kind, source string, at time.Time, currency, memo string) journal.Entry {
	return journal.Entry{ID: entryID(kind, source), Kind: kind, Area: Area, Source: clipBytes(source, 200),
		Date: at.UTC(), Currency: strings.ToLower(currency), Memo: clipBytes(memo, 200)}
}

// checked validates e: a rule that builds an invalid entry is a bug, refused rather than written.
func checked(e journal.Entry) (*journal.Entry, error) {
	if err := e.Validate(); err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, "journal: payments built an invalid entry")
	}
	return &e, nil
}

var idUnsafe = regexp.MustCompile(`[^A-Za-z0-9._:-]`)

// entryID is kind.source, with characters an entry id may not hold replaced and a hash of the
// original appended when any was (or it is too long): distinct and deterministic for any Stripe id.
func entryID(kind, source string) string {
	safe := idUnsafe.ReplaceAllString(source, "-")
	id := journal.EntryID(kind, safe)
	if safe == source && len(id) <= 200 {
		return id
	}
	h := sha256.Sum256([]byte(source))
	tag := "." + hex.EncodeToString(h[:])[:12]
	return clipBytes(id, 200-len(tag)) + tag
}

// clipBytes cuts s to at most n bytes at a character boundary.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
