package marketplace

import (
	"strconv"
	"time"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
)

// Currency of every course price, sale and payout.
const Currency = "usd"

// booking describes the money event a movement belongs to: who did it, under which request, and
// what it concerns (for the ledger entries and the audit record).
type booking struct {
	At        time.Time
	Actor     string
	RequestID string
	SaleID    string
	CourseID  string
	PayoutID  string
	Ref       string // refund ids, dispute id, transfer id
	// Source names the Stripe objects a refund change books (the refund ids that started or stopped
	// counting): the journal entry's source, for reconciliation. Other changes take theirs from the
	// change itself (journalEntry).
	Source string
	Memo   string // for the ledger entry's reader: the course title
	// AvailableAtLeast, when positive, conditions the balance update on available ≥ it (a payout
	// never takes money that is not there).
	AvailableAtLeast int64
	// Counters are further day counters of this event (sales count, free enrolments …).
	Counters map[string]int64
	// Audit details beyond the amounts.
	Details map[string]string
}

// makesPayable is the one rule for the payable index: a change that adds available money.
func makesPayable(d ledger.Buckets) bool { return d.Available > 0 }

// ledgerEntry is the entry explaining one payee's part of a movement.
func ledgerEntry(payee, kind string, d ledger.Buckets, b booking) LedgerEntry {
	return LedgerEntry{ID: newID(prefixLedger, b.At), InstructorID: payee, Kind: kind, SaleID: b.SaleID,
		CourseID: b.CourseID, PayoutID: b.PayoutID, Ref: b.Ref, Memo: b.Memo, Currency: Currency, At: b.At.UTC(),
		RequestID: b.RequestID, Buckets: d}
}

// movementAudit is the audit record of a movement: its amounts and the ids it concerns.
func movementAudit(m ledger.Movement, b booking) audit.Entry {
	sum := m.Sum()
	details := map[string]string{}
	for k, v := range b.Details {
		details[k] = v
	}
	for k, v := range map[string]int64{"platformCents": m.Platform, "grossCents": m.Gross, "refundedCents": m.Refunded,
		"disputeLostCents": m.DisputeLost, "pendingCents": sum.Pending, "availableCents": sum.Available,
		"heldCents": sum.Held, "paidCents": sum.Paid} {
		if v != 0 {
			details[k] = strconv.FormatInt(v, 10)
		}
	}
	for _, id := range []struct{ k, v string }{{"saleId", b.SaleID}, {"courseId", b.CourseID}, {"payoutId", b.PayoutID}, {"ref", b.Ref}} {
		if id.v != "" {
			details[id.k] = id.v
		}
	}
	target := "sale:" + b.SaleID
	if b.PayoutID != "" {
		target = "payout:" + b.PayoutID
	}
	return audit.Entry{Actor: b.Actor, Action: "marketplace." + m.Kind, Target: target, RequestID: b.RequestID, Details: details}
}

// dayCounters are a movement's marketplace day counters.
func dayCounters(m ledger.Movement, extra map[string]int64) map[string]int64 {
	sum := m.Sum()
	c := map[string]int64{
		mktmetrics.CtrGMV:                m.Gross,
		mktmetrics.CtrPlatformRevenue:    m.Platform,
		mktmetrics.CtrInstructorEarnings: sum.Balance() + sum.Paid, // shares booked minus reversals
		mktmetrics.CtrRefunded:           m.Refunded,
		mktmetrics.CtrDisputeLost:        m.DisputeLost,
		mktmetrics.CtrReleased:           m.Released,
	}
	if m.Kind == ledger.KindPayout || m.Kind == ledger.KindPayoutReversal {
		c[mktmetrics.CtrPaidOut] = sum.Paid
	}
	for k, v := range extra {
		c[k] += v
	}
	return c
}
