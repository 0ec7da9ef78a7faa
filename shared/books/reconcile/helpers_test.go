package reconcile

import (
	"fmt"
	"math/rand"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/books/journal"
)

// The tests' own posting rules, standing for the areas' (marketplace, payments: they register
// theirs from their init; this package imports none of them). Each books a business event against
// a clearing account, as docs/books.md's worked examples do.
const (
	kSale     = "rectest.sale"     // a course sale: Dr stripe_in_flight / Cr payable, commission
	kRefund   = "rectest.refund"   // a refund: Dr refunds / Cr stripe_in_flight
	kRefFail  = "rectest.ref_fail" // a refund that failed: Dr stripe_in_flight / Cr refunds
	kDispute  = "rectest.dispute"  // a dispute opened: Dr disputes / Cr stripe_in_flight
	kDispWon  = "rectest.disp_won" // a dispute won: Dr stripe_in_flight / Cr disputes
	kPayout   = "rectest.payout"   // a payout transfer: Dr payable available / Cr transfers_connected
	kReversal = "rectest.reversal" // a transfer reversal: Dr transfers_connected / Cr payable available
	kInvoice  = "rectest.invoice"  // a subscription invoice: Dr stripe_in_flight / Cr revenue
	kMove     = "rectest.move"     // a release (no clearing account: not a claim)
)

func init() {
	reg := func(area, kind string, accts ...journal.AccountID) {
		journal.Register(journal.Rule{Area: area, Kind: kind, Summary: kind, Accounts: accts})
	}
	reg("marketplace", kSale, journal.StripeInFlight, journal.InstructorPayablePending, journal.RevenueMarketplaceCommission)
	reg("marketplace", kRefund, journal.RefundsMarketplace, journal.StripeInFlight)
	reg("marketplace", kRefFail, journal.RefundsMarketplace, journal.StripeInFlight)
	reg("marketplace", kDispute, journal.DisputesMarketplace, journal.StripeInFlight)
	reg("marketplace", kDispWon, journal.DisputesMarketplace, journal.StripeInFlight)
	reg("marketplace", kPayout, journal.InstructorPayableAvailable, journal.TransfersConnected)
	reg("marketplace", kReversal, journal.InstructorPayableAvailable, journal.TransfersConnected)
	reg("payments", kInvoice, journal.StripeInFlight, journal.RevenueSubscriptions)
	reg("marketplace", kMove, journal.InstructorPayablePending, journal.InstructorPayableAvailable)
}

var day0 = time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)

func dr(a journal.AccountID, n int64) journal.Line { return journal.Line{Account: a, Debit: n} }
func cr(a journal.AccountID, n int64) journal.Line { return journal.Line{Account: a, Credit: n} }

func areaEntry(kind, source string, at time.Time, lines ...journal.Line) journal.Entry {
	area := "marketplace"
	if kind == kInvoice {
		area = "payments"
	}
	// An id holds no comma (an entry booking two refunds is keyed otherwise by its area).
	return journal.Entry{ID: journal.EntryID(kind, strings.ReplaceAll(source, ",", "-")), Kind: kind, Area: area, Source: source, Date: at,
		Currency: "usd", Lines: lines}
}

// fee is Stripe's US card fee (2.9 % + 30 ¢, half up), as the local stand-in charges it.
func fee(amount int64) int64 { return (amount*290+5000)/10000 + 30 }

// history is a day of money events as both sides record them: Stripe's balance transactions and
// the areas' entries.
type history struct {
	txns    []Txn
	entries []journal.Entry
	seq     int
	// refunds and charges made, for the faults to pick from.
	refunds []Txn
	charges []Txn
}

func (h *history) id(prefix string) string { h.seq++; return fmt.Sprintf("%s_%04d", prefix, h.seq) }

func (h *history) txn(typ, cat, source string, amount, fee int64, at time.Time, refs ...string) Txn {
	t := Txn{ID: h.id("txn"), Type: typ, Category: cat, Source: source, Currency: "usd", Amount: amount, Fee: fee, Created: at, Refs: refs}
	h.txns = append(h.txns, t)
	return t
}

