package marketplace

import (
	"context"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
)

// The marketplace's agreement with Stripe when events arrive late, out of order, or reverse
// themselves (issue 13), one defect a test, on the in-memory books and Stripe.

// 1. A refund whose event arrives before the sale is booked (the first checkout.session.completed
// delivery failed; Stripe retries it hours later) is parked, not dropped, and booking the sale reads
// Stripe's refunds: the sale is booked refunded, access never given, nothing released or paid.
func TestRefundBeforeTheSaleIsBookedIsAppliedAtBooking(t *testing.T) {
	w := newWorld(t)
	w.course("crs_1", "ins", 999)
	w.connect("ins", true)
	p := w.paid("cs_a", "ana", "crs_1", 999)
	w.stripe.refunds[p.PaymentIntentID] = []StripeRefund{{ID: "re_1", AmountCents: 999, Status: "succeeded"}}
	if err := w.refundEvent(p.PaymentIntentID, "evt_refund", 999); err != nil {
		t.Fatalf("an early refund event must be answered (parked), not fail: %v", err)
	}
	if parked, _ := w.books.ParkedEvents(context.Background(), p.PaymentIntentID); len(parked) != 1 || w.books.counters[mktmetrics.CtrParkedEvents] != 1 {
		t.Fatalf("the early event is not remembered: %+v", parked)
	}
	s := w.mustBook(p)
	if s.Refunded != 999 || s.Status != SaleRefunded || s.InstructorNet() != 0 || s.PlatformNet() != 0 {
		t.Fatalf("sale booked after its refund: %s", dump(s))
	}
	if e := w.enrolment("ana", "crs_1"); e != nil && e.Active() {
		t.Fatalf("a refunded buyer has access: %+v", e)
	}
	if parked, _ := w.books.ParkedEvents(context.Background(), p.PaymentIntentID); len(parked) != 0 {
		t.Fatalf("parked events not cleared at booking: %+v", parked)
	}
	w.clk.Advance(RefundWindow + time.Hour)
	if _, err := RunRelease(context.Background(), w.d); err != nil {
		t.Fatal(err)
	}
	if _, err := EnqueuePayouts(context.Background(), w.d, Period(w.clk.Now())); err != nil {
		t.Fatal(err)
	}
	if err := ProcessPayout(context.Background(), w.d, "ins", Period(w.clk.Now())); err != nil {
		t.Fatal(err)
	}
	if len(w.stripe.transfers) != 0 || w.books.balances["ins"].Buckets != (ledger.Buckets{}) {
		t.Fatalf("refunded money paid out: transfers %v, balance %+v", w.stripe.transfers, w.books.balances["ins"])
	}
	w.checkLedger()

	// A dispute that arrived early is applied at booking the same way.
	p2 := w.paid("cs_b", "bo", "crs_1", 999)
	w.stripe.disputes[p2.PaymentIntentID] = []StripeDispute{{ID: "dp_1", Status: "lost", AmountCents: 999}}
	if err := w.disputeEvent(p2.PaymentIntentID, "evt_dp", StripeDispute{ID: "dp_1", Status: "lost", AmountCents: 999}); err != nil {
		t.Fatal(err)
	}
	if s2 := w.mustBook(p2); s2.DisputeLost != 999 || s2.Stands() {
		t.Fatalf("sale booked after its lost dispute: %s", dump(s2))
	}
	// A charge payments knows as a subscription's is not parked.
	w.books.other["pi_sub"] = true
	if err := w.refundEvent("pi_sub", "evt_sub", 999); err != nil || len(w.books.parked["pi_sub"]) != 0 {
		t.Fatalf("a subscription's refund was parked: %v", err)
	}
}

