package books

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
)

var routes = []string{"get-books-trial-balance", "list-books-account-entries", "get-books-statement", "create-books-export"}

// Only administrators reach the books: another signed-in user is a 403, nobody a 401, on every
// route — and before any input is looked at (the export's body is valid here).
func TestRoutesAreForAdmins(t *testing.T) {
	w := newWorld(t)
	for _, name := range routes {
		q := req{path: map[string]string{"account": string(journal.StripeInFlight)}}
		if name == "create-books-export" {
			q.body = map[string]string{"month": "2026-10", "format": "csv"}
		}
		q.who = "user"
		if got, code := w.call(t, name, q, nil); got != http.StatusForbidden || code != apperr.Forbidden {
			t.Errorf("%s as a user: %d %s, want 403", name, got, code)
		}
		q.who = "none"
		if got, _ := w.call(t, name, q, nil); got != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d, want 401", name, got)
		}
		q.who = ""
		want := http.StatusOK
		if name == "create-books-export" {
			want = http.StatusCreated
		}
		w.must(t, name, q, want, nil)
	}
	if n := len(w.blobs.objects); n != 1 {
		t.Fatalf("%d exports stored, want only the admin's", n)
	}
}

// randomHistory posts n random balanced entries (2–4 lines on any accounts, usd or eur) over the
// days around now, tomorrow included, and returns them.
func randomHistory(t *testing.T, w *world, rng *rand.Rand, n int) []journal.Entry {
	chart := journal.Chart()
	var es []journal.Entry
	for i := 0; i < n; i++ {
		at := now.Add(time.Duration(rng.Int63n(int64(50 * 24 * time.Hour)))).Add(-48 * 24 * time.Hour)
		cur := []string{"usd", "eur"}[rng.Intn(2)]
		k := 1 + rng.Intn(3) // debit lines; one credit line balances them
		var lines []journal.Line
		var total int64
		for j := 0; j < k; j++ {
			amt := 1 + rng.Int63n(100000)
			total += amt
			lines = append(lines, dr(chart[rng.Intn(len(chart))].ID, amt))
		}
		lines = append(lines, cr(chart[rng.Intn(len(chart))].ID, total))
		rng.Shuffle(len(lines), func(a, b int) { lines[a], lines[b] = lines[b], lines[a] })
		es = append(es, entry(kindAny, "test", fmt.Sprintf("r%03d", i), cur, at, lines...))
	}
	w.post(t, es...)
	return es
}

// The trial balance as of a day holds every account of the chart per currency with exactly the
// debits and credits of the entries effective up to the end of that day (computed here from the
// entries posted), each balance on the account's normal side, and debits = credits.
func TestTrialBalanceIsTheEntriesUpToTheDay(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	w := newWorld(t)
	es := randomHistory(t, w, rng, 60)
	tomorrow := dayStart(now).AddDate(0, 0, 1)

	for _, day := range []time.Time{{}, dayStart(now).AddDate(0, 0, -20), dayStart(now).AddDate(0, 0, -1), tomorrow} {
		q := req{}
		asOf := dayStart(now) // the default: today
		if !day.IsZero() {
			q.query = map[string]string{"date": day.Format("2006-01-02")}
			asOf = day
		}
		var got TrialBalanceView
		w.must(t, "get-books-trial-balance", q, http.StatusOK, &got)
		want := expect(es, func(e journal.Entry) bool { return e.Date.Before(asOf.AddDate(0, 0, 1)) })
		if got.AsOf != asOf.Format("2006-01-02") || !got.Balanced {
			t.Fatalf("as of %s: asOf %s, balanced %v", asOf.Format("2006-01-02"), got.AsOf, got.Balanced)
		}
		if len(got.Currencies) != len(want) {
			t.Fatalf("as of %s: %d currencies, want %d", got.AsOf, len(got.Currencies), len(want))
		}
		for _, c := range got.Currencies {
			if len(c.Accounts) != len(journal.Chart()) {
				t.Fatalf("%s %s: %d accounts, want the whole chart", got.AsOf, c.Currency, len(c.Accounts))
			}
			var sumDr, sumCr int64
			for _, a := range c.Accounts {
				acct, _ := journal.Lookup(journal.AccountID(a.Account))
				exp := want[c.Currency][acct.ID]
				if a.Debits != exp[0] || a.Credits != exp[1] || a.Balance != acct.Balance(exp[0], exp[1]) ||
					a.NormalSide != string(acct.Normal) || a.Type != string(acct.Type) {
					t.Errorf("%s %s %s: %+v, want debits %d credits %d", got.AsOf, c.Currency, a.Account, a, exp[0], exp[1])
				}
				sumDr, sumCr = sumDr+a.Debits, sumCr+a.Credits
			}
			if c.Debits != sumDr || c.Credits != sumCr || c.Debits != c.Credits || !c.Balanced {
				t.Errorf("%s %s: totals %d/%d, accounts sum %d/%d", got.AsOf, c.Currency, c.Debits, c.Credits, sumDr, sumCr)
			}
		}
	}
}

