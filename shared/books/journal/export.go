package journal

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/liberation/monetization/shared/apperr"
)

// The general-ledger export: one line per posting, as CSV (RFC 4180, encoding/csv, with a header
// row) or as JSON Lines (one object per line). Amounts are integer minor units of the line's
// currency (cents for usd; 500 jpy is ¥500): the columns say so (debit_minor, credit_minor), and
// an importer divides by 10^exponent of the currency itself, so nothing is rounded here.
//
// Columns, in order:
//
//	date          effective day, yyyy-mm-dd (UTC)
//	entry_id      the entry (one source event); lines of one entry balance
//	line          the line's index in its entry
//	account       chart-of-accounts id (docs/books.md)
//	debit_minor   debit in minor units, or 0
//	credit_minor  credit in minor units, or 0
//	currency      lower-case ISO 4217
//	source        the source object id (Stripe or ours)
//	memo          the line's memo, else the entry's
//	party         the instructor or user the line belongs to, if any
//	kind          the posting rule
//	area          the area that posted it
//	time          effective time, RFC 3339 with nanoseconds (UTC)
var csvHeader = []string{"date", "entry_id", "line", "account", "debit_minor", "credit_minor", "currency",
	"source", "memo", "party", "kind", "area", "time"}

// CSVHeader returns the export's header row.
func CSVHeader() []string { return slices.Clone(csvHeader) }

// WriteCSV writes postings as CSV with a header row.
func WriteCSV(w io.Writer, postings []Posting) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, p := range postings {
		if err := cw.Write([]string{p.Date.UTC().Format("2006-01-02"), p.EntryID, strconv.Itoa(p.Line), string(p.Account),
			strconv.FormatInt(p.Debit, 10), strconv.FormatInt(p.Credit, 10), p.Currency, p.Source, p.Memo, p.Party,
			p.Kind, p.Area, p.Date.UTC().Format(time.RFC3339Nano)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ParseCSV reads an export written by WriteCSV back into postings. A wrong header, a malformed
// amount or time, or an account outside the chart is an apperr.Invalid naming the record.
func ParseCSV(r io.Reader) ([]Posting, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(csvHeader)
	head, err := cr.Read()
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Invalid, "export: no header row")
	}
	if !slices.Equal(head, csvHeader) {
		return nil, apperr.New(apperr.Invalid, "export: header is %v, want %v", head, csvHeader)
	}
	var out []Posting
	for n := 2; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Invalid, "export: record %d", n)
		}
		line, e1 := strconv.Atoi(rec[2])
		dr, e2 := strconv.ParseInt(rec[4], 10, 64)
		cr, e3 := strconv.ParseInt(rec[5], 10, 64)
		at, e4 := time.Parse(time.RFC3339Nano, rec[12])
		if err := errors.Join(e1, e2, e3, e4); err != nil {
			return nil, apperr.Wrap(err, apperr.Invalid, "export: record %d", n)
		}
		p := Posting{Date: at.UTC(), EntryID: rec[1], Line: line, Account: AccountID(rec[3]), Debit: dr, Credit: cr,
			Currency: rec[6], Source: rec[7], Memo: rec[8], Party: rec[9], Kind: rec[10], Area: rec[11]}
		if err := checkPosting(p, rec[0]); err != nil {
			return nil, apperr.Wrap(err, apperr.Invalid, "export: record %d", n)
		}
		out = append(out, p)
	}
}

// MonthPostings returns every posting of the entries effective in the UTC month of month, in
// time order: what a monthly export writes.
func (r Repo) MonthPostings(ctx context.Context, month time.Time) ([]Posting, error) {
	from := monthStart(month)
	var out []Posting
	err := r.EachEntry(ctx, from, from.AddDate(0, 1, 0), func(e Entry) error {
		out = append(out, e.Postings()...)
		return nil
	})
	return out, err
}