// 2. A refund that fails or is canceled later gives everything back, in both ledgers' rule
// (payments.RefundCounts): the shares return to the instructor and the platform, access returns.
func TestFailedRefundRestoresSharesAndAccess(t *testing.T) {
	w := newWorld(t)
	w.course("crs_1", "ins", 999)
	p := w.paid("cs_a", "ana", "crs_1", 999)
	w.mustBook(p)
	pi := p.PaymentIntentID
	w.stripe.refunds[pi] = []StripeRefund{{ID: "re_1", AmountCents: 999, Status: "pending"}}
	if err := w.refundEvent(pi, "evt_1", 999); err != nil {
		t.Fatal(err)
	}
	if s := w.saleOf("cs_a"); s.Stands() || w.enrolment("ana", "crs_1").Active() {
		t.Fatalf("pending full refund: %s", dump(s))
	}
	w.stripe.refunds[pi][0].Status = "failed"
	if err := w.refundEvent(pi, "evt_2", 0); err != nil { // charge.refund.updated / refund.updated
		t.Fatal(err)
	}
	s := w.saleOf("cs_a")
	if s.Refunded != 0 || s.InstructorNet() != 699 || s.PlatformNet() != 300 || len(s.RefundIDs) != 0 {
		t.Fatalf("after the refund failed: %s", dump(s))
	}
	if e := w.enrolment("ana", "crs_1"); !e.Active() || w.books.listing["crs_1"][catalog.CtrEnrollments] != 1 {
		t.Fatalf("access not restored: %+v, listing %v", e, w.books.listing["crs_1"])
	}
	if got := w.books.balances["ins"].Buckets; got != (ledger.Buckets{Pending: 699}) {
		t.Fatalf("instructor after the failed refund: %+v", got)
	}
	// The old charge.refunded delivered again (amount_refunded 999, the refund since failed) is
	// explained by Stripe's list and books nothing.
	if err := w.refundEvent(pi, "evt_1", 999); err != nil {
		t.Fatal(err)
	}
	if s2 := w.saleOf("cs_a"); s2.Refunded != 0 || s2.Version != s.Version {
		t.Fatalf("a stale charge.refunded moved the sale: %s", dump(s2))
	}
	// An event whose amount the list cannot explain is retried, not acknowledged.
	lag := w.paid("cs_lag", "bo", "crs_1", 999)
	w.mustBook(lag)
	if err := w.refundEvent(lag.PaymentIntentID, "evt_3", 500); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("a refund Stripe does not list yet: %v", err)
	}
	w.checkLedger()
}

// 3. Two Checkout Sessions paid for one course: the second sale is refunded at Stripe at booking,
// access stands on either sale, and refunding the first later does not revoke what the second paid.
func TestSecondPaidSaleIsRefundedAndAccessStands(t *testing.T) {
	w := newWorld(t)
	w.course("crs_1", "ins", 999)
	var events []string
	w.stripe.emit = func(typ, pi string) { events = append(events, pi) }
	first := w.mustBook(w.paid("cs_a", "ana", "crs_1", 999))
	second := w.mustBook(w.paid("cs_b", "ana", "crs_1", 999))
	if second.DuplicateOf != first.ID || len(events) != 1 || events[0] != second.PaymentIntentID {
		t.Fatalf("second sale %s; refunds asked for %v", dump(second), events)
	}
	if got := w.sent.count("course.purchased"); got != 1 {
		t.Fatalf("course.purchased sent %d times for one course bought twice", got)
	}
	if err := w.refundEvent(second.PaymentIntentID, "evt_dup", 999); err != nil {
		t.Fatal(err)
	}
	e := w.enrolment("ana", "crs_1")
	if s := w.saleOf("cs_b"); s.Stands() || !e.Active() || len(e.SaleIDs) != 1 || e.SaleIDs[0] != first.ID {
		t.Fatalf("after the duplicate's refund: sale %s, enrolment %+v", dump(s), e)
	}
	// Settling again (a redelivery) asks for no second refund.
	if err := w.book(w.paid("cs_b", "ana", "crs_1", 999), "evt_again"); err != nil || len(events) != 1 {
		t.Fatalf("redelivery: %v, refunds %v", err, events)
	}
	// Had the first been refunded while the second stood, access would stay: the enrolment follows
	// every sale behind it.
	w2 := newWorld(t)
	w2.course("crs_1", "ins", 999)
	a := w2.mustBook(w2.paid("cs_a", "ana", "crs_1", 999))
	w2.stripe.emit = nil
	b := w2.mustBook(w2.paid("cs_b", "ana", "crs_1", 999))
	w2.stripe.refunds[b.PaymentIntentID] = nil // the automatic refund has not happened yet
	w2.stripe.refunds[a.PaymentIntentID] = []StripeRefund{{ID: "re_a", AmountCents: 999, Status: "succeeded"}}
	if err := w2.refundEvent(a.PaymentIntentID, "evt_a", 999); err != nil {
		t.Fatal(err)
	}
	if e := w2.enrolment("ana", "crs_1"); !e.Active() || len(e.SaleIDs) != 1 || e.SaleIDs[0] != b.ID {
		t.Fatalf("refunding the first of two paid sales revoked access: %+v", e)
	}
}