// randomHistory is a consistent day: every Stripe movement booked by its area (some a few minutes
// across midnight), refunds full and partial (some failing later), disputes won and lost, invoices
// matched by their invoice id, payouts by our payout id, reversals by the transfer id, and payouts
// of our balance to the bank.
func randomHistory(rng *rand.Rand, events int) *history {
	h := &history{}
	at := func() time.Time { return day0.Add(time.Duration(rng.Int63n(int64(24 * time.Hour)))) }
	// booked is when the area books what Stripe did at t: usually seconds later, sometimes across
	// midnight (the next day's entry), sometimes before Stripe's record (a refund created by us).
	booked := func(t time.Time) time.Time {
		switch rng.Intn(6) {
		case 0:
			return t.Add(time.Duration(rng.Intn(36)) * time.Hour)
		case 1:
			return t.Add(-time.Duration(rng.Intn(36)) * time.Hour)
		}
		return t.Add(time.Duration(rng.Intn(120)) * time.Second)
	}
	for i := 0; i < events; i++ {
		t := at()
		switch rng.Intn(5) {
		case 0, 1: // a course sale, maybe refunded or disputed
			amt := 100 + rng.Int63n(50000)
			ch, pi := h.id("ch"), h.id("pi")
			src := ch
			if rng.Intn(2) == 0 {
				src = pi // the sale booked from the checkout session names its PaymentIntent
			}
			inst := amt * 70 / 100
			h.charges = append(h.charges, h.txn("charge", "charge", ch, amt, fee(amt), t, pi))
			h.entries = append(h.entries, areaEntry(kSale, src, booked(t), dr(journal.StripeInFlight, amt),
				cr(journal.InstructorPayablePending, inst), cr(journal.RevenueMarketplaceCommission, amt-inst)))
			switch rng.Intn(4) {
			case 0: // one or two refunds, one entry booking them together
				r1 := 1 + rng.Int63n(amt)
				re1 := h.id("re")
				h.refunds = append(h.refunds, h.txn("refund", "refund", re1, -r1, 0, t.Add(time.Minute)))
				src, total := re1, r1
				if r1 < amt && rng.Intn(2) == 0 {
					r2 := 1 + rng.Int63n(amt-r1)
					re2 := h.id("re")
					h.refunds = append(h.refunds, h.txn("refund", "refund", re2, -r2, 0, t.Add(2*time.Minute)))
					src, total = re1+","+re2, r1+r2
				}
				h.entries = append(h.entries, areaEntry(kRefund, src, booked(t.Add(time.Minute)),
					dr(journal.RefundsMarketplace, total), cr(journal.StripeInFlight, total)))
				if !containsComma(src) && rng.Intn(3) == 0 { // it failed later
					h.txn("refund_failure", "refund_failure", re1, r1, 0, t.Add(3*time.Minute))
					h.entries = append(h.entries, areaEntry(kRefFail, re1, booked(t.Add(3*time.Minute)),
						dr(journal.StripeInFlight, r1), cr(journal.RefundsMarketplace, r1)))
				}
			case 1: // a dispute, won or lost
				dp := h.id("dp")
				h.txn("adjustment", "dispute", dp, -amt, 1500, t.Add(time.Hour))
				h.entries = append(h.entries, areaEntry(kDispute, dp, booked(t.Add(time.Hour)),
					dr(journal.DisputesMarketplace, amt), cr(journal.StripeInFlight, amt)))
				if rng.Intn(2) == 0 {
					h.txn("adjustment", "dispute_reversal", dp, amt, 0, t.Add(2*time.Hour))
					h.entries = append(h.entries, areaEntry(kDispWon, dp, booked(t.Add(2*time.Hour)),
						dr(journal.StripeInFlight, amt), cr(journal.DisputesMarketplace, amt)))
				}
			}
		case 2: // a subscription invoice: Stripe's charge names it
			amt := 500 + rng.Int63n(5000)
			in := h.id("in")
			h.charges = append(h.charges, h.txn("charge", "charge", h.id("ch"), amt, fee(amt), t, h.id("pi"), in))
			h.entries = append(h.entries, areaEntry(kInvoice, in, booked(t), dr(journal.StripeInFlight, amt), cr(journal.RevenueSubscriptions, amt)))
		case 3: // a payout transfer (our payout id is the transfer's group), maybe partly reversed
			amt := 1000 + rng.Int63n(20000)
			po, tr := h.id("po_2026-10_ins"), h.id("tr")
			h.txn("transfer", "transfer", tr, -amt, 0, t, po)
			h.entries = append(h.entries, areaEntry(kPayout, po, booked(t), dr(journal.InstructorPayableAvailable, amt), cr(journal.TransfersConnected, amt)))
			if rng.Intn(3) == 0 {
				back := 1 + rng.Int63n(amt)
				h.txn("transfer_refund", "transfer_reversal", h.id("trr"), back, 0, t.Add(time.Hour), tr)
				h.entries = append(h.entries, areaEntry(kReversal, tr, booked(t.Add(time.Hour)),
					dr(journal.TransfersConnected, back), cr(journal.InstructorPayableAvailable, back)))
			}
		case 4: // our balance paid out to the bank; and a release, which is no claim
			h.txn("payout", "payout", h.id("po"), -(1000 + rng.Int63n(100000)), 0, t)
			h.entries = append(h.entries, areaEntry(kMove, h.id("sale"), t, dr(journal.InstructorPayablePending, 100), cr(journal.InstructorPayableAvailable, 100)))
		}
	}
	return h
}

func containsComma(s string) bool {
	for _, c := range s {
		if c == ',' {
			return true
		}
	}
	return false
}
