package journal

// The repository's contract cases: in process (minidyn) in `go test`, on moto with the integration
// tag (backend_*_test.go) — the same cases either way (decision 0073).

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

func newRepo(t testing.TB) Repo { return Repo{S: newTestStore(t, clock.NewFake(day0))} }

func sameEntry(a, b Entry) bool {
	if !a.Date.Equal(b.Date) {
		return false
	}
	a.Date, b.Date = time.Time{}, time.Time{}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func samePostings(a, b []Posting) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d postings, want %d", len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if !x.Date.Equal(y.Date) {
			return fmt.Errorf("posting %d: date %s, want %s", i, x.Date, y.Date)
		}
		x.Date, y.Date = time.Time{}, time.Time{}
		if x != y {
			return fmt.Errorf("posting %d: %+v, want %+v", i, x, y)
		}
	}
	return nil
}

// Posting twice changes nothing; the same id with other content is a conflict, and nothing of it
// is written.
func TestPostIsIdempotentPerSource(t *testing.T) {
	r := newRepo(t)
	ctx := t.Context()
	e := sale("ch_1", "ins_1", day0.Add(1234567*time.Nanosecond), 10000)
	e.Memo = "course crs_1"
	mustPost(t, r, e)
	got, err := r.Get(ctx, e.ID)
	if err != nil || !sameEntry(got, e) {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, e)
	}
	before, err := r.TrialBalance(ctx, day0)
	if err != nil {
		t.Fatal(err)
	}
	mustPost(t, r, e) // a webhook retry
	changed := e
	changed.Lines = []Line{dr(StripeInFlight, 20000), cr(InstructorPayablePending, 14000), cr(RevenueMarketplaceCommission, 6000)}
	if err := r.Post(ctx, changed); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("re-post with other content = %v, want Conflict", err)
	}
	after, err := r.TrialBalance(ctx, day0)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("re-posting changed the books:\n%v\n%v", before, after)
	}
	if b := balanceOf(after, "usd", StripeInFlight); b != 10000 {
		t.Fatalf("stripe_in_flight = %d, want 10000", b)
	}
	if _, err := r.Get(ctx, "test.sale.nope"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("Get of an absent entry = %v, want NotFound", err)
	}
}

// An area appends Items to its own transaction; a second attempt is cancelled, the entry item's
// index names it, and the books count the event once.
func TestItemsInTheCallersTransaction(t *testing.T) {
	r := newRepo(t)
	ctx := t.Context()
	type own struct {
		PK, SK string
		N      int
	}
	e := sale("ch_2", "ins_1", day0, 5000)
	write := func(n int) error {
		mine, err := store.PutItem(own{PK: "TEST#area", SK: "SALE", N: n})
		if err != nil {
			t.Fatal(err)
		}
		jr, err := Items(e)
		if err != nil {
			t.Fatal(err)
		}
		return r.S.Transact(ctx, append([]types.TransactWriteItem{mine}, jr...))
	}
	if err := write(1); err != nil {
		t.Fatal(err)
	}
	err := write(2)
	if !store.IsConditionFailed(err) || !AlreadyPosted(err, 1) || AlreadyPosted(err, 0) {
		t.Fatalf("second write = %v (failed items %v), want the entry item (index 1) named", err, store.FailedItems(err))
	}
	if AlreadyPosted(errors.New("other"), 1) || AlreadyPosted(nil, 0) {
		t.Fatal("AlreadyPosted of an error that is no cancelled transaction")
	}
	tb, err := r.TrialBalance(ctx, day0)
	if err != nil {
		t.Fatal(err)
	}
	if b := balanceOf(tb, "usd", InstructorPayablePending); b != 3500 {
		t.Fatalf("payable pending = %d, want 3500 (posted once)", b)
	}
}

