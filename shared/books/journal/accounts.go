// Package journal is the platform's double-entry journal: a chart of accounts in code, entries of
// balanced lines posted at most once per source, per-account postings, daily balances, a trial
// balance, a monthly statement and a general-ledger export (docs/books.md, decision 0081).
//
// It is a leaf: areas import it, never the other way round. An area registers its posting rules
// (Register, from its own init) and appends Items(entry) to its own DynamoDB transaction, so an
// entry is written together with the area's record of the event — or not at all.
package journal

import (
	"github.com/liberation/monetization/shared/apperr"
)

// AccountID is an account's stable id: it is stored in every posting and balance item and in
// exports, so an id is never renamed or reused.
type AccountID string

// Type is an account's class in the statements.
type Type string

// The account types.
const (
	Asset         Type = "asset"
	Liability     Type = "liability"
	Revenue       Type = "revenue"
	ContraRevenue Type = "contra-revenue"
	Expense       Type = "expense"
)

// Side is a side of an entry: debit or credit.
type Side string

// The sides.
const (
	Debit  Side = "debit"
	Credit Side = "credit"
)

// normalSides: assets, contra-revenue and expenses grow with debits; liabilities and revenue with
// credits.
var normalSides = map[Type]Side{Asset: Debit, ContraRevenue: Debit, Expense: Debit, Liability: Credit, Revenue: Credit}

// The chart of accounts (docs/books.md explains each with worked examples).
const (
	// StripeBalance is our balance at Stripe. Only the posting of Stripe's own balance transactions
	// (reconciliation) moves it, so it equals what Stripe reports.
	StripeBalance AccountID = "stripe_balance"
	// StripeInFlight is the clearing account between a money event an area books (a charge, a
	// refund, a dispute) and Stripe's balance transaction for it: areas post against it,
	// reconciliation moves it into stripe_balance (and fees). Matched items return it to zero.
	StripeInFlight AccountID = "stripe_in_flight"
	// TransfersConnected is the clearing account of transfers to connected accounts: a payout
	// credits it when the marketplace books the transfer (and debits the instructor payable at
	// once); reconciliation debits it against stripe_balance when Stripe's transfer balance
	// transaction is matched. A reversal runs the other way. Zero when every transfer is matched.
	TransfersConnected AccountID = "transfers_connected"
	// Bank is our bank account: Stripe payouts of our balance arrive here.
	Bank AccountID = "bank"
	// Suspense holds anything not yet matched (a Stripe balance transaction with no entry of ours,
	// or the reverse). It should be zero; a balance is work for a person.
	Suspense AccountID = "suspense"

	// InstructorPayablePending is instructors' earnings not yet released (within the refund window).
	InstructorPayablePending AccountID = "instructor_payable_pending"
	// InstructorPayableAvailable is instructors' released earnings, payable in the next payout (may
	// be a debit balance per instructor after a refund that followed a payout).
	InstructorPayableAvailable AccountID = "instructor_payable_available"
	// InstructorPayableHeld is instructors' earnings held by an open dispute.
	InstructorPayableHeld AccountID = "instructor_payable_held"
	// CustomerCredit is the Stripe customer-balance credit we granted (token redemptions) and that
	// invoices have not used yet.
	CustomerCredit AccountID = "customer_credit"

	// RevenueSubscriptions is subscription revenue (invoices paid).
	RevenueSubscriptions AccountID = "revenue_subscriptions"
	// RevenueMarketplaceCommission is the platform's share of course sales (net − instructor shares).
	RevenueMarketplaceCommission AccountID = "revenue_marketplace_commission"

	// RefundsSubscriptions and RefundsMarketplace are refunds, one contra-revenue account per revenue
	// stream so that each stream's net is a balance (the marketplace one carries only the
	// platform's share: the instructors' share reverses their payable).
	RefundsSubscriptions AccountID = "refunds_subscriptions"
	RefundsMarketplace   AccountID = "refunds_marketplace"
	// DisputesSubscriptions and DisputesMarketplace are disputed amounts withdrawn by Stripe (and put
	// back when a dispute is won), per stream like the refunds.
	DisputesSubscriptions AccountID = "disputes_subscriptions"
	DisputesMarketplace   AccountID = "disputes_marketplace"

	// FeesStripeProcessing is Stripe's processing fees, from its balance transactions.
	FeesStripeProcessing AccountID = "fees_stripe_processing"
	// FeesDispute is Stripe's dispute fees, from its balance transactions.
	FeesDispute AccountID = "fees_dispute"
	// MarketingTokenRedemptions is the marketing expense of coupons and credits granted through token
	// redemptions (token-funded discounts).
	MarketingTokenRedemptions AccountID = "marketing_token_redemptions"
)