// jsonPosting is a JSON export line (camelCase, like the API).
type jsonPosting struct {
	Date        string `json:"date"`
	EntryID     string `json:"entryId"`
	Line        int    `json:"line"`
	Account     string `json:"account"`
	DebitMinor  int64  `json:"debitMinor"`
	CreditMinor int64  `json:"creditMinor"`
	Currency    string `json:"currency"`
	Source      string `json:"source"`
	Memo        string `json:"memo,omitempty"`
	Party       string `json:"party,omitempty"`
	Kind        string `json:"kind"`
	Area        string `json:"area"`
	Time        string `json:"time"`
}

// WriteJSON writes postings as JSON Lines: one object per posting, one per line, the CSV's fields.
func WriteJSON(w io.Writer, postings []Posting) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, p := range postings {
		if err := enc.Encode(jsonPosting{Date: p.Date.UTC().Format("2006-01-02"), EntryID: p.EntryID, Line: p.Line,
			Account: string(p.Account), DebitMinor: p.Debit, CreditMinor: p.Credit, Currency: p.Currency, Source: p.Source,
			Memo: p.Memo, Party: p.Party, Kind: p.Kind, Area: p.Area, Time: p.Date.UTC().Format(time.RFC3339Nano)}); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ParseJSON reads JSON Lines written by WriteJSON back into postings (unknown fields refused).
func ParseJSON(r io.Reader) ([]Posting, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var out []Posting
	for n := 1; ; n++ {
		var jp jsonPosting
		if err := dec.Decode(&jp); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, apperr.Wrap(err, apperr.Invalid, "export: line %d", n)
		}
		at, err := time.Parse(time.RFC3339Nano, jp.Time)
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Invalid, "export: line %d", n)
		}
		p := Posting{Date: at.UTC(), EntryID: jp.EntryID, Line: jp.Line, Account: AccountID(jp.Account), Debit: jp.DebitMinor,
			Credit: jp.CreditMinor, Currency: jp.Currency, Source: jp.Source, Memo: jp.Memo, Party: jp.Party, Kind: jp.Kind, Area: jp.Area}
		if err := checkPosting(p, jp.Date); err != nil {
			return nil, apperr.Wrap(err, apperr.Invalid, "export: line %d", n)
		}
		out = append(out, p)
	}
}

func checkPosting(p Posting, day string) error {
	switch {
	case p.Date.Format("2006-01-02") != day:
		return errors.New("date and time disagree")
	case !Known(p.Account):
		return errors.New("account " + string(p.Account) + " is not in the chart")
	case p.Debit < 0 || p.Credit < 0 || (p.Debit > 0) == (p.Credit > 0):
		return errors.New("exactly one of debit and credit is positive")
	case p.EntryID == "" || !currencyPattern.MatchString(p.Currency):
		return errors.New("entry id or currency missing")
	}
	return nil
}

// CheckBalanced checks postings as a general-ledger import would: every entry's lines are in one
// currency and its debits equal its credits. It returns Σ debits per currency.
func CheckBalanced(postings []Posting) (map[string]int64, error) {
	type sums struct {
		currency string
		dr, cr   int64
	}
	entries := map[string]*sums{}
	totals := map[string]int64{}
	for _, p := range postings {
		s := entries[p.EntryID]
		if s == nil {
			s = &sums{currency: p.Currency}
			entries[p.EntryID] = s
		}
		if s.currency != p.Currency {
			return nil, apperr.New(apperr.Invalid, "entry %s mixes currencies %s and %s", p.EntryID, s.currency, p.Currency)
		}
		var ok1, ok2, ok3 bool
		s.dr, ok1 = addChecked(s.dr, p.Debit)
		s.cr, ok2 = addChecked(s.cr, p.Credit)
		totals[p.Currency], ok3 = addChecked(totals[p.Currency], p.Debit)
		if !ok1 || !ok2 || !ok3 {
			return nil, apperr.New(apperr.Invalid, "entry %s: amounts overflow", p.EntryID)
		}
	}
	ids := make([]string, 0, len(entries))
	for id := range entries {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if s := entries[id]; s.dr != s.cr {
			return nil, apperr.New(apperr.Invalid, "entry %s does not balance: debits %d, credits %d", id, s.dr, s.cr)
		}
	}
	return totals, nil
}