// Malformed and out-of-range dates are 400s; the bounds themselves (2000-01-01, tomorrow) are not.
func TestTrialBalanceBadDates(t *testing.T) {
	w := newWorld(t)
	for _, d := range []string{"", "2026-11-3", "2026-13-01", "2026-02-30", "15/11/2026", "2026-11-15T00:00:00Z",
		"1999-12-31", now.AddDate(0, 0, 2).Format("2006-01-02"), "9999-12-31", " 2026-11-15"} {
		w.bad(t, "get-books-trial-balance", req{query: map[string]string{"date": d}})
	}
	for _, d := range []string{"2000-01-01", now.AddDate(0, 0, 1).Format("2006-01-02")} {
		var got TrialBalanceView
		w.must(t, "get-books-trial-balance", req{query: map[string]string{"date": d}}, http.StatusOK, &got)
		if got.AsOf != d || len(got.Currencies) != 0 || !got.Balanced {
			t.Errorf("date %s: %+v, want empty balanced books", d, got)
		}
	}
}

// brokenBooks answers a trial balance that does not balance, as the journal does when a write
// went around it.
type brokenBooks struct{}

func (brokenBooks) TrialBalance(_ context.Context, asOf time.Time) (journal.TrialBalance, error) {
	tb := journal.TrialBalance{AsOf: asOf.Format("2006-01-02"), Currencies: []journal.CurrencyBalance{
		{Currency: "usd", Debits: 100, Credits: 90, Balanced: false}}}
	return tb, apperr.Wrap(journal.ErrUnbalanced, apperr.Internal, "does not balance")
}

// Books that do not balance are still shown (to find out why), marked balanced false; any other
// failure of the read is the failure.
func TestTrialBalanceShowsBrokenBooks(t *testing.T) {
	w := newWorld(t)
	var got TrialBalanceView
	if _, code := serve(t, handleTrialBalance(w.clk, brokenBooks{}), "get-books-trial-balance", nil, &got); code != "" {
		t.Fatalf("unbalanced books: error %s, want the figures", code)
	}
	if got.Balanced || len(got.Currencies) != 1 || got.Currencies[0].Balanced || got.Currencies[0].Debits != 100 {
		t.Fatalf("unbalanced books shown as %+v", got)
	}
	failing := failingBooks{apperr.New(apperr.Unavailable, "down")}
	if st, code := serve(t, handleTrialBalance(w.clk, failing), "get-books-trial-balance", nil, nil); st != 503 || code != apperr.Unavailable {
		t.Fatalf("failed read: %d %s, want 503", st, code)
	}
}

type failingBooks struct{ err error }

func (f failingBooks) TrialBalance(context.Context, time.Time) (journal.TrialBalance, error) {
	return journal.TrialBalance{}, f.err
}

// serve calls one handler (not the world's) as an admin.
func serve(t *testing.T, h httpapi.Handler, name string, query map[string]string, out any) (int, apperr.Code) {
	t.Helper()
	return callLambda(t, httpapi.Route(manifest.MustByName(name), h), query, out, "")
}

