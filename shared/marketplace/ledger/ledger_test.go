package ledger

import (
	"math/rand"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct{ amount, instructor, platform int64 }{
		{999, 699, 300}, {1999, 1399, 600}, {2995, 2096, 899},
		{0, 0, 0}, {1, 0, 1}, {99, 69, 30}, {100, 70, 30}, {99999, 69999, 30000}, {3, 2, 1},
	} {
		shares, platform, err := Split(tc.amount, InstructorRule("i1"))
		if err != nil {
			t.Fatal(err)
		}
		if len(shares) != 1 || shares[0].Cents != tc.instructor || platform != tc.platform {
			t.Errorf("Split(%d) = %+v / %d, want %d / %d", tc.amount, shares, platform, tc.instructor, tc.platform)
		}
	}
	// Every amount: the parts sum, and the instructor gets floor(amount × 70 / 100).
	for a := int64(0); a <= 100000; a++ {
		shares, platform, _ := Split(a, InstructorRule("i1"))
		if shares[0].Cents != a*70/100 || shares[0].Cents+platform != a {
			t.Fatalf("Split(%d) = %d / %d", a, shares[0].Cents, platform)
		}
	}
}

func TestSplitCoInstructors(t *testing.T) {
	shares, platform, err := Split(1001, []Payee{{"b", 3500}, {"a", 3500}})
	if err != nil {
		t.Fatal(err)
	}
	if shares[0].PayeeID != "a" || shares[0].Cents != 350 || shares[1].Cents != 350 || platform != 301 {
		t.Fatalf("co-instructors: %+v / %d", shares, platform)
	}
	for _, bad := range [][]Payee{nil, {{"a", 0}}, {{"", 7000}}, {{"a", 3000}, {"a", 3000}}, {{"a", 6000}, {"b", 5000}}} {
		if _, _, err := Split(100, bad); err == nil {
			t.Errorf("Split with %+v: no error", bad)
		}
	}
	if _, _, err := Split(-1, InstructorRule("a")); err == nil {
		t.Error("negative amount accepted")
	}
}

// book applies movements to per-payee buckets, as the balance items do.
type book struct {
	payees   map[string]Buckets
	platform int64
}

func (b *book) apply(m Movement) {
	if b.payees == nil {
		b.payees = map[string]Buckets{}
	}
	for id, d := range m.Payees {
		b.payees[id] = b.payees[id].Plus(d)
	}
	b.platform += m.Platform
}

func mustSale(t *testing.T, amount int64, payees []Payee) (*Sale, *book) {
	t.Helper()
	s, m, err := NewSale(amount, payees)
	if err != nil {
		t.Fatal(err)
	}
	b := &book{}
	b.apply(m)
	return &s, b
}

func TestRefundInPartsEndsAtZero(t *testing.T) {
	for _, tc := range []struct {
		amount int64
		parts  []int64
	}{
		{999, []int64{333, 333, 333}},
		{999, []int64{1, 1, 997}},
		{2995, []int64{1000, 995, 1000}},
		{1999, []int64{7, 13, 29, 1950}},
		{101, []int64{1, 1, 1, 1, 1, 96}},
	} {
		s, b := mustSale(t, tc.amount, InstructorRule("i"))
		var total int64
		for _, p := range tc.parts {
			total += p
			m := s.Refund(total)
			if m.Refunded != p {
				t.Fatalf("%d refunded %v: movement refunded %d, want %d", tc.amount, tc.parts, m.Refunded, p)
			}
			// Each part reverses no more than its proportional share.
			if -m.Payees["i"].Pending > p || -m.Platform > p || -m.Payees["i"].Pending-m.Platform != p {
				t.Fatalf("part %d reversed %d / %d", p, -m.Payees["i"].Pending, -m.Platform)
			}
			b.apply(m)
		}
		if b.payees["i"] != (Buckets{}) || b.platform != 0 {
			t.Errorf("%d refunded in %v: instructor %+v, platform %d; want 0/0", tc.amount, tc.parts, b.payees["i"], b.platform)
		}
		if !s.FullyReversed() || s.InstructorNet() != 0 || s.PlatformNet() != 0 {
			t.Errorf("%d: sale %+v not fully reversed", tc.amount, s)
		}
	}
}