// An account's postings in time order across month partitions, a page at a time; ties at one
// instant by entry id; the range is [from, to).
func TestAccountEntriesPages(t *testing.T) {
	r := newRepo(t)
	ctx := t.Context()
	oct := time.Date(2026, 10, 31, 23, 59, 59, 999999999, time.UTC)
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	posts := []Entry{
		sale("ch_b", "ins_1", nov, 1000), sale("ch_a", "ins_1", nov, 2000), // same instant: ch_a first
		sale("ch_c", "ins_2", oct, 3000),
		sale("ch_d", "ins_1", nov.Add(40*24*time.Hour), 4000), // December
		sale("ch_e", "ins_1", nov.Add(90*24*time.Hour), 5000), // after the range
	}
	for _, e := range posts {
		mustPost(t, r, e)
	}
	from, to := oct.Add(-time.Hour), nov.Add(60*24*time.Hour)
	want := []string{"test.sale.ch_c", "test.sale.ch_a", "test.sale.ch_b", "test.sale.ch_d"}
	for _, limit := range []int32{1, 2, 3, 10} {
		var got []string
		cursor, pages := "", 0
		for {
			page, next, err := r.AccountEntries(ctx, InstructorPayablePending, from, to, cursor, limit)
			if err != nil {
				t.Fatalf("limit %d: %v", limit, err)
			}
			if int32(len(page)) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(page))
			}
			for _, p := range page {
				if p.Account != InstructorPayablePending || p.Credit == 0 || p.Currency != "usd" || p.Kind != kindSale {
					t.Fatalf("posting %+v", p)
				}
				got = append(got, p.EntryID)
			}
			pages++
			if next == "" {
				break
			}
			if pages > 10 {
				t.Fatal("cursor does not advance")
			}
			cursor = next
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("limit %d: %v, want %v", limit, got, want)
		}
	}
	// to is exclusive, from inclusive.
	page, _, err := r.AccountEntries(ctx, InstructorPayablePending, nov, nov.Add(time.Nanosecond), "", 10)
	if err != nil || len(page) != 2 {
		t.Fatalf("[nov, nov+1ns) = %v, %v; want the two postings at nov", page, err)
	}
	page, _, err = r.AccountEntries(ctx, InstructorPayablePending, oct.Add(-time.Hour), oct, "", 10)
	if err != nil || len(page) != 0 {
		t.Fatalf("[.., oct) = %v, %v; want none (to is exclusive)", page, err)
	}
	// A cursor is bound to its account and range; a tampered one is refused.
	_, next, err := r.AccountEntries(ctx, InstructorPayablePending, from, to, "", 1)
	if err != nil || next == "" {
		t.Fatal(next, err)
	}
	for name, call := range map[string]func() error{
		"other account": func() error {
			_, _, err := r.AccountEntries(ctx, StripeInFlight, from, to, next, 1)
			return err
		},
		"other range": func() error {
			_, _, err := r.AccountEntries(ctx, InstructorPayablePending, from, to.Add(time.Hour), next, 1)
			return err
		},
		"tampered": func() error {
			_, _, err := r.AccountEntries(ctx, InstructorPayablePending, from, to, next+"x", 1)
			return err
		},
		"to before from": func() error {
			_, _, err := r.AccountEntries(ctx, InstructorPayablePending, to, from, "", 1)
			return err
		},
		"range too long": func() error {
			_, _, err := r.AccountEntries(ctx, InstructorPayablePending, from, from.Add(MaxAccountRange+time.Hour), "", 1)
			return err
		},
		"limit 0": func() error {
			_, _, err := r.AccountEntries(ctx, InstructorPayablePending, from, to, "", 0)
			return err
		},
	} {
		if err := call(); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%s: %v, want Invalid", name, err)
		}
	}
	if _, _, err := r.AccountEntries(ctx, "petty_cash", from, to, "", 1); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("unknown account: %v, want NotFound", err)
	}
}

// Entries of a range in time order over day partitions, a page at a time.
func TestEntriesPages(t *testing.T) {
	r := newRepo(t)
	ctx := t.Context()
	var want []string
	for i := 0; i < 7; i++ {
		e := sale(fmt.Sprintf("ch_%02d", i), "ins_1", day0.Add(time.Duration(i)*36*time.Hour), int64(1000+i))
		mustPost(t, r, e)
		want = append(want, e.ID)
	}
	for _, limit := range []int32{1, 3, 7, 50} {
		var got []string
		cursor := ""
		for n := 0; ; n++ {
			page, next, err := r.Entries(ctx, day0, day0.AddDate(0, 0, 30), cursor, limit)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				got = append(got, e.ID)
			}
			if next == "" {
				break
			}
			if n > 20 {
				t.Fatal("cursor does not advance")
			}
			cursor = next
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("limit %d: %v, want %v", limit, got, want)
		}
	}
	if _, _, err := r.Entries(ctx, day0, day0.Add(MaxEntriesRange+time.Hour), "", 10); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("too long a range: %v", err)
	}
}