// 3. At most one open Checkout Session per learner and course: the same request gets the same
// session; another price or coupon expires the old one first; a paid one answers 409.
func TestOneOpenCheckoutPerLearnerAndCourse(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	in := CheckoutInput{UserID: "ana", CourseID: "crs_1", PriceCents: 999, SuccessURL: "https://app/ok", CancelURL: "https://app/no"}
	a, reused, err := openCheckout(ctx, w.d, in)
	if err != nil || reused {
		t.Fatal(err)
	}
	b, reused, err := openCheckout(ctx, w.d, in)
	if err != nil || !reused || b.ID != a.ID {
		t.Fatalf("second request: %+v reused=%v %v", b, reused, err)
	}
	in.PriceCents = 1499
	c, _, err := openCheckout(ctx, w.d, in)
	if err != nil || c.ID == a.ID || w.stripe.sessions[a.ID] != "expired" {
		t.Fatalf("new price: %+v, old session %s (%v)", c, w.stripe.sessions[a.ID], err)
	}
	w.stripe.sessions[c.ID] = "complete"
	in.CouponID = "LIB20-AAAAAAAAAA"
	if _, _, err := openCheckout(ctx, w.d, in); err != ErrCheckoutComplete {
		t.Fatalf("a paid session was replaced: %v", err)
	}
	// A racing request that recorded its session after we read none, before we saved ours: theirs
	// wins, ours is expired at Stripe.
	w.books.checkouts[k2("bo", "crs_1")] = OpenCheckout{UserID: "bo", CourseID: "crs_1", SessionID: "cs_theirs", URL: "u",
		PriceCents: 999, ExpiresAt: t0.Add(time.Hour)}
	w.d.Books = &readsNoCheckoutOnce{memBooks: w.books}
	got, reused, err := openCheckout(ctx, w.d, CheckoutInput{UserID: "bo", CourseID: "crs_1", PriceCents: 999,
		SuccessURL: "https://app/ok", CancelURL: "https://app/no"})
	if err != nil || !reused || got.ID != "cs_theirs" {
		t.Fatalf("racing request: %+v %v %v", got, reused, err)
	}
	expired := 0
	for _, st := range w.stripe.sessions {
		if st == "expired" {
			expired++
		}
	}
	if expired != 2 {
		t.Fatalf("the losing session was not expired: %v", w.stripe.sessions)
	}
}

// readsNoCheckoutOnce answers the first OpenCheckout with none: a concurrent request's write lands
// between the read and the save.
type readsNoCheckoutOnce struct {
	*memBooks
	read bool
}

func (r *readsNoCheckoutOnce) OpenCheckout(ctx context.Context, user, course string) (*OpenCheckout, error) {
	if !r.read {
		r.read = true
		return nil, nil
	}
	return r.memBooks.OpenCheckout(ctx, user, course)
}

