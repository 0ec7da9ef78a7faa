//go:build integration

package e2e

import (
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/marketplace"
)

// EnvBooksSeed replays one history of TestBooksOneHistory (the seed it logged).
const EnvBooksSeed = "LIBERATION_BOOKS_SEED"

// The books' invariants on one seeded random history through every area that moves money (issue
// 17, "Invariants as tests"), end to end: the real functions behind the local gateway, on one fake
// clock with the local Stripe that remembers (stripestate) in front of stripe-mock, which sends the
// events Stripe would to the webhook's function URL.
//
// The history (≈30 steps over ≈5 weeks, amounts, order and targets drawn from the seed): course
// sales (one bought with a rewards coupon), subscription invoices, a token credit redemption;
// refunds through POST /admin/refunds (full, partial, one that fails later at Stripe); disputes
// opened then won and opened then lost, on course sales or subscription payments; the release job
// after the refund window; renewals (one using the credit, one of a prorated amount); the payout
// job with one transfer whose answer Stripe loses (the retry finds it); a transfer reversal; a
// clawback (a refund of a sale whose share was paid out); a late sale. Each day is reconciled by
// the reconcile job as the clock passes midnight.
//
// Then, on that history: every entry balances and so does the trial balance; each instructor's
// payable in the journal is their marketplace ledger, bucket by bucket; subscription revenue net of
// refunds and disputes is payments' own net; every day reconciles with zero differences, every
// Stripe balance transaction was posted, the clearing accounts and suspense are zero and
// stripe_balance is Stripe's balance to the cent (re-running every day changes nothing); finally
// three faults — a charge whose webhook never came, a refund Stripe made that we never saw, a fee
// Stripe charged on its own — are each reported on their own day with their ids.
func TestBooksOneHistory(t *testing.T) {
	seed := time.Now().UnixNano()
	if v := os.Getenv(EnvBooksSeed); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q is not an integer", EnvBooksSeed, v)
		}
		seed = n
	}
	t.Logf("seed %d; replay: %s=%d go test -count=1 -tags integration -run 'TestBooksOneHistory' ./infra/local/e2e/",
		seed, EnvBooksSeed, seed)
	b := startBooksHistory(t, seed)

	b.setup()
	b.salesAndSubscriptions()
	b.moneyBack()
	b.laterMonth()
	b.pass(24 * time.Hour) // the last day of the history is reconciled too
	last := b.day(b.clk.Now()).AddDate(0, 0, -1)

	b.checkEntries(last)
	tb := b.checkTrialBalance(last)
	b.checkPayable(last)
	b.checkSubscriptions(tb)
	b.checkReconciled(last, tb)
	b.injectFaults()
	t.Logf("history: %d steps and 3 faults over %d days, %d sales, %d subscription payments, %d disputes, %d reconcile runs",
		b.moves, int(last.Sub(b.start).Hours()/24)+1, len(b.sales), len(b.subPays), len(b.disputes), b.runs)
}

// setup: three instructors with a published course each (two with a Connect account ready for
// payouts, one without), two subscribers, an admin.
func (b *booksHistory) setup() {
	t := b.t
	b.admin = b.h.Token(t, "admin-"+b.run, "ops@example.com", "admin")
	for i, name := range []string{"ada", "bo", "cy"} {
		ins := &bhInstructor{id: name + "-" + b.run}
		ins.tok = b.h.Token(t, ins.id, ins.id+"@example.com", "instructor")
		price := 3999 + b.rng.Int63n(6001) // two shares of any price are above the payout minimum
		c, _ := b.m.publishedCourse(t, ins.tok, "Ledger craft "+name, price)
		ins.course, ins.price = c.ID, price
		if i < 2 {
			var conn marketplace.ConnectResponse
			b.h.Call(t, http.MethodPost, "/instructors/me/connect", ins.tok, map[string]string{
				"returnUrl": "https://app.example.com/p", "refreshUrl": "https://app.example.com/r"}, 200, &conn)
			post(t, b.h, stripeevents.MustBuild(stripeevents.AccountUpdated, stripeevents.Options{UserID: ins.id, AccountID: conn.AccountID}))
			ins.connected = true
		}
		b.instructors = append(b.instructors, ins)
	}
	for _, name := range []string{"sam", "sue"} {
		u := &bhSubscriber{id: name + "-" + b.run}
		u.tok = b.h.Token(t, u.id, u.id+"@example.com")
		b.subscribers = append(b.subscribers, u)
	}
	b.note("setup: prices %d/%d/%d", b.instructors[0].price, b.instructors[1].price, b.instructors[2].price)
}

