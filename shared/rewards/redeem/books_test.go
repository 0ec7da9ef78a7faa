package redeem

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
)

// The admin routes' journal entries, read back from the table (in process, moto with the
// integration tag): the credit Stripe confirmed is booked with its fulfilment, to the cent; a
// coupon, merchandise, and a credit whose Stripe call failed and that was then rejected book
// nothing.

func (b *bench) journalEntry(t *testing.T, id string) (journal.Entry, bool) {
	t.Helper()
	e, err := journal.Repo{S: b.st}.Get(context.Background(), id)
	if apperr.Is(err, apperr.NotFound) {
		return journal.Entry{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return e, true
}

// rewardsNet is Dr − Cr of the journal's rewards accounts on the trial balance (which must balance).
func (b *bench) rewardsNet(t *testing.T) (marketing, credit int64) {
	t.Helper()
	tb, err := journal.Repo{S: b.st}.TrialBalance(context.Background(), b.clk.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range tb.Currencies {
		for _, a := range c.Accounts {
			switch a.Account.ID {
			case journal.MarketingTokenRedemptions:
				marketing += a.Debits - a.Credits
			case journal.CustomerCredit:
				credit += a.Debits - a.Credits
			}
		}
	}
	return marketing, credit
}

func TestApprovedCreditIsBookedWithItsFulfilment(t *testing.T) {
	b := newBench(t)
	red := b.redeem(t, "ivy", rewardcatalog.SubscriptionCredit)
	var v rewards.AdminRedemptionView
	if st, code := b.approve(t, red.ID, &v); st != 200 || v.Status != rewards.Fulfilled {
		t.Fatalf("approve: %d %s %+v", st, code, v)
	}
	c, _ := b.pay.creditOf(red.ID)
	e, ok := b.journalEntry(t, "rwd.credit."+red.ID)
	want := []journal.Line{{Account: journal.MarketingTokenRedemptions, Debit: 500, Party: "ivy"},
		{Account: journal.CustomerCredit, Credit: 500, Party: "ivy"}}
	if !ok || e.Kind != rewards.JournalCredit || e.Area != rewards.Area || e.Source != red.ID || e.Currency != "usd" ||
		!slices.Equal(e.Lines, want) || !e.Date.Equal(monday) || c.cents != 500 {
		t.Fatalf("entry %+v %v (Stripe credited %+v)", e, ok, c)
	}
	if cur := b.stored(t, red); cur.CreditCents != 500 || cur.CreditCurrency != "usd" || cur.BalanceTransaction != c.txn {
		t.Fatalf("recorded %+v", cur)
	}
	if m, cc := b.rewardsNet(t); m != 500 || cc != -500 {
		t.Fatalf("marketing %d, customer credit %d", m, cc)
	}
	// Approving or fulfilling again is a 409 that books nothing more.
	b.approve(t, red.ID, nil)
	b.fulfil(t, red.ID, nil, nil)
	if m, cc := b.rewardsNet(t); m != 500 || cc != -500 {
		t.Fatalf("after the replays: marketing %d, customer credit %d", m, cc)
	}
}

func TestOnlyCreditsAreBooked(t *testing.T) {
	b := newBench(t)
	coupon := b.redeem(t, "ola", rewardcatalog.CourseCoupon)
	if st, _ := b.approve(t, coupon.ID, nil); st != 200 || b.stored(t, coupon).Status != rewards.Fulfilled {
		t.Fatalf("coupon approve: %d", st)
	}
	merch := b.redeem(t, "ola", rewardcatalog.Merchandise)
	b.approve(t, merch.ID, nil)
	if st, _ := b.fulfil(t, merch.ID, FulfilRequest{Note: "UPS 1Z"}, nil); st != 200 {
		t.Fatalf("merchandise fulfil: %d", st)
	}
	// A credit Stripe failed to make, then rejected (revoked at Stripe first): nothing was granted
	// in our records, so nothing is booked and nothing reversed.
	credit := b.redeem(t, "ola", rewardcatalog.SubscriptionCredit)
	b.pay.failNext("credit", stripeDown)
	b.approve(t, credit.ID, nil)
	if st, _ := b.reject(t, credit.ID, "Duplicate request", nil); st != 200 || b.stored(t, credit).Status != rewards.Rejected {
		t.Fatalf("reject: %d", st)
	}
	for _, red := range []rewards.Redemption{coupon, merch, credit} {
		for _, k := range []string{rewards.JournalCredit, rewards.JournalCreditRevoked} {
			if e, ok := b.journalEntry(t, journal.EntryID(k, red.ID)); ok {
				t.Fatalf("%s booked %+v", red.RewardID, e)
			}
		}
	}
	if m, cc := b.rewardsNet(t); m != 0 || cc != 0 {
		t.Fatalf("marketing %d, customer credit %d", m, cc)
	}
}
