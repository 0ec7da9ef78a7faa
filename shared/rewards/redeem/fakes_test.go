package redeem

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
)

// memPayments is Payments in memory, with the Stripe semantics the workflow relies on: one coupon
// per code and one credit per redemption however often it is asked (the idempotency keys), a
// revoked coupon gone (revoking one that does not exist is fine), a credit reversed once. A test
// can make an operation's next call fail, or run something inside it before Stripe acts (another
// request overtaking this one).
type memPayments struct {
	mu      sync.Mutex
	coupons map[string]string  // live coupons: code → redemption id
	credits map[string]*credit // redemption id → its credit
	calls   []string           // "<op> <code or redemption id>", in order
	fail    map[string]error   // op → the error of its next call
	during  map[string]func()  // op → run once inside its next call, before Stripe acts
}

type credit struct {
	customer, txn string
	cents         int64
	reversed      bool
}

var _ Payments = (*memPayments)(nil)

func newMemPayments() *memPayments {
	return &memPayments{coupons: map[string]string{}, credits: map[string]*credit{}, fail: map[string]error{},
		during: map[string]func(){}}
}

// failNext makes the next call of op ("issue", "credit", "revoke", "reverse") fail with err.
func (p *memPayments) failNext(op string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail[op] = err
}

// inside runs f inside the next call of op, before Stripe acts.
func (p *memPayments) inside(op string, f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.during[op] = f
}

// enter records a call of op about what, runs what a test put inside it and says whether it fails.
func (p *memPayments) enter(op, what string) error {
	p.mu.Lock()
	f := p.during[op]
	delete(p.during, op)
	p.mu.Unlock()
	if f != nil {
		f()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, op+" "+what)
	err := p.fail[op]
	delete(p.fail, op)
	return err
}

func (p *memPayments) IssueCoupon(_ context.Context, red rewards.Redemption, _ rewardcatalog.Reward) (string, error) {
	code := couponID(red)
	if err := p.enter("issue", code); err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if owner, ok := p.coupons[code]; ok && owner != red.ID {
		return "", fmt.Errorf("coupon %s belongs to %s", code, owner)
	}
	p.coupons[code] = red.ID
	return code, nil
}

func (p *memPayments) CreditBalance(_ context.Context, red rewards.Redemption, rw rewardcatalog.Reward) (string, string, error) {
	if err := p.enter("credit", red.ID); err != nil {
		return "", "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.credits[red.ID]
	if !ok {
		c = &credit{customer: "cus_" + red.UserID, txn: fmt.Sprintf("cbtxn_%d", len(p.credits)+1), cents: rw.CreditCents}
		p.credits[red.ID] = c
	}
	return c.customer, c.txn, nil
}

func (p *memPayments) RevokeCoupon(_ context.Context, red rewards.Redemption) error {
	code := couponID(red)
	if err := p.enter("revoke", code); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.coupons, code)
	return nil
}

func (p *memPayments) ReverseCredit(_ context.Context, red rewards.Redemption) error {
	if err := p.enter("reverse", red.ID); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.credits[red.ID]; ok {
		c.reversed = true
	}
	return nil
}

func (p *memPayments) callLog() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

func (p *memPayments) live(code string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.coupons[code]
	return ok
}

func (p *memPayments) creditOf(redemptionID string) (credit, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.credits[redemptionID]
	if !ok {
		return credit{}, false
	}
	return *c, true
}