// An account's postings in [from, to), paged with the journal's cursors, are exactly the entries'
// lines on that account effective in the range, oldest first; the default range is the current
// month up to the end of today.
func TestAccountEntriesPages(t *testing.T) {
	w := newWorld(t)
	var es []journal.Entry
	at := time.Date(2026, 9, 28, 9, 0, 0, 0, time.UTC)
	for i := 0; at.Before(now.AddDate(0, 0, 2)); i++ {
		if i%3 == 0 {
			es = append(es, sale(fmt.Sprintf("ch_%02d", i), "usd", at, int64(1000+i)))
		} else {
			es = append(es, sub(fmt.Sprintf("in_%02d", i), at, int64(2000+i)))
		}
		at = at.Add(31 * time.Hour)
	}
	w.post(t, es...)

	account := journal.StripeInFlight
	for _, c := range []struct {
		from, to string
		limit    string
	}{
		{"2026-09-01", "2026-11-17", "3"},  // three month partitions and tomorrow, small pages
		{"2026-10-01", "2026-11-01", "7"},  // one month exactly
		{"2026-10-06", "2026-10-07", "50"}, // one day
		{"", "", "4"},                      // the current month to the end of today
		{"2026-09-01", "2026-11-17", ""},   // the default limit, one page
	} {
		from, to := c.from, c.to
		q := map[string]string{}
		if from != "" {
			q["from"], q["to"] = from, to
		} else {
			from, to = "2026-11-01", "2026-11-16"
		}
		if c.limit != "" {
			q["limit"] = c.limit
		}
		f, _ := time.Parse("2006-01-02", from)
		tt, _ := time.Parse("2006-01-02", to)
		want := postingsOf(es, func(p journal.Posting) bool {
			return p.Account == account && !p.Date.Before(f) && p.Date.Before(tt)
		})
		var got []PostingView
		pages := 0
		for cursor := ""; ; pages++ {
			if cursor != "" {
				q["cursor"] = cursor
			}
			var page struct {
				Postings   []PostingView `json:"postings"`
				NextCursor string        `json:"nextCursor"`
			}
			w.must(t, "list-books-account-entries", req{path: map[string]string{"account": string(account)}, query: q}, http.StatusOK, &page)
			got = append(got, page.Postings...)
			if page.NextCursor == "" {
				break
			}
			if pages > 100 {
				t.Fatal("the pages never end")
			}
			cursor = page.NextCursor
		}
		if len(got) != len(want) {
			t.Fatalf("%s..%s: %d postings, want %d", from, to, len(got), len(want))
		}
		for i := range want {
			if wv := postingView(want[i]); !reflect.DeepEqual(got[i], wv) {
				t.Fatalf("%s..%s posting %d: %+v, want %+v", from, to, i, got[i], wv)
			}
		}
		if len(want) == 0 {
			t.Fatalf("%s..%s: the case reads nothing; it proves nothing", from, to)
		}
		t.Logf("%s..%s: %d postings in %d pages", from, to, len(got), pages+1)
	}
}