// november is a month of every movement the statement reports, after a sale in October and
// before one in December.
func november(t *testing.T, r Repo) {
	oct20 := time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC)
	d := func(day int) time.Time { return time.Date(2026, 11, day, 12, 0, 0, 0, time.UTC) }
	for _, e := range []Entry{
		sale("ch_a", "ins_1", oct20, 10000),
		sale("ch_b", "ins_2", d(2), 20000),
		entry(kindSub, "payments", "in_1", d(3), dr(StripeInFlight, 2000), cr(RevenueSubscriptions, 2000)),
		entry(kindRecon, "books", "txn_a", d(5), dr(StripeBalance, 9680), dr(FeesStripeProcessing, 320), cr(StripeInFlight, 10000)),
		entry(kindRelease, "marketplace", "sale_a", d(19), Line{Account: InstructorPayablePending, Debit: 7000, Party: "ins_1"},
			Line{Account: InstructorPayableAvailable, Credit: 7000, Party: "ins_1"}),
		entry(kindPayout, "marketplace", "po_1", d(20), Line{Account: InstructorPayableAvailable, Debit: 7000, Party: "ins_1"},
			cr(TransfersConnected, 7000)),
		entry(kindRecon, "books", "txn_tr1", d(21), dr(TransfersConnected, 7000), cr(StripeBalance, 7000)),
		entry(kindReversal, "marketplace", "trr_1", d(22), dr(TransfersConnected, 2000),
			Line{Account: InstructorPayableAvailable, Credit: 2000, Party: "ins_1"}),
		entry(kindRefund, "marketplace", "re_b", d(24), Line{Account: InstructorPayablePending, Debit: 14000, Party: "ins_2"},
			dr(RefundsMarketplace, 6000), cr(StripeInFlight, 20000)),
		entry(kindToken, "rewards", "red_1", d(25), dr(MarketingTokenRedemptions, 500), cr(CustomerCredit, 500)),
		sale("ch_c", "ins_1", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), 30000),
	} {
		mustPost(t, r, e)
	}
}

func balanceOf(tb TrialBalance, currency string, a AccountID) int64 {
	for _, c := range tb.Currencies {
		if c.Currency == currency {
			for _, ab := range c.Accounts {
				if ab.Account.ID == a {
					return ab.Balance
				}
			}
		}
	}
	return 0
}