// Refund totals converge to Stripe's in both directions: an older view of a larger total is never
// needed (the list is read fresh), a smaller total gives back what a failed refund had reversed, and
// the same total twice moves nothing.
func TestRefundTotalsConverge(t *testing.T) {
	s, b := mustSale(t, 999, InstructorRule("i"))
	b.apply(s.Refund(500))
	if m := s.Refund(500); m.MovesMoney() { // the same view again
		t.Fatalf("a repeated total moved money: %+v", m)
	}
	m := s.Refund(0) // the refund failed: everything comes back
	if m.Kind != KindRefundReversed || m.Refunded != -500 || m.Payees["i"] != (Buckets{Pending: 349}) || m.Platform != 151 {
		t.Fatalf("failed refund: %+v", m)
	}
	b.apply(m)
	if b.payees["i"] != (Buckets{Pending: 699}) || b.platform != 300 || s.Refunded != 0 || s.InstructorNet() != 699 {
		t.Fatalf("after the failed refund: %+v / %d, sale %+v", b.payees["i"], b.platform, s)
	}
	b.apply(s.Release())
	b.apply(s.Refund(5000)) // more than the sale: capped
	if b.payees["i"] != (Buckets{}) || b.platform != 0 || s.Refunded != 999 || !s.FullyReversed() {
		t.Fatalf("after full refund: %+v %d %+v", b.payees["i"], b.platform, s)
	}
	b.apply(s.Refund(300)) // after the release, what comes back is available
	if b.payees["i"] != (Buckets{Available: 490}) || b.platform != 209 || s.FullyReversed() {
		t.Fatalf("after a failed part of a full refund: %+v / %d", b.payees["i"], b.platform)
	}
}

func TestFullRefundInWindowReversesBothShares(t *testing.T) {
	s, b := mustSale(t, 999, InstructorRule("i"))
	if b.payees["i"] != (Buckets{Pending: 699}) || b.platform != 300 {
		t.Fatalf("sale: %+v / %d", b.payees["i"], b.platform)
	}
	m := s.Refund(999)
	if m.Kind != KindRefund || m.Payees["i"] != (Buckets{Pending: -699}) || m.Platform != -300 || m.Refunded != 999 {
		t.Fatalf("refund movement: %+v", m)
	}
	if !s.FullyReversed() {
		t.Fatal("not fully reversed")
	}
}

func TestReleaseOnce(t *testing.T) {
	s, b := mustSale(t, 1999, InstructorRule("i"))
	m := s.Release()
	if m.Payees["i"] != (Buckets{Pending: -1399, Available: 1399}) || m.Released != 1399 {
		t.Fatalf("release: %+v", m)
	}
	b.apply(m)
	if again := s.Release(); again.MovesMoney() || again.Released != 0 {
		t.Fatalf("second release moved money: %+v", again)
	}
	if b.payees["i"] != (Buckets{Available: 1399}) {
		t.Fatalf("after release: %+v", b.payees["i"])
	}
}

// A refund after the share was paid out leaves a negative balance; the next sale's earnings pay it
// back before anything is paid again.
func TestNegativeBalanceRepaidFirst(t *testing.T) {
	const min = 5000
	s1, b := mustSale(t, 9999, InstructorRule("i"))
	b.apply(s1.Release())
	d := DecidePayout(b.payees["i"], min, true, true)
	if d.Amount != 6999 {
		t.Fatalf("first payout: %+v", d)
	}
	b.apply(PayoutMovement("i", d.Amount))
	b.apply(s1.Refund(9999))
	if got := b.payees["i"]; got.Available != -6999 || got.Balance() != -6999 || got.Paid != 6999 {
		t.Fatalf("after refund of a paid sale: %+v", got)
	}
	if d := DecidePayout(b.payees["i"], min, true, true); d.Amount != 0 || d.Carry != CarryNegative {
		t.Fatalf("payout from a negative balance: %+v", d)
	}
	s2, m2, _ := NewSale(9999, InstructorRule("i"))
	b.apply(m2)
	if got := b.payees["i"]; got.Balance() != 0 || got.Pending != 6999 {
		t.Fatalf("after the next sale: %+v", got)
	}
	b.apply(s2.Release())
	if d := DecidePayout(b.payees["i"], min, true, true); d.Amount != 0 || d.Carry != CarryNothing {
		t.Fatalf("after the next sale's release: %+v (balance %+v)", d, b.payees["i"])
	}
	// A third sale is paid in full: the debt is gone, not paid twice.
	s3, m3, _ := NewSale(9999, InstructorRule("i"))
	b.apply(m3)
	b.apply(s3.Release())
	if d := DecidePayout(b.payees["i"], min, true, true); d.Amount != 6999 {
		t.Fatalf("third payout: %+v", d)
	}
}

