package ledger

import (
	"sort"
	"strings"
)

// Buckets are an instructor's money by state, in cents.
//
//   - Pending: shares of sales still inside the refund window.
//   - Available: released shares not yet paid out. Negative after a refund or a lost dispute of a
//     sale whose share was already paid: later earnings pay it back before any payout.
//   - Held: shares frozen by open disputes.
//   - Paid: everything transferred to the instructor so far.
type Buckets struct {
	Pending   int64 `dynamodbav:"pending" json:"pendingCents"`
	Available int64 `dynamodbav:"available" json:"availableCents"`
	Held      int64 `dynamodbav:"held" json:"heldCents"`
	Paid      int64 `dynamodbav:"paid" json:"paidCents"`
}

// Plus returns b + d.
func (b Buckets) Plus(d Buckets) Buckets {
	return Buckets{b.Pending + d.Pending, b.Available + d.Available, b.Held + d.Held, b.Paid + d.Paid}
}

// IsZero reports no change.
func (b Buckets) IsZero() bool { return b == Buckets{} }

// Balance is what the platform owes the instructor beyond what it has paid (may be negative).
func (b Buckets) Balance() int64 { return b.Pending + b.Available + b.Held }

// Movement kinds (also the ledger entry kinds).
const (
	KindSale            = "sale"
	KindRelease         = "release"
	KindRefund          = "refund"
	KindRefundReversed  = "refund_reversed" // a refund Stripe failed or canceled: the shares come back
	KindDisputeHold     = "dispute_hold"
	KindDisputeWon      = "dispute_won"
	KindDisputeLost     = "dispute_lost"
	KindPayout          = "payout"
	KindPayoutReversal  = "payout_reversal"
	KindDisputeUpdate   = "dispute_update" // a status change that moves no money
	KindNothingToChange = ""
)

// Movement is what one event does to money: per payee bucket deltas and the platform's side.
type Movement struct {
	Kind   string
	Payees map[string]Buckets
	// Platform is the change of the platform's net revenue (negative when reversed).
	Platform int64
	// Gross is the amount of a new sale (marketplace GMV).
	Gross int64
	// Refunded and DisputeLost are customer money returned by this event (Refunded is negative when
	// a refund failed or was canceled and the money stayed with us).
	Refunded    int64
	DisputeLost int64
	// Released is what moved from pending to available.
	Released int64
	// Withdrawn is the change of the disputed money Stripe holds back from us (Sale.Withdrawn):
	// positive when a dispute opens (or an inquiry becomes a chargeback), negative when a dispute is
	// won and Stripe reinstates the funds. The journal's cash line follows it.
	Withdrawn int64
}

func (m *Movement) add(payee string, d Buckets) {
	if d.IsZero() {
		return
	}
	if m.Payees == nil {
		m.Payees = map[string]Buckets{}
	}
	m.Payees[payee] = m.Payees[payee].Plus(d)
	if m.Payees[payee].IsZero() {
		delete(m.Payees, payee)
	}
}