// GroupInstructorPayable groups the three instructor-payable accounts: an entry whose lines are all
// in one group (a release, a dispute hold) moves money inside it, and the statement leaves such
// moves out of the group's totals.
const GroupInstructorPayable = "instructor_payable"

// Account is one account of the chart.
type Account struct {
	ID          AccountID
	Name        string
	Type        Type
	Normal      Side   // the side that increases it
	Group       string // "" or a group of accounts whose moves among themselves are internal
	Description string
}

// Balance is the account's balance on its normal side: positive when it sits where it should.
func (a Account) Balance(debits, credits int64) int64 {
	if a.Normal == Debit {
		return debits - credits
	}
	return credits - debits
}

func account(id AccountID, name string, t Type, group, desc string) Account {
	return Account{ID: id, Name: name, Type: t, Normal: normalSides[t], Group: group, Description: desc}
}

// chart is the chart of accounts, in statement order.
var chart = []Account{
	account(StripeBalance, "Stripe balance", Asset, "", "our balance at Stripe, as its balance transactions move it"),
	account(StripeInFlight, "Receivable from Stripe in flight", Asset, "", "clearing: money events booked, not yet matched to Stripe's balance transactions"),
	account(TransfersConnected, "Transfers to connected accounts", Asset, "", "clearing: transfers booked (credit) and matched to Stripe's transfers (debit)"),
	account(Bank, "Bank", Asset, "", "Stripe payouts of our balance to our bank"),
	account(Suspense, "Suspense", Asset, "", "anything not yet matched; should be zero"),
	account(InstructorPayablePending, "Instructor payable — pending", Liability, GroupInstructorPayable, "earnings within the release window"),
	account(InstructorPayableAvailable, "Instructor payable — available", Liability, GroupInstructorPayable, "released earnings, paid in the next payout"),
	account(InstructorPayableHeld, "Instructor payable — held", Liability, GroupInstructorPayable, "earnings held by an open dispute"),
	account(CustomerCredit, "Customer credit", Liability, "", "Stripe customer-balance credits granted and not yet used"),
	account(RevenueSubscriptions, "Subscription revenue", Revenue, "", "invoices paid"),
	account(RevenueMarketplaceCommission, "Marketplace commission revenue", Revenue, "", "the platform's share of course sales"),
	account(RefundsSubscriptions, "Refunds — subscriptions", ContraRevenue, "", "refunds of subscription payments"),
	account(RefundsMarketplace, "Refunds — marketplace", ContraRevenue, "", "the platform's share of refunded course sales"),
	account(DisputesSubscriptions, "Disputes — subscriptions", ContraRevenue, "", "disputed subscription payments withdrawn (put back when won)"),
	account(DisputesMarketplace, "Disputes — marketplace", ContraRevenue, "", "disputed course sales withdrawn, less the instructors' share they bear"),
	account(FeesStripeProcessing, "Stripe processing fees", Expense, "", "from Stripe's balance transactions"),
	account(FeesDispute, "Stripe dispute fees", Expense, "", "from Stripe's balance transactions"),
	account(MarketingTokenRedemptions, "Token-funded discounts", Expense, "", "coupons and credits granted through token redemptions"),
}

var byID = func() map[AccountID]Account {
	m := make(map[AccountID]Account, len(chart))
	for _, a := range chart {
		if _, dup := m[a.ID]; dup {
			panic("journal: account " + string(a.ID) + " twice in the chart")
		}
		m[a.ID] = a
	}
	return m
}()

// Chart returns the chart of accounts in statement order.
func Chart() []Account { return append([]Account(nil), chart...) }

// Lookup returns an account; an unknown id is an apperr.NotFound (a 404 on a route naming it).
func Lookup(id AccountID) (Account, error) {
	a, ok := byID[id]
	if !ok {
		return Account{}, apperr.New(apperr.NotFound, "account %q is not in the chart of accounts", string(id))
	}
	return a, nil
}

// Known reports whether id is in the chart.
func Known(id AccountID) bool { _, ok := byID[id]; return ok }
