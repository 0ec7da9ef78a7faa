package payments

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/ids"
)

var jAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func subPayment() Payment {
	return Payment{ID: "pay_1", UserID: "usr_1", Kind: PaymentKindSubscription, AmountCents: 2000, Currency: "usd",
		InvoiceID: "in_1", InvoiceNumber: "A-1", ChargeID: "ch_1", PaidAt: jAt}
}

// lines renders an entry's lines as "Dr account amount" / "Cr account amount" (party after a slash).
func lines(e journal.Entry) string {
	var out []string
	for _, l := range e.Lines {
		s := "Dr " + string(l.Account) + " " + itoa(l.Debit)
		if l.Credit > 0 {
			s = "Cr " + string(l.Account) + " " + itoa(l.Credit)
		}
		if l.Party != "" {
			s += "/" + l.Party
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

// mustValid fails unless e is valid (registered kind, known accounts, balanced to the cent).
func mustValid(t *testing.T, e journal.Entry) {
	t.Helper()
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	var dr, cr int64
	for _, l := range e.Lines {
		dr, cr = dr+l.Debit, cr+l.Credit
	}
	if dr != cr || e.Area != Area {
		t.Fatalf("%s: debits %d credits %d area %q", e.ID, dr, cr, e.Area)
	}
}

// docs/books.md "Subscription payment" and "Token redemption: credit": the invoice's entry.
func TestInvoiceEntry(t *testing.T) {
	e, err := invoiceEntry(subPayment(), "in_1")
	if err != nil || e == nil {
		t.Fatal(e, err)
	}
	mustValid(t, *e)
	if e.ID != "pay.invoice.in_1" || e.Source != "in_1" || !e.Date.Equal(jAt) || e.Currency != "usd" ||
		lines(*e) != "Dr stripe_in_flight 2000, Cr revenue_subscriptions 2000" {
		t.Fatalf("%+v: %s", e, lines(*e))
	}

	withCredit := subPayment()
	withCredit.AmountCents, withCredit.CreditAppliedCents, withCredit.Currency = 1500, 500, "USD"
	e, err = invoiceEntry(withCredit, "in_2")
	if err != nil {
		t.Fatal(err)
	}
	mustValid(t, *e)
	if e.Currency != "usd" || lines(*e) != "Dr stripe_in_flight 1500, Dr customer_credit 500/usr_1, Cr revenue_subscriptions 2000" {
		t.Fatalf("with credit: %s", lines(*e))
	}

	// A course purchase is the marketplace's (mkt.sale): nothing here.
	purchase := subPayment()
	purchase.Kind, purchase.CourseID = PaymentKindPurchase, "crs_1"
	if e, err := invoiceEntry(purchase, "cs_1"); e != nil || err != nil {
		t.Fatalf("a purchase posted %+v %v", e, err)
	}
	// A payment that cannot balance is refused, never written.
	bad := subPayment()
	bad.AmountCents = 0
	if _, err := invoiceEntry(bad, "in_3"); !apperr.Is(err, apperr.Internal) {
		t.Fatalf("zero amount: %v", err)
	}
}

func TestCreditApplied(t *testing.T) {
	for _, tt := range []struct{ start, end, want int64 }{
		{0, 0, 0},         // no balance
		{-500, 0, 500},    // the whole credit used
		{-500, -200, 300}, // part of it
		{300, 0, 0},       // a debt collected is not a credit
		{-500, -500, 0},   // nothing used
	} {
		if got := creditApplied(&stripe.Invoice{StartingBalance: tt.start, EndingBalance: tt.end}); got != tt.want {
			t.Errorf("start %d end %d: %d, want %d", tt.start, tt.end, got, tt.want)
		}
	}
}

// docs/books.md "Refund": a refund posts when it starts counting, its reversal when it stops.
func TestRefundEntry(t *testing.T) {
	p := subPayment()
	ref := func(status string) Refund {
		return Refund{ID: "re_1", PaymentID: p.ID, AmountCents: 1234, Currency: "usd", Status: status}
	}
	refund := "Dr refunds_subscriptions 1234, Cr stripe_in_flight 1234"
	reversal := "Dr stripe_in_flight 1234, Cr refunds_subscriptions 1234"
	for _, tt := range []struct {
		name          string
		before        *Refund
		after         Refund
		wantID, lines string
	}{
		{"NewSucceeded", nil, ref(RefundSucceeded), "pay.refund.re_1", refund},
		{"NewPending", nil, ref(RefundPending), "pay.refund.re_1", refund},
		{"NewFailed", nil, ref(RefundFailed), "", ""},
		{"PendingToSucceeded", ptr(ref(RefundPending)), ref(RefundSucceeded), "", ""},
		{"SucceededToFailed", ptr(ref(RefundSucceeded)), ref(RefundFailed), "pay.refund_failed.re_1", reversal},
		{"PendingToCanceled", ptr(ref(RefundPending)), ref(RefundCanceled), "pay.refund_failed.re_1", reversal},
		{"PlaceholderSuperseded", ptr(ref(RefundSucceeded)), ref(RefundSuperseded), "pay.refund_failed.re_1", reversal},
		{"NoStatusToSucceeded", ptr(ref("")), ref(RefundSucceeded), "pay.refund.re_1", refund},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := refundEntry(p, tt.before, tt.after, jAt)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantID == "" {
				if e != nil {
					t.Fatalf("posted %s", e.ID)
				}
				return
			}
			mustValid(t, *e)
			if e.ID != tt.wantID || e.Source != "re_1" || lines(*e) != tt.lines {
				t.Fatalf("%s: %s", e.ID, lines(*e))
			}
		})
	}
	purchase := p
	purchase.Kind = PaymentKindPurchase
	if e, _ := refundEntry(purchase, nil, ref(RefundSucceeded), jAt); e != nil {
		t.Fatal("a course purchase's refund posted: the marketplace books it on the sale")
	}
}

func ptr[T any](v T) *T { return &v }

// docs/books.md "Dispute lost" / "Dispute won": withdrawn once when it becomes a chargeback,
// reinstated once when won; an inquiry and a loss post nothing.
func TestDisputeEntries(t *testing.T) {
	p := subPayment()
	dp := func(status string, chargeback bool) Dispute {
		return Dispute{ID: "dp_1", PaymentID: p.ID, AmountCents: 2000, Currency: "usd", Status: status,
			OpenedAt: jAt.Add(-time.Hour), Chargeback: chargeback}
	}
	opened := "pay.dispute_opened.dp_1[Dr disputes_subscriptions 2000, Cr stripe_in_flight 2000]"
	won := "pay.dispute_won.dp_1[Dr stripe_in_flight 2000, Cr disputes_subscriptions 2000]"
	for _, tt := range []struct {
		name   string
		before *Dispute
		after  Dispute
		want   []string
	}{
		{"OpenedAsChargeback", nil, dp("needs_response", true), []string{opened}},
		{"OpenedAsInquiry", nil, dp("warning_needs_response", false), nil},
		{"InquiryEscalates", ptr(dp("warning_needs_response", false)), dp("needs_response", true), []string{opened}},
		{"InquiryClosed", ptr(dp("warning_under_review", false)), dp("warning_closed", false), nil},
		{"UnderReview", ptr(dp("needs_response", true)), dp("under_review", true), nil},
		{"Lost", ptr(dp("under_review", true)), dp("lost", true), nil},
		{"Won", ptr(dp("under_review", true)), dp("won", true), []string{won}},
		{"FirstSeenWon", nil, dp("won", true), []string{opened, won}},
		{"FirstSeenLost", nil, dp("lost", true), []string{opened}},
		// A stale inquiry event moved the status back; the chargeback flag keeps it withdrawn.
		{"StaleInquiryThenChargebackAgain", ptr(dp("warning_needs_response", true)), dp("needs_response", true), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			es, err := disputeEntries(p, tt.before, tt.after, jAt)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range es {
				mustValid(t, e)
				got = append(got, e.ID+"["+lines(e)+"]")
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if tt.before == nil && len(es) > 0 && !es[0].Date.Equal(jAt.Add(-time.Hour)) {
				t.Fatalf("first sight: withdrawn on %s, want the dispute's creation", es[0].Date)
			}
		})
	}
	purchase := p
	purchase.Kind = PaymentKindPurchase
	if es, _ := disputeEntries(purchase, nil, dp("won", true), jAt); len(es) != 0 {
		t.Fatal("a course purchase's dispute posted: the marketplace books it on the sale")
	}
}

func TestEntryIDsAreSafeAndDistinct(t *testing.T) {
	a, b := entryID(JournalRefund, "sync_a#b"), entryID(JournalRefund, "sync_a-b")
	if a == b || strings.Contains(a, "#") || !strings.HasPrefix(a, "pay.refund.sync_a-b.") {
		t.Fatalf("%q %q", a, b)
	}
	long := entryID(JournalRefund, strings.Repeat("x", 300))
	if len(long) > 200 {
		t.Fatalf("%d characters", len(long))
	}
}

// ----- contract: the entry is written in the change's own transaction -----

// journalEntryOf reads a posted entry from a backend (ok false when none).
type journalReader func(t *testing.T, id string) (journal.Entry, bool)

func fakeJournalReader(l *fakeLedger) journalReader {
	return func(t *testing.T, id string) (journal.Entry, bool) {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.journal.Get(id)
	}
}

func repoJournalReader(r Repo) journalReader {
	return func(t *testing.T, id string) (journal.Entry, bool) {
		t.Helper()
		e, err := journal.Repo{S: r.S}.Get(context.Background(), id)
		if apperr.Is(err, apperr.NotFound) {
			return journal.Entry{}, false
		}
		if err != nil {
			t.Fatal(err)
		}
		return e, true
	}
}

func contractJournalPostedWithTheChange(t *testing.T, b ledgerBackend) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	read := b.journal

	// A subscription payment posts pay.invoice with it; its replay posts nothing more.
	p := contractPayment(now)
	p.InvoiceID, p.CreditAppliedCents = "in_"+ids.ULID(now), 250
	p = mustCreate(t, b.l, p, p.InvoiceID)
	e, ok := read(t, "pay.invoice."+p.InvoiceID)
	if !ok || lines(e) != "Dr stripe_in_flight 1000, Dr customer_credit 250/"+p.UserID+", Cr revenue_subscriptions 1250" {
		t.Fatalf("invoice entry %v: %s", ok, lines(e))
	}
	again := p
	again.ID, again.Version = newPaymentID(now.Add(time.Second)), 0
	if _, created, err := b.l.CreatePayment(ctx, again, p.InvoiceID, recordAudit(again), nil); err != nil || created {
		t.Fatalf("replay: %v %v", created, err)
	}

	// A course purchase posts nothing (the marketplace's mkt.sale books it).
	buy := contractPayment(now)
	buy.Kind, buy.CourseID = PaymentKindPurchase, "crs_1"
	cs := "cs_" + ids.ULID(now)
	mustCreate(t, b.l, buy, cs)
	if _, ok := read(t, "pay.invoice."+cs); ok {
		t.Fatal("a purchase posted pay.invoice")
	}

	// A refund is posted in the change that books it.
	ref := Refund{ID: "re_" + ids.ULID(now), PaymentID: p.ID, UserID: p.UserID, AmountCents: 400, Currency: "usd",
		Status: RefundSucceeded, Source: RefundSourceStripe, CreatedAt: now}
	entry, err := refundEntry(p, nil, ref, now)
	if err != nil {
		t.Fatal(err)
	}
	stale := p // read before the change below
	changed := p
	changed.RefundedCents = 400
	changed.SettleStatus()
	if err := b.l.Apply(ctx, Change{Payment: changed, NewRefunds: []Refund{ref}, At: now, Entries: []journal.Entry{*entry}}); err != nil {
		t.Fatal(err)
	}
	if e, ok := read(t, entry.ID); !ok || !journal.Same(e, *entry) {
		t.Fatalf("refund entry not posted with its change: %v %+v", ok, e)
	}

	// A stale write (the payment's version moved) writes nothing: its entry is not posted either.
	other := Refund{ID: "re_stale_" + ids.ULID(now), PaymentID: p.ID, UserID: p.UserID, AmountCents: 100, Currency: "usd",
		Status: RefundSucceeded, Source: RefundSourceStripe, CreatedAt: now}
	staleEntry, _ := refundEntry(p, nil, other, now)
	stale.RefundedCents = 100
	if err := b.l.Apply(ctx, Change{Payment: stale, NewRefunds: []Refund{other}, At: now, Entries: []journal.Entry{*staleEntry}}); err == nil {
		t.Fatal("a stale change was written")
	}
	if _, ok := read(t, staleEntry.ID); ok {
		t.Fatal("a stale change's entry was posted without its change")
	}
	if rs, _ := b.l.Refunds(ctx, p.UserID, p.ID); len(rs) != 1 {
		t.Fatalf("%d refunds after the stale write, want 1", len(rs))
	}

	// An entry already posted with the same content (a backfill of this very event) is the change's
	// own: the change is written without it. With other content the change is refused.
	cur, _ := b.l.GetPayment(ctx, p.UserID, p.ID)
	failed := ref
	failed.Status = RefundFailed
	rev, _ := refundEntry(cur, &ref, failed, now)
	if err := postAlone(t, b, *rev); err != nil {
		t.Fatal(err)
	}
	next := cur
	next.RefundedCents = 0
	next.SettleStatus()
	if err := b.l.Apply(ctx, Change{Payment: next, Refunds: []Refund{failed}, At: now, Entries: []journal.Entry{*rev}}); err != nil {
		t.Fatalf("a change whose entry was posted before: %v", err)
	}
	if got, _ := b.l.GetPayment(ctx, p.UserID, p.ID); got.RefundedCents != 0 || got.Version != cur.Version+1 {
		t.Fatalf("the change was not written: %+v", got)
	}
	cur, _ = b.l.GetPayment(ctx, p.UserID, p.ID)
	dp := Dispute{ID: "dp_" + ids.ULID(now), PaymentID: p.ID, UserID: p.UserID, AmountCents: 1000, Currency: "usd",
		Status: "needs_response", Chargeback: true, OpenedAt: now, UpdatedAt: now}
	des, _ := disputeEntries(cur, nil, dp, now)
	different := des[0]
	different.Memo = "posted by someone else"
	if err := postAlone(t, b, different); err != nil {
		t.Fatal(err)
	}
	withDispute := cur
	withDispute.Disputed, withDispute.DisputeStatus = true, dp.Status
	err = b.l.Apply(ctx, Change{Payment: withDispute, NewDispute: &dp, At: now, Entries: des})
	if !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("an entry posted with other content: %v, want Conflict", err)
	}
	if _, err := b.l.Dispute(ctx, p.UserID, dp.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("the refused change was written: %v", err)
	}
}

// postAlone posts an entry outside any change (what a backfill does).
func postAlone(t *testing.T, b ledgerBackend, e journal.Entry) error {
	t.Helper()
	if b.post == nil {
		t.Fatal("backend cannot post")
	}
	return b.post(e)
}
