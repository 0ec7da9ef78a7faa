//go:build integration

package e2e

// The invariants TestBooksOneHistory checks on its history, and the faults it injects after it.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/books"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/books/reconcile"
	"github.com/liberation/monetization/shared/marketplace"
	paymentsarea "github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
)

// checkEntries: every entry of the history balances (Σ debits = Σ credits, and the journal's own
// Validate), and the history posted every kind it should have — so the other checks are not
// vacuously true of a history that booked nothing.
func (b *booksHistory) checkEntries(last time.Time) {
	kinds := map[string]int{}
	var bad []string
	err := b.repo.EachEntry(context.Background(), b.start.AddDate(0, 0, -3), last.AddDate(0, 0, 4), func(e journal.Entry) error {
		var dr, cr int64
		for _, l := range e.Lines {
			dr += l.Debit
			cr += l.Credit
		}
		if dr != cr || dr == 0 {
			bad = append(bad, fmt.Sprintf("%s: debits %d, credits %d", e.ID, dr, cr))
		}
		if err := e.Validate(); err != nil {
			bad = append(bad, err.Error())
		}
		kinds[e.Kind]++
		return nil
	})
	if err != nil {
		b.fatalf("reading the journal: %v", err)
	}
	if len(bad) > 0 {
		b.fatalf("entries that do not balance: %v", bad)
	}
	either := func(ks ...string) bool {
		return slices.ContainsFunc(ks, func(k string) bool { return kinds[k] > 0 })
	}
	for _, want := range [][]string{
		{marketplace.JournalSale}, {marketplace.JournalRelease}, {marketplace.JournalRefund}, {marketplace.JournalPayout},
		{marketplace.JournalTransferReversed}, {paymentsarea.JournalInvoice}, {paymentsarea.JournalRefund}, {"rwd.credit"},
		{marketplace.JournalRefundReversed, paymentsarea.JournalRefundFailed},
		{marketplace.JournalDispute, paymentsarea.JournalDisputeOpened}, {marketplace.JournalDisputeWon, paymentsarea.JournalDisputeWon},
		{"rec.charge"}, {"rec.refund"}, {"rec.refund_failure"}, {"rec.adjustment"}, {"rec.transfer"}, {"rec.transfer_refund"},
	} {
		if !either(want...) {
			b.fatalf("the history posted no %s entry; kinds: %v", strings.Join(want, " or "), kinds)
		}
	}
	b.t.Logf("entries by kind: %v", kinds)
}

// checkTrialBalance reads the trial balance through its route: it balances (debits = credits).
func (b *booksHistory) checkTrialBalance(last time.Time) map[string]int64 {
	var tb books.TrialBalanceView
	b.h.Call(b.t, http.MethodGet, "/admin/books/trial-balance?date="+last.Format(time.DateOnly), b.admin, nil, http.StatusOK, &tb)
	if !tb.Balanced || len(tb.Currencies) != 1 || tb.Currencies[0].Currency != "usd" || tb.Currencies[0].Debits != tb.Currencies[0].Credits ||
		tb.Currencies[0].Debits == 0 {
		b.fatalf("trial balance: %+v", tb)
	}
	out := map[string]int64{}
	for _, a := range tb.Currencies[0].Accounts {
		out[a.Account] = a.Balance
	}
	b.t.Logf("trial balance %s: %v", last.Format(time.DateOnly), out)
	return out
}