// PayeeIDs lists the payees whose buckets move, sorted.
func (m Movement) PayeeIDs() []string {
	out := make([]string, 0, len(m.Payees))
	for id := range m.Payees {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// MovesMoney reports whether anything changes.
func (m Movement) MovesMoney() bool {
	return len(m.Payees) > 0 || m.Platform != 0 || m.Gross != 0 || m.Refunded != 0 || m.DisputeLost != 0 || m.Withdrawn != 0
}

// Sum adds the payees' deltas (for counters of all instructors together).
func (m Movement) Sum() Buckets {
	var s Buckets
	for _, d := range m.Payees {
		s = s.Plus(d)
	}
	return s
}

// Dispute statuses (Stripe's).
const (
	DisputeWon          = "won"
	DisputeLost         = "lost"
	DisputeWarningClose = "warning_closed"
)

func disputeClosed(status string) bool {
	return status == DisputeWon || status == DisputeLost || status == DisputeWarningClose
}

// withholds reports whether Stripe holds a dispute's amount back from us in this status: from the
// chargeback's opening until it is won. An inquiry (warning_*) withdraws nothing; a lost dispute's
// money stays with the customer.
func withholds(status string) bool {
	return status != DisputeWon && !strings.HasPrefix(status, "warning_")
}

// Withdrawn is the disputed money Stripe holds back from us for this sale: every dispute's amount
// from its opening until it is won (Stripe withdraws it when a chargeback opens and reinstates it
// only when we win).
func (s Sale) Withdrawn() int64 {
	var t int64
	for _, d := range s.Disputes {
		if withholds(d.Status) {
			t += d.Amount
		}
	}
	return t
}

// DisputeState is one dispute of a sale: its status, amount and what it holds per payee.
type DisputeState struct {
	Status string           `dynamodbav:"status"`
	Amount int64            `dynamodbav:"amount"`
	Held   map[string]int64 `dynamodbav:"held,omitempty"` // per payee, while open
}

// Sale is the money state of one course sale.
type Sale struct {
	Amount           int64                   `dynamodbav:"amountCents"`
	Shares           []Share                 `dynamodbav:"shares"`
	Platform         int64                   `dynamodbav:"platformCents"`
	PlatformReversed int64                   `dynamodbav:"platformReversedCents"`
	Refunded         int64                   `dynamodbav:"refundedCents"`
	DisputeLost      int64                   `dynamodbav:"disputeLostCents"`
	Released         bool                    `dynamodbav:"released"`
	Disputes         map[string]DisputeState `dynamodbav:"disputes,omitempty"`
}

// NewSale splits amount and books every payee's share as pending.
func NewSale(amount int64, payees []Payee) (Sale, Movement, error) {
	shares, platform, err := Split(amount, payees)
	if err != nil {
		return Sale{}, Movement{}, err
	}
	s := Sale{Amount: amount, Shares: shares, Platform: platform}
	m := Movement{Kind: KindSale, Platform: platform, Gross: amount}
	for _, sh := range shares {
		m.add(sh.PayeeID, Buckets{Pending: sh.Cents})
	}
	return s, m, nil
}

// InstructorCents is the sum of the payees' original shares.
func (s Sale) InstructorCents() int64 {
	var t int64
	for _, sh := range s.Shares {
		t += sh.Cents
	}
	return t
}

// InstructorNet is the payees' shares minus reversals (what they keep).
func (s Sale) InstructorNet() int64 {
	var t int64
	for _, sh := range s.Shares {
		t += sh.Cents - sh.Reversed
	}
	return t
}

// PlatformNet is the platform's share minus reversals.
func (s Sale) PlatformNet() int64 { return s.Platform - s.PlatformReversed }

// Returned is what the customer got back: refunds that count and lost disputes, at most the amount
// (each is Stripe's own figure; together they never return more than was paid).
func (s Sale) Returned() int64 { return min(s.Amount, s.Refunded+s.DisputeLost) }

// FullyReversed reports that the customer got all the money back (refunds and lost disputes):
// the buyer loses access.
func (s Sale) FullyReversed() bool { return s.Amount > 0 && s.Returned() >= s.Amount }

// free returns the bucket delta that moves x cents of a share's free part: pending before release,
// available after.
func (s Sale) free(x int64) Buckets {
	if s.Released {
		return Buckets{Available: x}
	}
	return Buckets{Pending: x}
}

// Release moves every share's free part from pending to available, once. Held parts stay held;
// a dispute won later returns them to available.
func (s *Sale) Release() Movement {
	if s.Released {
		return Movement{}
	}
	s.Released = true
	m := Movement{Kind: KindRelease}
	for _, sh := range s.Shares {
		if f := sh.Free(); f > 0 {
			m.add(sh.PayeeID, Buckets{Pending: -f, Available: f})
			m.Released += f
		}
	}
	return m
}

// Refund brings the sale to total refunded cents: the sum of the charge's refunds that count as
// Stripe has them now (succeeded or pending). The total converges in both directions: a refund that
// later fails or is canceled lowers it, and the shares it had reversed come back (to pending before
// the release, to available after). The same total twice changes nothing.
func (s *Sale) Refund(total int64) Movement {
	total = max(0, min(total, s.Amount))
	if total == s.Refunded {
		return Movement{}
	}
	m := Movement{Kind: KindRefund, Refunded: total - s.Refunded}
	if m.Refunded < 0 {
		m.Kind = KindRefundReversed
	}
	s.Refunded = total
	s.reconcile(&m)
	return m
}

// reconcile brings every share's reversal to floor(share × returned / amount), where returned is
// everything the customer got back (Returned), and the platform's to the rest of returned.
// Cumulative targets make a sale returned in parts, by refunds and disputes in any mix and order —
// and given back when a refund fails — end at exactly the same figures for every payee and the
// platform. Reversals come out of a share's free part (pending, or available — going negative if it
// was paid out), and out of a dispute hold only beyond it; what comes back goes to the free part.
func (s *Sale) reconcile(m *Movement) {
	returned := s.Returned()
	var reversed int64
	for i := range s.Shares {
		sh := &s.Shares[i]
		d := min(mulDiv(sh.Cents, returned, s.Amount), sh.Cents) - sh.Reversed
		switch {
		case d > 0:
			fromFree := min(d, sh.Free())
			delta := s.free(-fromFree)
			if fromHeld := d - fromFree; fromHeld > 0 {
				delta.Held -= fromHeld
				sh.Held -= fromHeld
				s.reduceHolds(sh.PayeeID, fromHeld)
			}
			sh.Reversed += d
			m.add(sh.PayeeID, delta)
		case d < 0:
			sh.Reversed += d
			m.add(sh.PayeeID, s.free(-d))
		}
		reversed += sh.Reversed
	}
	pd := returned - reversed - s.PlatformReversed
	s.PlatformReversed += pd
	m.Platform -= pd
}

// reduceHolds takes x cents of a payee's holds back from its open disputes (a refund that reached
// into held money), oldest dispute id first for determinism.
func (s *Sale) reduceHolds(payee string, x int64) {
	ids := make([]string, 0, len(s.Disputes))
	for id := range s.Disputes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		d := s.Disputes[id]
		if disputeClosed(d.Status) {
			continue
		}
		take := min(x, d.Held[payee])
		if take > 0 {
			d.Held[payee] -= take
			x -= take
			s.Disputes[id] = d
		}
		if x == 0 {
			return
		}
	}
}

// Dispute applies a dispute's status as Stripe reports it now. The first sight of a dispute (in any
// status, since events arrive in any order) holds each payee's part of the disputed amount —
// floor(share × disputed / amount), at most the share's free part. Won (or warning_closed) returns
// the hold (to available once the sale is released); lost turns it into a reversal, and the platform
// loses the rest of the disputed amount. A closed dispute never moves again. changed reports whether
// the sale's state changed (a new open status moves no money but is recorded).
func (s *Sale) Dispute(id, status string, amount int64) (m Movement, changed bool) {
	cur, seen := s.Disputes[id]
	if seen && (cur.Status == status || disputeClosed(cur.Status)) {
		return Movement{}, false
	}
	withdrawn := s.Withdrawn()
	defer func() { m.Withdrawn = s.Withdrawn() - withdrawn }()
	if s.Disputes == nil {
		s.Disputes = map[string]DisputeState{}
	}
	m = Movement{Kind: KindDisputeUpdate}
	if !seen {
		if amount > s.Amount {
			amount = s.Amount
		}
		cur = DisputeState{Amount: amount, Held: map[string]int64{}}
		m.Kind = KindDisputeHold
		for i := range s.Shares {
			sh := &s.Shares[i]
			h := min(mulDiv(sh.Cents, amount, s.Amount), sh.Free())
			if h > 0 {
				m.add(sh.PayeeID, s.free(-h).Plus(Buckets{Held: h}))
				sh.Held += h
				cur.Held[sh.PayeeID] = h
			}
		}
	}
	if disputeClosed(status) {
		won := status != DisputeLost
		m.Kind = KindDisputeWon
		if !won {
			m.Kind = KindDisputeLost
		}
		// The hold goes back to each share's free part; a loss then reverses it like a refund.
		for i := range s.Shares {
			sh := &s.Shares[i]
			if h := cur.Held[sh.PayeeID]; h > 0 {
				sh.Held -= h
				m.add(sh.PayeeID, Buckets{Held: -h}.Plus(s.free(h)))
			}
		}
		cur.Held = nil
		if !won {
			// Stripe's figure is kept; Returned caps refunds and losses together at the amount, so a
			// refund that fails later cannot leave a loss uncounted.
			lost := min(s.DisputeLost+cur.Amount, s.Amount)
			m.DisputeLost = lost - s.DisputeLost
			s.DisputeLost = lost
		}
		cur.Status = status
		s.Disputes[id] = cur // closed before reconcile, so no reversal reaches into its hold
		s.reconcile(&m)
	}
	cur.Status = status
	s.Disputes[id] = cur
	return m, true
}

// PayoutMovement moves amount of a payee's available money to paid; PayoutReversal undoes it (a
// transfer Stripe definitely refused).
func PayoutMovement(payee string, amount int64) Movement {
	m := Movement{Kind: KindPayout}
	m.add(payee, Buckets{Available: -amount, Paid: amount})
	return m
}

// PayoutReversal is the movement that undoes PayoutMovement.
func PayoutReversal(payee string, amount int64) Movement {
	m := Movement{Kind: KindPayoutReversal}
	m.add(payee, Buckets{Available: amount, Paid: -amount})
	return m
}

// Reasons a payout pays nothing (the payout is recorded as carried to the next run).
const (
	CarryNegative        = "negative_balance"
	CarryNothing         = "nothing_available"
	CarryBelowMinimum    = "below_minimum"
	CarryNoAccount       = "no_connect_account"
	CarryPayoutsDisabled = "payouts_not_enabled"
)

// PayoutDecision is what a payout run does for one instructor.
type PayoutDecision struct {
	Amount int64  // cents to transfer; 0 when carried
	Carry  string // why nothing is paid ("" when Amount > 0)
}

// DecidePayout pays the whole available balance when it reaches minimum and the instructor's
// Connect account can receive payouts; otherwise nothing (a negative balance is never paid from,
// and is repaid by later earnings first because they add to the same available bucket).
func DecidePayout(b Buckets, minimum int64, hasAccount, payoutsEnabled bool) PayoutDecision {
	switch {
	case b.Available < 0:
		return PayoutDecision{Carry: CarryNegative}
	case b.Available == 0:
		return PayoutDecision{Carry: CarryNothing}
	case b.Available < minimum:
		return PayoutDecision{Carry: CarryBelowMinimum}
	case !hasAccount:
		return PayoutDecision{Carry: CarryNoAccount}
	case !payoutsEnabled:
		return PayoutDecision{Carry: CarryPayoutsDisabled}
	}
	return PayoutDecision{Amount: b.Available}
}