// salesAndSubscriptions: nine course sales (three each for the two connected instructors, two for
// the third, one more bought with a rewards coupon) and the subscribers' first invoices, in a random
// order a few hours apart.
func (b *booksHistory) salesAndSubscriptions() {
	a, bo, cy := b.instructors[0], b.instructors[1], b.instructors[2]
	var steps []func()
	for _, ins := range []*bhInstructor{a, a, a, bo, bo, bo, cy, cy} {
		steps = append(steps, func() { b.sale(ins, false) })
	}
	steps = append(steps, func() { b.sale(b.instructors[b.rng.Intn(3)], true) })
	for _, u := range b.subscribers {
		steps = append(steps, func() {
			total := int64(999)
			if b.rng.Intn(3) == 0 {
				total = 9900
			}
			b.invoice(u, "subscription_create", total, 0)
		})
	}
	b.shuffled(steps, 2, 9)
}

// moneyBack: a full and a partial refund of sales (the partial one sometimes followed by a second),
// a partial refund of a subscription payment, a refund that fails later, two disputes (one to be
// won, one lost) — each on its own charge — and a token credit redemption. The failure and the
// disputes' outcomes come either before the release or after it (before or after the payouts:
// laterMonth takes b.later).
func (b *booksHistory) moneyBack() {
	subs := []*bhSubPay{b.subPays[0], b.subPays[1]}
	b.rng.Shuffle(len(subs), func(i, j int) { subs[i], subs[j] = subs[j], subs[i] })
	subRefunded := subs[0]
	// The sales the history may disturb: the first of each connected instructor's (the other two
	// stay whole for the payout and the clawback), the third instructor's and the coupon sale.
	var pool []bhTarget
	for _, s := range b.sales {
		if s.ins != b.instructors[2] && !s.coupon && s != b.firstSale[s.ins] {
			continue
		}
		pool = append(pool, bhTarget{sale: s})
	}
	pool = append(pool, bhTarget{sub: subs[1]})
	b.rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	pick := func(saleOnly bool) bhTarget {
		for i, x := range pool {
			if !saleOnly || x.sale != nil {
				pool = slices.Delete(pool, i, i+1)
				return x
			}
		}
		b.fatalf("no target left")
		return bhTarget{}
	}
	full, partial := pick(true), pick(true)
	failing, won, lost := pick(false), pick(false), pick(false)

	var failingRefund string
	var firstPart int64
	steps := []func(){
		func() { b.refund(full, 0) },
		func() { firstPart = 1 + b.rng.Int63n(partial.amount()-1); b.refund(partial, firstPart) },
		func() { b.refund(bhTarget{sub: subRefunded}, 1+b.rng.Int63n(subRefunded.amount-1)) },
		func() {
			amount := int64(0) // full or partial: the marketplace reverses either
			if b.rng.Intn(2) == 0 {
				amount = 1 + b.rng.Int63n(failing.amount()-1)
			}
			failingRefund = b.refund(failing, amount)
		},
		func() { b.openDispute(won, "won") },
		func() { b.openDispute(lost, "lost") },
		// After the first invoice: Stripe applies a customer's credit to their next invoice.
		func() { b.creditRedemption(b.subscribers[0]) },
	}
	b.shuffled(steps, 2, 9)
	steps = nil
	if b.rng.Intn(2) == 0 { // a second refund of the partly refunded sale: what is left, or part of it
		steps = append(steps, func() { b.refund(partial, 1+b.rng.Int63n(partial.amount()-firstPart)) })
	}
	later := []func(){func() { b.failRefund(failingRefund) }}
	for _, d := range b.disputes {
		later = append(later, func() { b.closeDispute(d) })
	}
	for _, step := range later {
		if b.rng.Intn(2) == 0 {
			steps = append(steps, step)
		} else {
			b.later = append(b.later, step)
		}
	}
	b.shuffled(steps, 3, 12)
}

// laterMonth: past the refund window of the last sale, the release job; the renewals (one using the
// credit, one prorated); the payout job, whose first transfer's answer is lost; a partial reversal
// of a payout transfer; a clawback; the steps moneyBack left for later, before or after the
// payouts; a late sale.
func (b *booksHistory) laterMonth() {
	var lastSale time.Time
	for _, s := range b.sales {
		if s.at.After(lastSale) {
			lastSale = s.at
		}
	}
	b.passTo(lastSale.Add(marketplace.RefundWindow + time.Hour + time.Duration(b.rng.Intn(20))*time.Hour))
	b.do(b.release)
	sam := b.subscribers[0] // the one who redeemed the credit
	var first *bhSubPay
	for _, sp := range b.subPays {
		if sp.user == sam && first == nil {
			first = sp
		}
	}
	steps := []func(){
		func() { b.invoice(sam, "subscription_cycle", first.amount, sam.credit) },
		func() { b.invoice(b.subscribers[1], "subscription_update", 300+b.rng.Int63n(1700), 0) },
	}
	after := []func(){b.reverseTransfer, b.clawback}
	for _, step := range b.later {
		if b.rng.Intn(2) == 0 {
			steps = append(steps, step)
		} else {
			after = append(after, step)
		}
	}
	b.shuffled(steps, 2, 8)
	b.do(b.payouts)
	b.shuffled(after, 2, 8)
	b.pass(time.Duration(2+b.rng.Intn(6)) * time.Hour)
	b.do(func() { b.sale(b.instructors[b.rng.Intn(2)], false) })
}