// 4. A dispute won after a payout run carried the instructor at zero puts them back on the payable
// list (every change adding available money does), and the next run pays the returned share.
func TestDisputeWonAfterACarriedPayoutMakesTheInstructorPayable(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.course("crs_1", "ins", 9999)
	w.connect("ins", true)
	p := w.paid("cs_a", "ana", "crs_1", 9999)
	w.mustBook(p)
	dp := StripeDispute{ID: "dp_1", Status: "needs_response", AmountCents: 9999}
	if err := w.disputeEvent(p.PaymentIntentID, "evt_dp1", dp); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(RefundWindow + time.Hour)
	if _, err := RunRelease(ctx, w.d); err != nil {
		t.Fatal(err)
	}
	period := Period(w.clk.Now())
	w.books.payable["ins"] = true // listed by an earlier release of another sale
	if err := ProcessPayout(ctx, w.d, "ins", period); err != nil {
		t.Fatal(err)
	}
	if po := w.books.payouts[k2("ins", period)]; po.Status != PayoutCarried || w.books.payable["ins"] {
		t.Fatalf("payout with everything held: %s, payable %v", dump(po), w.books.payable["ins"])
	}
	dp.Status = ledger.DisputeWon
	if err := w.disputeEvent(p.PaymentIntentID, "evt_dp2", dp); err != nil {
		t.Fatal(err)
	}
	if !w.books.payable["ins"] {
		t.Fatal("the dispute won put available money back, but the instructor is not payable")
	}
	w.clk.Advance(31 * 24 * time.Hour)
	rep, err := EnqueuePayouts(ctx, w.d, Period(w.clk.Now()))
	if err != nil || rep.Queued != 1 {
		t.Fatalf("next run: %+v %v", rep, err)
	}
	if err := ProcessPayout(ctx, w.d, "ins", Period(w.clk.Now())); err != nil {
		t.Fatal(err)
	}
	if tr := w.stripe.transfers[PayoutID("ins", Period(w.clk.Now()))]; tr == nil || tr.Amount != 6999 {
		t.Fatalf("the returned share was not paid: %+v", tr)
	}
	w.checkLedger()
}

// 5. Two account.updated events of the same second delivered in reverse order: the tie is broken by
// Stripe's account, so payouts end enabled as the account is.
func TestAccountUpdatedOfTheSameSecondInReverseOrder(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.connect("ins", false)
	w.books.instructors["ins"] = Instructor{ID: "ins", ConnectAccountID: "acct_ins"}
	acct := func(enabled bool) *stripe.Account {
		return &stripe.Account{ID: "acct_ins", PayoutsEnabled: enabled, Metadata: map[string]string{"userId": "ins"}}
	}
	const second = 1767000000
	w.stripe.accounts["acct_ins"] = true // Stripe's account now: the later event's state
	if err := ApplyAccountUpdated(ctx, w.d, acct(true), second, "evt_later"); err != nil {
		t.Fatal(err)
	}
	if err := ApplyAccountUpdated(ctx, w.d, acct(false), second, "evt_earlier"); err != nil {
		t.Fatal(err)
	}
	if in := w.books.instructors["ins"]; !in.PayoutsEnabled {
		t.Fatalf("payouts disabled by the earlier event of the same second: %+v", in)
	}
	// An older event never overwrites; a newer one does.
	if err := ApplyAccountUpdated(ctx, w.d, acct(false), second-5, "evt_old"); err != nil || !w.books.instructors["ins"].PayoutsEnabled {
		t.Fatalf("an older event applied: %v", err)
	}
	if err := ApplyAccountUpdated(ctx, w.d, acct(false), second+5, "evt_new"); err != nil || w.books.instructors["ins"].PayoutsEnabled {
		t.Fatalf("a newer event not applied: %v", err)
	}
	// Another instructor's account in the metadata changes nothing.
	other := acct(true)
	other.ID = "acct_other"
	if err := ApplyAccountUpdated(ctx, w.d, other, second+10, "evt_other"); err != nil || w.books.instructors["ins"].PayoutsEnabled {
		t.Fatalf("another account applied: %v", err)
	}
}