func TestDisputes(t *testing.T) {
	t.Run("WonReturnsTheHold", func(t *testing.T) {
		s, b := mustSale(t, 1999, InstructorRule("i"))
		m, changed := s.Dispute("dp_1", "needs_response", 1999)
		if !changed || m.Kind != KindDisputeHold || m.Payees["i"] != (Buckets{Pending: -1399, Held: 1399}) {
			t.Fatalf("hold: %+v", m)
		}
		b.apply(m)
		m, changed = s.Dispute("dp_1", "under_review", 1999)
		if !changed || m.MovesMoney() || m.Kind != KindDisputeUpdate {
			t.Fatalf("status update: %+v %v", m, changed)
		}
		b.apply(s.Release()) // the window passes during the dispute: the hold stays
		if b.payees["i"] != (Buckets{Held: 1399}) {
			t.Fatalf("released during dispute: %+v", b.payees["i"])
		}
		m, _ = s.Dispute("dp_1", DisputeWon, 1999)
		b.apply(m)
		if b.payees["i"] != (Buckets{Available: 1399}) || b.platform != 600 {
			t.Fatalf("after won: %+v / %d", b.payees["i"], b.platform)
		}
		if m, changed := s.Dispute("dp_1", "needs_response", 1999); changed || m.MovesMoney() {
			t.Fatal("a stale event reopened a closed dispute")
		}
	})
	t.Run("LostReversesTheHold", func(t *testing.T) {
		s, b := mustSale(t, 1999, InstructorRule("i"))
		m, _ := s.Dispute("dp_1", "needs_response", 1999)
		b.apply(m)
		m, _ = s.Dispute("dp_1", DisputeLost, 1999)
		if m.Kind != KindDisputeLost || m.DisputeLost != 1999 || m.Platform != -600 {
			t.Fatalf("lost: %+v", m)
		}
		b.apply(m)
		if b.payees["i"] != (Buckets{}) || b.platform != 0 || !s.FullyReversed() {
			t.Fatalf("after lost: %+v / %d", b.payees["i"], b.platform)
		}
	})
	t.Run("FirstSeenClosed", func(t *testing.T) {
		s, b := mustSale(t, 999, InstructorRule("i"))
		m, _ := s.Dispute("dp_1", DisputeLost, 999) // closed arrived before created
		b.apply(m)
		if b.payees["i"] != (Buckets{}) || b.platform != 0 {
			t.Fatalf("lost first: %+v / %d", b.payees["i"], b.platform)
		}
		if m, changed := s.Dispute("dp_1", "needs_response", 999); changed || m.MovesMoney() {
			t.Fatal("created after closed moved money")
		}
		s2, b2 := mustSale(t, 999, InstructorRule("i"))
		m, _ = s2.Dispute("dp_2", DisputeWon, 999)
		b2.apply(m)
		if b2.payees["i"] != (Buckets{Pending: 699}) || m.MovesMoney() {
			t.Fatalf("won first: %+v, movement %+v", b2.payees["i"], m)
		}
	})
	t.Run("LostAfterPayoutGoesNegative", func(t *testing.T) {
		s, b := mustSale(t, 9999, InstructorRule("i"))
		b.apply(s.Release())
		b.apply(PayoutMovement("i", 6999))
		m, _ := s.Dispute("dp_1", "needs_response", 9999)
		b.apply(m)
		// Nothing free is left to hold: the share was released and paid.
		if m.MovesMoney() && m.Payees["i"].Held != 6999 {
			t.Fatalf("hold after payout: %+v", m)
		}
		m, _ = s.Dispute("dp_1", DisputeLost, 9999)
		b.apply(m)
		if got := b.payees["i"]; got.Balance() != -6999 || got.Held != 0 {
			t.Fatalf("lost after payout: %+v", got)
		}
	})
}

func TestDecidePayout(t *testing.T) {
	for _, tc := range []struct {
		name             string
		available        int64
		account, enabled bool
		wantAmount       int64
		wantCarry        string
	}{
		{"Pays", 6999, true, true, 6999, ""},
		{"ExactlyMinimum", 5000, true, true, 5000, ""},
		{"BelowMinimum", 4999, true, true, 0, CarryBelowMinimum},
		{"Negative", -1, true, true, 0, CarryNegative},
		{"Nothing", 0, true, true, 0, CarryNothing},
		{"NoAccount", 6999, false, false, 0, CarryNoAccount},
		{"NotEnabled", 6999, true, false, 0, CarryPayoutsDisabled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DecidePayout(Buckets{Available: tc.available, Pending: 100000}, 5000, tc.account, tc.enabled)
			if d.Amount != tc.wantAmount || d.Carry != tc.wantCarry {
				t.Fatalf("%+v, want %d %q", d, tc.wantAmount, tc.wantCarry)
			}
		})
	}
}

