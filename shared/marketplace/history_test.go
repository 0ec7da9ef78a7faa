package marketplace

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/ledger"
)

// Random histories of one course purchase (sometimes paid twice) against Stripe's asynchronous
// events: the checkout completed, refunds created and then succeeding, failing or canceled, a
// dispute opened and won or lost, transfers and their reversals, release and payout runs with lost
// and refused transfer answers — with every event delivered late, out of order and some twice.
// After each step the books must hold together; after each history, once every event has been
// delivered, they must say what Stripe says.
//
// HISTORY_SEED and HISTORY_COUNT replay or widen a run; a failure prints the seed and history.
func TestSaleHistoriesConvergeToStripe(t *testing.T) {
	seed := envSeed("HISTORY_SEED")
	count := 2000
	if v := os.Getenv("HISTORY_COUNT"); v != "" {
		count, _ = strconv.Atoi(v)
	}
	t.Logf("HISTORY_SEED=%d HISTORY_COUNT=%d", seed, count)
	rng := rand.New(rand.NewSource(seed))
	stats := map[string]int{}
	for i := 0; i < count; i++ {
		h := newHistory(t, rng.Int63())
		h.run(stats)
		if t.Failed() {
			t.Fatalf("history %d (HISTORY_SEED=%d): %v", i, seed, h.log)
		}
	}
	t.Logf("%d histories; steps %v", count, stats)
	for _, k := range []string{"early-event", "refund-failed", "dispute-lost", "dispute-won", "duplicate", "transfer-reversed", "paid-out",
		"token-discount", "token-discount-refunded", "other-discount"} {
		if stats[k] == 0 {
			t.Errorf("no history exercised %s: %v", k, stats)
		}
	}
}

// envSeed is the seed a random test replays from the environment variable name, else the time.
func envSeed(name string) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return time.Now().UnixNano()
}

type event struct {
	typ, id, pi    string
	amountRefunded int64
	dispute        StripeDispute
	reversal       TransferReversal
	purchase       Purchase
	fails          int
}

type history struct {
	*world
	rng      *rand.Rand
	amount   int64
	sessions []Purchase
	pending  []*event
	log      []string
	n        int
	reviewed bool
	// delivered are the events applied, in order (the journal invariant applies them all again).
	delivered []*event
}

func newHistory(t *testing.T, seed int64) *history {
	h := &history{world: newWorld(t), rng: rand.New(rand.NewSource(seed))}
	h.d.PayoutMinimum = []int64{1, 1000, 5000}[h.rng.Intn(3)]
	h.amount = int64(99 + h.rng.Intn(20000))
	h.course("crs_1", "ins", h.amount)
	h.connect("ins", true)
	h.stripe.emit = func(typ, pi string) { h.emit(typ, pi, 0) }
	sessions := 1
	if h.rng.Intn(4) == 0 {
		sessions = 2 // paid from two tabs
	}
	for i := 0; i < sessions; i++ {
		p := h.paid(fmt.Sprintf("cs_%d", i), "ana", "crs_1", h.amount)
		switch h.rng.Intn(6) {
		case 0, 1: // bought with a rewards coupon: Stripe's discount on top of what was paid
			p.DiscountCents, p.CouponID = 1+h.rng.Int63n(h.amount), fmt.Sprintf("LIB20-%010d", i)
		case 2: // a discount that is no rewards coupon of the checkout: not token-funded
			p.OtherDiscountCents = 1 + h.rng.Int63n(h.amount)
		}
		h.sessions = append(h.sessions, p)
		h.pending = append(h.pending, &event{typ: "checkout", id: "evt_cs_" + p.SessionID, purchase: p, pi: p.PaymentIntentID})
	}
	return h
}

// fail stops the test with the history that led there.
func (h *history) fail(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf("%s\nhistory:\n  %s", fmt.Sprintf(format, args...), strings.Join(h.log, "\n  "))
}

func (h *history) note(format string, args ...any) {
	h.log = append(h.log, fmt.Sprintf(format, args...))
}

func (h *history) emit(typ, pi string, amount int64) {
	h.n++
	ev := &event{typ: typ, id: fmt.Sprintf("evt_%d", h.n), pi: pi, amountRefunded: amount}
	if typ == "charge.refunded" && amount == 0 {
		ev.amountRefunded = h.counted(pi)
	}
	h.pending = append(h.pending, ev)
}

// counted is Stripe's amount_refunded of a charge now.
func (h *history) counted(pi string) int64 {
	var n int64
	for _, r := range h.stripe.refunds[pi] {
		if r.Counts() {
			n += r.AmountCents
		}
	}
	return n
}

