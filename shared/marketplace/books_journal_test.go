package marketplace

import (
	"fmt"
	"maps"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/store"
)

// Every kind the marketplace posts is registered from its own init, as the marketplace's.
func TestJournalRulesRegistered(t *testing.T) {
	for _, kind := range []string{JournalSale, JournalRelease, JournalRefund, JournalRefundReversed, JournalDispute,
		JournalDisputeEscalated, JournalDisputeWon, JournalDisputeLost, JournalPayout, JournalPayoutFailed, JournalTransferReversed} {
		r, ok := journal.RuleOf(kind)
		if !ok || r.Area != Area || len(r.Accounts) < 2 {
			t.Errorf("rule %s: %+v %v", kind, r, ok)
		}
	}
}

// net is an entry as account|party → debits − credits (line order is not the rule's business).
func net(e *journal.Entry) map[string]int64 {
	out := map[string]int64{}
	if e == nil {
		return out
	}
	for _, l := range e.Lines {
		out[string(l.Account)+"|"+l.Party] += l.Debit - l.Credit
	}
	return out
}

// lines builds the expected net of an entry: account, party, signed amount (debit positive).
func lines(parts ...any) map[string]int64 {
	out := map[string]int64{}
	for i := 0; i < len(parts); i += 3 {
		out[string(parts[i].(journal.AccountID))+"|"+parts[i+1].(string)] += int64(parts[i+2].(int))
	}
	return out
}

const (
	inFlight    = journal.StripeInFlight
	pending     = journal.InstructorPayablePending
	available   = journal.InstructorPayableAvailable
	held        = journal.InstructorPayableHeld
	commission  = journal.RevenueMarketplaceCommission
	refundsMkt  = journal.RefundsMarketplace
	disputesMkt = journal.DisputesMarketplace
	transfers   = journal.TransfersConnected
	marketing   = journal.MarketingTokenRedemptions
)

// saleChange is the change of a movement on sale s (the sale as it will be written, at version v read).
func saleChange(s ledger.Sale, m ledger.Movement, ref, source string) *Change {
	return &Change{Book: booking{At: t0, Ref: ref, Source: source, Memo: "Course"}, Move: m,
		Sale: &Sale{ID: "sale_1", InstructorID: "ins_1", BuyerID: "usr_1", ChargeID: "ch_1", PaymentIntentID: "pi_1", SessionID: "cs_1",
			Currency: Currency, Version: 3, Sale: s}}
}