// Bad input of the account's postings: an account outside the chart is a 404; a malformed date,
// an empty or reversed range, one longer than 366 days or outside 2000-01-01..the day after
// tomorrow, a bad limit, and a cursor of another account or range are 400s.
func TestAccountEntriesBadInput(t *testing.T) {
	w := newWorld(t)
	for i := 0; i < 5; i++ {
		w.post(t, sub(fmt.Sprintf("in_%d", i), now.Add(-time.Duration(i)*time.Hour), 100))
	}
	if got, code := w.call(t, "list-books-account-entries", req{path: map[string]string{"account": "petty_cash"}}, nil); got != 404 || code != apperr.NotFound {
		t.Errorf("unknown account: %d %s, want 404", got, code)
	}
	path := map[string]string{"account": string(journal.StripeInFlight)}
	for _, q := range []map[string]string{
		{"from": "2026-11-1", "to": "2026-11-16"},
		{"from": "2026-11-01", "to": "20261116"},
		{"from": "", "to": "2026-11-16"},
		{"from": "2026-11-16", "to": "2026-11-16"},
		{"from": "2026-11-16", "to": "2026-11-01"},
		{"from": "2025-11-01", "to": "2026-11-03"},
		{"from": "1999-12-31", "to": "2000-01-02"},
		{"from": "2026-11-01", "to": "2026-11-18"}, // past the day after tomorrow
		{"from": "2026-11-17"},                     // from after tomorrow (to defaults to tomorrow)
		{"limit": "0"}, {"limit": "501"}, {"limit": "x"},
		{"cursor": "not-a-cursor"},
	} {
		w.bad(t, "list-books-account-entries", req{path: path, query: q})
	}
	// The bounds themselves are in.
	w.must(t, "list-books-account-entries", req{path: path, query: map[string]string{"from": "2026-11-16", "to": "2026-11-17"}}, 200, nil)
	w.must(t, "list-books-account-entries", req{path: path, query: map[string]string{"from": "2025-11-15", "to": "2026-11-16"}}, 200, nil)

	// A cursor is bound to its account and range.
	var page struct{ NextCursor string }
	q := map[string]string{"from": "2026-11-01", "to": "2026-11-16", "limit": "2"}
	w.must(t, "list-books-account-entries", req{path: path, query: q}, 200, &page)
	if page.NextCursor == "" {
		t.Fatal("no second page")
	}
	w.bad(t, "list-books-account-entries", req{path: map[string]string{"account": string(journal.RevenueSubscriptions)},
		query: map[string]string{"from": "2026-11-01", "to": "2026-11-16", "cursor": page.NextCursor}})
	w.bad(t, "list-books-account-entries", req{path: path,
		query: map[string]string{"from": "2026-11-02", "to": "2026-11-16", "cursor": page.NextCursor}})
}

// The statement of a closed month and of the open one: revenue by stream net of refunds, fees,
// the instructor payable — each figure computed here from the entries posted — and the open month
// says so.
func TestStatement(t *testing.T) {
	w := newWorld(t)
	oct := time.Date(2026, 10, 10, 8, 0, 0, 0, time.UTC)
	es := []journal.Entry{
		sale("ch_a", "usd", oct, 10000), sale("ch_b", "usd", oct.Add(time.Hour), 5001),
		sub("in_a", oct, 2000), sub("in_b", oct.AddDate(0, 0, 3), 3000), subRefund("re_a", oct.AddDate(0, 0, 5), 500),
		fee("txn_a", oct.AddDate(0, 0, 1), 2000, 88),
		sale("ch_c", "usd", now.Add(-time.Hour), 20000), sub("in_c", now.Add(-2*time.Hour), 4000),
		sale("ch_e", "eur", oct, 7000),
	}
	w.post(t, es...)

	check := func(month string, wantClosed bool) {
		t.Helper()
		var got StatementView
		w.must(t, "get-books-statement", req{query: map[string]string{"month": month}}, 200, &got)
		m, _ := time.Parse("2006-01", month)
		in := func(e journal.Entry) bool { return !e.Date.Before(m) && e.Date.Before(m.AddDate(0, 1, 0)) }
		moved := expect(es, in)
		if got.Month != month || got.Closed != wantClosed || (got.Note == "") == !wantClosed ||
			!got.From.Equal(m) || !got.To.Equal(m.AddDate(0, 1, 0)) {
			t.Fatalf("%s: month %s closed %v note %q from %s to %s", month, got.Month, got.Closed, got.Note, got.From, got.To)
		}
		for _, c := range got.Currencies {
			mv := moved[c.Currency]
			credit := func(a journal.AccountID) int64 { return mv[a][1] - mv[a][0] }
			debit := func(a journal.AccountID) int64 { return mv[a][0] - mv[a][1] }
			byStream := map[string]StreamView{}
			for _, s := range c.Streams {
				byStream[s.Stream] = s
			}
			subs, mkt := byStream["subscriptions"], byStream["marketplace_commission"]
			if subs.Gross != credit(journal.RevenueSubscriptions) || subs.Refunds != debit(journal.RefundsSubscriptions) ||
				subs.Net != subs.Gross-subs.Refunds-subs.Disputes || mkt.Gross != credit(journal.RevenueMarketplaceCommission) {
				t.Errorf("%s %s streams %+v", month, c.Currency, c.Streams)
			}
			if c.NetRevenue != subs.Net+mkt.Net || c.StripeFees != debit(journal.FeesStripeProcessing) ||
				c.NetAfterFees != c.NetRevenue-c.StripeFees-c.DisputeFees {
				t.Errorf("%s %s: net %d fees %d after %d", month, c.Currency, c.NetRevenue, c.StripeFees, c.NetAfterFees)
			}
			if c.Payable.Credited != credit(journal.InstructorPayablePending) ||
				c.Payable.Closing != c.Payable.Opening+c.Payable.Credited-c.Payable.Debited-c.Payable.PaidOut || len(c.Payable.Buckets) != 3 {
				t.Errorf("%s %s payable %+v", month, c.Currency, c.Payable)
			}
		}
		if month == "2026-10" && (len(got.Currencies) != 2 || got.Currencies[1].Currency != "usd") {
			t.Fatalf("october: currencies %+v, want eur and usd", got.Currencies)
		}
	}
	check("2026-10", true)
	check("2026-11", false)

	// Without a month: the current one.
	var cur StatementView
	w.must(t, "get-books-statement", req{}, 200, &cur)
	if cur.Month != "2026-11" || cur.Closed {
		t.Fatalf("default month %s closed %v", cur.Month, cur.Closed)
	}
	// The payable carries over: November opens where October closed.
	var oc StatementView
	w.must(t, "get-books-statement", req{query: map[string]string{"month": "2026-10"}}, 200, &oc)
	if cur.Currencies[len(cur.Currencies)-1].Payable.Opening != oc.Currencies[1].Payable.Closing {
		t.Fatalf("november opens at %d, october closed at %d", cur.Currencies[len(cur.Currencies)-1].Payable.Opening, oc.Currencies[1].Payable.Closing)
	}
}