func (h *history) run(stats map[string]int) {
	steps := 8 + h.rng.Intn(25)
	for i := 0; i < steps && !h.t.Failed(); i++ {
		h.step(stats)
		h.checkBooks()
	}
	h.settle(stats)
	h.checkBooks()
	h.checkConverged(stats)
	h.checkReapplied(stats)
}

func (h *history) step(stats map[string]int) {
	ctx := context.Background()
	p := h.sessions[h.rng.Intn(len(h.sessions))]
	pi := p.PaymentIntentID
	switch k := h.rng.Intn(14); {
	case k <= 2 && len(h.pending) > 0:
		h.deliverOne(stats, h.rng.Intn(3) == 0)
	case k == 3: // a refund at Stripe (Dashboard, support, or our admin route)
		left := h.stripe.refundable(pi)
		if left <= 0 || h.disputed(pi) {
			return
		}
		amt := left
		if h.rng.Intn(2) == 0 {
			amt = 1 + h.rng.Int63n(left)
		}
		status := []string{"pending", "succeeded"}[h.rng.Intn(2)]
		h.stripe.mu.Lock()
		h.stripe.refunds[pi] = append(h.stripe.refunds[pi], StripeRefund{ID: h.stripe.id("re"), AmountCents: amt, Status: status})
		h.stripe.mu.Unlock()
		h.note("refund %s %d %s", pi, amt, status)
		h.emit("charge.refunded", pi, 0)
	case k == 4: // a pending refund settles
		for i, r := range h.stripe.refunds[pi] {
			if r.Status == "pending" {
				st := []string{"succeeded", "failed", "canceled"}[h.rng.Intn(3)]
				h.stripe.refunds[pi][i].Status = st
				h.note("refund %s → %s", r.ID, st)
				if st != "succeeded" {
					stats["refund-failed"]++
				}
				h.emit("charge.refund.updated", pi, 0)
				return
			}
		}
	case k == 5: // a dispute opens, or closes
		ds := h.stripe.disputes[pi]
		switch {
		case len(ds) == 0:
			amt := h.amount - h.counted(pi)
			if amt <= 0 {
				return
			}
			h.stripe.disputes[pi] = []StripeDispute{{ID: "dp_" + pi, Status: "needs_response", AmountCents: amt}}
			h.note("dispute %s %d", pi, amt)
		case ds[0].Status == "needs_response" || ds[0].Status == "under_review":
			st := []string{"under_review", ledger.DisputeWon, ledger.DisputeLost}[h.rng.Intn(3)]
			h.stripe.disputes[pi][0].Status = st
			h.note("dispute %s → %s", pi, st)
		default:
			return
		}
		h.n++
		h.pending = append(h.pending, &event{typ: "dispute", id: fmt.Sprintf("evt_%d", h.n), pi: pi, dispute: h.stripe.disputes[pi][0]})
	case k == 6:
		h.clk.Advance(time.Duration(1+h.rng.Intn(40)) * 24 * time.Hour)
	case k == 7:
		h.release()
	case k == 8 || k == 13:
		h.payouts(stats)
	case k == 9: // a transfer is reversed at Stripe (support, the Dashboard)
		for _, tr := range h.stripe.transfers {
			if tr.Reversed < tr.Amount {
				tr.Reversed += 1 + h.rng.Int63n(tr.Amount-tr.Reversed)
				h.note("transfer %s reversed to %d", tr.ID, tr.Reversed)
				po := h.books.payouts[k2("ins", tr.PayoutID[len("po_"):len("po_")+7])]
				h.n++
				h.pending = append(h.pending, &event{typ: "transfer.reversed", id: fmt.Sprintf("evt_%d", h.n),
					reversal: TransferReversal{TransferID: tr.ID, InstructorID: "ins", Period: po.Period, AmountReversed: tr.Reversed}})
				stats["transfer-reversed"]++
				return
			}
		}
	case k == 10: // the buyer reviews the course while they hold it
		if e := h.enrolment("ana", "crs_1"); e != nil && e.Active() {
			if _, _, err := putReview(ctx, h.d, "crs_1", "ana", "Ana", 1+h.rng.Intn(5), "text"); err != nil {
				h.fail("review: %v", err)
			}
			h.reviewed = true
		}
	default:
		if len(h.pending) > 0 {
			h.deliverOne(stats, false)
		}
	}
}

func (h *history) disputed(pi string) bool { return len(h.stripe.disputes[pi]) > 0 }

