package walk_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/backfill/walk"
	"github.com/liberation/monetization/shared/books/backfill/walk/walktest"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

// The walk's cases run on a backfiller of this test's own: "wtsale" items (an amount) become one
// entry each, "wtodd" items one that needs a person, and "wtlive" items were booked live.
const (
	kindWalk = "wt.sale"
	typeSale = "wtsale"
	typeOdd  = "wtodd"
	typeLive = "wtlive"
)

func init() {
	journal.Register(journal.Rule{Area: "walktest", Kind: kindWalk, Summary: "a walk test's sale",
		Accounts: []journal.AccountID{journal.StripeInFlight, journal.RevenueMarketplaceCommission}})
	journal.RegisterBackfill(journal.Backfiller{Area: "walktest", Types: []string{typeSale, typeOdd, typeLive},
		Entries: func(_ context.Context, _ *store.Store, item map[string]types.AttributeValue) (journal.Backfill, error) {
			var it testItem
			if err := store.DecodeItem(item, &it); err != nil {
				return journal.Backfill{}, err
			}
			switch it.Type {
			case typeOdd:
				return journal.Backfill{Skip: "odd record " + it.ID}, nil
			case typeLive:
				return journal.Backfill{Live: true}, nil
			}
			return journal.Backfill{Entries: []journal.Entry{saleEntry(it.ID, it.Amount)}}, nil
		}})
}

var day = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func saleEntry(id string, amount int64) journal.Entry {
	return journal.Entry{ID: journal.EntryID(kindWalk, id), Kind: kindWalk, Area: "walktest", Source: id, Date: day,
		Currency: "usd", Lines: []journal.Line{{Account: journal.StripeInFlight, Debit: amount},
			{Account: journal.RevenueMarketplaceCommission, Credit: amount}}}
}

type testItem struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	Type   string `dynamodbav:"type"`
	ID     string `dynamodbav:"id"`
	Amount int64  `dynamodbav:"amount"`
}

// seed writes n sales (amounts 100, 101, …), one odd and one live record, and some items of no
// backfiller's type.
func seed(t *testing.T, s *store.Store, n int) {
	t.Helper()
	put := func(it testItem) {
		if err := s.Put(context.Background(), it, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("s%03d", i)
		put(testItem{PK: "WT#" + id, SK: "SALE", Type: typeSale, ID: id, Amount: 100 + int64(i)})
		put(testItem{PK: "WT#" + id, SK: "OTHER", Type: "unrelated", ID: id})
	}
	put(testItem{PK: "WT#odd", SK: "SALE", Type: typeOdd, ID: "odd"})
	put(testItem{PK: "WT#live", SK: "SALE", Type: typeLive, ID: "live"})
}

func deps(s *store.Store, clk clock.Clock, pageSize int32, maxPages int) walk.Deps {
	r := walk.NewRepo(s)
	return walk.Deps{Walk: r, Books: r, States: r, Store: s, Clock: clk, PageSize: pageSize, MaxPages: maxPages}
}

func sumSales(n int) int64 {
	var t int64
	for i := 0; i < n; i++ {
		t += 100 + int64(i)
	}
	return t
}

// TestBackfillPostsOnceAndResumes: a walk in pages of 3 items, one page per run, posts every
// record's entry exactly once across its runs; the odd record is named, the live one counted; a
// finished walk does nothing more, and a restart walks again finding every entry present.
func TestBackfillPostsOnceAndResumes(t *testing.T) {
	clk := clock.NewFake(day)
	s := newTestStore(t, clk)
	const n = 12
	seed(t, s, n)
	rep := walktest.Run(t, s, clk, walk.Options{}, 3)
	if rep.Posted != n || rep.Records != n+2 || rep.Skipped != 1 || rep.Live != 1 || rep.Present != 0 || rep.Runs < 4 {
		t.Fatalf("report %+v: want %d posted over several runs, 1 skipped, 1 live", rep.State, n)
	}
	if rep.PostedCents["usd"] != sumSales(n) || rep.PostedByKind[kindWalk] != n {
		t.Fatalf("posted cents %v by kind %v", rep.PostedCents, rep.PostedByKind)
	}
	if why := rep.SkippedItems["WT#odd / SALE"]; !strings.Contains(why, "odd record odd") {
		t.Fatalf("skipped items %v", rep.SkippedItems)
	}
	entries := walktest.Entries(t, s)
	if len(entries) != n {
		t.Fatalf("%d entries in the journal, want %d", len(entries), n)
	}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("s%03d", i)
		if e, ok := entries[journal.EntryID(kindWalk, id)]; !ok || !journal.Same(e, saleEntry(id, 100+int64(i))) {
			t.Fatalf("entry of %s: %+v", id, e)
		}
	}
	// Done: a run posts nothing and says so.
	again, err := walk.Run(context.Background(), deps(s, clk, 3, 0), walk.Options{})
	if err != nil || !again.Done || again.ThisRun.Posted != 0 || again.ThisRun.Pages != 0 {
		t.Fatalf("a run after the walk: %+v, %v", again, err)
	}
	// Restart: the whole walk again finds everything present.
	re := walktest.Run(t, s, clk, walk.Options{Restart: true}, 5)
	if re.Posted != 0 || re.Present != n || len(walktest.Entries(t, s)) != n {
		t.Fatalf("restart: %+v", re.State)
	}
	tb, err := journal.Repo{S: s}.TrialBalance(context.Background(), day)
	if err != nil || len(tb.Currencies) != 1 || !tb.Currencies[0].Balanced || tb.Currencies[0].Debits != sumSales(n) {
		t.Fatalf("trial balance %+v, %v", tb, err)
	}
}

