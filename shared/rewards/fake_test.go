package rewards

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
)

// memLedger is an in-memory model of the area's storage, driven by the same policy functions as
// the DynamoDB code (planEarning, decideRefund, decideRelease, Next, TokenChange, Account.Apply):
// it lets a long seeded run of earnings, replays, caps, holds, releases and refunds check the
// ledger's invariants in milliseconds. The DynamoDB code is checked against the same invariants by
// the integration tests (ledger_integration_test.go).
type memLedger struct {
	now      time.Time
	accounts map[string]Account
	entries  map[string][]Entry
	guards   map[string]earnState // user|rule|source
	caps     map[string]int64     // user|rule|day
	reds     map[string]Redemption
	// totals as the metric counters would count them
	issued, redeemed, deducted int64
}

func newMem(now time.Time) *memLedger {
	return &memLedger{now: now, accounts: map[string]Account{}, entries: map[string][]Entry{},
		guards: map[string]earnState{}, caps: map[string]int64{}, reds: map[string]Redemption{}}
}

func (m *memLedger) post(user string, c Change) (Entry, error) {
	a := m.accounts[user]
	a.UserID = user
	n, e, err := a.Apply(c, m.now)
	if err != nil {
		return Entry{}, err
	}
	m.accounts[user] = n
	m.entries[user] = append(m.entries[user], e)
	c2 := balanceCounts(e)
	m.redeemed, m.issued, m.deducted = m.redeemed+c2[CtrRedeemed], m.issued+c2[CtrIssued], m.deducted+c2[CtrDeducted]
	return e, nil
}

func (m *memLedger) earn(e Earning) Outcome {
	r := Rules[e.Rule]
	tokens := e.Tokens
	if tokens == 0 {
		tokens = r.Tokens
	}
	gk := e.UserID + "|" + e.Rule + "|" + e.SourceID
	ck := e.UserID + "|" + e.Rule + "|" + Day(e.OccurredAt)
	if g := m.guards[gk]; g.State == EarnAwaiting {
		c, next, out := afterRefunds(g, e, tokens)
		if c.Kind != "" {
			if _, err := m.post(e.UserID, c); err != nil {
				panic(err)
			}
			m.guards[gk] = next
		}
		return out
	}
	c, state, out := planEarning(r, tokens, m.guards[gk], m.caps[ck])
	if state == "" {
		return out
	}
	if _, err := m.post(e.UserID, c); err != nil {
		panic(err) // earnings never fail
	}
	m.guards[gk] = earnState{Exists: true, State: state, Tokens: c.Delta + c.PendingDelta, ReleaseAt: e.ReleaseAt,
		AmountCents: e.AmountCents}
	if r.DailyCap > 0 {
		m.caps[ck] += c.Delta + c.PendingDelta
	}
	return out
}

func (m *memLedger) refund(n RefundNotice) Outcome {
	gk := n.UserID + "|" + RuleCoursePurchased + "|" + n.PurchaseID
	c, next, out, write := decideRefund(m.guards[gk], n, m.accounts[n.UserID].Available)
	if !write {
		return out
	}
	if c.Kind != "" {
		if _, err := m.post(n.UserID, c); err != nil {
			panic(err)
		}
	}
	m.guards[gk] = next
	return out
}

func (m *memLedger) releaseDue() {
	for gk, g := range m.guards {
		user, rule, source := split3(gk)
		c, out := decideRelease(g, rule, source, m.now)
		if out != OutReleased {
			continue
		}
		if _, err := m.post(user, c); err != nil {
			panic(err)
		}
		g.State = EarnReleased
		m.guards[gk] = g
	}
}

func split3(k string) (a, b, c string) {
	parts := [3]string{}
	i := 0
	for _, r := range k {
		if r == '|' && i < 2 {
			i++
			continue
		}
		parts[i] += string(r)
	}
	return parts[0], parts[1], parts[2]
}