// deliverOne delivers a random pending event (again later too, when twice is set): a failure
// leaves it pending, as Stripe retries.
func (h *history) deliverOne(stats map[string]int, twice bool) {
	i := h.rng.Intn(len(h.pending))
	ev := h.pending[i]
	if err := h.deliver(ev, stats); err != nil {
		ev.fails++
		if ev.fails > 10 {
			h.fail("event %s %s keeps failing: %v", ev.typ, ev.id, err)
		}
		return
	}
	h.delivered = append(h.delivered, ev)
	if !twice {
		h.pending = slices.Delete(h.pending, i, i+1)
	}
}

func (h *history) deliver(ev *event, stats map[string]int) error {
	ctx := context.Background()
	h.note("deliver %s %s %s", ev.typ, ev.id, ev.pi)
	switch ev.typ {
	case "checkout":
		if _, err := h.books.SaleOfSession(ctx, ev.purchase.SessionID); err != nil && len(h.stripe.refunds[ev.pi])+len(h.stripe.disputes[ev.pi]) > 0 {
			stats["early-event"]++
		}
		return h.book(ev.purchase, ev.id)
	case "charge.refunded", "charge.refund.updated":
		amount := ev.amountRefunded
		if ev.typ != "charge.refunded" {
			amount = 0
		}
		return h.refundEvent(ev.pi, ev.id, amount)
	case "dispute":
		return h.disputeEvent(ev.pi, ev.id, ev.dispute)
	case "transfer.reversed":
		return ApplyTransferReversed(ctx, h.d, ev.reversal, ev.id)
	}
	return fmt.Errorf("unknown event %s", ev.typ)
}

func (h *history) release() {
	if _, err := RunRelease(context.Background(), h.d); err != nil {
		h.fail("release: %v", err)
	}
	h.consumePayouts()
}

// payouts runs the monthly job and its queue, sometimes with a transfer refused or its answer lost.
func (h *history) payouts(stats map[string]int) {
	switch h.rng.Intn(5) {
	case 0:
		h.stripe.refuseTransfer = true
	case 1:
		h.stripe.loseTransfer = true
	}
	if _, err := EnqueuePayouts(context.Background(), h.d, Period(h.clk.Now())); err != nil {
		h.fail("enqueue payouts: %v", err)
	}
	h.consumePayouts()
	h.stripe.refuseTransfer, h.stripe.loseTransfer = false, false
	if len(h.stripe.transfers) > 0 {
		stats["paid-out"]++
	}
}

// consumePayouts is the payouts queue's consumer: each message is tried up to five times (then the
// queue gives up, and the daily release run sends it again after an hour).
func (h *history) consumePayouts() {
	for _, m := range h.sent.take(MsgPayout) {
		job := m.Payload.(PayoutJob)
		for try := 0; try < 5; try++ {
			if err := ProcessPayout(context.Background(), h.d, job.InstructorID, job.Period); err == nil {
				break
			}
		}
	}
}

// settle delivers everything still pending (in random order, some twice), lets every refund settle
// and the payouts resolve, until nothing changes.
func (h *history) settle(stats map[string]int) {
	for round := 0; round < 50 && !h.t.Failed(); round++ {
		for len(h.pending) > 0 && !h.t.Failed() {
			h.deliverOne(stats, h.rng.Intn(5) == 0)
		}
		h.clk.Advance(2 * time.Hour)
		h.release()
		if round == 0 {
			h.clk.Advance(RefundWindow)
			h.release()
			h.payouts(stats) // every history ends with a payout run on what it left
		}
		if len(h.pending) == 0 && len(h.sent.take(MsgPayout)) == 0 && !h.anyTransferring() {
			return
		}
	}
	h.fail("history did not settle: pending %d, transferring %v", len(h.pending), h.anyTransferring())
}

func (h *history) anyTransferring() bool {
	for _, po := range h.books.payouts {
		if po.Status == PayoutTransferring {
			return true
		}
	}
	return false
}

