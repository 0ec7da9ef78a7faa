package payments

import (
	"sort"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/store"
)

// ledgerState is a payment's refund bookkeeping as read: the payment, its Refund items, and the
// operations its reservations (or Stripe's refunds) name.
type ledgerState struct {
	P     Payment
	Known []Refund
	Ops   map[string]RefundOp // by operation id; an operation may be missing (legacy reservation)
}

// convergeInput is what Stripe says about a charge's refunds.
type convergeInput struct {
	Listed []StripeRefund
	// Complete: Listed is every refund of the charge, so a reservation it does not explain is not a
	// refund (yet), and legacy placeholders can be replaced by the refunds they stood for. False for
	// the single refund the route's own Stripe call returned.
	Complete bool
	ChargeID string // the charge the event or payment names ("" when only the PaymentIntent is known)
	Now      time.Time
	Window   time.Duration // how long a reservation may stay unexplained before it is released
	Actor    string        // audit actor and action of the change
	Action   string
	Request  string // audit request id (event id, API request id, job)
}

// converged is the change that makes our books agree with Stripe's, and what it did.
type converged struct {
	Change   *Change           // nil when the books already agree
	Booked   map[string]string // operation id → Stripe refund id, booked by this change
	Released []string          // operation ids released by this change
	Counted  []string          // refund ids that count as refunded after the change (notices)
}

