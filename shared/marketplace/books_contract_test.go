package marketplace

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/store"
)

// booksHarness is what the contract needs beside Books: seeding the items other code writes, and
// reading what Books writes but does not read back.
type booksHarness struct {
	books          Books
	seedCourse     func(Course)
	seedInstructor func(Instructor)
	ledgerSum      func(instructorID string) ledger.Buckets
	listing        func(courseID string) map[string]int64
	// entry reads a journal entry by id (false: none); prePost posts one on its own (a backfill).
	entry   func(id string) (journal.Entry, bool)
	prePost func(e journal.Entry)
}

// testBooksContract checks the semantics the marketplace's rules rely on. It runs on memBooks here
// and on dynamoBooks (on minidyn, and on moto with the integration tag), so the fake the property tests use
// cannot drift from the repository.
func testBooksContract(t *testing.T, h booksHarness) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	run := ids.ULID(now)
	b := h.books
	instr, buyer := "ins-"+run, "ana-"+run
	c := Course{ID: "crs_" + run, InstructorID: instr, Title: "Contract", PriceCents: 999, Currency: Currency,
		Status: catalog.StatusPublished, CreatedAt: now, UpdatedAt: now, Version: 1}
	c.SetKeys()
	h.seedCourse(c)
	d := &Deps{Clock: fixedClock{now}, Books: b}
	p := Purchase{SessionID: "cs_" + run, PaymentIntentID: "pi_" + run, BuyerID: buyer, CourseID: c.ID, AmountCents: 999,
		Currency: Currency, PaidAt: now}

	t.Run("BookOnce", func(t *testing.T) {
		ch, err := planSale(ctx, d, p, c, "evt_1")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(ctx, ch); err != nil {
			t.Fatal(err)
		}
		again, _ := planSale(ctx, d, p, c, "evt_1")
		again.Sale.DuplicateOf = "" // as if the first were not seen: the guard alone must refuse it
		if err := b.Commit(ctx, again); !store.IsConditionFailed(err) {
			t.Fatalf("a second booking of one session: %v", err)
		}
		ptr, err := b.SaleOfSession(ctx, p.SessionID)
		if err != nil || ptr.SaleID != ch.Sale.ID {
			t.Fatalf("guard: %+v %v", ptr, err)
		}
		s, err := b.SaleOfCharge(ctx, "", p.PaymentIntentID)
		if err != nil || s.ID != ch.Sale.ID || s.Version != 1 || s.Shares[0].Cents != 699 || s.Status != SalePending {
			t.Fatalf("sale by PaymentIntent: %+v %v", s, err)
		}
		if _, err := b.SaleOfCharge(ctx, "", "pi_nobody"); !isNotFound(err) {
			t.Fatalf("an unknown charge: %v", err)
		}
		e, err := b.Enrollment(ctx, buyer, c.ID)
		if err != nil || e == nil || !e.Active() || len(e.SaleIDs) != 1 || e.Version != 1 {
			t.Fatalf("enrolment: %+v %v", e, err)
		}
		bal, _ := b.Balance(ctx, instr)
		if bal.Buckets != (ledger.Buckets{Pending: 699}) || h.ledgerSum(instr) != bal.Buckets {
			t.Fatalf("balance %+v, ledger %+v", bal.Buckets, h.ledgerSum(instr))
		}
		if h.listing(c.ID)[catalog.CtrEnrollments] != 1 {
			t.Fatalf("listing %v", h.listing(c.ID))
		}
		// The sale's entry, in the sale's transaction: the 70/30 split to the cent (docs/books.md).
		je, ok := h.entry(journal.EntryID(JournalSale, p.PaymentIntentID))
		want := []journal.Line{{Account: journal.InstructorPayablePending, Credit: 699, Party: instr},
			{Account: journal.StripeInFlight, Debit: 999}, {Account: journal.RevenueMarketplaceCommission, Credit: 300}}
		if !ok || !slices.Equal(je.Lines, want) || je.Source != p.PaymentIntentID || !je.Date.Equal(now) {
			t.Fatalf("sale entry %+v (%v), want lines %+v", je, ok, want)
		}
	})

	t.Run("DiscountedSaleKeepsItsDiscount", func(t *testing.T) {
		// A sale bought with a rewards coupon: the discount and its coupon are stored on the sale
		// and read back (a backfill rebuilds the entry from them), and the sale's entry books them.
		buyer2 := "bea-" + run
		p2 := Purchase{SessionID: "cs2_" + run, PaymentIntentID: "pi2_" + run, BuyerID: buyer2, CourseID: c.ID, AmountCents: 799,
			Currency: Currency, PaidAt: now, DiscountCents: 200, CouponID: "LIB20-7K3M9Q2X4D"}
		ch, err := planSale(ctx, d, p2, c, "evt_d1")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(ctx, ch); err != nil {
			t.Fatal(err)
		}
		s, err := b.SaleOfCharge(ctx, "", p2.PaymentIntentID)
		if err != nil || s.DiscountCents != 200 || s.CouponID != p2.CouponID || s.Amount != 799 || s.Platform != 240 {
			t.Fatalf("discounted sale read back: %+v %v", s, err)
		}
		je, ok := h.entry(journal.EntryID(JournalSale, p2.PaymentIntentID))
		want := []journal.Line{{Account: journal.InstructorPayablePending, Credit: 559, Party: instr},
			{Account: journal.StripeInFlight, Debit: 799}, {Account: journal.MarketingTokenRedemptions, Debit: 200, Party: buyer2},
			{Account: journal.RevenueMarketplaceCommission, Credit: 440}}
		if !ok || !slices.Equal(je.Lines, want) {
			t.Fatalf("discounted sale entry %+v (%v), want lines %+v", je, ok, want)
		}
		// The entry rebuilt from the stored sale (as a backfill does) is the one posted.
		rebuilt, err := journalEntry(&Change{Book: booking{At: s.SoldAt, Memo: c.Title}, Move: ch.Move, Sale: &s})
		if err != nil || rebuilt == nil || !journal.Same(*rebuilt, je) {
			t.Fatalf("rebuilt from the stored sale: %+v %v\nposted %+v", rebuilt, err, je)
		}
		// Refunded in full (which also leaves the cases below one sale's money): what was paid goes
		// back, split as the sale was; the coupon is spent, so the discount stays booked.
		m := s.Refund(799)
		if err := b.Commit(ctx, &Change{Book: booking{At: now, CourseID: c.ID, SaleID: s.ID}, Move: m, Sale: &s}); err != nil {
			t.Fatal(err)
		}
		re, ok := h.entry(entryID(JournalRefund, s.ID, "v2"))
		want = []journal.Line{{Account: journal.InstructorPayablePending, Debit: 559, Party: instr},
			{Account: journal.StripeInFlight, Credit: 799}, {Account: journal.RefundsMarketplace, Debit: 240}}
		if !ok || !slices.Equal(re.Lines, want) {
			t.Fatalf("refund entry of the discounted sale %+v (%v), want lines %+v", re, ok, want)
		}
	})

	t.Run("StaleVersionWritesNothing", func(t *testing.T) {
		s, _ := b.SaleOfCharge(ctx, "", p.PaymentIntentID)
		stale := s
		m := s.Refund(999)
		c1 := &Change{Book: booking{At: now, CourseID: c.ID, SaleID: s.ID}, Move: m, Sale: &s}
		if err := followSale(ctx, d, c1, s, now); err != nil {
			t.Fatal(err)
		}
		c2 := &Change{Book: c1.Book, Move: m, Sale: &stale}
		if err := b.Commit(ctx, c1); err != nil {
			t.Fatal(err)
		}
		stale.Refund(999)
		if err := b.Commit(ctx, c2); !store.IsConditionFailed(err) {
			t.Fatalf("a write over a stale version: %v", err)
		}
		bal, _ := b.Balance(ctx, instr)
		if bal.Buckets != (ledger.Buckets{}) || h.ledgerSum(instr) != bal.Buckets {
			t.Fatalf("after one refund: balance %+v ledger %+v", bal.Buckets, h.ledgerSum(instr))
		}
		if e, _ := b.Enrollment(ctx, buyer, c.ID); e.Active() || e.GSI1PK != "" {
			t.Fatalf("a fully refunded buyer's enrolment: %+v", e)
		}
		// One refund entry, keyed by the sale version it wrote; the stale write posted nothing.
		e, ok := h.entry(entryID(JournalRefund, s.ID, "v2"))
		want := []journal.Line{{Account: journal.InstructorPayablePending, Debit: 699, Party: instr},
			{Account: journal.StripeInFlight, Credit: 999}, {Account: journal.RefundsMarketplace, Debit: 300}}
		if !ok || !slices.Equal(e.Lines, want) {
			t.Fatalf("refund entry %+v (%v), want lines %+v", e, ok, want)
		}
		if _, ok := h.entry(entryID(JournalRefund, s.ID, "v3")); ok {
			t.Fatal("the stale write posted an entry")
		}
	})

	t.Run("EntryPostedBeforeIsTheChangesOwn", func(t *testing.T) {
		// A backfill posted the entry of an event the area writes now: the change is written once,
		// without a second posting. Other content under the same id is refused, and nothing moves.
		payee := "ins3-" + run
		change := func(n int64) *Change {
			return &Change{Book: booking{At: now, Ref: "dp_pre_" + run},
				Move: ledger.Movement{Kind: ledger.KindDisputeWon, Payees: map[string]ledger.Buckets{payee: {Held: -n, Available: n}}}}
		}
		e, err := journalEntry(change(40))
		if err != nil || e == nil {
			t.Fatalf("entry: %+v %v", e, err)
		}
		h.prePost(*e)
		if err := b.Commit(ctx, change(40)); err != nil {
			t.Fatalf("the change of an entry posted before: %v", err)
		}
		if bal, _ := b.Balance(ctx, payee); bal.Buckets != (ledger.Buckets{Held: -40, Available: 40}) {
			t.Fatalf("balance %+v", bal.Buckets)
		}
		if got, ok := h.entry(e.ID); !ok || !journal.Same(got, *e) {
			t.Fatalf("entry now %+v", got)
		}
		if err := b.Commit(ctx, change(41)); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("other content under a posted id: %v", err)
		}
		if bal, _ := b.Balance(ctx, payee); bal.Buckets != (ledger.Buckets{Held: -40, Available: 40}) || h.ledgerSum(payee) != bal.Buckets {
			t.Fatalf("after the refused change: balance %+v ledger %+v", bal.Buckets, h.ledgerSum(payee))
		}
	})

	t.Run("LargestChangeFitsOneTransaction", func(t *testing.T) {
		c := largestChange(now, run)
		if err := b.Commit(ctx, c); err != nil {
			t.Fatalf("the largest change: %v", err)
		}
		e, ok := h.entry(entryID(JournalRefund, c.Sale.ID, "v1"))
		if !ok || len(e.Lines) != journal.MaxLines {
			t.Fatalf("its entry: %d lines (%v)", len(e.Lines), ok)
		}
	})

	t.Run("ReviewNeedsTheCourseHeld", func(t *testing.T) {
		e, _ := b.Enrollment(ctx, buyer, c.ID)
		held := *e
		held.Status = EnrollActive // what a writer read before the revocation
		rv := Review{CourseID: c.ID, UserID: buyer, Rating: 4, Status: ReviewPublished, CreatedAt: now, UpdatedAt: now}
		if err := b.Commit(ctx, reviewChange(nil, rv, &held, now)); !store.IsConditionFailed(err) {
			t.Fatalf("a review by a learner who no longer holds the course: %v", err)
		}
		if got, _ := b.Review(ctx, c.ID, buyer); got != nil {
			t.Fatalf("written anyway: %+v", got)
		}
		// A withheld review (no index keys) is stored and read back.
		rv.Status = ReviewWithheld
		if err := b.Commit(ctx, reviewChange(nil, rv, nil, now)); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.Review(ctx, c.ID, buyer); got == nil || got.Status != ReviewWithheld || got.Version != 1 || got.GSI1PK != "" {
			t.Fatalf("withheld review: %+v", got)
		}
	})

	t.Run("PayoutNeverTakesMoreThanAvailable", func(t *testing.T) {
		po := Payout{ID: PayoutID(instr, "2026-12"), InstructorID: instr, Period: "2026-12", Status: PayoutTransferring,
			AmountCents: 100, Currency: Currency, CreatedAt: now, UpdatedAt: now, Version: 1}
		err := b.Commit(ctx, &Change{Book: booking{At: now, PayoutID: po.ID, AvailableAtLeast: 100},
			Move: ledger.PayoutMovement(instr, 100), Payout: &Versioned[Payout]{Item: po}})
		if !store.IsConditionFailed(err) {
			t.Fatalf("a payout from nothing: %v", err)
		}
		if got, _ := b.Payout(ctx, instr, "2026-12"); got != nil {
			t.Fatalf("payout written anyway: %+v", got)
		}
		po.Status, po.AmountCents = PayoutCarried, 0
		if err := b.Commit(ctx, &Change{Book: booking{At: now}, Payout: &Versioned[Payout]{Item: po}}); err != nil {
			t.Fatal(err)
		}
		if got, err := b.PayoutsOf(ctx, "2026-12", PayoutCarried); err != nil || len(got) != 1 || got[0].ID != po.ID {
			t.Fatalf("payouts of the period: %+v %v", got, err)
		}
		if err := b.CountTransferAttempt(ctx, instr, "2026-12"); !store.IsConditionFailed(err) {
			t.Fatalf("an attempt on a carried payout: %v", err)
		}
	})

	t.Run("PayableFollowsAvailableMoney", func(t *testing.T) {
		other := "ins2-" + run
		m := ledger.Movement{Kind: ledger.KindDisputeWon, Payees: map[string]ledger.Buckets{other: {Held: -50, Available: 50}}}
		if err := b.Commit(ctx, &Change{Book: booking{At: now, Ref: "dp_" + run}, Move: m}); err != nil {
			t.Fatal(err)
		}
		if ids, _ := b.PayableInstructors(ctx); !slices.Contains(ids, other) {
			t.Fatalf("available money added, not payable: %v", ids)
		}
		if err := b.Unlist(ctx, other); err != nil {
			t.Fatal(err)
		}
		if ids, _ := b.PayableInstructors(ctx); !slices.Contains(ids, other) {
			t.Fatalf("unlisted with money available: %v", ids)
		}
		// Paid out, nothing is available: the payout run takes the balance off the index.
		po := Payout{ID: PayoutID(other, "2026-11"), InstructorID: other, Period: "2026-11", Status: PayoutTransferring,
			AmountCents: 50, Currency: Currency, CreatedAt: now, UpdatedAt: now, Version: 1}
		if err := b.Commit(ctx, &Change{Book: booking{At: now, PayoutID: po.ID, AvailableAtLeast: 50},
			Move: ledger.PayoutMovement(other, 50), Payout: &Versioned[Payout]{Item: po}}); err != nil {
			t.Fatal(err)
		}
		if ids, _ := b.PayableInstructors(ctx); !slices.Contains(ids, other) {
			t.Fatalf("a payout took the balance off the index: %v", ids)
		}
		if err := b.Unlist(ctx, other); err != nil {
			t.Fatal(err)
		}
		if ids, _ := b.PayableInstructors(ctx); slices.Contains(ids, other) {
			t.Fatalf("still payable with nothing available: %v", ids)
		}
		if bal, _ := b.Balance(ctx, other); bal.Buckets != (ledger.Buckets{Held: -50, Paid: 50}) || h.ledgerSum(other) != bal.Buckets {
			t.Fatalf("after the payout: balance %+v, ledger %+v", bal.Buckets, h.ledgerSum(other))
		}
	})

	t.Run("DueSalesInPages", func(t *testing.T) {
		// The sale above is pending until now + 30 days; page through the due ones later.
		later := now.Add(RefundWindow + time.Hour)
		var all []string
		after := ""
		for i := 0; i < 100; i++ {
			page, next, err := b.DueSales(ctx, later, after, 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page {
				all = append(all, s.ID)
			}
			if after = next; after == "" {
				break
			}
		}
		s, _ := b.SaleOfCharge(ctx, "", p.PaymentIntentID)
		if !slices.Contains(all, s.ID) {
			t.Fatalf("the due sale is not listed: %v", all)
		}
		if page, _, _ := b.DueSales(ctx, now.Add(-time.Hour), "", 10); slices.Contains(saleIDs(page), s.ID) {
			t.Fatal("a sale listed before its release time")
		}
	})

	t.Run("ParkedUntilCleared", func(t *testing.T) {
		e := ParkedEvent{Ref: "pi_park_" + run, EventID: "evt_p", EventType: "charge.refunded", At: now}
		for i := 0; i < 2; i++ {
			if err := b.Park(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := b.ParkedEvents(ctx, e.Ref)
		if len(got) != 1 || got[0].EventID != "evt_p" {
			t.Fatalf("parked: %+v", got)
		}
		if err := b.Commit(ctx, &Change{Book: booking{At: now}, Unpark: got,
			Audit: &audit.Entry{Actor: audit.ActorStripe, Action: "marketplace.parked_applied", Target: "test"}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.ParkedEvents(ctx, e.Ref); len(got) != 0 {
			t.Fatalf("cleared events still listed: %+v", got)
		}
	})

	t.Run("OneOpenCheckout", func(t *testing.T) {
		co := OpenCheckout{UserID: buyer, CourseID: c.ID, SessionID: "cs_a", URL: "u", ExpiresAt: now.Add(time.Hour)}
		if err := b.SaveCheckout(ctx, co, ""); err != nil {
			t.Fatal(err)
		}
		co.SessionID = "cs_b"
		if err := b.SaveCheckout(ctx, co, ""); !store.IsConditionFailed(err) {
			t.Fatalf("a second session over the first: %v", err)
		}
		if err := b.SaveCheckout(ctx, co, "cs_a"); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.OpenCheckout(ctx, buyer, c.ID); got == nil || got.SessionID != "cs_b" {
			t.Fatalf("open checkout: %+v", got)
		}
	})

	t.Run("AccountEventsInOrder", func(t *testing.T) {
		h.seedInstructor(Instructor{ID: instr, ConnectAccountID: "acct_" + run, CreatedAt: now, UpdatedAt: now})
		st := AccountState{InstructorID: instr, AccountID: "acct_" + run, PayoutsEnabled: true, EventAt: 100, At: now}
		au := audit.Entry{Actor: audit.ActorStripe, Action: "connect.updated", Target: "instructor:" + instr}
		if err := b.RecordAccount(ctx, st, false, au); err != nil {
			t.Fatal(err)
		}
		st.PayoutsEnabled = false
		if err := b.RecordAccount(ctx, st, false, au); !store.IsConditionFailed(err) {
			t.Fatalf("an event of the same second applied as newer: %v", err)
		}
		if err := b.RecordAccount(ctx, st, true, au); err != nil {
			t.Fatalf("the tie broken from Stripe: %v", err)
		}
		st.EventAt = 99
		if err := b.RecordAccount(ctx, st, false, au); !store.IsConditionFailed(err) {
			t.Fatalf("an older event applied: %v", err)
		}
		st.AccountID = "acct_other"
		st.EventAt = 200
		if err := b.RecordAccount(ctx, st, false, au); !store.IsConditionFailed(err) {
			t.Fatalf("another account applied: %v", err)
		}
		if in, _ := b.Instructor(ctx, instr); in.PayoutsEnabled || in.AccountEventAt != 100 {
			t.Fatalf("instructor: %+v", in)
		}
	})
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func isNotFound(err error) bool { return apperr.Is(err, apperr.NotFound) }

func saleIDs(ss []Sale) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

// The in-memory books keep the contract.
func TestMemBooksContract(t *testing.T) {
	m := newMemBooks()
	testBooksContract(t, booksHarness{books: m,
		seedCourse:     func(c Course) { m.courses[c.ID] = c },
		seedInstructor: func(in Instructor) { m.instructors[in.ID] = in },
		ledgerSum: func(id string) ledger.Buckets {
			var sum ledger.Buckets
			for _, e := range m.entries[id] {
				sum = sum.Plus(e.Buckets)
			}
			return sum
		},
		listing: func(id string) map[string]int64 { return m.listing[id] },
		entry:   func(id string) (journal.Entry, bool) { return m.posted.Get(id) },
		prePost: func(e journal.Entry) { m.posted.Post(e) },
	})
}

// The DynamoDB books keep the contract the in-memory books keep: on minidyn in `go test`, on moto
// with the integration tag (newTestStore, backend_*_test.go).
func TestDynamoBooksContract(t *testing.T) {
	s := newTestStore(t, nil)
	ctx := context.Background()
	testBooksContract(t, booksHarness{books: NewBooks(s),
		seedCourse: func(c Course) {
			item, err := store.PutNewItem(c)
			if err != nil {
				t.Fatal(err)
			}
			listing, err := catalog.NewListingItem(c.Listing())
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Transact(ctx, []types.TransactWriteItem{item, listing}); err != nil {
				t.Fatal(err)
			}
		},
		seedInstructor: func(in Instructor) {
			k := store.InstructorKey(in.ID)
			in.PK, in.SK, in.Type = k.PK, k.SK, "instructor"
			if err := s.Put(ctx, in, "", nil, nil); err != nil {
				t.Fatal(err)
			}
		},
		ledgerSum: func(id string) ledger.Buckets {
			entries, err := store.QueryAll[LedgerEntry](ctx, s, &dynamodb.QueryInput{
				KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :pre)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.InstructorBalanceKey(id).PK),
					":pre": store.S(store.LedgerPrefix)},
				ConsistentRead: aws.Bool(true),
			})
			if err != nil {
				t.Fatal(err)
			}
			var sum ledger.Buckets
			for _, e := range entries {
				sum = sum.Plus(e.Buckets)
			}
			return sum
		},
		listing: func(id string) map[string]int64 {
			res, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: store.ListingKey(id).Item(),
				ConsistentRead: aws.Bool(true)})
			if err != nil {
				t.Fatal(err)
			}
			return store.Numbers(res.Item)
		},
		entry: func(id string) (journal.Entry, bool) {
			e, err := journal.Repo{S: s}.Get(ctx, id)
			if err != nil && !isNotFound(err) {
				t.Fatal(err)
			}
			return e, err == nil
		},
		prePost: func(e journal.Entry) {
			if err := (journal.Repo{S: s}).Post(ctx, e); err != nil {
				t.Fatal(err)
			}
		},
	})
}
