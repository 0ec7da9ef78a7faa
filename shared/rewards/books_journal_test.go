package rewards

import (
	"slices"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
)

var fulfilledAt = time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)

// approvedCredit is a credit redemption as the fulfilment reads it, and fulfilledCredit the one
// it writes after Stripe credited 500 cents (what redeem records).
func approvedCredit() Redemption {
	return Redemption{ID: "rdm_1", UserID: "usr_1", RewardID: rewardcatalog.SubscriptionCredit, RewardName: "$5 subscription credit",
		Cost: 1000, Fulfilment: rewardcatalog.StripeCredit, Status: Approved, Version: 3}
}

func fulfilledCredit() Redemption {
	r := approvedCredit()
	r.Status, r.FulfilledAt, r.UpdatedAt, r.Version = Fulfilled, fulfilledAt, fulfilledAt, 4
	r.StripeCustomerID, r.BalanceTransaction, r.CreditCents, r.CreditCurrency = "cus_1", "cbtxn_1", 500, "usd"
	return r
}

// TestCreditEntryIsTheWorkedExample: a credit fulfilled posts docs/books.md's "Token redemption:
// credit" to the cent — Dr marketing_token_redemptions 500 / Cr customer_credit 500, both on the
// user, dated at the fulfilment, id rwd.credit.<redemption>.
func TestCreditEntryIsTheWorkedExample(t *testing.T) {
	got, err := redemptionEntries(approvedCredit(), fulfilledCredit())
	if err != nil || len(got) != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	e := got[0]
	want := []journal.Line{{Account: journal.MarketingTokenRedemptions, Debit: 500, Party: "usr_1"},
		{Account: journal.CustomerCredit, Credit: 500, Party: "usr_1"}}
	if e.ID != "rwd.credit.rdm_1" || e.Kind != JournalCredit || e.Area != Area || e.Source != "rdm_1" ||
		!e.Date.Equal(fulfilledAt) || e.Currency != "usd" || !slices.Equal(e.Lines, want) {
		t.Fatalf("entry %+v", e)
	}
	if e.Memo != "token redemption $5 subscription credit (Stripe cbtxn_1)" {
		t.Fatalf("memo %q", e.Memo)
	}
	if err := e.Validate(); err != nil || e.Total() != 500 {
		t.Fatalf("valid %v, total %d", err, e.Total())
	}
	// The currency is stored as Stripe wrote it; the journal wants it lower-case.
	up := fulfilledCredit()
	up.CreditCurrency = "USD"
	if got, err := redemptionEntries(approvedCredit(), up); err != nil || got[0].Currency != "usd" {
		t.Fatalf("upper-case currency: %+v %v", got, err)
	}
}

// TestRevokedCreditReversesItsEntry: a fulfilled credit that stops being fulfilled posts the exact
// reverse, with the amount it posted (the before), whatever the after says.
func TestRevokedCreditReversesItsEntry(t *testing.T) {
	after := fulfilledCredit()
	at := fulfilledAt.Add(time.Hour)
	after.Status, after.UpdatedAt, after.CreditCents = Rejected, at, 7 // a later amount is not what was granted
	got, err := redemptionEntries(fulfilledCredit(), after)
	if err != nil || len(got) != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	e := got[0]
	want := []journal.Line{{Account: journal.CustomerCredit, Debit: 500, Party: "usr_1"},
		{Account: journal.MarketingTokenRedemptions, Credit: 500, Party: "usr_1"}}
	if e.ID != "rwd.credit_revoked.rdm_1" || e.Kind != JournalCreditRevoked || !e.Date.Equal(at) || !slices.Equal(e.Lines, want) {
		t.Fatalf("entry %+v", e)
	}
	granted, _ := redemptionEntries(approvedCredit(), fulfilledCredit())
	net := map[journal.AccountID]int64{}
	for _, x := range []journal.Entry{granted[0], e} {
		if err := x.Validate(); err != nil {
			t.Fatal(err)
		}
		for _, l := range x.Lines {
			net[l.Account] += l.Debit - l.Credit
		}
	}
	for a, v := range net {
		if v != 0 {
			t.Errorf("%s nets %d after a credit and its revocation", a, v)
		}
	}
}

