package marketplace

import (
	"context"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/mail/mailtest"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/webhook"
)

// A month of one instructor on the DynamoDB books (newTestStore): two sales through the webhook,
// one refunded in full inside the window; the release frees the other once; the payout run finds
// the balance on the payable index, transfers it and e-mails the statement; an ambiguous transfer
// stays transferring, is sent again by the release job an hour later and resolved from Stripe's
// records; a transfer reversal gives the money back once; a month with nothing available is
// carried and takes the balance off the index.
func TestMonthOnTheTable(t *testing.T) {
	ctx := context.Background()
	w := newHookWorld(t)
	mails := &mailtest.Recorder{}
	w.d.Mail, w.d.Config = mails, platform.Config{MailFrom: "payouts@liberation.example"}
	instr := w.course.InstructorID
	if code, _ := w.deliver(t, w.purchase("ana", "cs_m1", "pi_m1", "evt_m1")); code != 200 {
		t.Fatal(code)
	}
	w.clk.Advance(time.Minute)
	if code, _ := w.deliver(t, w.purchase("bob", "cs_m2", "pi_m2", "evt_m2")); code != 200 {
		t.Fatal(code)
	}
	w.stripe.refunds["pi_m2"] = []StripeRefund{{ID: "re_m2", AmountCents: 1999, Status: "succeeded"}}
	if code, _ := w.deliver(t, stripeevents.MustBuild(stripeevents.ChargeRefunded, stripeevents.Options{EventID: "evt_m2r",
		UserID: "bob", PaymentIntentID: "pi_m2", ChargeID: "ch_m2", AmountCents: 1999, AmountRefundedCents: 1999})); code != 200 {
		t.Fatal(code)
	}
	acct := "acct_" + instr
	if _, _, err := w.d.Books.SaveAccount(ctx, instr, acct, instr+"@example.com", w.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := w.d.Books.RecordAccount(ctx, AccountState{InstructorID: instr, AccountID: acct, PayoutsEnabled: true, EventAt: 1,
		At: w.clk.Now()}, false, audit.Entry{Actor: audit.ActorStripe, Action: "connect.updated", Target: "instructor:" + instr}); err != nil {
		t.Fatal(err)
	}

	// Nothing is due inside the window; after it, one sale's share is released, once.
	if rep, err := RunRelease(ctx, w.d); err != nil || rep.Released != 0 {
		t.Fatalf("release inside the window: %+v %v", rep, err)
	}
	w.clk.Advance(RefundWindow + time.Hour)
	rep, err := RunRelease(ctx, w.d)
	if err != nil || rep.Released+rep.Skipped != 2 || rep.ReleasedCents != 1399 {
		t.Fatalf("release: %+v %v", rep, err)
	}
	if again, err := RunRelease(ctx, w.d); err != nil || again.Released != 0 || again.ReleasedCents != 0 {
		t.Fatalf("a second release: %+v %v", again, err)
	}
	if bal, _ := w.d.Books.Balance(ctx, instr); bal.Buckets != (ledger.Buckets{Available: 1399}) {
		t.Fatalf("balance after the release: %+v", bal)
	}
	if due, _, err := w.d.Books.DueSales(ctx, w.clk.Now(), "", 10); err != nil || len(due) != 0 {
		t.Fatalf("still due: %+v %v", due, err)
	}

	// The payout run: queued from the payable index, transferred, paid, the statement sent.
	period := Period(w.clk.Now())
	if q, err := EnqueuePayouts(ctx, w.d, period); err != nil || q.Queued != 1 || w.sent.count(MsgPayout) != 1 {
		t.Fatalf("enqueue: %+v %v", q, err)
	}
	w.sent.take(MsgPayout)
	w.stripe.loseTransfer = true
	if err := ProcessPayout(ctx, w.d, instr, period); err == nil {
		t.Fatal("an ambiguous transfer failure was taken as an outcome")
	}
	po, _ := w.d.Books.Payout(ctx, instr, period)
	if po == nil || po.Status != PayoutTransferring || po.AmountCents != 1399 || po.Attempts != 1 {
		t.Fatalf("after an ambiguous failure: %+v", po)
	}
	// The release job an hour later sends the stuck payout again; the retry finds the transfer.
	w.clk.Advance(2 * time.Hour)
	if rep, err := RunRelease(ctx, w.d); err != nil || rep.RequeuedPayouts != 1 || w.sent.count(MsgPayout) != 1 {
		t.Fatalf("stuck payouts: %+v %v", rep, err)
	}
	if err := ProcessPayout(ctx, w.d, instr, period); err != nil {
		t.Fatal(err)
	}
	po, _ = w.d.Books.Payout(ctx, instr, period)
	if po.Status != PayoutPaid || po.TransferID == "" || len(w.stripe.transfers) != 1 {
		t.Fatalf("paid: %+v, transfers %d", po, len(w.stripe.transfers))
	}
	if bal, _ := w.d.Books.Balance(ctx, instr); bal.Buckets != (ledger.Buckets{Paid: 1399}) {
		t.Fatalf("balance after the payout: %+v", bal)
	}
	if m := mails.To(instr + "@example.com"); len(m) != 1 {
		t.Fatalf("%d statements", len(m))
	}

	// A reversal of part of the transfer, delivered twice, and then of all of it.
	reversed := func(eventID string, amount int64) {
		t.Helper()
		tr := map[string]any{"id": po.TransferID, "object": "transfer", "amount": 1399, "amount_reversed": amount, "currency": "usd",
			"metadata": map[string]any{"userId": instr, "period": period, "payoutId": po.ID}}
		if code, outcome := w.deliver(t, stripeevents.MustBuild("transfer.reversed", stripeevents.Options{EventID: eventID, Object: tr})); code != 200 || outcome != webhook.OutcomeApplied {
			t.Fatalf("transfer.reversed %s: %d %s", eventID, code, outcome)
		}
	}
	reversed("evt_rev1", 400)
	reversed("evt_rev1b", 400)
	if bal, _ := w.d.Books.Balance(ctx, instr); bal.Buckets != (ledger.Buckets{Available: 400, Paid: 999}) {
		t.Fatalf("after a partial reversal, twice: %+v", bal)
	}
	reversed("evt_rev2", 1399)
	if bal, _ := w.d.Books.Balance(ctx, instr); bal.Buckets != (ledger.Buckets{Available: 1399}) {
		t.Fatalf("after a full reversal: %+v", bal)
	}

	// Next month the money is paid again; the month after, nothing is available: carried, and the
	// balance leaves the payable index.
	w.clk.Advance(31 * 24 * time.Hour)
	next := Period(w.clk.Now())
	if err := ProcessPayout(ctx, w.d, instr, next); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(31 * 24 * time.Hour)
	last := Period(w.clk.Now())
	if q, err := EnqueuePayouts(ctx, w.d, last); err != nil || q.Queued != 1 {
		t.Fatalf("enqueue with nothing available yet listed: %+v %v", q, err)
	}
	if err := ProcessPayout(ctx, w.d, instr, last); err != nil {
		t.Fatal(err)
	}
	if po, _ := w.d.Books.Payout(ctx, instr, last); po == nil || po.Status != PayoutCarried {
		t.Fatalf("a month with nothing available: %+v", po)
	}
	if q, err := EnqueuePayouts(ctx, w.d, last); err != nil || q.Queued != 0 {
		t.Fatalf("still on the payable index: %+v %v", q, err)
	}
	page, err := w.d.Courses.InstructorPayouts(ctx, instr, 10, "")
	if err != nil || len(page.Items) != 3 || page.Items[0].Period != last {
		t.Fatalf("the instructor's payouts: %+v %v", page, err)
	}
}

// The release stops before the Lambda's deadline and says so; the next run continues.
func TestReleaseStopsAtTheDeadline(t *testing.T) {
	w := newWorld(t)
	w.course("crs_1", "ins", 999)
	w.mustBook(w.paid("cs_a", "ana", "crs_1", 999))
	w.clk.Advance(RefundWindow + time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), deadlineMargin/2)
	defer cancel()
	rep, err := RunRelease(ctx, w.d)
	if err != nil || !rep.Truncated || rep.Released != 0 || w.metrics[metric.ReleaseTruncated] != 1 {
		t.Fatalf("at the deadline: %+v %v, metrics %v", rep, err, w.metrics)
	}
	if rep, err := RunRelease(context.Background(), w.d); err != nil || rep.Truncated || rep.Released != 1 {
		t.Fatalf("the next run: %+v %v", rep, err)
	}
}