// TestBackfillDryRunPostsNothing: a dry run counts what a run would post, keeps its own
// checkpoint, and leaves the journal and the live checkpoint untouched.
func TestBackfillDryRunPostsNothing(t *testing.T) {
	clk := clock.NewFake(day)
	s := newTestStore(t, clk)
	seed(t, s, 7)
	dry := walktest.Run(t, s, clk, walk.Options{DryRun: true}, 4)
	if dry.Posted != 7 || !dry.DryRun || dry.PostedCents["usd"] != sumSales(7) {
		t.Fatalf("dry run %+v", dry.State)
	}
	if got := walktest.Entries(t, s); len(got) != 0 {
		t.Fatalf("a dry run posted %d entries", len(got))
	}
	live, err := walk.NewRepo(s).Load(context.Background(), false)
	if err != nil || !live.StartedAt.IsZero() {
		t.Fatalf("the live checkpoint moved: %+v, %v", live, err)
	}
	rep := walktest.Run(t, s, clk, walk.Options{}, 4)
	if rep.Posted != 7 || len(walktest.Entries(t, s)) != 7 {
		t.Fatalf("live run after the dry run: %+v", rep.State)
	}
}

// failingBooks fails the nth Post, after which it works again.
type failingBooks struct {
	walk.Books
	n, posts int
}

func (f *failingBooks) Post(ctx context.Context, e journal.Entry) error {
	f.posts++
	if f.posts == f.n {
		return apperr.New(apperr.Unavailable, "injected: the table is away")
	}
	return f.Books.Post(ctx, e)
}

// TestBackfillResumesAfterAFailure: a run that fails midway through a page keeps its checkpoint at
// the last finished page; the next run replays the page (its first entries are found present) and
// finishes, with every entry posted once.
func TestBackfillResumesAfterAFailure(t *testing.T) {
	clk := clock.NewFake(day)
	s := newTestStore(t, clk)
	const n = 10
	seed(t, s, n)
	d := deps(s, clk, 6, 0)
	fb := &failingBooks{Books: d.Books, n: 5}
	d.Books = fb
	_, err := walk.Run(context.Background(), d, walk.Options{})
	if !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("the injected failure: %v", err)
	}
	st, _ := walk.NewRepo(s).Load(context.Background(), false)
	if st.Done || st.Posted != 4 {
		t.Fatalf("after the failure: %+v", st)
	}
	rep, err := walk.Run(context.Background(), d, walk.Options{})
	if err != nil || !rep.Done || rep.Posted != n {
		t.Fatalf("resumed: %+v, %v", rep.State, err)
	}
	if got := walktest.Entries(t, s); len(got) != n {
		t.Fatalf("%d entries, want %d", len(got), n)
	}
}

// TestBackfillKeepsLiveEntries: an entry posted live under the same id with other content (a date
// the record no longer tells) is kept and reported, never replaced or doubled.
func TestBackfillKeepsLiveEntries(t *testing.T) {
	clk := clock.NewFake(day)
	s := newTestStore(t, clk)
	seed(t, s, 3)
	live := saleEntry("s001", 101)
	live.Date = day.Add(-time.Hour)
	if err := (journal.Repo{S: s}).Post(context.Background(), live); err != nil {
		t.Fatal(err)
	}
	rep := walktest.Run(t, s, clk, walk.Options{}, 10)
	if rep.Posted != 2 || rep.KeptLive != 1 || len(rep.KeptLiveIDs) != 1 || rep.KeptLiveIDs[0] != live.ID {
		t.Fatalf("report %+v", rep.State)
	}
	if got, _ := (journal.Repo{S: s}).Get(context.Background(), live.ID); !journal.Same(got, live) {
		t.Fatalf("the live entry was replaced: %+v", got)
	}
}

// TestBackfillRefusesAForeignCheckpoint: a checkpoint position the job did not write is refused
// with a clear error (nothing walked from a made-up key).
func TestBackfillRefusesAForeignCheckpoint(t *testing.T) {
	clk := clock.NewFake(day)
	s := newTestStore(t, clk)
	r := walk.NewRepo(s)
	if err := r.Save(context.Background(), walk.State{StartedAt: day, Position: "not-a-position"}); err != nil {
		t.Fatal(err)
	}
	_, err := walk.Run(context.Background(), deps(s, clk, 5, 0), walk.Options{})
	if !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), "checkpoint") {
		t.Fatalf("a foreign checkpoint: %v", err)
	}
}