// checkBooks: the instructor's balance is the sum of their ledger and of their sales' states, and
// what was paid is what the payouts say — so a payout, which takes only available money, never
// takes a share that is pending, held or reversed (refunded money is never paid out).
func (h *history) checkBooks() {
	h.t.Helper()
	h.checkLedger()
	h.checkJournal()
	var pending, held, releasedFree int64
	for _, s := range h.books.sales {
		for _, sh := range s.Shares {
			held += sh.Held
			if s.Released {
				releasedFree += sh.Free()
			} else {
				pending += sh.Free()
			}
		}
		if net := s.InstructorNet() + s.PlatformNet(); net != s.Amount-s.Returned() {
			h.fail("sale %s: instructor + platform = %d, amount − returned = %d", s.ID, net, s.Amount-s.Returned())
		}
	}
	var paid int64
	for _, po := range h.books.payouts {
		if po.Status == PayoutPaid || po.Status == PayoutTransferring {
			paid += po.AmountCents - po.ReversedCents
		}
	}
	b := h.books.balances["ins"].Buckets
	if b.Pending != pending || b.Held != held || b.Paid != paid || b.Available != releasedFree-paid {
		h.fail("balance %+v; sales give pending %d held %d released %d, payouts paid %d", b, pending, held, releasedFree, paid)
	}
}

// checkConverged: with every event delivered, each sale says what Stripe says, access and the
// review follow, nothing is parked or transferring, and Stripe's transfers are what we paid.
func (h *history) checkConverged(stats map[string]int) {
	h.t.Helper()
	ctx := context.Background()
	standing := 0
	for _, p := range h.sessions {
		s := h.saleOf(p.SessionID)
		pi := p.PaymentIntentID
		refunded := min(h.counted(pi), s.Amount)
		var lost int64
		for _, dp := range h.stripe.disputes[pi] {
			if s.Disputes[dp.ID].Status != dp.Status {
				h.fail("dispute %s: books say %q, Stripe %q", dp.ID, s.Disputes[dp.ID].Status, dp.Status)
			}
			if dp.Status == ledger.DisputeLost {
				lost += dp.AmountCents
				stats["dispute-lost"]++
			}
			if dp.Status == ledger.DisputeWon {
				stats["dispute-won"]++
			}
		}
		if s.Refunded != refunded || s.DisputeLost != min(lost, s.Amount) {
			h.fail("sale %s: refunded %d lost %d; Stripe: refunded %d lost %d", s.ID, s.Refunded, s.DisputeLost, refunded, lost)
		}
		// The sale keeps the token-funded discount its session had, and only that one, whatever
		// came back after it.
		if s.DiscountCents != p.DiscountCents || s.CouponID != p.CouponID || s.Amount != p.AmountCents {
			h.fail("sale %s: discount %d coupon %q amount %d; the session: %d %q %d (other discount %d)", s.ID,
				s.DiscountCents, s.CouponID, s.Amount, p.DiscountCents, p.CouponID, p.AmountCents, p.OtherDiscountCents)
		}
		switch {
		case s.DiscountCents > 0 && s.Returned() > 0:
			stats["token-discount-refunded"]++
		case s.DiscountCents > 0:
			stats["token-discount"]++
		case p.OtherDiscountCents > 0:
			stats["other-discount"]++
		}
		if s.DuplicateOf != "" {
			stats["duplicate"]++
			if s.Stands() && s.Status != SaleDisputed { // Stripe refuses to refund a charge under dispute
				h.fail("a second payment for a held course stands: %s", dump(s))
			}
		}
		if s.Stands() {
			standing++
		}
		if parked, _ := h.books.ParkedEvents(ctx, pi); len(parked) > 0 {
			h.fail("events still parked for a booked sale: %+v", parked)
		}
	}
	e := h.enrolment("ana", "crs_1")
	active := e != nil && e.Active()
	if active != (standing > 0) || (active && len(e.SaleIDs) != standing) {
		h.fail("access %v with %d sales standing: %+v", active, standing, e)
	}
	wantEnrolled := int64(0)
	if active {
		wantEnrolled = 1
	}
	if got := h.books.listing["crs_1"][catalog.CtrEnrollments]; got != wantEnrolled {
		h.fail("listing counts %d enrolments, access %v", got, active)
	}
	agg := h.aggregate("crs_1")
	if h.reviewed && (agg[catalog.CtrRatingCount] == 1) != active {
		h.fail("review counted %d with access %v", agg[catalog.CtrRatingCount], active)
	}
	var transferred int64
	for _, tr := range h.stripe.transfers {
		transferred += tr.Amount - tr.Reversed
	}
	if b := h.books.balances["ins"].Buckets; b.Paid != transferred {
		h.fail("books paid %d, Stripe transferred %d net of reversals", b.Paid, transferred)
	}
	for _, po := range h.books.payouts {
		if tr := h.stripe.transfers[po.ID]; (tr != nil) != (po.Status == PayoutPaid) {
			h.fail("payout %s is %s, Stripe transfer %+v", po.ID, po.Status, tr)
		}
	}
	h.checkJournalAgreesWithStripe(transferred)
	h.checkReconciles(stats)
}