// converge compares a payment's refunds with Stripe's and returns the one change that makes them
// agree. It is a pure function of its inputs, so any number of deliveries, in any order, with any
// interleaving of the admin route, the webhook and the job, end in the same books:
//
//   - a Stripe refund we do not have becomes a Refund item under its real re_… id (ours when its
//     metadata.operationId names one of our operations, else a Dashboard refund);
//   - a refund naming a pending operation books it: the reservation is cleared in the same write;
//   - a status change moves refundedCents and the counter by exactly the difference — a refund that
//     failed or was canceled is taken back out; failed and canceled never move again;
//   - with the complete list, a reservation older than Window that Stripe has no refund for was
//     never made: it is released; a younger one may still be in flight and stays;
//   - with the complete list, legacy "sync_…" placeholders are superseded by the real refunds.
//
// Every refund whose counting changes carries its journal entry in the change (refundEntry): an
// error is a posting rule's bug, and the change is refused rather than booked without it.
func converge(st ledgerState, in convergeInput) (converged, error) {
	p := st.P
	p.PendingRefunds = copyMap(p.PendingRefunds)
	out := converged{Booked: map[string]string{}}
	c := &Change{At: in.Now}
	var delta int64
	changed := false

	known := map[string]Refund{}
	for _, r := range st.Known {
		known[r.ID] = r
	}
	ops := map[string]RefundOp{}
	for id, o := range st.Ops {
		ops[id] = o
	}
	touchedOps := map[string]bool{}
	var entryErr error
	post := func(before *Refund, after Refund) {
		e, err := refundEntry(st.P, before, after, in.Now)
		if err != nil && entryErr == nil {
			entryErr = err
		}
		if e != nil {
			c.Entries = append(c.Entries, *e)
		}
	}

	// Stripe's list, restricted to this payment: by charge, or by PaymentIntent before the charge is
	// known. (stripe-mock answers a fixed refund of another charge whatever is asked.) The route's
	// own refund (an incomplete list of one) is Stripe's answer to our request for this payment.
	var listed []StripeRefund
	for _, r := range in.Listed {
		byCharge := in.ChargeID != "" && r.ChargeID == in.ChargeID
		byIntent := p.PaymentIntentID != "" && r.PaymentIntentID == p.PaymentIntentID
		if r.ID != "" && (byCharge || byIntent || !in.Complete) {
			listed = append(listed, r)
		}
	}
	if p.ChargeID == "" {
		switch {
		case in.ChargeID != "":
			p.ChargeID, changed = in.ChargeID, true
		case len(listed) > 0 && listed[0].ChargeID != "":
			p.ChargeID, changed = listed[0].ChargeID, true
		}
	}

	for _, r := range listed {
		if op := r.OperationID; op != "" {
			if amt, ok := p.PendingRefunds[op]; ok {
				delete(p.PendingRefunds, op)
				p.PendingRefundCents -= amt
				changed = true
				out.Booked[op] = r.ID
			}
			if o, ok := ops[op]; ok && o.PaymentID == p.ID && (o.Status != RefundOpBooked || o.RefundID != r.ID) {
				// Also a released operation: Stripe has its refund, so a retry must not make another.
				o.Status, o.RefundID, o.Outcome = RefundOpBooked, r.ID, ""
				o.ResolvedAt = timePtr(in.Now)
				ops[op], touchedOps[op] = o, true
				out.Booked[op] = r.ID
			}
		}
		if k, ok := known[r.ID]; ok {
			if k.Status != r.Status && r.Status != "" && !RefundFinal(k.Status) {
				delta += countedCents(r.Status, k.AmountCents) - countedCents(k.Status, k.AmountCents)
				before := k
				k.Status = r.Status
				post(&before, k)
				c.Refunds = append(c.Refunds, k)
				known[r.ID] = k
			}
			continue
		}
		ref := Refund{ID: r.ID, PaymentID: p.ID, UserID: p.UserID, AmountCents: r.AmountCents,
			Currency: r.Currency, Status: r.Status, Reason: r.Reason, Source: RefundSourceStripe,
			RequestedBy: r.RequestedBy, OperationID: r.OperationID, ChargeID: r.ChargeID, CreatedAt: in.Now}
		if ref.Currency == "" {
			ref.Currency = p.Currency
		}
		if ref.ChargeID == "" {
			ref.ChargeID = p.ChargeID
		}
		if r.OperationID != "" {
			ref.Source = RefundSourceAdmin
		}
		delta += countedCents(ref.Status, ref.AmountCents)
		post(nil, ref)
		c.NewRefunds = append(c.NewRefunds, ref)
		known[r.ID] = ref
	}

	if in.Complete {
		if len(listed) > 0 {
			for _, k := range sortedRefunds(known) {
				if k.Source == RefundSourceSync && !RefundFinal(k.Status) {
					delta -= countedCents(k.Status, k.AmountCents)
					before := k
					k.Status = RefundSuperseded
					post(&before, k)
					c.Refunds = append(c.Refunds, k)
					known[k.ID] = k
				}
			}
		}
		for _, op := range sortedKeys(p.PendingRefunds) {
			o, hasOp := ops[op]
			if hasOp && in.Now.Sub(o.ReservedAt) < in.Window {
				continue // may still be on its way to Stripe
			}
			// No op item: a reservation made before operations were recorded; its request ended long ago.
			p.PendingRefundCents -= p.PendingRefunds[op]
			delete(p.PendingRefunds, op)
			changed = true
			out.Released = append(out.Released, op)
			if hasOp {
				o.Status, o.Outcome, o.ResolvedAt = RefundOpReleased, "Stripe has no refund for it", timePtr(in.Now)
				ops[op], touchedOps[op] = o, true
			}
		}
	}

	for _, id := range sortedKeys(touchedOps) {
		c.Ops = append(c.Ops, ops[id])
	}
	if entryErr != nil {
		return converged{}, entryErr
	}
	if delta == 0 && !changed && len(c.NewRefunds) == 0 && len(c.Refunds) == 0 && len(c.Ops) == 0 {
		out.Counted = countedIDs(known)
		return out, nil
	}
	before := p.RefundedCents
	p.RefundedCents += delta
	if len(p.PendingRefunds) == 0 {
		p.PendingRefunds = nil
	}
	p.SettleStatus()
	c.Payment = p
	c.Counters = map[string]int64{store.CtrRefundedCents: delta}
	ids := make([]string, 0, len(c.NewRefunds))
	for _, r := range c.NewRefunds {
		ids = append(ids, r.ID)
	}
	c.Audit = audit.Entry{Actor: in.Actor, Action: in.Action, Target: "payment:" + p.ID, RequestID: in.Request,
		Details: map[string]string{"userId": p.UserID, "chargeId": p.ChargeID, "newRefundIds": strings.Join(ids, ","),
			"bookedOperations": joinKeys(out.Booked), "releasedOperations": strings.Join(out.Released, ","),
			"refundedCentsBefore": itoa(before), "refundedCents": itoa(p.RefundedCents), "deltaCents": itoa(delta)}}
	out.Change = c
	out.Counted = countedIDs(known)
	return out, nil
}

// countedCents is what a refund of amount in status adds to refundedCents.
func countedCents(status string, amount int64) int64 {
	if RefundCounts(status) {
		return amount
	}
	return 0
}

func countedIDs(known map[string]Refund) []string {
	var out []string
	for _, r := range sortedRefunds(known) {
		if RefundCounts(r.Status) {
			out = append(out, r.ID)
		}
	}
	return out
}

func sortedRefunds(m map[string]Refund) []Refund {
	out := make([]Refund, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func joinKeys(m map[string]string) string { return strings.Join(sortedKeys(m), ",") }

func copyMap(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func timePtr(t time.Time) *time.Time { return &t }