// TestOnlyACreditBecomingFulfilledPosts: every other write of a redemption posts nothing — a
// coupon issued (docs/books.md: a coupon is booked when a checkout applies it, never at issue),
// merchandise, a credit approved, rejected after its Stripe call failed (nothing was recorded as
// granted, so nothing is taken back), cancelled, or a fulfilled credit written again (the e-mail
// sent, a note).
func TestOnlyACreditBecomingFulfilledPosts(t *testing.T) {
	coupon := func(s Status) Redemption {
		r := Redemption{ID: "rdm_2", UserID: "usr_1", RewardID: rewardcatalog.CourseCoupon, Fulfilment: rewardcatalog.StripeCoupon,
			Status: s, CouponCode: "LIB20-ABCDEFGHJK"}
		if s == Fulfilled {
			r.FulfilledAt = fulfilledAt
		}
		return r
	}
	merch := func(s Status) Redemption {
		return Redemption{ID: "rdm_3", UserID: "usr_1", RewardID: rewardcatalog.Merchandise, Fulfilment: rewardcatalog.Manual, Status: s, FulfilledAt: fulfilledAt}
	}
	credit := func(s Status) Redemption { r := approvedCredit(); r.Status = s; return r }
	notified := fulfilledCredit()
	notified.NotifiedStatus, notified.Version = Fulfilled, 5
	for name, c := range map[string][2]Redemption{
		"coupon created":            {{}, coupon(Pending)},
		"coupon approved":           {coupon(Pending), coupon(Approved)},
		"coupon issued":             {coupon(Approved), coupon(Fulfilled)},
		"coupon revoked":            {coupon(Approved), coupon(Rejected)},
		"merchandise shipped":       {merch(Approved), merch(Fulfilled)},
		"credit created":            {{}, credit(Pending)},
		"credit approved":           {credit(Pending), credit(Approved)},
		"credit rejected unissued":  {credit(Approved), credit(Rejected)},
		"credit cancelled":          {credit(Pending), credit(Cancelled)},
		"fulfilled credit notified": {fulfilledCredit(), notified},
	} {
		if got, err := redemptionEntries(c[0], c[1]); err != nil || len(got) != 0 {
			t.Errorf("%s: %+v %v", name, got, err)
		}
	}
}

// TestACreditWithoutItsFactsIsRefused: a credit recorded fulfilled without the Stripe balance
// transaction or the amount is a caller's bug: refused (Internal), never posted as zero.
func TestACreditWithoutItsFactsIsRefused(t *testing.T) {
	for name, f := range map[string]func(*Redemption){
		"no balance transaction": func(r *Redemption) { r.BalanceTransaction = "" },
		"no amount":              func(r *Redemption) { r.CreditCents = 0 },
		"a negative amount":      func(r *Redemption) { r.CreditCents = -500 },
		"no currency":            func(r *Redemption) { r.CreditCurrency = "" },
		"a malformed currency":   func(r *Redemption) { r.CreditCurrency = "dollars" },
	} {
		after := fulfilledCredit()
		f(&after)
		if got, err := redemptionEntries(approvedCredit(), after); apperr.CodeOf(err) != apperr.Internal || got != nil {
			t.Errorf("%s: %+v %v", name, got, err)
		}
	}
	// A revocation of a credit fulfilled before amounts were recorded cannot know what to reverse.
	before := fulfilledCredit()
	before.CreditCents = 0
	after := before
	after.Status = Rejected
	if _, err := redemptionEntries(before, after); apperr.CodeOf(err) != apperr.Internal {
		t.Fatalf("a revocation without the amount: %v", err)
	}
}

// TestRewardsRulesAreRegistered: the kinds are rewards' and touch only the two accounts.
func TestRewardsRulesAreRegistered(t *testing.T) {
	for _, k := range []string{JournalCredit, JournalCreditRevoked} {
		r, ok := journal.RuleOf(k)
		if !ok || r.Area != Area || !slices.Equal(r.Accounts, []journal.AccountID{journal.MarketingTokenRedemptions, journal.CustomerCredit}) {
			t.Errorf("%s: %+v %v", k, r, ok)
		}
	}
}
