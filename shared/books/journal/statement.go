package journal

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/liberation/monetization/shared/apperr"
)

// ErrUnbalanced is wrapped by TrialBalance when a currency's debits and credits differ: the books
// are broken (a write outside Items, or a bug), and the balance is still returned for the person
// who has to find out why.
var ErrUnbalanced = errors.New("trial balance does not balance")

// TrialBalance is every account's totals up to and including a day.
type TrialBalance struct {
	AsOf       string // yyyy-mm-dd (UTC), inclusive
	Currencies []CurrencyBalance
}

// CurrencyBalance is one currency's trial balance: every account of the chart, in chart order.
type CurrencyBalance struct {
	Currency string
	Accounts []AccountBalance
	Debits   int64 // Σ of every account's debits
	Credits  int64 // Σ of every account's credits
	Balanced bool  // Debits == Credits
}

// AccountBalance is one account's totals and its balance on its normal side.
type AccountBalance struct {
	Account Account
	Debits  int64
	Credits int64
	Balance int64
}

// totals accumulates balance items per currency and account with overflow checks.
type totals map[string]map[AccountID]*balanceItem

func (t totals) add(b balanceItem) error {
	if t[b.Currency] == nil {
		t[b.Currency] = map[AccountID]*balanceItem{}
	}
	acc := t[b.Currency][AccountID(b.Account)]
	if acc == nil {
		acc = &balanceItem{Currency: b.Currency, Account: b.Account}
		t[b.Currency][AccountID(b.Account)] = acc
	}
	for _, p := range [][2]*int64{{&acc.Debits, &b.Debits}, {&acc.Credits, &b.Credits}, {&acc.Lines, &b.Lines},
		{&acc.DrInternal, &b.DrInternal}, {&acc.CrInternal, &b.CrInternal}, {&acc.DrTransfer, &b.DrTransfer}, {&acc.CrTransfer, &b.CrTransfer}} {
		s, ok := addChecked(*p[0], *p[1])
		if !ok {
			return apperr.New(apperr.Internal, "journal totals of %s overflow", b.Account)
		}
		*p[0] = s
	}
	return nil
}

func (t totals) get(currency string, a AccountID) balanceItem {
	if b := t[currency][a]; b != nil {
		return *b
	}
	return balanceItem{}
}

