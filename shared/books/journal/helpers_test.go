package journal

import (
	"testing"
	"time"
)

// The tests' own posting rules (areas register theirs from their init; the journal has none).
const (
	kindSale     = "test.sale"     // a course sale 70/30
	kindRelease  = "test.release"  // pending → available
	kindPayout   = "test.payout"   // a transfer to a connected account
	kindReversal = "test.reversal" // a transfer reversal
	kindRefund   = "test.refund"   // a refund of a course sale
	kindRecon    = "test.recon"    // Stripe's balance transactions (reconciliation)
	kindSub      = "test.sub"      // a subscription payment
	kindToken    = "test.token"    // a token redemption credit
	kindAny      = "test.any"      // any account (property test)
)

func init() {
	Register(Rule{Area: "marketplace", Kind: kindSale, Summary: "a course sale",
		Accounts: []AccountID{StripeInFlight, InstructorPayablePending, RevenueMarketplaceCommission}})
	Register(Rule{Area: "marketplace", Kind: kindRelease, Summary: "earnings released",
		Accounts: []AccountID{InstructorPayablePending, InstructorPayableAvailable}})
	Register(Rule{Area: "marketplace", Kind: kindPayout, Summary: "a payout transfer",
		Accounts: []AccountID{InstructorPayableAvailable, TransfersConnected}})
	Register(Rule{Area: "marketplace", Kind: kindReversal, Summary: "a transfer reversed",
		Accounts: []AccountID{InstructorPayableAvailable, TransfersConnected}})
	Register(Rule{Area: "marketplace", Kind: kindRefund, Summary: "a course sale refunded",
		Accounts: []AccountID{InstructorPayablePending, InstructorPayableAvailable, RefundsMarketplace, StripeInFlight}})
	Register(Rule{Area: "books", Kind: kindRecon, Summary: "Stripe balance transactions",
		Accounts: []AccountID{StripeBalance, StripeInFlight, TransfersConnected, FeesStripeProcessing, FeesDispute, Bank, Suspense}})
	Register(Rule{Area: "payments", Kind: kindSub, Summary: "a subscription payment",
		Accounts: []AccountID{StripeInFlight, RevenueSubscriptions, CustomerCredit, RefundsSubscriptions, DisputesSubscriptions}})
	Register(Rule{Area: "rewards", Kind: kindToken, Summary: "a token redemption credit",
		Accounts: []AccountID{MarketingTokenRedemptions, CustomerCredit}})
	all := make([]AccountID, 0, len(chart))
	for _, a := range chart {
		all = append(all, a.ID)
	}
	Register(Rule{Area: "test", Kind: kindAny, Summary: "anything", Accounts: all})
}

var day0 = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

// dr and cr build lines.
func dr(a AccountID, n int64) Line { return Line{Account: a, Debit: n} }
func cr(a AccountID, n int64) Line { return Line{Account: a, Credit: n} }

func entry(kind, area, source string, at time.Time, lines ...Line) Entry {
	return Entry{ID: EntryID(kind, source), Kind: kind, Area: area, Source: source, Date: at, Currency: "usd", Lines: lines}
}

// sale is a $amount course sale: 70 % to instructor, the rest commission.
func sale(source, instructor string, at time.Time, amount int64) Entry {
	inst := amount * 70 / 100
	return entry(kindSale, "marketplace", source, at,
		dr(StripeInFlight, amount), Line{Account: InstructorPayablePending, Credit: inst, Party: instructor},
		cr(RevenueMarketplaceCommission, amount-inst))
}

func mustPost(t testing.TB, r Repo, e Entry) {
	t.Helper()
	if err := r.Post(t.Context(), e); err != nil {
		t.Fatalf("post %s: %v", e.ID, err)
	}
}