func TestTrialBalanceAsOfADay(t *testing.T) {
	r := newRepo(t)
	ctx := t.Context()
	november(t, r)
	tb, err := r.TrialBalance(ctx, time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if tb.AsOf != "2026-11-30" || len(tb.Currencies) != 1 || !tb.Currencies[0].Balanced || len(tb.Currencies[0].Accounts) != len(chart) {
		t.Fatalf("trial balance %+v", tb)
	}
	want := map[AccountID]int64{
		StripeBalance: 2680, StripeInFlight: 2000, TransfersConnected: 2000, // the reversal is not matched yet
		InstructorPayablePending: 0, InstructorPayableAvailable: 2000, RevenueMarketplaceCommission: 9000,
		RevenueSubscriptions: 2000, RefundsMarketplace: 6000, FeesStripeProcessing: 320,
		MarketingTokenRedemptions: 500, CustomerCredit: 500, Suspense: 0,
	}
	for a, w := range want {
		if got := balanceOf(tb, "usd", a); got != w {
			t.Errorf("%s = %d, want %d", a, got, w)
		}
	}
	// Σ debits: every line of the ten November-or-earlier entries.
	if c := tb.Currencies[0]; c.Debits != 10000+20000+2000+10000+7000+7000+7000+2000+20000+500 || c.Debits != c.Credits {
		t.Errorf("debits %d credits %d", c.Debits, c.Credits)
	}
	oct, err := r.TrialBalance(ctx, time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC))
	if err != nil || balanceOf(oct, "usd", StripeInFlight) != 10000 || balanceOf(oct, "usd", StripeBalance) != 0 {
		t.Fatalf("October: %+v %v", oct, err)
	}
	empty, err := r.TrialBalance(ctx, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || len(empty.Currencies) != 0 {
		t.Fatalf("before any entry: %+v %v", empty, err)
	}
}

func TestStatementOfAMonth(t *testing.T) {
	r := newRepo(t)
	ctx := t.Context()
	november(t, r)
	month, err := ParseMonth("2026-11")
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.Statement(ctx, month, time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if !st.Closed || st.Note != "" || st.Month != "2026-11" || len(st.Currencies) != 1 {
		t.Fatalf("statement %+v", st)
	}
	c := st.Currencies[0]
	subs, mkt := c.Streams[0], c.Streams[1]
	if subs != (StreamRevenue{Stream: "subscriptions", Gross: 2000, Net: 2000}) {
		t.Errorf("subscriptions %+v", subs)
	}
	if mkt != (StreamRevenue{Stream: "marketplace_commission", Gross: 6000, Refunds: 6000, Net: 0}) {
		t.Errorf("marketplace %+v (October's sale is not November's revenue)", mkt)
	}
	if c.NetRevenue != 2000 || c.StripeFees != 320 || c.NetAfterFees != 1680 || c.TokenDiscounts != 500 {
		t.Errorf("net %d fees %d after fees %d tokens %d", c.NetRevenue, c.StripeFees, c.NetAfterFees, c.TokenDiscounts)
	}
	if c.CustomerCredit != (Movement{Account: CustomerCredit, Increases: 500, Closing: 500}) {
		t.Errorf("customer credit %+v", c.CustomerCredit)
	}
	p := c.Payable
	// Opening: October's sale pending. Credited: November's sale (the release and the reversal are
	// not earnings). Debited: the refund. Paid out: the payout net of its reversal.
	if p.Opening != 7000 || p.Credited != 14000 || p.Debited != 14000 || p.PaidOut != 5000 || p.Closing != 2000 {
		t.Errorf("payable %+v", p)
	}
	if p.Opening+p.Credited-p.Debited-p.PaidOut != p.Closing {
		t.Errorf("payable movements do not add up: %+v", p)
	}
	var sum int64
	for _, b := range p.Buckets {
		if b.Opening+b.Increases-b.Decreases != b.Closing {
			t.Errorf("bucket %+v does not add up", b)
		}
		sum += b.Closing
	}
	if sum != p.Closing {
		t.Errorf("buckets close at %d, payable at %d", sum, p.Closing)
	}

	open, err := r.Statement(ctx, month, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	if err != nil || open.Closed || open.Note == "" {
		t.Fatalf("a month still running: closed %v note %q err %v", open.Closed, open.Note, err)
	}
	for _, bad := range []string{"2026-13", "2026-1", "nov", "", "1999-12"} {
		if _, err := ParseMonth(bad); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("ParseMonth(%q) = %v, want Invalid", bad, err)
		}
	}
}

// The export of a month read back balances entry by entry and equals what was posted.
func TestExportRoundTrip(t *testing.T) {
	r := newRepo(t)
	ctx := t.Context()
	november(t, r)
	odd := entry(kindSub, "payments", "in_odd", time.Date(2026, 11, 28, 1, 2, 3, 4, time.UTC),
		dr(StripeInFlight, 999), cr(RevenueSubscriptions, 999))
	odd.Memo = "Plan \"Pro\", billed\nmonthly; =SUM(A1)"
	mustPost(t, r, odd)
	month, _ := ParseMonth("2026-11")
	posted, err := r.MonthPostings(ctx, month)
	if err != nil {
		t.Fatal(err)
	}
	if len(posted) != 2*9+3+2 { // nine two-line entries, the refund's three lines, the odd one
		t.Fatalf("%d postings in November", len(posted))
	}
	for _, format := range []string{"csv", "json"} {
		var buf bytes.Buffer
		var back []Posting
		if format == "csv" {
			err = WriteCSV(&buf, posted)
		} else {
			err = WriteJSON(&buf, posted)
		}
		if err != nil {
			t.Fatal(err)
		}
		if format == "csv" {
			back, err = ParseCSV(&buf)
		} else {
			back, err = ParseJSON(&buf)
		}
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if err := samePostings(back, posted); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		totals, err := CheckBalanced(back)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		var want int64
		for _, p := range posted {
			want += p.Debit
		}
		if totals["usd"] != want {
			t.Fatalf("%s: Σ debits %d, want %d", format, totals["usd"], want)
		}
	}
}

// Random balanced entries, each posted one to three times from concurrent writers in a random
// interleaving: the trial balance balances, every account's totals are the entries' sums, each
// account's postings sum to its totals, and posting everything again changes nothing.
func TestPropertyRandomEntriesAndReposts(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	r := newRepo(t)
	ctx := t.Context()
	currencies := []string{"usd", "eur", "jpy"}
	start := time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC)
	var entries []Entry
	for i := 0; i < 40; i++ {
		e := Entry{ID: EntryID(kindAny, fmt.Sprintf("src_%03d", i)), Kind: kindAny, Area: "test", Source: fmt.Sprintf("src_%03d", i),
			Date: start.Add(time.Duration(rng.Int63n(int64(20 * 24 * time.Hour)))), Currency: currencies[rng.Intn(len(currencies))]}
		var total int64
		for n := 1 + rng.Intn(4); n > 0; n-- {
			amt := 1 + rng.Int63n(1_000_000)
			total += amt
			e.Lines = append(e.Lines, Line{Account: chart[rng.Intn(len(chart))].ID, Debit: amt, Party: fmt.Sprintf("p%d", rng.Intn(3))})
		}
		// Split the total over one to four credit lines.
		for n := 1 + rng.Intn(4); total > 0; n-- {
			amt := total
			if n > 1 {
				amt = 1 + rng.Int63n(total)
			}
			total -= amt
			e.Lines = append(e.Lines, cr(chart[rng.Intn(len(chart))].ID, amt))
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("generator made a bad entry: %v", err)
		}
		entries = append(entries, e)
	}
	var posts []Entry
	for _, e := range entries {
		for n := 1 + rng.Intn(3); n > 0; n-- {
			posts = append(posts, e)
		}
	}
	rng.Shuffle(len(posts), func(i, j int) { posts[i], posts[j] = posts[j], posts[i] })
	work := make(chan Entry)
	var wg sync.WaitGroup
	errs := make(chan error, len(posts))
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range work {
				if err := r.Post(ctx, e); err != nil {
					errs <- fmt.Errorf("post %s: %w", e.ID, err)
				}
			}
		}()
	}
	for _, e := range posts {
		work <- e
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	asOf := start.AddDate(0, 0, 21)
	expected := map[string]map[AccountID][2]int64{}
	for _, e := range entries {
		if expected[e.Currency] == nil {
			expected[e.Currency] = map[AccountID][2]int64{}
		}
		for _, l := range e.Lines {
			v := expected[e.Currency][l.Account]
			expected[e.Currency][l.Account] = [2]int64{v[0] + l.Debit, v[1] + l.Credit}
		}
	}
	check := func(when string) TrialBalance {
		tb, err := r.TrialBalance(ctx, asOf)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if len(tb.Currencies) != len(expected) {
			t.Fatalf("%s: %d currencies, want %d", when, len(tb.Currencies), len(expected))
		}
		for _, c := range tb.Currencies {
			if !c.Balanced || c.Debits != c.Credits {
				t.Fatalf("%s: %s debits %d credits %d", when, c.Currency, c.Debits, c.Credits)
			}
			for _, ab := range c.Accounts {
				if w := expected[c.Currency][ab.Account.ID]; ab.Debits != w[0] || ab.Credits != w[1] {
					t.Fatalf("%s: %s %s = %d/%d, entries say %d/%d", when, c.Currency, ab.Account.ID, ab.Debits, ab.Credits, w[0], w[1])
				}
			}
		}
		return tb
	}
	first := check("after concurrent posts")
	for _, e := range entries {
		mustPost(t, r, e)
	}
	if again := check("after posting everything again"); fmt.Sprint(again) != fmt.Sprint(first) {
		t.Fatal("re-posting changed the trial balance")
	}
	// Each account's postings (all currencies) sum to its totals.
	for _, a := range chart {
		var d, c int64
		cursor := ""
		for {
			page, next, err := r.AccountEntries(ctx, a.ID, start, asOf, cursor, 7)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page {
				d, c = d+p.Debit, c+p.Credit
			}
			if next == "" {
				break
			}
			cursor = next
		}
		var wd, wc int64
		for _, m := range expected {
			wd, wc = wd+m[a.ID][0], wc+m[a.ID][1]
		}
		if d != wd || c != wc {
			t.Fatalf("%s postings %d/%d, entries %d/%d", a.ID, d, c, wd, wc)
		}
	}
	n := 0
	if err := r.EachEntry(ctx, start, asOf, func(Entry) error { n++; return nil }); err != nil || n != len(entries) {
		t.Fatalf("EachEntry saw %d entries (%v), want %d", n, err, len(entries))
	}
}