func (t totals) currencies() []string {
	out := make([]string, 0, len(t))
	for c := range t {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// TrialBalance returns every account's debits, credits and balance per currency from the daily
// balance items of every day up to and including the UTC day of asOf. It checks Σ debits = Σ
// credits per currency; when one differs, it returns the balance with an error wrapping
// ErrUnbalanced.
func (r Repo) TrialBalance(ctx context.Context, asOf time.Time) (TrialBalance, error) {
	if asOf.Before(minDate) || asOf.After(maxDate) {
		return TrialBalance{}, apperr.New(apperr.Invalid, "date is out of range")
	}
	items, err := r.readBalances(ctx, asOf)
	if err != nil {
		return TrialBalance{}, err
	}
	t := totals{}
	for _, b := range items {
		if err := t.add(b); err != nil {
			return TrialBalance{}, err
		}
	}
	return trialBalance(dayStart(asOf), t)
}

func trialBalance(asOf time.Time, t totals) (TrialBalance, error) {
	tb := TrialBalance{AsOf: asOf.Format("2006-01-02")}
	var unbalanced []string
	for _, cur := range t.currencies() {
		cb := CurrencyBalance{Currency: cur}
		for _, a := range chart {
			b := t.get(cur, a.ID)
			cb.Accounts = append(cb.Accounts, AccountBalance{Account: a, Debits: b.Debits, Credits: b.Credits, Balance: a.Balance(b.Debits, b.Credits)})
			var ok1, ok2 bool
			cb.Debits, ok1 = addChecked(cb.Debits, b.Debits)
			cb.Credits, ok2 = addChecked(cb.Credits, b.Credits)
			if !ok1 || !ok2 {
				return tb, apperr.New(apperr.Internal, "trial balance of %s overflows", cur)
			}
		}
		for a := range t[cur] {
			if !Known(a) { // an item of an account no longer in the chart: ids are never removed
				return tb, apperr.New(apperr.Internal, "balance of unknown account %q", a)
			}
		}
		cb.Balanced = cb.Debits == cb.Credits
		if !cb.Balanced {
			unbalanced = append(unbalanced, cur)
		}
		tb.Currencies = append(tb.Currencies, cb)
	}
	if len(unbalanced) > 0 {
		return tb, apperr.Wrap(ErrUnbalanced, apperr.Internal, "trial balance as of %s does not balance in %v", tb.AsOf, unbalanced)
	}
	return tb, nil
}

// Statement is one month's statement from the daily balances.
type Statement struct {
	Month      string // yyyy-mm
	From, To   time.Time
	Closed     bool   // false while the month (or part of it) is still ahead: figures will change
	Note       string // says so when the month is not closed
	Currencies []CurrencyStatement
}

// CurrencyStatement is the month in one currency. Amounts are minor units.
type CurrencyStatement struct {
	Currency string
	Streams  []StreamRevenue
	// NetRevenue is Σ of the streams' Net; StripeFees and DisputeFees are Stripe's fees of the month
	// (not attributed to a stream); NetAfterFees = NetRevenue − StripeFees − DisputeFees.
	NetRevenue   int64
	StripeFees   int64
	DisputeFees  int64
	NetAfterFees int64
	Payable      PayableMovements
	// TokenDiscounts is the month's token-funded discounts (marketing_token_redemptions, net).
	TokenDiscounts int64
	// CustomerCredit is the Stripe customer-balance credit: granted (credited), used (debited).
	CustomerCredit Movement
}

// StreamRevenue is one revenue stream: gross revenue, its refunds and disputes, and the net.
type StreamRevenue struct {
	Stream   string // "subscriptions" | "marketplace_commission"
	Gross    int64
	Refunds  int64
	Disputes int64
	Net      int64
}

// Movement is one account's month on its normal side: Opening + Increases − Decreases = Closing.
type Movement struct {
	Account   AccountID
	Opening   int64
	Increases int64
	Decreases int64
	Closing   int64
}

// PayableMovements is what the platform owes instructors over the month, all three buckets
// together: Opening + Credited − Debited − PaidOut = Closing. Moves between the buckets (a release,
// a dispute hold) are left out of Credited and Debited; PaidOut is payouts net of transfer
// reversals; Debited is the rest (refunds and lost disputes taking earnings back).
type PayableMovements struct {
	Opening  int64
	Credited int64
	Debited  int64
	PaidOut  int64
	Closing  int64
	Buckets  []Movement // pending, available, held, each with the moves between them
}

var streams = []struct {
	name                       string
	revenue, refunds, disputes AccountID
}{
	{"subscriptions", RevenueSubscriptions, RefundsSubscriptions, DisputesSubscriptions},
	{"marketplace_commission", RevenueMarketplaceCommission, RefundsMarketplace, DisputesMarketplace},
}

// ParseMonth parses "yyyy-mm" (a malformed or out-of-range month is an apperr.Invalid).
func ParseMonth(s string) (time.Time, error) {
	m, err := time.Parse("2006-01", s)
	if err != nil || m.Before(minDate) || m.After(maxDate) {
		return time.Time{}, apperr.New(apperr.Invalid, "month must be yyyy-mm")
	}
	return m.UTC(), nil
}

// Statement returns the statement of month (any time inside it) as of now: revenue by stream net
// of refunds and disputes, Stripe's fees, instructor payable movements, token-funded discounts.
// A month that has not ended by now is marked not closed.
func (r Repo) Statement(ctx context.Context, month, now time.Time) (Statement, error) {
	from := monthStart(month)
	to := from.AddDate(0, 1, 0)
	if from.Before(minDate) || to.After(maxDate) {
		return Statement{}, apperr.New(apperr.Invalid, "month is out of range")
	}
	items, err := r.readBalances(ctx, to.AddDate(0, 0, -1))
	if err != nil {
		return Statement{}, err
	}
	opening, moved := totals{}, totals{}
	first := from.Format("2006-01-02")
	for _, b := range items {
		t := moved
		if b.Day < first {
			t = opening
		}
		if err := t.add(b); err != nil {
			return Statement{}, err
		}
	}
	return statement(from, to, now, opening, moved), nil
}

func statement(from, to, now time.Time, opening, moved totals) Statement {
	st := Statement{Month: from.Format("2006-01"), From: from, To: to, Closed: !now.Before(to)}
	if !st.Closed {
		st.Note = "the month is not closed yet: its figures will change until " + to.Format("2006-01-02")
	}
	cur := map[string]bool{}
	for _, c := range append(opening.currencies(), moved.currencies()...) {
		cur[c] = true
	}
	names := make([]string, 0, len(cur))
	for c := range cur {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		cs := CurrencyStatement{Currency: c}
		net := func(a AccountID) int64 { b := moved.get(c, a); return byID[a].Balance(b.Debits, b.Credits) }
		for _, s := range streams {
			sr := StreamRevenue{Stream: s.name, Gross: net(s.revenue), Refunds: net(s.refunds), Disputes: net(s.disputes)}
			sr.Net = sr.Gross - sr.Refunds - sr.Disputes
			cs.NetRevenue += sr.Net
			cs.Streams = append(cs.Streams, sr)
		}
		cs.StripeFees, cs.DisputeFees = net(FeesStripeProcessing), net(FeesDispute)
		cs.NetAfterFees = cs.NetRevenue - cs.StripeFees - cs.DisputeFees
		cs.TokenDiscounts = net(MarketingTokenRedemptions)
		cs.CustomerCredit = movement(CustomerCredit, opening.get(c, CustomerCredit), moved.get(c, CustomerCredit))

		p := &cs.Payable
		for _, a := range []AccountID{InstructorPayablePending, InstructorPayableAvailable, InstructorPayableHeld} {
			o, m := opening.get(c, a), moved.get(c, a)
			mv := movement(a, o, m)
			p.Buckets = append(p.Buckets, mv)
			p.Opening += mv.Opening
			p.Closing += mv.Closing
			// Liabilities: credits increase. Leave out moves between the buckets; a transfer entry's
			// debit is a payout, its credit a reversal.
			p.Credited += m.Credits - m.CrInternal - m.CrTransfer
			p.Debited += m.Debits - m.DrInternal - m.DrTransfer
			p.PaidOut += m.DrTransfer - m.CrTransfer
		}
		st.Currencies = append(st.Currencies, cs)
	}
	return st
}

func movement(a AccountID, opening, moved balanceItem) Movement {
	acc := byID[a]
	mv := Movement{Account: a, Opening: acc.Balance(opening.Debits, opening.Credits)}
	if acc.Normal == Debit {
		mv.Increases, mv.Decreases = moved.Debits, moved.Credits
	} else {
		mv.Increases, mv.Decreases = moved.Credits, moved.Debits
	}
	mv.Closing = mv.Opening + mv.Increases - mv.Decreases
	return mv
}
