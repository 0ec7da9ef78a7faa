package books

import (
	"time"

	"github.com/liberation/monetization/shared/books/journal"
)

// The routes' JSON answers (docs/openapi.yaml, schemas Books*). Amounts are integer minor units
// of their currency.

// TrialBalanceView is GET /admin/books/trial-balance.
type TrialBalanceView struct {
	AsOf       string                `json:"asOf"`     // yyyy-mm-dd, inclusive
	Balanced   bool                  `json:"balanced"` // every currency's debits equal its credits
	Currencies []CurrencyBalanceView `json:"currencies"`
}

// CurrencyBalanceView is one currency's trial balance: every account of the chart, in chart order.
type CurrencyBalanceView struct {
	Currency string               `json:"currency"`
	Debits   int64                `json:"debits"`
	Credits  int64                `json:"credits"`
	Balanced bool                 `json:"balanced"`
	Accounts []AccountBalanceView `json:"accounts"`
}

// AccountBalanceView is one account's totals; balance is on its normal side.
type AccountBalanceView struct {
	Account    string `json:"account"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	NormalSide string `json:"normalSide"`
	Debits     int64  `json:"debits"`
	Credits    int64  `json:"credits"`
	Balance    int64  `json:"balance"`
}

func trialBalanceView(tb journal.TrialBalance) TrialBalanceView {
	v := TrialBalanceView{AsOf: tb.AsOf, Balanced: true, Currencies: []CurrencyBalanceView{}}
	for _, c := range tb.Currencies {
		cv := CurrencyBalanceView{Currency: c.Currency, Debits: c.Debits, Credits: c.Credits, Balanced: c.Balanced,
			Accounts: make([]AccountBalanceView, 0, len(c.Accounts))}
		for _, a := range c.Accounts {
			cv.Accounts = append(cv.Accounts, AccountBalanceView{Account: string(a.Account.ID), Name: a.Account.Name,
				Type: string(a.Account.Type), NormalSide: string(a.Account.Normal), Debits: a.Debits, Credits: a.Credits, Balance: a.Balance})
		}
		v.Balanced = v.Balanced && c.Balanced
		v.Currencies = append(v.Currencies, cv)
	}
	return v
}

// PostingView is one line of an entry on its account.
type PostingView struct {
	EntryID  string    `json:"entryId"`
	Line     int       `json:"line"`
	Date     string    `json:"date"` // effective day, yyyy-mm-dd (UTC)
	Time     time.Time `json:"time"` // effective time (UTC)
	Account  string    `json:"account"`
	Debit    int64     `json:"debit"`
	Credit   int64     `json:"credit"`
	Currency string    `json:"currency"`
	Kind     string    `json:"kind"`
	Area     string    `json:"area"`
	Source   string    `json:"source"`
	Party    string    `json:"party,omitempty"`
	Memo     string    `json:"memo,omitempty"`
}

func postingView(p journal.Posting) PostingView {
	return PostingView{EntryID: p.EntryID, Line: p.Line, Date: p.Date.UTC().Format("2006-01-02"), Time: p.Date.UTC(),
		Account: string(p.Account), Debit: p.Debit, Credit: p.Credit, Currency: p.Currency, Kind: p.Kind, Area: p.Area,
		Source: p.Source, Party: p.Party, Memo: p.Memo}
}

// StatementView is GET /admin/books/statement.
type StatementView struct {
	Month      string                  `json:"month"`
	From       time.Time               `json:"from"` // the month is [from, to)
	To         time.Time               `json:"to"`
	Closed     bool                    `json:"closed"`
	Note       string                  `json:"note,omitempty"` // why the figures may still change
	Currencies []CurrencyStatementView `json:"currencies"`
}

// CurrencyStatementView is the month in one currency.
type CurrencyStatementView struct {
	Currency       string       `json:"currency"`
	Streams        []StreamView `json:"streams"`
	NetRevenue     int64        `json:"netRevenue"`
	StripeFees     int64        `json:"stripeFees"`
	DisputeFees    int64        `json:"disputeFees"`
	NetAfterFees   int64        `json:"netAfterFees"`
	Payable        PayableView  `json:"instructorPayable"`
	TokenDiscounts int64        `json:"tokenDiscounts"`
	CustomerCredit MovementView `json:"customerCredit"`
}

// StreamView is one revenue stream: gross, refunds, disputes and net.
type StreamView struct {
	Stream   string `json:"stream"`
	Gross    int64  `json:"gross"`
	Refunds  int64  `json:"refunds"`
	Disputes int64  `json:"disputes"`
	Net      int64  `json:"net"`
}

// MovementView is an account's month on its normal side.
type MovementView struct {
	Account   string `json:"account"`
	Opening   int64  `json:"opening"`
	Increases int64  `json:"increases"`
	Decreases int64  `json:"decreases"`
	Closing   int64  `json:"closing"`
}

// PayableView is what the platform owes instructors over the month.
type PayableView struct {
	Opening  int64          `json:"opening"`
	Credited int64          `json:"credited"`
	Debited  int64          `json:"debited"`
	PaidOut  int64          `json:"paidOut"`
	Closing  int64          `json:"closing"`
	Buckets  []MovementView `json:"buckets"`
}

func movementView(m journal.Movement) MovementView {
	return MovementView{Account: string(m.Account), Opening: m.Opening, Increases: m.Increases, Decreases: m.Decreases, Closing: m.Closing}
}

func statementView(st journal.Statement) StatementView {
	v := StatementView{Month: st.Month, From: st.From.UTC(), To: st.To.UTC(), Closed: st.Closed, Note: st.Note,
		Currencies: []CurrencyStatementView{}}
	for _, c := range st.Currencies {
		cv := CurrencyStatementView{Currency: c.Currency, NetRevenue: c.NetRevenue, StripeFees: c.StripeFees,
			DisputeFees: c.DisputeFees, NetAfterFees: c.NetAfterFees, TokenDiscounts: c.TokenDiscounts,
			CustomerCredit: movementView(c.CustomerCredit), Streams: []StreamView{},
			Payable: PayableView{Opening: c.Payable.Opening, Credited: c.Payable.Credited, Debited: c.Payable.Debited,
				PaidOut: c.Payable.PaidOut, Closing: c.Payable.Closing, Buckets: []MovementView{}}}
		for _, s := range c.Streams {
			cv.Streams = append(cv.Streams, StreamView(s))
		}
		for _, b := range c.Payable.Buckets {
			cv.Payable.Buckets = append(cv.Payable.Buckets, movementView(b))
		}
		v.Currencies = append(v.Currencies, cv)
	}
	return v
}

// ExportView is POST /admin/books/exports' answer.
type ExportView struct {
	Month     string    `json:"month"`
	Format    string    `json:"format"`
	Closed    bool      `json:"closed"` // false: the month is still open and a later export may differ
	Key       string    `json:"key"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
	Lines     int       `json:"lines"`
	// Debits and Credits are Σ of the lines per currency (equal in each: the export balances).
	Debits  map[string]int64 `json:"debits"`
	Credits map[string]int64 `json:"credits"`
}