// A malformed month, one before 2000 and one that has not begun are 400s.
func TestStatementBadMonths(t *testing.T) {
	w := newWorld(t)
	for _, m := range []string{"", "2026-1", "2026-13", "2026/10", "2026-10-01", "1999-12", "2026-12", "2027-01", "9999-12"} {
		w.bad(t, "get-books-statement", req{query: map[string]string{"month": m}})
	}
	w.must(t, "get-books-statement", req{query: map[string]string{"month": "2000-01"}}, 200, nil)
}

// The export of a month is every posting of its entries, one line each, stored under books/ and
// linked: read back (CSV and JSON Lines), it is exactly the entries' postings, each entry
// balances, and the answer's lines and per-currency totals are the file's.
func TestExportReadsBackAndBalances(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	w := newWorld(t)
	es := randomHistory(t, w, rng, 80)
	oct := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	extra := []journal.Entry{sale("ch_x", "usd", oct, 999), sub("in_x", oct.AddDate(0, 1, 0).Add(-time.Nanosecond), 1234)}
	w.post(t, extra...)
	es = append(es, extra...)

	for _, month := range []string{"2026-10", "2026-11"} {
		m, _ := time.Parse("2006-01", month)
		want := postingsOf(es, func(p journal.Posting) bool { return !p.Date.Before(m) && p.Date.Before(m.AddDate(0, 1, 0)) })
		for _, format := range []string{"csv", "json"} {
			var got ExportView
			w.must(t, "create-books-export", req{body: map[string]string{"month": month, "format": format}}, http.StatusCreated, &got)
			if !strings.HasPrefix(got.Key, manifest.BooksPrefix) || !strings.Contains(got.URL, got.Key) || got.Month != month ||
				got.Format != format || got.Closed != (month == "2026-10") || !got.ExpiresAt.Equal(now.Add(time.Hour)) {
				t.Fatalf("%s %s: %+v", month, format, got)
			}
			obj := w.blobs.get(t, got.Key)
			var back []journal.Posting
			var err error
			if format == "csv" {
				back, err = journal.ParseCSV(bytes.NewReader(obj.body))
			} else {
				back, err = journal.ParseJSON(bytes.NewReader(obj.body))
			}
			if err != nil {
				t.Fatalf("%s %s: read back: %v", month, format, err)
			}
			if !reflect.DeepEqual(back, want) {
				t.Fatalf("%s %s: %d postings read back, want %d (or they differ)", month, format, len(back), len(want))
			}
			totals, err := journal.CheckBalanced(back)
			if err != nil {
				t.Fatalf("%s %s: %v", month, format, err)
			}
			if got.Lines != len(back) || !reflect.DeepEqual(got.Debits, totals) || !reflect.DeepEqual(got.Credits, totals) {
				t.Fatalf("%s %s: lines %d debits %v credits %v; file %d lines, totals %v", month, format, got.Lines, got.Debits, got.Credits, len(back), totals)
			}
			if want := map[string]string{"csv": "text/csv; charset=utf-8", "json": "application/jsonl; charset=utf-8"}[format]; obj.obj.ContentType != want {
				t.Errorf("%s: content type %s", format, obj.obj.ContentType)
			}
			t.Logf("%s %s: %d lines", month, format, got.Lines)
		}
	}
}