// Random lives of sales: whatever the order of refunds, disputes and releases, each payee's buckets
// equal the sum of its movements, hold what the sale says, and the parts never exceed the amount.
func TestRandomSaleLives(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	statuses := []string{"needs_response", "under_review", DisputeWon, DisputeLost, "warning_closed"}
	for n := 0; n < 3000; n++ {
		amount := int64(99 + rng.Intn(99901))
		payees := InstructorRule("i")
		if rng.Intn(4) == 0 {
			payees = []Payee{{"a", 3500}, {"b", 3500}}
		}
		s, b := mustSale(t, amount, payees)
		var refunded int64
		for step := 0; step < 8; step++ {
			switch rng.Intn(4) {
			case 0:
				if rng.Intn(3) == 0 { // a refund failed or was canceled: Stripe's total falls
					refunded -= int64(rng.Intn(int(refunded + 1)))
				} else {
					refunded += int64(rng.Intn(int(amount/2 + 1)))
				}
				refunded = min(refunded, amount)
				b.apply(s.Refund(refunded))
			case 1:
				b.apply(s.Release())
			case 2, 3:
				id := []string{"dp_a", "dp_b"}[rng.Intn(2)]
				m, _ := s.Dispute(id, statuses[rng.Intn(len(statuses))], int64(rng.Intn(int(amount)+1)))
				b.apply(m)
			}
			check(t, s, b)
		}
		// Refund what is left: both sides end at zero.
		b.apply(s.Refund(amount))
		for _, d := range []string{"dp_a", "dp_b"} {
			if st, ok := s.Disputes[d]; ok && !disputeClosed(st.Status) {
				m, _ := s.Dispute(d, DisputeWon, st.Amount)
				b.apply(m)
			}
		}
		b.apply(s.Refund(amount))
		check(t, s, b)
		if s.Returned() != amount {
			t.Fatalf("sale %d: refunded %d + lost %d", amount, s.Refunded, s.DisputeLost)
		}
		for _, sh := range s.Shares {
			if got := b.payees[sh.PayeeID]; got.Balance() != 0 || sh.Cents != sh.Reversed {
				t.Fatalf("sale %d fully reversed, payee %s left %+v (share %+v)", amount, sh.PayeeID, got, sh)
			}
		}
		if b.platform != 0 {
			t.Fatalf("sale %d fully reversed, platform left %d", amount, b.platform)
		}
	}
}

func check(t *testing.T, s *Sale, b *book) {
	t.Helper()
	var net int64
	for _, sh := range s.Shares {
		got := b.payees[sh.PayeeID]
		if sh.Held < 0 || sh.Reversed < 0 || sh.Reversed > sh.Cents || sh.Free() < 0 {
			t.Fatalf("share out of range: %+v", sh)
		}
		if got.Held != sh.Held || got.Balance() != sh.Cents-sh.Reversed {
			t.Fatalf("payee %s buckets %+v, share %+v (sale %+v)", sh.PayeeID, got, sh, *s)
		}
		if s.Released && got.Pending != 0 || !s.Released && got.Available != 0 {
			t.Fatalf("payee %s buckets %+v with released=%v", sh.PayeeID, got, s.Released)
		}
		var holds int64
		for _, d := range s.Disputes {
			holds += d.Held[sh.PayeeID]
		}
		if holds != sh.Held {
			t.Fatalf("disputes hold %d, share says %d", holds, sh.Held)
		}
		net += sh.Cents - sh.Reversed
	}
	if b.platform != s.PlatformNet() || net+s.PlatformNet() != s.Amount-s.Returned() {
		t.Fatalf("platform %d / sale %+v: parts do not sum", b.platform, *s)
	}
}

// Withdrawn follows the money Stripe holds back: from a chargeback's opening until it is won, never
// for an inquiry; a movement carries its change.
func TestDisputeWithdrawn(t *testing.T) {
	s, _ := mustSale(t, 1999, InstructorRule("i"))
	for _, step := range []struct {
		status          string
		move, withdrawn int64
	}{
		{"warning_needs_response", 0, 0}, // an inquiry withdraws nothing
		{"needs_response", 1500, 1500},   // escalated to a chargeback: withdrawn
		{"under_review", 0, 1500},
		{DisputeWon, -1500, 0}, // reinstated
	} {
		m, _ := s.Dispute("dp_1", step.status, 1500)
		if m.Withdrawn != step.move || s.Withdrawn() != step.withdrawn || (step.move != 0 && !m.MovesMoney()) {
			t.Fatalf("%s: movement %+v, withdrawn %d", step.status, m, s.Withdrawn())
		}
	}
	m, _ := s.Dispute("dp_2", DisputeLost, 5000) // lost before we saw it: withdrawn for good, at most the sale
	if m.Withdrawn != 1999 || s.Withdrawn() != 1999 {
		t.Fatalf("lost: movement %+v, withdrawn %d", m, s.Withdrawn())
	}
}