// checkPayable: each instructor's payable in the journal (the postings on the three payable
// accounts with the instructor as party, read through the account-entries route) is their balance
// in the marketplace's own records — bucket by bucket, the stored balance, the sum of their ledger
// entries and the earnings route alike — and nothing payable is posted without a party.
func (b *booksHistory) checkPayable(last time.Time) {
	type buckets struct{ pending, available, held int64 }
	byParty := map[string]*buckets{}
	for _, acct := range []journal.AccountID{journal.InstructorPayablePending, journal.InstructorPayableAvailable, journal.InstructorPayableHeld} {
		cursor := ""
		for {
			q := url.Values{"from": {b.start.Format(time.DateOnly)}, "to": {last.AddDate(0, 0, 1).Format(time.DateOnly)}, "limit": {"500"}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			var page struct {
				Postings   []books.PostingView `json:"postings"`
				NextCursor string              `json:"nextCursor"`
			}
			b.h.Call(b.t, http.MethodGet, "/admin/books/accounts/"+string(acct)+"/entries?"+q.Encode(), b.admin, nil, http.StatusOK, &page)
			for _, p := range page.Postings {
				if p.Party == "" {
					b.fatalf("a payable posting without an instructor: %+v", p)
				}
				if byParty[p.Party] == nil {
					byParty[p.Party] = &buckets{}
				}
				n := p.Credit - p.Debit // a liability grows with credits
				switch acct {
				case journal.InstructorPayablePending:
					byParty[p.Party].pending += n
				case journal.InstructorPayableAvailable:
					byParty[p.Party].available += n
				default:
					byParty[p.Party].held += n
				}
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
	}
	for _, ins := range b.instructors {
		led := b.m.ledgerMatchesBalance(b.t, ins.id) // the stored balance is the sum of the ledger entries
		e := b.m.earnings(b.t, ins.tok)
		j := byParty[ins.id]
		if j == nil {
			j = &buckets{}
		}
		if j.pending != led.Pending || j.available != led.Available || j.held != led.Held ||
			e.PendingCents != led.Pending || e.AvailableCents != led.Available || e.HeldCents != led.Held {
			b.fatalf("instructor %s: journal payable pending/available/held %d/%d/%d, ledger %+v, earnings route %+v",
				ins.id, j.pending, j.available, j.held, led, e)
		}
		delete(byParty, ins.id)
		b.t.Logf("instructor %s: pending %d, available %d, held %d, paid %d", ins.id, led.Pending, led.Available, led.Held, led.Paid)
	}
	if len(byParty) > 0 {
		b.fatalf("payable posted to parties that are no instructor of the history: %v", byParty)
	}
}

// checkSubscriptions: subscription revenue net of refunds and disputes is payments' own net over
// its subscription payments (amount charged + customer credit used − refunded − what lost or open
// chargebacks withhold); and the token credit granted (the marketing expense) is what invoices used
// plus what customers still hold at Stripe, which is customer_credit.
func (b *booksHistory) checkSubscriptions(tb map[string]int64) {
	ctx := context.Background()
	var net, credit int64
	for _, sp := range b.subPays {
		p, err := b.payments().GetPayment(ctx, sp.user.id, sp.payID)
		if err != nil || p.Kind != paymentsarea.PaymentKindSubscription {
			b.fatalf("payment %s: %+v %v", sp.payID, p, err)
		}
		var withheld int64
		for _, d := range b.disputes {
			if d.on.sub != sp {
				continue
			}
			got, err := b.payments().Dispute(ctx, sp.user.id, d.id)
			if err != nil {
				b.fatalf("dispute %s: %v", d.id, err)
			}
			if got.Withheld() {
				withheld += got.AmountCents
			}
		}
		net += p.AmountCents + p.CreditAppliedCents - p.RefundedCents - withheld
		credit += p.CreditAppliedCents
	}
	got := tb[string(journal.RevenueSubscriptions)] - tb[string(journal.RefundsSubscriptions)] - tb[string(journal.DisputesSubscriptions)]
	if got != net || net <= 0 {
		b.fatalf("subscription revenue %d − refunds %d − disputes %d = %d; payments' own net %d",
			tb[string(journal.RevenueSubscriptions)], tb[string(journal.RefundsSubscriptions)], tb[string(journal.DisputesSubscriptions)], got, net)
	}
	// The credit granted (the redemption's expense), the credit invoices used, and what customers
	// still hold at Stripe (their balances: negative is credit) against customer_credit.
	rw, _ := rewardcatalog.ByID(rewardcatalog.SubscriptionCredit)
	var granted, held int64
	for _, u := range b.subscribers {
		if u.customer != "" {
			granted += rw.CreditCents
			held -= b.st.CustomerBalance(u.customer)
		}
	}
	if granted == 0 || tb[string(journal.MarketingTokenRedemptions)] != granted || credit != granted-held ||
		tb[string(journal.CustomerCredit)] != held {
		b.fatalf("credit granted %d (marketing %d), used by invoices %d; customer credit %d in the books, %d at Stripe", granted,
			tb[string(journal.MarketingTokenRedemptions)], credit, tb[string(journal.CustomerCredit)], held)
	}
}

// stripeTxn is a balance transaction as the stand-in lists it.
type stripeTxn struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Category string `json:"reporting_category"`
	Amount   int64  `json:"amount"`
	Fee      int64  `json:"fee"`
	Net      int64  `json:"net"`
	Created  int64  `json:"created"`
}

// stripeTxns lists every balance transaction Stripe holds, page by page.
func (b *booksHistory) stripeTxns() []stripeTxn {
	var out []stripeTxn
	after := ""
	for {
		path := "/v1/balance_transactions?limit=100"
		if after != "" {
			path += "&starting_after=" + after
		}
		var page struct {
			Data    []stripeTxn `json:"data"`
			HasMore bool        `json:"has_more"`
		}
		b.stripe(http.MethodGet, path, nil, &page)
		out = append(out, page.Data...)
		if !page.HasMore || len(page.Data) == 0 {
			return out
		}
		after = page.Data[len(page.Data)-1].ID
	}
}

// checkReconciled: every day of the history reconciled with zero differences (checked as each
// ran), every one of Stripe's balance transactions was on a day's report and posted once; the
// clearing accounts and suspense are back to zero, stripe_balance is Stripe's balance and the fee
// accounts Stripe's fees, to the cent; re-running every day posts nothing and changes no balance.
func (b *booksHistory) checkReconciled(last time.Time, tb map[string]int64) {
	txns := b.stripeTxns()
	var net, fees, disputeFees int64
	moving := 0
	for _, x := range txns {
		net += x.Net
		if x.Type == "adjustment" && strings.HasPrefix(x.Category, "dispute") {
			disputeFees += x.Fee
		} else {
			fees += x.Fee
		}
		if x.Amount != 0 || x.Fee != 0 {
			moving++
		}
	}
	var balance struct {
		Available []struct{ Amount int64 } `json:"available"`
		Pending   []struct{ Amount int64 } `json:"pending"`
	}
	b.stripe(http.MethodGet, "/v1/balance", nil, &balance)
	var stripeBalance int64
	for _, s := range append(balance.Available, balance.Pending...) {
		stripeBalance += s.Amount
	}
	seen, posted := 0, 0
	for _, rep := range b.reports {
		seen += rep.Transactions
		posted += rep.Posted
	}
	switch {
	case seen != len(txns) || posted != moving:
		b.fatalf("Stripe holds %d balance transactions (%d that move money); the days' reports saw %d and posted %d",
			len(txns), moving, seen, posted)
	case tb[string(journal.StripeInFlight)] != 0 || tb[string(journal.TransfersConnected)] != 0 || tb[string(journal.Suspense)] != 0:
		b.fatalf("clearing accounts not back to zero: in flight %d, transfers %d, suspense %d", tb[string(journal.StripeInFlight)],
			tb[string(journal.TransfersConnected)], tb[string(journal.Suspense)])
	case tb[string(journal.StripeBalance)] != net || net != stripeBalance:
		b.fatalf("stripe_balance %d; Stripe's transactions net %d, its balance %d", tb[string(journal.StripeBalance)], net, stripeBalance)
	case tb[string(journal.FeesStripeProcessing)] != fees || tb[string(journal.FeesDispute)] != disputeFees:
		b.fatalf("fees %d and dispute fees %d in the books; Stripe took %d and %d", tb[string(journal.FeesStripeProcessing)],
			tb[string(journal.FeesDispute)], fees, disputeFees)
	}
	for d := b.start; !d.After(last); d = d.AddDate(0, 0, 1) {
		rep := b.reconcileDay(d)
		first := b.reports[d.Format(time.DateOnly)]
		if rep.Posted != 0 || rep.Corrected != 0 || rep.AlreadyPosted != first.Posted || rep.MatchedCount != first.MatchedCount {
			b.fatalf("re-running %s: %+v (first run posted %d, matched %d)", d.Format(time.DateOnly), rep, first.Posted, first.MatchedCount)
		}
	}
	if again := b.checkTrialBalance(last); fmt.Sprint(again) != fmt.Sprint(tb) {
		b.fatalf("re-running the days changed the books:\n%v\n%v", tb, again)
	}
	b.t.Logf("reconciled %d days: %d balance transactions, Stripe balance %d, fees %d + dispute fees %d",
		int(last.Sub(b.start).Hours()/24)+1, len(txns), stripeBalance, fees, disputeFees)
}

// injectFaults: three faults, each on a fresh day, each reported by that day's reconciliation with
// the object's id (and nothing else reported): (a) a dropped write — a course purchase Stripe
// charged whose webhook never reached us; (b) a doubled refund — a refund Stripe made a second time
// that no event told us of; (c) a fee Stripe charged on its own.
func (b *booksHistory) injectFaults() {
	missingOne := func(id string, byTxn bool, cents int64, posted string) func(reconcile.Report) string {
		return func(rep reconcile.Report) string {
			if rep.Differences != 1 || rep.MissingInBooksCount != 1 || len(rep.MissingInBooks) != 1 {
				return fmt.Sprintf("want exactly one item missing in our books (%s)", id)
			}
			it := rep.MissingInBooks[0]
			names := slices.Contains(it.Objects, id)
			if byTxn {
				names = slices.Contains(it.Txns, id)
			}
			if !names || it.StripeCents != cents || it.BooksCents != 0 || len(it.Entries) != 0 || it.Posted != posted {
				return fmt.Sprintf("the item %+v does not name %s with %d cents posted to %s", it, id, cents, posted)
			}
			b.note("reconciliation reported %s: %+v", id, it)
			return ""
		}
	}
	nextDay := func() string {
		b.passTo(b.day(b.clk.Now()).AddDate(0, 0, 1).Add(10 * time.Hour))
		return b.day(b.clk.Now()).Format(time.DateOnly)
	}

	// (a) Stripe charged a purchase; the webhook never got checkout.session.completed.
	day := nextDay()
	id := b.nextID()
	ins := b.instructors[0]
	o := stripeevents.CoursePurchase("learner-"+id, ins.course, ins.price)
	o.SessionID, o.PaymentIntentID, o.Created, o.EventID = "cs_"+id, "pi_"+id, b.clk.Now(), "evt_"+id
	b.observe(stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, o))
	dropped := "ch_" + id
	b.expect[day] = missingOne(dropped, false, ins.price, string(journal.Suspense))
	b.note("fault: charge %s made at Stripe, its webhook dropped", dropped)

	// (b) Stripe refunded a sale a second time (the amount of its last refund, or what is left),
	// and no event reached us.
	day = nextDay()
	var target *bhSale
	var left int64
	for _, s := range b.sales {
		if s.disputed {
			continue // Stripe refunds no disputed charge
		}
		var ch struct {
			Amount         int64 `json:"amount"`
			AmountRefunded int64 `json:"amount_refunded"`
		}
		b.stripe(http.MethodGet, "/v1/charges/"+s.charge, nil, &ch)
		if l := ch.Amount - ch.AmountRefunded; l > 0 && (target == nil || s.lastRefund > target.lastRefund) {
			target, left = s, l
		}
	}
	if target == nil {
		b.fatalf("no sale left to refund twice")
	}
	twice := min(max(target.lastRefund, 1), left)
	var ch struct {
		AmountRefunded int64 `json:"amount_refunded"`
	}
	b.stripe(http.MethodGet, "/v1/charges/"+target.charge, nil, &ch)
	b.observe(stripeevents.MustBuild(stripeevents.ChargeRefunded, stripeevents.Options{UserID: target.learner,
		ChargeID: target.charge, PaymentIntentID: target.pi, AmountCents: target.amount, AmountRefundedCents: ch.AmountRefunded + twice,
		Created: b.clk.Now()}))
	var rfs struct {
		Data []struct {
			ID     string `json:"id"`
			Amount int64  `json:"amount"`
		} `json:"data"`
	}
	b.stripe(http.MethodGet, "/v1/refunds?charge="+target.charge, nil, &rfs)
	if len(rfs.Data) == 0 || slices.Contains(b.refundIDs, rfs.Data[0].ID) || rfs.Data[0].Amount != twice {
		b.fatalf("the unseen refund of %s at Stripe: %+v", target.charge, rfs.Data)
	}
	doubled := rfs.Data[0].ID
	b.expect[day] = missingOne(doubled, false, -twice, string(journal.Suspense))
	b.note("fault: refund %s of %d on %s made at Stripe, never seen", doubled, twice, target.charge)

	// (c) A fee Stripe charged on its own.
	day = nextDay()
	feeCents := 100 + b.rng.Int63n(900)
	fee, err := b.st.StripeFee("usd", feeCents, "Radar for Fraud Teams")
	if err != nil {
		b.fatalf("fee: %v", err)
	}
	b.expect[day] = missingOne(fee, true, -feeCents, string(journal.FeesStripeProcessing))
	b.note("fault: Stripe fee %s of %d", fee, feeCents)

	b.pass(24 * time.Hour) // reconciles the fee's day
	last := b.day(b.clk.Now()).AddDate(0, 0, -1)
	tb := b.checkTrialBalance(last)
	if want := twice - ins.price; tb[string(journal.Suspense)] != want {
		b.fatalf("suspense %d after the faults, want the unseen refund %d less the unseen charge %d", tb[string(journal.Suspense)], twice, ins.price)
	}
	var net int64
	for _, x := range b.stripeTxns() {
		net += x.Net
	}
	if tb[string(journal.StripeBalance)] != net {
		b.fatalf("stripe_balance %d after the faults, Stripe's net %d", tb[string(journal.StripeBalance)], net)
	}
}