func (m *memLedger) redeem(user, id string, cost int64) error {
	c := HoldChange(cost)
	if _, err := m.post(user, c); err != nil {
		return err
	}
	m.reds[id] = Redemption{ID: id, UserID: user, Cost: cost, Status: Pending}
	return nil
}

func (m *memLedger) transition(id string, act Action) error {
	red := m.reds[id]
	to, err := Next(red.Status, act)
	if err != nil {
		return err
	}
	if c, moves := TokenChange(act, red.Cost); moves {
		if _, err := m.post(red.UserID, c); err != nil {
			return err
		}
	}
	red.Status = to
	m.reds[id] = red
	return nil
}

// A seeded run of thousands of operations — replayed events, capped days, purchases refunded in
// part, in full or by a lost dispute, inside and outside their window, holds that are approved,
// fulfilled, rejected or cancelled, and admin adjustments — leaves every account equal to the sum
// of its entries, available ≥ 0 and nothing owed beside available tokens at every entry, held equal
// to the cost of the open redemptions, and the programme's liability equal to what was issued
// minus what was redeemed or deducted.
func TestSeededRunKeepsTheLedgerInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 7))
	m := newMem(time.Date(2026, 2, 2, 8, 0, 0, 0, time.UTC))
	users := []string{"ana", "ben", "cai", "dee"}
	var purchases []Earning
	var reds []string
	refused, capped, dups, clawbacks, recorded, restored := 0, 0, 0, 0, 0, 0
	costs := []int64{500, 1000, 2000}
	for step := 0; step < 5000; step++ {
		m.now = m.now.Add(time.Duration(rng.IntN(20)) * time.Minute)
		u := users[rng.IntN(len(users))]
		switch op := rng.IntN(100); {
		case op < 40: // a lesson, sometimes a replay of an old one
			lesson := fmt.Sprintf("c%d/l%d", rng.IntN(5), rng.IntN(60))
			out := m.earn(Earning{UserID: u, Rule: RuleLessonCompleted, SourceID: lesson, OccurredAt: m.now})
			capped += b2i(out == OutCapped)
			dups += b2i(out == OutDuplicate)
		case op < 45:
			m.earn(Earning{UserID: u, Rule: RuleCourseCompleted, SourceID: fmt.Sprintf("c%d", rng.IntN(8)), OccurredAt: m.now})
		case op < 52:
			p := Earning{UserID: u, Rule: RuleCoursePurchased, SourceID: fmt.Sprintf("pur%d", step), OccurredAt: m.now,
				ReleaseAt: m.now.Add(RefundWindow), AmountCents: 4900}
			m.earn(p)
			purchases = append(purchases, p)
		case op < 56 && len(purchases) > 0: // a partial refund or a lost dispute, maybe late, maybe replayed
			p := purchases[rng.IntN(len(purchases))]
			at := p.OccurredAt.Add(time.Duration(rng.IntN(40*24)) * time.Hour)
			n := RefundNotice{UserID: p.UserID, PurchaseID: p.SourceID, RefundID: fmt.Sprintf("re%d", rng.IntN(3)),
				Cents: []int64{1, 49, 2450, 4900, int64(1 + rng.IntN(4900))}[rng.IntN(5)], PurchaseCents: 4900, At: at,
				Dispute: rng.IntN(10) == 0}
			n.Reversed = rng.IntN(4) == 0 // it failed at Stripe: before or after it was told, or never told
			switch m.refund(n) {
			case OutClawback:
				clawbacks++
			case OutRecorded:
				recorded++
			case OutRestored:
				restored++
			}
		case op < 60:
			m.earn(Earning{UserID: u, Rule: RuleSubscriptionRenewed, SourceID: fmt.Sprintf("in%d", rng.IntN(30)),
				Tokens: TierTokens[[]string{"pro", "enterprise"}[rng.IntN(2)]], OccurredAt: m.now})
		case op < 72:
			id := fmt.Sprintf("rdm%d", step)
			if err := m.redeem(u, id, costs[rng.IntN(len(costs))]); err != nil {
				if !errors.Is(err, ErrInsufficient) {
					t.Fatal(err)
				}
				refused++
			} else {
				reds = append(reds, id)
			}
		case op < 90 && len(reds) > 0:
			acts := []Action{ActApprove, ActFulfil, ActReject, ActCancel}
			if err := m.transition(reds[rng.IntN(len(reds))], acts[rng.IntN(len(acts))]); err != nil && apperr.CodeOf(err) != apperr.Conflict {
				t.Fatal(err)
			}
		case op < 93:
			amount := int64(rng.IntN(400) - 150)
			if amount != 0 {
				if _, err := m.post(u, Change{Kind: KindAdjust, Delta: amount, Earned: amount}); err != nil && !errors.Is(err, ErrInsufficient) {
					t.Fatal(err)
				}
			}
		default:
			m.releaseDue()
		}
	}
	m.now = m.now.Add(31 * 24 * time.Hour)
	m.releaseDue()
	// Refunds learnt after the release while every token is held by a redemption: the clawbacks
	// take nothing and leave debts, which cancelling the redemptions then pays.
	for _, u := range users {
		for i := 0; m.redeem(u, fmt.Sprintf("late-%s-%d", u, i), 500) == nil; i++ {
			reds = append(reds, fmt.Sprintf("late-%s-%d", u, i))
		}
	}
	for _, p := range purchases {
		n := RefundNotice{UserID: p.UserID, PurchaseID: p.SourceID, RefundID: "late", Cents: 2450, PurchaseCents: 4900,
			At: p.OccurredAt.Add(time.Hour)}
		clawbacks += b2i(m.refund(n) == OutClawback)
	}
	// Half of those refunds then fail at Stripe: what they took comes back, paying the debts first.
	for i, p := range purchases {
		if i%2 == 0 {
			n := RefundNotice{UserID: p.UserID, PurchaseID: p.SourceID, RefundID: "late", Cents: 2450, PurchaseCents: 4900,
				At: p.OccurredAt.Add(time.Hour), Reversed: true}
			restored += b2i(m.refund(n) == OutRestored)
		}
	}
	for _, id := range reds {
		if err := m.transition(id, ActCancel); err != nil && apperr.CodeOf(err) != apperr.Conflict {
			t.Fatal(err)
		}
	}

	var liability int64
	owedSeen := 0
	for _, u := range users {
		for _, e := range m.entries[u] {
			owedSeen += b2i(e.OwedDelta > 0)
		}
		a := m.accounts[u]
		if err := Verify(a, m.entries[u]); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if a.Pending != 0 {
			t.Errorf("%s: %d tokens still pending after every window ended", u, a.Pending)
		}
		var open int64
		for _, r := range m.reds {
			if r.UserID == u && (r.Status == Pending || r.Status == Approved) {
				open += r.Cost
			}
		}
		if a.Held != open {
			t.Errorf("%s: held %d, open redemptions cost %d", u, a.Held, open)
		}
		liability += a.Balance
	}
	if liability != m.issued-m.redeemed-m.deducted {
		t.Errorf("liability %d ≠ issued %d − redeemed %d − deducted %d", liability, m.issued, m.redeemed, m.deducted)
	}
	// Caps held on every day.
	for k, n := range m.caps {
		if n > Rules[RuleLessonCompleted].DailyCap {
			t.Errorf("%s earned %d", k, n)
		}
	}
	if refused == 0 || capped == 0 || dups == 0 || clawbacks == 0 || recorded == 0 || owedSeen == 0 || restored == 0 {
		t.Errorf("the run did not exercise refusals (%d), caps (%d), replays (%d), clawbacks (%d), refunds taking no whole token (%d), debts (%d) and failed refunds (%d)",
			refused, capped, dups, clawbacks, recorded, owedSeen, restored)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
