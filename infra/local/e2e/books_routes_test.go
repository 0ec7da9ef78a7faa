//go:build integration

package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/books"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/manifest"
)

// kindBooksE2E is this test's posting rule (areas register theirs from their init; this one
// stands for them): a subscription payment, stripe_in_flight against revenue.
const kindBooksE2E = "e2ebooks.payment"

func init() {
	journal.Register(journal.Rule{Area: "payments", Kind: kindBooksE2E, Summary: "an e2e payment",
		Accounts: []journal.AccountID{journal.StripeInFlight, journal.RevenueSubscriptions}})
}

// booksEntriesForExport is one more than the journal's page of entries (EachEntry reads 500 a
// page), so the export pages with a store cursor as a big month does.
const booksEntriesForExport = 501

// The books' routes through the local gateway on entries posted with the journal on the harness's
// store: the trial balance (debits = credits, the entries' totals), a page of an account's
// postings and the next one by its cursor, the statement of the open month, and an export
// downloaded from its presigned URL, parsed back and re-balanced. A non-admin gets 403 on each.
func TestBooksRoutes(t *testing.T) {
	var fns []manifest.Function
	for _, f := range manifest.Functions {
		if f.Area == "books" {
			fns = append(fns, f)
		}
	}
	h := Start(t, WithFunctions(fns...))
	repo := journal.Repo{S: h.Env.Store()}

	// Today's entries, seconds apart from the start of the UTC day: all in today and this month.
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var (
		mu    sync.Mutex
		total int64
		errs  []error
		wg    sync.WaitGroup
		next  = make(chan int)
	)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				amt := int64(100 + i)
				e := journal.Entry{ID: journal.EntryID(kindBooksE2E, fmt.Sprintf("in_e2e_%04d", i)), Kind: kindBooksE2E,
					Area: "payments", Source: fmt.Sprintf("in_e2e_%04d", i), Date: today.Add(time.Duration(i) * time.Second),
					Currency: "usd", Memo: "e2e payment", Lines: []journal.Line{
						{Account: journal.StripeInFlight, Debit: amt}, {Account: journal.RevenueSubscriptions, Credit: amt}}}
				err := repo.Post(t.Context(), e)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("post %s: %w", e.ID, err))
				} else {
					total += amt
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < booksEntriesForExport; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}

	admin := h.Token(t, "usr_books_admin", "books-admin@example.com", "admin")
	user := h.Token(t, "usr_books_user", "books-user@example.com")
	day := today.Format("2006-01-02")
	month := today.Format("2006-01")

	// Trial balance: debits = credits = the entries' total; the two accounts carry it.
	var tb books.TrialBalanceView
	h.Call(t, "GET", "/admin/books/trial-balance?date="+day, admin, nil, 200, &tb)
	if !tb.Balanced || len(tb.Currencies) != 1 || tb.Currencies[0].Debits != total || tb.Currencies[0].Credits != total {
		t.Fatalf("trial balance %+v, want usd debits = credits = %d", tb, total)
	}
	for _, a := range tb.Currencies[0].Accounts {
		want := int64(0)
		if a.Account == string(journal.StripeInFlight) || a.Account == string(journal.RevenueSubscriptions) {
			want = total
		}
		if a.Balance != want {
			t.Errorf("%s balance %d, want %d", a.Account, a.Balance, want)
		}
	}
	h.Call(t, "GET", "/admin/books/trial-balance?date=1999-12-31", admin, nil, 400, nil)

	// An account's postings: a page of 5, then the next page by its cursor, oldest first.
	base := "/admin/books/accounts/stripe_in_flight/entries?from=" + day + "&to=" + today.AddDate(0, 0, 1).Format("2006-01-02") + "&limit=5"
	type page struct {
		Postings   []books.PostingView `json:"postings"`
		NextCursor string              `json:"nextCursor"`
	}
	var p1, p2 page
	h.Call(t, "GET", base, admin, nil, 200, &p1)
	if len(p1.Postings) != 5 || p1.NextCursor == "" {
		t.Fatalf("first page: %d postings, cursor %q", len(p1.Postings), p1.NextCursor)
	}
	h.Call(t, "GET", base+"&cursor="+url.QueryEscape(p1.NextCursor), admin, nil, 200, &p2)
	for i, p := range append(p1.Postings, p2.Postings...) {
		if p.Source != fmt.Sprintf("in_e2e_%04d", i) || p.Debit != int64(100+i) || p.Account != string(journal.StripeInFlight) {
			t.Fatalf("posting %d: %+v", i, p)
		}
	}
	h.Call(t, "GET", "/admin/books/accounts/petty_cash/entries", admin, nil, 404, nil)

	// The statement of this (open) month.
	var st books.StatementView
	h.Call(t, "GET", "/admin/books/statement?month="+month, admin, nil, 200, &st)
	if st.Closed || st.Note == "" || len(st.Currencies) != 1 || st.Currencies[0].Streams[0].Stream != "subscriptions" ||
		st.Currencies[0].Streams[0].Net != total || st.Currencies[0].NetRevenue != total {
		t.Fatalf("statement %+v, want open with subscriptions net %d", st, total)
	}

	// The export: downloaded from its link, parsed back, every entry balanced, the totals the answer's.
	var ex books.ExportView
	h.Call(t, "POST", "/admin/books/exports", admin, map[string]string{"month": month, "format": "csv"}, 201, &ex)
	res, err := http.Get(ex.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("download %s: %d %v", ex.Key, res.StatusCode, err)
	}
	back, err := journal.ParseCSV(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	totals, err := journal.CheckBalanced(back)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2*booksEntriesForExport || ex.Lines != len(back) || totals["usd"] != total || ex.Debits["usd"] != total || ex.Credits["usd"] != total {
		t.Fatalf("export: %d lines read back (answer %d), totals %v (answer %v/%v), want %d lines and %d",
			len(back), ex.Lines, totals, ex.Debits, ex.Credits, 2*booksEntriesForExport, total)
	}

	// Non-admins: 403 on every route.
	for _, c := range []struct{ method, path string }{
		{"GET", "/admin/books/trial-balance"}, {"GET", "/admin/books/accounts/stripe_in_flight/entries"},
		{"GET", "/admin/books/statement"}, {"POST", "/admin/books/exports"},
	} {
		var b any
		if c.method == "POST" {
			b = map[string]string{"month": month, "format": "json"}
		}
		h.Call(t, c.method, c.path, user, b, 403, nil)
	}
}
