package marketplace

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/mail/mailtest"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/privacy"
)

// A paid payout's statement is e-mailed once, to the instructor's profile address (else their user
// record's), with the ledger of the month before the period and the period itself; a failed send
// releases the claim so the retry sends it; no address, no e-mail. On the DynamoDB books and the
// store's idempotency records (newTestStore), with the e-mail in memory.
func TestPayoutStatementSentOnce(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	s := newTestStore(t, clk)
	rec := &mailtest.Recorder{}
	d := (&Deps{Clock: clk, Store: s, Mail: rec, Config: platform.Config{MailFrom: "payouts@liberation.example"}}).Wire()
	run := ids.ULID(clk.Now())
	instr := "ins-st-" + run
	now := clk.Now()
	c := Course{ID: newID(prefixCourse, now), InstructorID: instr, Title: "Statements & <Ledgers>", PriceCents: 1000,
		Currency: Currency, Status: catalog.StatusPublished, CreatedAt: now, UpdatedAt: now, Version: 1}
	p := Purchase{SessionID: "cs_st" + run, PaymentIntentID: "pi_st" + run, BuyerID: "ana", CourseID: c.ID,
		AmountCents: 1000, Currency: Currency, PaidAt: now}
	ch, err := planSale(ctx, d, p, c, "evt_st")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Books.Commit(ctx, ch); err != nil {
		t.Fatal(err)
	}
	period := Period(now)
	po := Payout{ID: PayoutID(instr, period), InstructorID: instr, Period: period, Status: PayoutPaid, AmountCents: 700,
		Currency: Currency, TransferID: "tr_st", CreatedAt: now}
	clk.Advance(time.Minute)

	// No address anywhere: nothing is sent, and that is not an error.
	if err := d.SendStatement(ctx, po); err != nil || len(rec.Sent()) != 0 {
		t.Fatalf("without an address: %v, %d sent", err, len(rec.Sent()))
	}
	// The user record's address when the profile has none.
	if _, err := (records.Records{S: s}).LinkStripeCustomer(ctx, instr, "user-"+run+"@example.com", "cus_"+run); err != nil {
		t.Fatal(err)
	}
	rec.Fail = errors.New("ses throttled")
	if err := d.SendStatement(ctx, po); err == nil || !strings.Contains(err.Error(), "ses throttled") {
		t.Fatalf("a failed send: %v", err)
	}
	rec.Fail = nil
	if err := d.SendStatement(ctx, po); err != nil {
		t.Fatalf("the retry after a failed send: %v", err)
	}
	sent := rec.To("user-" + run + "@example.com")
	if len(sent) != 1 {
		t.Fatalf("sent %d to the user's address (all: %d)", len(sent), len(rec.Sent()))
	}
	m := sent[0]
	if m.From != "payouts@liberation.example" || m.Subject != "Your Liberation payout for "+period+": $7.00" ||
		m.Headers[DedupeHeader] != StatementDedupeID(po.ID) {
		t.Fatalf("message: %+v", m)
	}
	for _, want := range []string{"Sale: Statements & <Ledgers>  $7.00", "Sales: 1, your share $7.00",
		"Payout: $7.00 (Stripe transfer tr_st)", "pending $7.00"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("the statement lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.HTML, "<Ledgers>") || !strings.Contains(m.HTML, "&lt;Ledgers&gt;") {
		t.Errorf("the HTML is not escaped:\n%s", m.HTML)
	}
	// Once: a redelivered payout message sends nothing more, even to a new address.
	if _, _, err := d.Books.SaveAccount(ctx, instr, "acct_st", "profile-"+run+"@example.com", clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := d.SendStatement(ctx, po); err != nil || len(rec.Sent()) != 1 {
		t.Fatalf("a second statement: %v, %d sent", err, len(rec.Sent()))
	}
	// Another payout goes to the profile's address, which wins over the user record's.
	po2 := po
	po2.Period = Period(now.AddDate(0, 1, 0))
	po2.ID = PayoutID(instr, po2.Period)
	if err := d.SendStatement(ctx, po2); err != nil || len(rec.To("profile-"+run+"@example.com")) != 1 {
		t.Fatalf("the profile's address: %v, %+v", err, rec.Sent())
	}
	// An address with a line break is never used.
	bad := "ins-bad-" + run
	if _, _, err := d.Books.SaveAccount(ctx, bad, "acct_bad", "x@example.com\r\nBcc: y@example.com", clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := d.SendStatement(ctx, Payout{ID: PayoutID(bad, period), InstructorID: bad, Period: period, Currency: Currency}); err != nil ||
		len(rec.Sent()) != 2 {
		t.Fatalf("a header-injecting address: %v, %d sent", err, len(rec.Sent()))
	}
	// An erased instructor's profile keeps the pseudonym's address (privacy_erase.go): no mail.
	gone := "ins-erased-" + run
	if _, _, err := d.Books.SaveAccount(ctx, gone, "acct_gone", "anon_01JERASED"+run[:10]+"@"+privacy.PseudonymDomain, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := d.SendStatement(ctx, Payout{ID: PayoutID(gone, period), InstructorID: gone, Period: period, Currency: Currency}); err != nil ||
		len(rec.Sent()) != 2 {
		t.Fatalf("an erased address: %v, %d sent", err, len(rec.Sent()))
	}
}

// The statement reads the ledger of the month before the payout period through the period's end
// (the payout's time), oldest first.
func TestStatementWindowAndLedger(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC))
	s := newTestStore(t, clk)
	d := (&Deps{Clock: clk, Store: s}).Wire()
	instr := "ins-win-" + ids.ULID(clk.Now())
	from, to := statementWindow("2026-11", clk.Now())
	if !from.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) || !to.Equal(clk.Now()) {
		t.Fatalf("window %v .. %v", from, to)
	}
	for i, at := range []time.Time{from.Add(-time.Hour), from.Add(time.Hour), to.Add(-time.Hour), to.Add(time.Hour)} {
		m := ledger.Movement{Kind: ledger.KindDisputeWon, Payees: map[string]ledger.Buckets{instr: {Held: -int64(i + 1), Available: int64(i + 1)}}}
		// Each a dispute of its own: the journal entry of a dispute change is keyed by the dispute.
		if err := d.Books.Commit(ctx, &Change{Book: booking{At: at, Ref: "dp_" + strconv.Itoa(i) + "_" + instr}, Move: m}); err != nil {
			t.Fatal(err)
		}
	}
	es, err := ledgerEntries(ctx, d, instr, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Available != 2 || es[1].Available != 3 {
		t.Fatalf("entries in the window: %+v", es)
	}
}