func mustEntry(t *testing.T, c *Change) *journal.Entry {
	t.Helper()
	e, err := journalEntry(c)
	if err != nil {
		t.Fatal(err)
	}
	if e != nil {
		if err := e.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// The worked examples of docs/books.md, through the ledger's own arithmetic: $100.00 sold by ins_1.
func TestJournalEntriesFollowTheBooks(t *testing.T) {
	newSale := func(t *testing.T) (ledger.Sale, ledger.Movement) {
		s, m, err := ledger.NewSale(10000, ledger.InstructorRule("ins_1"))
		if err != nil {
			t.Fatal(err)
		}
		return s, m
	}
	check := func(t *testing.T, e *journal.Entry, id string, want map[string]int64) {
		t.Helper()
		if id == "" && e != nil {
			t.Fatalf("an entry for nothing: %+v", e)
		}
		if id != "" && (e == nil || e.ID != id || !maps.Equal(net(e), want)) {
			t.Fatalf("entry %+v\nwant %s %v", e, id, want)
		}
	}
	t.Run("Sale", func(t *testing.T) {
		s, m := newSale(t)
		e := mustEntry(t, saleChange(s, m, "", ""))
		check(t, e, "mkt.sale.ch_1", lines(inFlight, "", 10000, pending, "ins_1", -7000, commission, "", -3000))
		if e.Source != "ch_1" || e.Area != Area || e.Currency != "usd" || !e.Date.Equal(t0) {
			t.Fatalf("entry %+v", e)
		}
	})
	t.Run("SaleWithATokenFundedDiscount", func(t *testing.T) {
		// docs/books.md, "Token redemption: coupon": a $50.00 course bought with a 20 % rewards
		// coupon. The $40.00 paid is split 70/30; the $10.00 the tokens paid is a marketing expense
		// on the buyer and grosses the commission up to the platform's share + the discount.
		discounted := func(c *Change) *Change {
			c.Sale.DiscountCents, c.Sale.CouponID = 1000, "LIB20-7K3M9Q2X4D"
			return c
		}
		s, m, err := ledger.NewSale(4000, ledger.InstructorRule("ins_1"))
		if err != nil {
			t.Fatal(err)
		}
		e := mustEntry(t, discounted(saleChange(s, m, "", "")))
		check(t, e, "mkt.sale.ch_1", lines(inFlight, "", 4000, marketing, "usr_1", 1000, pending, "ins_1", -2800, commission, "", -2200))
		var dr int64
		for _, l := range e.Lines {
			dr += l.Debit
		}
		if dr != 5000 { // the course's price: what was paid + what the tokens paid
			t.Fatalf("debits %d, want the list price 5000: %+v", dr, e.Lines)
		}
		// A full refund returns what was paid, split as the sale was; the coupon is spent at Stripe,
		// so the discount is not given back (no marketing line).
		m = s.Refund(4000)
		check(t, mustEntry(t, discounted(saleChange(s, m, "", "re_1"))), "mkt.refund.sale_1.v4",
			lines(pending, "ins_1", 2800, refundsMkt, "", 1200, inFlight, "", -4000))
		// A lost dispute likewise.
		s2, _, _ := ledger.NewSale(4000, ledger.InstructorRule("ins_1"))
		m, _ = s2.Dispute("dp_1", ledger.DisputeLost, 4000)
		check(t, mustEntry(t, discounted(saleChange(s2, m, "dp_1", ""))), "mkt.dispute_lost.dp_1",
			lines(inFlight, "", -4000, pending, "ins_1", 2800, disputesMkt, "", 1200))
	})
	t.Run("DiscountWithoutARewardsCouponIsRefused", func(t *testing.T) {
		// planSale books only a rewards coupon's discount on a sale; a stored sale that says
		// otherwise is a bug, refused rather than booked as marketing expense nobody can explain.
		s, m := newSale(t)
		for _, bad := range []struct {
			cents  int64
			coupon string
		}{{1000, ""}, {1000, "SUMMER20"}, {1000, "LIB20-short"}, {-1000, "LIB20-7K3M9Q2X4D"}} {
			c := saleChange(s, m, "", "")
			c.Sale.DiscountCents, c.Sale.CouponID = bad.cents, bad.coupon
			if e, err := journalEntry(c); err == nil || !apperr.Is(err, apperr.Internal) {
				t.Errorf("discount %d coupon %q: entry %+v, err %v", bad.cents, bad.coupon, e, err)
			}
		}
		// A coupon id without a discount (a 0 % coupon) books the plain sale.
		c := saleChange(s, m, "", "")
		c.Sale.CouponID = "LIB20-7K3M9Q2X4D"
		check(t, mustEntry(t, c), "mkt.sale.ch_1", lines(inFlight, "", 10000, pending, "ins_1", -7000, commission, "", -3000))
	})
	t.Run("ReleaseThenFullRefundTakesAvailable", func(t *testing.T) {
		s, _ := newSale(t)
		m := s.Release()
		check(t, mustEntry(t, saleChange(s, m, "", "")), "mkt.release.sale_1", lines(pending, "ins_1", 7000, available, "ins_1", -7000))
		m = s.Refund(10000)
		check(t, mustEntry(t, saleChange(s, m, "", "re_1")), "mkt.refund.sale_1.v4",
			lines(available, "ins_1", 7000, refundsMkt, "", 3000, inFlight, "", -10000))
	})
	t.Run("PartialRefundSplitsLikeTheSaleAndFailsBack", func(t *testing.T) {
		s, _ := newSale(t)
		m := s.Refund(2500)
		e := mustEntry(t, saleChange(s, m, "", "re_1"))
		check(t, e, "mkt.refund.sale_1.v4", lines(pending, "ins_1", 1750, refundsMkt, "", 750, inFlight, "", -2500))
		if e.Source != "re_1" {
			t.Fatalf("source %q", e.Source)
		}
		m = s.Refund(0) // the refund failed at Stripe
		check(t, mustEntry(t, saleChange(s, m, "", "re_1")), "mkt.refund_reversed.sale_1.v4",
			lines(pending, "ins_1", -1750, refundsMkt, "", -750, inFlight, "", 2500))
	})
	t.Run("DisputeOpenedThenLost", func(t *testing.T) {
		s, _ := newSale(t)
		m, _ := s.Dispute("dp_1", "needs_response", 10000)
		check(t, mustEntry(t, saleChange(s, m, "dp_1", "")), "mkt.dispute.dp_1",
			lines(disputesMkt, "", 10000, inFlight, "", -10000, pending, "ins_1", 7000, held, "ins_1", -7000))
		m, _ = s.Dispute("dp_1", ledger.DisputeLost, 10000)
		check(t, mustEntry(t, saleChange(s, m, "dp_1", "")), "mkt.dispute_lost.dp_1", lines(held, "ins_1", 7000, disputesMkt, "", -7000))
	})
	t.Run("DisputeWonAfterRelease", func(t *testing.T) {
		s, _ := newSale(t)
		s.Release()
		m, _ := s.Dispute("dp_1", "needs_response", 10000)
		check(t, mustEntry(t, saleChange(s, m, "dp_1", "")), "mkt.dispute.dp_1",
			lines(disputesMkt, "", 10000, inFlight, "", -10000, available, "ins_1", 7000, held, "ins_1", -7000))
		m, _ = s.Dispute("dp_1", ledger.DisputeWon, 10000)
		check(t, mustEntry(t, saleChange(s, m, "dp_1", "")), "mkt.dispute_won.dp_1",
			lines(inFlight, "", 10000, disputesMkt, "", -10000, held, "ins_1", 7000, available, "ins_1", -7000))
	})
	t.Run("DisputeSeenClosed", func(t *testing.T) {
		s, _ := newSale(t)
		m, _ := s.Dispute("dp_1", ledger.DisputeLost, 10000) // opened and lost before we saw it
		check(t, mustEntry(t, saleChange(s, m, "dp_1", "")), "mkt.dispute_lost.dp_1",
			lines(inFlight, "", -10000, pending, "ins_1", 7000, disputesMkt, "", 3000))
		s2, _ := newSale(t)
		m, _ = s2.Dispute("dp_2", ledger.DisputeWon, 10000) // withdrawn and reinstated: nothing to post
		check(t, mustEntry(t, saleChange(s2, m, "dp_2", "")), "", nil)
	})
	t.Run("InquiryHoldsThenEscalates", func(t *testing.T) {
		s, _ := newSale(t)
		m, _ := s.Dispute("dp_1", "warning_needs_response", 10000) // an inquiry withdraws nothing
		check(t, mustEntry(t, saleChange(s, m, "dp_1", "")), "mkt.dispute.dp_1", lines(pending, "ins_1", 7000, held, "ins_1", -7000))
		m, _ = s.Dispute("dp_1", "needs_response", 10000)
		check(t, mustEntry(t, saleChange(s, m, "dp_1", "")), "mkt.dispute_escalated.dp_1", lines(inFlight, "", -10000, disputesMkt, "", 10000))
		m, _ = s.Dispute("dp_1", ledger.DisputeWon, 10000)
		check(t, mustEntry(t, saleChange(s, m, "dp_1", "")), "mkt.dispute_won.dp_1",
			lines(inFlight, "", 10000, disputesMkt, "", -10000, held, "ins_1", 7000, pending, "ins_1", -7000))
	})
	t.Run("PayoutRefusedAndReversed", func(t *testing.T) {
		po := Payout{ID: PayoutID("ins_1", "2026-11"), InstructorID: "ins_1", Period: "2026-11", Status: PayoutTransferring, AmountCents: 7000}
		c := &Change{Book: booking{At: t0, PayoutID: po.ID}, Move: ledger.PayoutMovement("ins_1", 7000), Payout: &Versioned[Payout]{Item: po}}
		check(t, mustEntry(t, c), "mkt.payout.po_2026-11_ins_1", lines(available, "ins_1", 7000, transfers, "", -7000))
		po.Status = PayoutFailed
		c = &Change{Book: booking{At: t0, PayoutID: po.ID}, Move: ledger.PayoutReversal("ins_1", 7000), Payout: &Versioned[Payout]{Item: po}}
		check(t, mustEntry(t, c), "mkt.payout_failed.po_2026-11_ins_1", lines(available, "ins_1", -7000, transfers, "", 7000))
		po.Status, po.ReversedCents = PayoutPaid, 2000
		c = &Change{Book: booking{At: t0, PayoutID: po.ID, Ref: "tr_1"}, Move: ledger.PayoutReversal("ins_1", 2000), Payout: &Versioned[Payout]{Item: po}}
		e := mustEntry(t, c)
		check(t, e, "mkt.transfer_reversed.tr_1.2000", lines(available, "ins_1", -2000, transfers, "", 2000))
		if e.Source != "tr_1" {
			t.Fatalf("source %q", e.Source)
		}
	})
	t.Run("NothingMoves", func(t *testing.T) {
		s, _ := newSale(t)
		m, _ := s.Dispute("dp_1", "needs_response", 10000)
		_ = m
		m, changed := s.Dispute("dp_1", "under_review", 10000)
		if !changed {
			t.Fatal("status not recorded")
		}
		check(t, mustEntry(t, saleChange(s, m, "dp_1", "")), "", nil)
	})
	t.Run("RefusedWhenIncomplete", func(t *testing.T) {
		s, _ := newSale(t)
		m, _ := s.Dispute("dp_1", "needs_response", 10000)
		if _, err := journalEntry(saleChange(s, m, "", "")); err == nil {
			t.Fatal("a dispute entry without the dispute's id")
		}
		release := ledger.Movement{Kind: ledger.KindRelease, Payees: map[string]ledger.Buckets{"ins_1": {Pending: -5, Available: 6}}}
		if _, err := journalEntry(saleChange(s, release, "", "")); err == nil {
			t.Fatal("a release that creates money")
		}
	})
}

// Entry ids stay valid and distinct whatever the external ids hold.
func TestJournalEntryIDs(t *testing.T) {
	a, b := entryID(JournalPayout, "po_2026-11_a b"), entryID(JournalPayout, "po_2026-11_a-b")
	long := entryID(JournalRefund, strings.Repeat("x", 300))
	for _, id := range []string{a, b, long} {
		e := journal.Entry{ID: id, Kind: JournalPayout, Area: Area, Source: "s", Date: t0, Currency: "usd",
			Lines: []journal.Line{{Account: available, Debit: 1}, {Account: transfers, Credit: 1}}}
		if strings.HasPrefix(id, JournalRefund) {
			e.Kind = JournalRefund
			e.Lines = []journal.Line{{Account: refundsMkt, Debit: 1}, {Account: inFlight, Credit: 1}}
		}
		if err := e.Validate(); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	if a == b || len(long) > 200 || entryID(JournalPayout, "po_1") != "mkt.payout.po_1" {
		t.Fatalf("ids %q %q %q", a, b, long)
	}
}

// Random lives of sales through the ledger's own operations: every movement's entry balances,
// moves each payee's buckets exactly as the movement does, moves stripe_in_flight by the money the
// event moved at Stripe, and books the sale's commission as the platform's share. JOURNAL_SEED
// replays a run.
func TestJournalEntriesMirrorMovements(t *testing.T) {
	seed := envSeed("JOURNAL_SEED")
	t.Logf("JOURNAL_SEED=%d", seed)
	rng := rand.New(rand.NewSource(seed))
	kinds := map[string]int{}
	for i := 0; i < 2000; i++ {
		var payees []ledger.Payee
		for p, left := 0, int64(10000); p < 1+rng.Intn(3) && left > 1; p++ {
			bp := 1 + rng.Int63n(min(left-1, 7000))
			payees = append(payees, ledger.Payee{ID: fmt.Sprintf("ins_%d", p), BasisPoints: bp})
			left -= bp
		}
		amount := 1 + rng.Int63n(50000)
		s, m, err := ledger.NewSale(amount, payees)
		if err != nil {
			t.Fatal(err)
		}
		var discount int64 // a third of the sales bought with a rewards coupon
		if rng.Intn(3) == 0 {
			discount = 1 + rng.Int63n(amount)
		}
		check := func(m ledger.Movement, ref string) {
			t.Helper()
			c := saleChange(s, m, ref, "re_x")
			if discount > 0 {
				c.Sale.DiscountCents, c.Sale.CouponID = discount, "LIB20-0123456789"
			}
			e, err := journalEntry(c)
			if err != nil {
				t.Fatalf("seed %d: %v (movement %+v)", seed, err, m)
			}
			if e == nil {
				if m.MovesMoney() && (len(m.Payees) > 0 || m.Withdrawn != 0 || m.Refunded != 0 || m.Gross != 0) {
					t.Fatalf("seed %d: no entry for %+v", seed, m)
				}
				return
			}
			kinds[e.Kind]++
			if err := e.Validate(); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			var dr, cr int64
			for _, l := range e.Lines {
				dr, cr = dr+l.Debit, cr+l.Credit
			}
			n := net(e)
			for _, p := range payees {
				d := m.Payees[p.ID]
				if n[string(pending)+"|"+p.ID] != -d.Pending || n[string(available)+"|"+p.ID] != -d.Available || n[string(held)+"|"+p.ID] != -d.Held {
					t.Fatalf("seed %d: payee %s moves %+v, entry %v", seed, p.ID, d, n)
				}
			}
			cash := map[string]int64{JournalSale: m.Gross, JournalRefund: -m.Refunded, JournalRefundReversed: -m.Refunded}[e.Kind]
			if strings.HasPrefix(e.Kind, JournalDispute) {
				cash = -m.Withdrawn
			}
			if dr != cr || n[string(inFlight)+"|"] != cash {
				t.Fatalf("seed %d: %s debits %d credits %d, in flight %d want %d", seed, e.Kind, dr, cr, n[string(inFlight)+"|"], cash)
			}
			// The discount is booked with the sale, on the buyer, and with nothing else.
			wantDiscount := map[string]int64{JournalSale: discount}[e.Kind]
			if e.Kind == JournalSale && -n[string(commission)+"|"] != m.Platform+discount {
				t.Fatalf("seed %d: commission %d, platform %d + discount %d", seed, -n[string(commission)+"|"], m.Platform, discount)
			}
			if n[string(marketing)+"|usr_1"] != wantDiscount || n[string(marketing)+"|"] != 0 {
				t.Fatalf("seed %d: %s books token discounts %v, want %d on usr_1", seed, e.Kind, n, wantDiscount)
			}
			if wantDiscount > 0 {
				kinds["discounted "+e.Kind]++
			}
			// Refunds that do not overlap a lost dispute: the contra is exactly the platform's share.
			if (e.Kind == JournalRefund || e.Kind == JournalRefundReversed) && s.DisputeLost == 0 && n[string(refundsMkt)+"|"] != -m.Platform {
				t.Fatalf("seed %d: refunds %d, platform %d", seed, n[string(refundsMkt)+"|"], m.Platform)
			}
		}
		check(m, "")
		for step := 0; step < 6; step++ {
			switch rng.Intn(4) {
			case 0:
				check(s.Release(), "")
			case 1:
				check(s.Refund(rng.Int63n(amount+1)), "")
			case 2:
				id := fmt.Sprintf("dp_%d", rng.Intn(2))
				st := []string{"warning_needs_response", "needs_response", "under_review", ledger.DisputeWon, ledger.DisputeLost, ledger.DisputeWarningClose}[rng.Intn(6)]
				mv, _ := s.Dispute(id, st, 1+rng.Int63n(amount))
				check(mv, id)
			case 3:
				check(s.Refund(s.Refunded), "") // the same total again: nothing
			}
		}
	}
	t.Logf("entries by kind: %v", kinds)
	for _, k := range []string{JournalSale, JournalRelease, JournalRefund, JournalRefundReversed, JournalDispute, JournalDisputeWon, JournalDisputeLost,
		"discounted " + JournalSale} {
		if kinds[k] == 0 {
			t.Errorf("no %s entry exercised", k)
		}
	}
}

// largestChange is the largest money change a sale can make, at the journal's limit: six payees
// (the most whose three buckets all move within MaxLines lines) reversed out of pending, available
// and held at once, the sale created with its guard and PaymentIntent pointer, the buyer's access
// and review and the course's counters changed with it.
func largestChange(now time.Time, run string) *Change {
	m := ledger.Movement{Kind: ledger.KindRefund, Refunded: 500, Platform: -140, Payees: map[string]ledger.Buckets{}}
	var payees []ledger.Share
	for i := 0; i < 6; i++ {
		id := fmt.Sprintf("insL%d-%s", i, run)
		m.Payees[id] = ledger.Buckets{Pending: -10, Available: -20, Held: -30}
		payees = append(payees, ledger.Share{PayeeID: id, BasisPoints: 1000, Cents: 100})
	}
	s := &Sale{ID: "sale_L" + run, InstructorID: "insL0-" + run, CourseID: "crs_L" + run, BuyerID: "buyerL-" + run,
		SessionID: "cs_L" + run, PaymentIntentID: "pi_L" + run, Currency: Currency, SoldAt: now, ReleaseAt: now.Add(RefundWindow),
		Sale: ledger.Sale{Amount: 1000, Shares: payees, Platform: 400, Refunded: 500}}
	gk, pk := store.SaleSourceKey(s.SessionID), store.SalePaymentIntentKey(s.PaymentIntentID)
	guard := SalePointer{PK: gk.PK, SK: gk.SK, InstructorID: s.InstructorID, SaleID: s.ID}
	pi := SalePointer{PK: pk.PK, SK: pk.SK, InstructorID: s.InstructorID, SaleID: s.ID}
	return &Change{Book: booking{At: now, SaleID: s.ID, CourseID: s.CourseID, Source: "re_L" + run}, Move: m, Sale: s,
		NewPointers: []SalePointer{guard}, Pointers: []SalePointer{pi},
		Enrollment: &Versioned[Enrollment]{Item: Enrollment{UserID: s.BuyerID, CourseID: s.CourseID, Status: EnrollRevoked,
			Source: SourcePurchase, EnrolledAt: now, Version: 1}},
		Review: &Versioned[Review]{Item: Review{CourseID: s.CourseID, UserID: s.BuyerID, Rating: 5, Status: ReviewWithheld,
			CreatedAt: now, UpdatedAt: now, Version: 1}},
		Listing: map[string]int64{catalog.CtrEnrollments: -1, catalog.CtrRatingCount: -1}}
}

// The largest marketplace transaction with its entry stays within DynamoDB's 100 items, and the
// journal refuses an entry beyond its lines (a seventh payee) rather than a transaction too large.
func TestLargestChangeFitsOneTransaction(t *testing.T) {
	c := largestChange(t0, "x")
	e, err := journalEntry(c)
	if err != nil || e == nil || len(e.Lines) != journal.MaxLines {
		t.Fatalf("entry %+v: %v", e, err)
	}
	items, err := (&dynamoBooks{}).Items(largestChange(t0, "x"))
	if err != nil {
		t.Fatal(err)
	}
	own, err := (&dynamoBooks{}).changeItems(largestChange(t0, "x"))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != len(own)+journal.ItemCount(*e) || len(items) > journal.MaxTransactItems {
		t.Fatalf("%d items: %d of the change, %d of its entry", len(items), len(own), journal.ItemCount(*e))
	}
	t.Logf("largest change: %d items (%d its own + %d its entry of %d lines); limit %d", len(items), len(own),
		journal.ItemCount(*e), len(e.Lines), journal.MaxTransactItems)

	// A typical sale: the change and its three-line entry.
	w := newWorld(t)
	crs := w.course("crs_01JDZ8K3M4N5P6Q7R8S9T0VWXY", "ins", 999)
	ch, err := planSale(t.Context(), w.d, Purchase{SessionID: "cs_1", PaymentIntentID: "pi_1", BuyerID: "u1", CourseID: crs.ID,
		AmountCents: 999, Currency: "usd", PaidAt: t0}, crs, "evt_1")
	if err != nil {
		t.Fatal(err)
	}
	sale, err := (&dynamoBooks{}).Items(ch)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a course sale: %d items", len(sale))

	seventh := largestChange(t0, "x")
	seventh.Move.Payees["insL6-x"] = ledger.Buckets{Pending: -1}
	seventh.Move.Refunded++
	if _, err := (&dynamoBooks{}).Items(seventh); err == nil {
		t.Fatal("an entry of more than MaxLines lines was accepted")
	}
}

// Payments writes a course sale's items in its own transaction and cannot tell the entry's condition
// from its own guard: JoinItems leaves out an entry posted before with the same content, and refuses
// one posted with other content.
func TestJoinItemsLeavesOutAnEntryPostedBefore(t *testing.T) {
	s := newTestStore(t, nil)
	b := &dynamoBooks{s: s}
	c := largestChange(t0, "j")
	e, err := journalEntry(largestChange(t0, "j"))
	if err != nil {
		t.Fatal(err)
	}
	all, err := b.JoinItems(t.Context(), largestChange(t0, "j"))
	if err != nil || len(all) != len(mustItems(t, b, largestChange(t0, "j"))) {
		t.Fatalf("nothing posted yet: %d items, %v", len(all), err)
	}
	if err := (journal.Repo{S: s}).Post(t.Context(), *e); err != nil {
		t.Fatal(err)
	}
	own, err := b.changeItems(largestChange(t0, "j"))
	if err != nil {
		t.Fatal(err)
	}
	joined, err := b.JoinItems(t.Context(), c)
	if err != nil || len(joined) != len(own) {
		t.Fatalf("posted before: %d items (the change has %d), %v", len(joined), len(own), err)
	}
	other := largestChange(t0, "j")
	other.Book.Memo = "another memo"
	if _, err := b.JoinItems(t.Context(), other); err == nil {
		t.Fatal("an entry posted with other content was joined")
	}
}

func mustItems(t *testing.T, b *dynamoBooks, c *Change) []types.TransactWriteItem {
	t.Helper()
	items, err := b.Items(c)
	if err != nil {
		t.Fatal(err)
	}
	return items
}