// A month with nothing exports a header and no lines.
func TestExportOfAnEmptyMonth(t *testing.T) {
	w := newWorld(t)
	w.post(t, sub("in_1", now, 100)) // another month's entry is not in it
	var got ExportView
	w.must(t, "create-books-export", req{body: map[string]string{"month": "2026-09", "format": "csv"}}, http.StatusCreated, &got)
	body := w.blobs.get(t, got.Key).body
	if got.Lines != 0 || len(got.Debits) != 0 || string(body) != strings.Join(journal.CSVHeader(), ",")+"\n" {
		t.Fatalf("empty month: %+v, file %q", got, body)
	}
	w.must(t, "create-books-export", req{body: map[string]string{"month": "2026-09", "format": "json"}}, http.StatusCreated, &got)
	if b := w.blobs.get(t, got.Key).body; got.Lines != 0 || len(b) != 0 {
		t.Fatalf("empty month as JSON: %+v, file %q", got, b)
	}
}

// Bad export requests are 400s and store nothing.
func TestExportBadInput(t *testing.T) {
	w := newWorld(t)
	for _, body := range []any{
		map[string]string{"month": "2026-13", "format": "csv"},
		map[string]string{"month": "2026-1", "format": "csv"},
		map[string]string{"month": "1999-12", "format": "csv"},
		map[string]string{"month": "2026-12", "format": "csv"}, // not begun
		map[string]string{"month": "2026-10", "format": "xml"},
		map[string]string{"month": "2026-10", "format": "CSV"},
		map[string]string{"month": "2026-10"},
		map[string]string{"format": "csv"},
		map[string]string{"month": "2026-10", "format": "csv", "bucket": "x"},
		[]string{"2026-10"},
	} {
		w.bad(t, "create-books-export", req{body: body})
	}
	w.bad(t, "create-books-export", req{}) // no body
	if n := len(w.blobs.objects); n != 0 {
		t.Fatalf("%d objects stored by bad requests", n)
	}
}

// An export whose entries do not balance is never stored: a general-ledger import would refuse it.
func TestExportRefusesUnbalancedPostings(t *testing.T) {
	w := newWorld(t)
	bad := unbalanced{}
	st, code := callLambda(t, httpapi.Route(manifest.MustByName("create-books-export"), handleExport(w.clk, bad, w.blobs)),
		nil, nil, `{"month":"2026-10","format":"csv"}`)
	if st != 500 || code != apperr.Internal || len(w.blobs.objects) != 0 {
		t.Fatalf("unbalanced export: %d %s, %d objects", st, code, len(w.blobs.objects))
	}
}

type unbalanced struct{}

func (unbalanced) MonthPostings(context.Context, time.Time) ([]journal.Posting, error) {
	at := time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)
	return []journal.Posting{
		{EntryID: "x.1", Date: at, Account: journal.StripeInFlight, Debit: 100, Currency: "usd"},
		{EntryID: "x.1", Line: 1, Date: at, Account: journal.RevenueSubscriptions, Credit: 99, Currency: "usd"},
	}, nil
}