// A transfer.reversed that arrives while its payout is still transferring (the transfer's answer
// was lost) proves the transfer exists: the payout is marked paid with that transfer first, then the
// reversal is booked, and the payout's retry finds it paid and transfers nothing. A reversal of a
// payout we have no record of, or of one that is not paid, books nothing.
func TestTransferReversedBeforeThePayoutKnewItWasPaid(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	period := w.releasedSale("cs_a", 9999)
	w.stripe.loseTransfer = true
	if err := ProcessPayout(ctx, w.d, "ins", period); err == nil {
		t.Fatal("an ambiguous transfer failure was taken as an outcome")
	}
	tr := w.stripe.transfers[PayoutID("ins", period)]
	if po, _ := w.books.Payout(ctx, "ins", period); po.Status != PayoutTransferring {
		t.Fatalf("payout: %+v", po)
	}
	if err := ApplyTransferReversed(ctx, w.d, TransferReversal{TransferID: tr.ID, InstructorID: "ins", Period: period,
		AmountReversed: 1000}, "evt_rev"); err != nil {
		t.Fatal(err)
	}
	po, _ := w.books.Payout(ctx, "ins", period)
	if po.Status != PayoutPaid || po.TransferID != tr.ID || po.ReversedCents != 1000 || len(w.statements) != 1 {
		t.Fatalf("after the reversal: %+v, statements %v", po, w.statements)
	}
	if got := w.books.balances["ins"].Buckets; got != (ledger.Buckets{Available: 1000, Paid: 5999}) {
		t.Fatalf("balance: %+v", got)
	}
	if err := ProcessPayout(ctx, w.d, "ins", period); err != nil || len(w.stripe.transfers) != 1 {
		t.Fatalf("the retry: %v, %d transfers", err, len(w.stripe.transfers))
	}

	before := w.books.balances["ins"].Buckets
	for _, rev := range []TransferReversal{
		{TransferID: "tr_unknown", InstructorID: "ins", Period: "2020-01", AmountReversed: 500},
		{TransferID: "tr_nobody", InstructorID: "nobody", Period: period, AmountReversed: 500},
	} {
		if err := ApplyTransferReversed(ctx, w.d, rev, "evt_"+rev.TransferID); err != nil {
			t.Fatal(err)
		}
	}
	failed := Payout{ID: PayoutID("ins", "2020-02"), InstructorID: "ins", Period: "2020-02", Status: PayoutFailed, AmountCents: 500,
		Currency: Currency, Version: 1}
	if err := w.books.Commit(ctx, &Change{Book: booking{At: w.clk.Now()}, Payout: &Versioned[Payout]{Item: failed}}); err != nil {
		t.Fatal(err)
	}
	if err := ApplyTransferReversed(ctx, w.d, TransferReversal{TransferID: "tr_f", InstructorID: "ins", Period: "2020-02",
		AmountReversed: 500}, "evt_failed"); err != nil {
		t.Fatal(err)
	}
	if got := w.books.balances["ins"].Buckets; got != before {
		t.Fatalf("a reversal of no paid payout moved money: %+v → %+v", before, got)
	}
	w.checkLedger()
}