// transfer.reversed books the money back once, makes the instructor payable, and a payout whose
// transfer was reversed is never transferred again (FindTransfer counts reversed transfers).
func TestTransferReversedIsBookedOnceAndNeverPaysTwice(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	period := w.releasedSale("cs_a", 9999)
	if err := ProcessPayout(ctx, w.d, "ins", period); err != nil {
		t.Fatal(err)
	}
	tr := w.stripe.transfers[PayoutID("ins", period)]
	rev := TransferReversal{TransferID: tr.ID, InstructorID: "ins", Period: period, AmountReversed: 2000}
	for i := 0; i < 2; i++ { // delivered twice
		if err := ApplyTransferReversed(ctx, w.d, rev, "evt_rev1"); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.books.balances["ins"].Buckets; got != (ledger.Buckets{Available: 2000, Paid: 4999}) || !w.books.payable["ins"] {
		t.Fatalf("after a 2000 reversal: %+v payable=%v", got, w.books.payable["ins"])
	}
	rev.AmountReversed = 6999
	if err := ApplyTransferReversed(ctx, w.d, rev, "evt_rev2"); err != nil {
		t.Fatal(err)
	}
	if got := w.books.balances["ins"].Buckets; got != (ledger.Buckets{Available: 6999}) {
		t.Fatalf("after the full reversal: %+v", got)
	}
	// A redrive of the period's message finds the payout paid: nothing is transferred again.
	if err := ProcessPayout(ctx, w.d, "ins", period); err != nil || len(w.stripe.transfers) != 1 {
		t.Fatalf("redrive: %v, transfers %d", err, len(w.stripe.transfers))
	}
	w.checkLedger()
	if _, ok := TransferReversalOf(&stripe.Transfer{ID: "tr_x", Metadata: map[string]string{"userId": "ins", "period": period,
		"payoutId": "po_other"}}); ok {
		t.Fatal("a transfer that is not a payout's was taken for one")
	}
}

// A payout left transferring after the queue gave up (its answer lost five times) is sent to the
// queue again by the daily run, and resolved from Stripe's records without a second transfer.
func TestStuckTransferringPayoutIsRequeuedAndResolved(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	period := w.releasedSale("cs_a", 9999)
	w.stripe.loseTransfer = true
	if err := ProcessPayout(ctx, w.d, "ins", period); err == nil {
		t.Fatal("a lost transfer answer must fail the message")
	}
	w.clk.Advance(2 * time.Hour)
	rep, err := RunRelease(ctx, w.d)
	if err != nil || rep.RequeuedPayouts != 1 || w.sent.count(MsgPayout) != 1 {
		t.Fatalf("sweep: %+v %v (messages %d)", rep, err, w.sent.count(MsgPayout))
	}
	if err := ProcessPayout(ctx, w.d, "ins", period); err != nil {
		t.Fatal(err)
	}
	if po := w.books.payouts[k2("ins", period)]; po.Status != PayoutPaid || len(w.stripe.transfers) != 1 {
		t.Fatalf("after the requeue: %s, %d transfers", dump(po), len(w.stripe.transfers))
	}
}

// releasedSale books a sale of amount to ana on a course of ins (who can be paid) and releases it:
// its share is available. It returns the payout period of now.
func (w *world) releasedSale(session string, amount int64) string {
	w.t.Helper()
	w.course("crs_1", "ins", amount)
	w.connect("ins", true)
	w.mustBook(w.paid(session, "ana", "crs_1", amount))
	w.clk.Advance(RefundWindow + time.Hour)
	if _, err := RunRelease(context.Background(), w.d); err != nil {
		w.t.Fatal(err)
	}
	return Period(w.clk.Now())
}

// The daily release continues past any page count until nothing is due (it stopped at 5,000).
func TestReleaseContinuesUntilNothingIsDue(t *testing.T) {
	w := newWorld(t)
	w.course("crs_1", "ins", 999)
	const n = 5050
	for i := 0; i < n; i++ {
		s := Sale{ID: newID(prefixSale, t0.Add(time.Duration(i)*time.Millisecond)), InstructorID: "ins", CourseID: "crs_1",
			SoldAt: t0, ReleaseAt: t0.Add(RefundWindow), Version: 1}
		s.Sale, _, _ = ledger.NewSale(999, ledger.InstructorRule("ins"))
		s.SetKeys()
		w.books.sales[k2("ins", s.ID)] = s
	}
	w.books.balances["ins"] = Balance{InstructorID: "ins", Buckets: ledger.Buckets{Pending: n * 699}}
	w.clk.Advance(RefundWindow + time.Hour)
	rep, err := RunRelease(context.Background(), w.d)
	if err != nil || rep.Released != n || rep.Truncated || w.books.balances["ins"].Available != n*699 {
		t.Fatalf("release of %d: %+v %v, balance %+v", n, rep, err, w.books.balances["ins"])
	}
}

// A Checkout Session in a currency we do not sell in is recorded and refunded, never an error that
// Stripe retries for three days; redelivered, it asks for no second refund.
func TestForeignCurrencyCheckoutIsRecordedAndRefunded(t *testing.T) {
	w := newWorld(t)
	w.course("crs_1", "ins", 999)
	var refunds []string
	w.stripe.emit = func(_, pi string) { refunds = append(refunds, pi) }
	p := w.paid("cs_eur", "ana", "crs_1", 950)
	p.Currency = "eur"
	for i := 0; i < 2; i++ {
		if err := w.book(p, "evt_eur"); err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	ptr, err := w.books.SaleOfSession(context.Background(), "cs_eur")
	if err != nil || ptr.Rejected != RejectedCurrency || ptr.SaleID != "" || len(refunds) != 1 ||
		w.books.counters[mktmetrics.CtrRejectedSales] != 1 {
		t.Fatalf("foreign currency: %+v %v, refunds %v, counters %v", ptr, err, refunds, w.books.counters)
	}
	if e := w.enrolment("ana", "crs_1"); e != nil || len(w.books.balances) != 0 {
		t.Fatalf("a rejected purchase gave access or money: %+v %v", e, w.books.balances)
	}
}

// The facts follow what was booked: a refund counted is told, a refund that then failed is told as
// reversed, and a lost dispute is told like a full refund (issue 14, item 5).
func TestRefundFactsFollowWhatWasBooked(t *testing.T) {
	w := newWorld(t)
	w.course("crs_1", "ins", 4900)
	p := w.paid("cs_a", "ana", "crs_1", 4900)
	w.mustBook(p)
	pi := p.PaymentIntentID
	w.stripe.refunds[pi] = []StripeRefund{{ID: "re_1", AmountCents: 49, Status: "pending"}}
	if err := w.refundEvent(pi, "evt_1", 49); err != nil {
		t.Fatal(err)
	}
	w.stripe.refunds[pi][0].Status = "failed"
	if err := w.refundEvent(pi, "evt_2", 0); err != nil {
		t.Fatal(err)
	}
	if err := w.disputeEvent(pi, "evt_3", StripeDispute{ID: "dp_1", Status: "lost", AmountCents: 4900}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range w.sent.take("course.refunded") {
		seen[m.Dedupe] = true
	}
	for _, want := range []string{"course.refunded:re_1", "course.refunded:re_1#reversed", "course.refunded:dp_1"} {
		if !seen[want] {
			t.Errorf("fact %s not sent; sent %v", want, seen)
		}
	}
}
