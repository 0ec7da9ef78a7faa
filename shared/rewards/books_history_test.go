package rewards

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/backfill/walk"
	"github.com/liberation/monetization/shared/books/backfill/walk/walktest"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/books/journal/journaltest"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
)

// The journal invariant of rewards over seeded random histories of redemptions — credits, coupons
// and merchandise created, approved (a coupon or a credit fulfilled at once at "Stripe", which
// sometimes fails and leaves it approved), fulfilled on a retry, rejected (an approved coupon or
// credit revoked first, the revocation sometimes failing), cancelled, some fulfilments preceded by
// a backfill that posted their entry already, and the clock moving past claims. After every step:
//
//   - every entry is valid (balanced), rewards' rwd.credit of a credit redemption that is
//     fulfilled, for exactly the amount it recorded, dated at its fulfilment;
//   - marketing_token_redemptions (Dr − Cr) is Σ of the fulfilled credits' amounts minus those
//     revoked, per user (party) and in all, as the redemptions themselves say; customer_credit is
//     its opposite (nothing in these histories uses a credit);
//
// and at the end every operation that changed something is applied again: each is refused and
// nothing changes — the journal, the redemptions, the accounts.
//
// REWARDS_BOOKS_SEED replays one history; REWARDS_BOOKS_HISTORIES sets how many run on the fake.

type rwdHistory struct {
	t       *testing.T
	seed    int64
	rng     *rand.Rand
	clk     *clock.Fake
	r       Repo
	d       *Deps
	b       books
	start   time.Time
	users   []string
	reds    []Redemption // as created: the user and the id name it
	ops     []func() error
	n       int
	backfed int
	counts  map[string]int
}

func newRwdHistory(t *testing.T, seed int64, r Repo, b books, clk *clock.Fake) *rwdHistory {
	h := &rwdHistory{t: t, seed: seed, rng: rand.New(rand.NewSource(seed)), clk: clk, r: r, b: b, start: clk.Now(),
		d: (&Deps{Clock: clk}).With(r), counts: map[string]int{}}
	for i := range 3 {
		h.users = append(h.users, fmt.Sprintf("usr_%d_%d", seed%1000, i))
	}
	return h
}

func (h *rwdHistory) fail(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf("seed %d (REWARDS_BOOKS_SEED=%d replays it): "+format, append([]any{h.seed, h.seed}, args...)...)
}

// refused is an operation's answer that leaves things as they were (a 409: the state machine or a
// claim said no); anything else but success fails the history.
func (h *rwdHistory) ok(what string, err error) bool {
	h.t.Helper()
	switch {
	case err == nil:
		return true
	case apperr.CodeOf(err) == apperr.Conflict:
		return false
	}
	h.fail("%s: %v", what, err)
	return false
}

func (h *rwdHistory) current(red Redemption) Redemption {
	h.t.Helper()
	cur, err := h.r.Redemption(context.Background(), red.UserID, red.ID)
	if err != nil {
		h.fail("read %s: %v", red.ID, err)
	}
	return cur
}

// deliver is redeem's Stripe step for a coupon or a credit claimed in c: it fails sometimes (the
// redemption stays approved with the error, the claim ended), else it is recorded fulfilled — a
// credit's entry sometimes posted already by a backfill.
func (h *rwdHistory) deliver(ctx context.Context, c Redemption, stripeFails bool) error {
	if stripeFails {
		_, err := h.d.UpdateRedemption(ctx, c, func(n *Redemption) {
			n.FulfilmentError, n.FulfilmentAttempts = "stripe did not answer", n.FulfilmentAttempts+1
			n.EndClaim(h.clk.Now())
		})
		return err
	}
	h.n++
	txn := "cbtxn_" + strconv.Itoa(h.n)
	change := stripeCredited(txn)
	if c.Fulfilment == rewardcatalog.StripeCoupon {
		change = func(n *Redemption) { n.CouponCode = "LIB20-" + strconv.Itoa(h.n) }
	} else if h.rng.Intn(5) == 0 {
		h.b.backfill(h.t, expectedCredit(h.t, h.current(c), txn, h.clk.Now()))
		h.backfed++
	}
	_, err := h.d.Transition(ctx, c, ActFulfil, "root", "req", change)
	return err
}

// approve is POST …/approve: merchandise moves alone; a coupon or a credit is claimed and delivered.
func (h *rwdHistory) approve(red Redemption, stripeFails bool) func() error {
	return func() error {
		ctx := context.Background()
		if red.Fulfilment == rewardcatalog.Manual {
			_, err := h.d.Transition(ctx, red, ActApprove, "root", "req", nil)
			return err
		}
		c, err := h.d.Claim(ctx, red, ActApprove, "root", "req", time.Minute, nil)
		if err != nil {
			return err
		}
		return h.deliver(ctx, c, stripeFails)
	}
}

// fulfil is POST …/fulfil: by hand for merchandise, else a retry of the Stripe step.
func (h *rwdHistory) fulfil(red Redemption, stripeFails bool) func() error {
	return func() error {
		ctx := context.Background()
		if red.Fulfilment == rewardcatalog.Manual {
			_, err := h.d.Transition(ctx, red, ActFulfil, "root", "req", func(n *Redemption) { n.Note = "shipped" })
			return err
		}
		c, err := h.d.Claim(ctx, red, ActFulfil, "root", "req", time.Minute, nil)
		if err != nil {
			return err
		}
		return h.deliver(ctx, c, stripeFails)
	}
}

// reject is POST …/reject: directly while nothing can be live at Stripe, else revoked first (which
// may fail: the redemption stays approved, its claim ended).
func (h *rwdHistory) reject(red Redemption, revokeFails bool) func() error {
	return func() error {
		ctx := context.Background()
		cur := h.current(red)
		if cur.Status == Pending || cur.Fulfilment == rewardcatalog.Manual {
			_, err := h.d.Transition(ctx, red, ActReject, "root", "req", nil)
			return err
		}
		c, err := h.d.Claim(ctx, red, ActReject, "root", "req", time.Minute, nil)
		if err != nil {
			return err
		}
		if revokeFails {
			_, err := h.d.UpdateRedemption(ctx, c, func(n *Redemption) { n.EndClaim(h.clk.Now()) })
			return err
		}
		_, err = h.d.Transition(ctx, c, ActReject, "root", "req", nil)
		return err
	}
}

func (h *rwdHistory) cancel(red Redemption) func() error {
	return func() error {
		_, err := h.d.Transition(context.Background(), red, ActCancel, red.UserID, "req", nil)
		return err
	}
}

// step runs one random operation; one that moved a redemption's status is kept for the replay.
func (h *rwdHistory) step() {
	ctx := context.Background()
	u := h.users[h.rng.Intn(len(h.users))]
	switch op := h.rng.Intn(100); {
	case op < 10:
		if _, _, err := h.d.Post(ctx, u, func(context.Context, Account) (Plan, error) {
			return Plan{Change: Change{Kind: KindAdjust, Delta: 3000, Earned: 3000}}, nil
		}); err != nil {
			h.fail("grant: %v", err)
		}
	case op < 35:
		rw := []string{rewardcatalog.SubscriptionCredit, rewardcatalog.SubscriptionCredit, rewardcatalog.CourseCoupon, rewardcatalog.Merchandise}[h.rng.Intn(4)]
		q := RedemptionRequest{RewardID: rw}
		if rw == rewardcatalog.Merchandise {
			q.Shipping = &Address{Name: "A", Line1: "1 Main St", City: "X", PostalCode: "1", Country: "US"}
		}
		red, err := h.d.CreateRedemption(ctx, u, "", q, "req")
		if err == nil {
			h.reds = append(h.reds, red)
		} else if apperr.CodeOf(err) != apperr.Conflict {
			h.fail("create: %v", err)
		}
	case op < 90 && len(h.reds) > 0:
		red := h.reds[h.rng.Intn(len(h.reds))]
		bad := h.rng.Intn(4) == 0
		var f func() error
		name := ""
		switch k := h.rng.Intn(10); {
		case k < 4:
			f, name = h.approve(red, bad), "approve"
		case k < 6:
			f, name = h.fulfil(red, bad), "fulfil"
		case k < 8:
			f, name = h.reject(red, bad), "reject"
		default:
			f, name = h.cancel(red), "cancel"
		}
		before := h.current(red).Status
		if h.ok(name+" "+red.ID, f()) {
			h.counts[name]++
			if h.current(red).Status != before {
				h.ops = append(h.ops, f)
			}
		}
	default:
		// Past claims now and then (a claim whose holder died), else a few minutes.
		h.clk.Advance(time.Duration(1+h.rng.Intn(180)) * time.Minute)
	}
}

// records is what the redemptions say: Σ credit granted and not taken back, per user.
func (h *rwdHistory) records() (map[string]int64, map[string]Redemption) {
	granted, byID := map[string]int64{}, map[string]Redemption{}
	for _, red := range h.reds {
		cur := h.current(red)
		byID[cur.ID] = cur
		if credited(cur) {
			granted[cur.UserID] += cur.CreditCents
		}
	}
	return granted, byID
}

// books reads the two accounts' postings: Dr − Cr per account and party, and the entries posted.
func (h *rwdHistory) books() (map[journal.AccountID]map[string]int64, map[string]journal.Entry) {
	net := map[journal.AccountID]map[string]int64{}
	entries := map[string]journal.Entry{}
	for _, a := range []journal.AccountID{journal.MarketingTokenRedemptions, journal.CustomerCredit} {
		net[a] = map[string]int64{}
		for _, p := range h.b.postings(h.t, a, h.start.Add(-24*time.Hour), h.clk.Now().Add(24*time.Hour)) {
			net[a][p.Party] += p.Debit - p.Credit
			if _, seen := entries[p.EntryID]; !seen {
				e, ok := h.b.entry(h.t, p.EntryID)
				if !ok {
					h.fail("posting %s/%d without its entry", p.EntryID, p.Line)
				}
				entries[p.EntryID] = e
			}
		}
	}
	return net, entries
}

func (h *rwdHistory) check() {
	h.t.Helper()
	granted, byID := h.records()
	net, entries := h.books()
	for id, e := range entries {
		red, ok := byID[e.Source]
		switch {
		case e.Validate() != nil:
			h.fail("entry %s: %v", id, e.Validate())
		case e.Area != Area || e.Kind != JournalCredit:
			h.fail("entry %s is %s/%s: these histories revoke no fulfilled credit", id, e.Area, e.Kind)
		case !ok || !credited(red):
			h.fail("entry %s posts redemption %s, which is not a fulfilled credit (%+v)", id, e.Source, red)
		case e.Total() != red.CreditCents || !e.Date.Equal(red.FulfilledAt) || e.Currency != red.CreditCurrency:
			h.fail("entry %+v does not say what redemption %+v recorded", e, red)
		}
	}
	var total int64
	for _, u := range h.users {
		total += granted[u]
		if got := net[journal.MarketingTokenRedemptions][u]; got != granted[u] {
			h.fail("%s: marketing_token_redemptions %d, credits fulfilled − revoked %d", u, got, granted[u])
		}
		if got := net[journal.CustomerCredit][u]; got != -granted[u] {
			h.fail("%s: customer_credit %d, want −%d", u, got, granted[u])
		}
	}
	var all int64
	for _, v := range net[journal.MarketingTokenRedemptions] {
		all += v
	}
	if all != total {
		h.fail("marketing_token_redemptions %d in all, the redemptions say %d", all, total)
	}
}

// snapshot is everything a replay must leave as it is.
func (h *rwdHistory) snapshot() string {
	granted, byID := h.records()
	net, entries := h.books()
	accts := map[string]string{}
	for _, u := range h.users {
		a, err := h.r.Account(context.Background(), u)
		if err != nil {
			h.fail("%v", err)
		}
		accts[u] = fmt.Sprintf("%d/%d/%d", a.Balance, a.Held, a.Version)
	}
	st := map[string]string{}
	for id, r := range byID {
		st[id] = fmt.Sprintf("%s/%d", r.Status, r.CreditCents)
	}
	return fmt.Sprint(granted, net, len(entries), accts, st)
}

// replay applies every operation that moved a redemption again, in another order.
func (h *rwdHistory) replay() {
	before := h.snapshot()
	h.rng.Shuffle(len(h.ops), func(i, j int) { h.ops[i], h.ops[j] = h.ops[j], h.ops[i] })
	for i, f := range h.ops {
		if err := f(); apperr.CodeOf(err) != apperr.Conflict {
			h.fail("operation %d applied again: %v", i, err)
		}
	}
	if after := h.snapshot(); after != before {
		h.fail("the replay changed things:\n%s\n%s", before, after)
	}
	h.check()
}

func rwdSeeds(t *testing.T, n int) []int64 { return journaltest.Seeds(t, "REWARDS_BOOKS_SEED", n) }

// TestRedemptionHistoriesKeepTheBooks runs the invariant over many histories on the fake.
func TestRedemptionHistoriesKeepTheBooks(t *testing.T) {
	n := 200
	if s := os.Getenv("REWARDS_BOOKS_HISTORIES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	if testing.Short() {
		n = 20
	}
	credits, backfed, replayed := 0, 0, 0
	totals := map[string]int{}
	for _, seed := range rwdSeeds(t, n) {
		clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		m := newMemRepo()
		h := newRwdHistory(t, seed, m, memBooks{m}, clk)
		for range 40 + h.rng.Intn(60) {
			h.step()
			h.check()
		}
		h.replay()
		credits += len(m.entriesPosted())
		backfed += h.backfed
		replayed += len(h.ops)
		for k, v := range h.counts {
			totals[k] += v
		}
	}
	t.Logf("%d histories: %d credits posted (%d after a backfill), %d operations replayed, %v", n, credits, backfed, replayed, totals)
	if credits == 0 || backfed == 0 || replayed == 0 || totals["reject"] == 0 || totals["cancel"] == 0 || totals["fulfil"] == 0 {
		t.Fatal("the histories exercised too little: the generator is broken")
	}
}

// TestRedemptionHistoriesOnTheTable runs a few histories on the DynamoDB repository (in process,
// moto with the integration tag) and reads the journal back from the table: postings, entries,
// and a trial balance that balances; then the journal backfill rebuilds that journal exactly.
func TestRedemptionHistoriesOnTheTable(t *testing.T) {
	rebuiltAll := 0
	n := 3
	if testing.Short() {
		n = 1
	}
	// A few histories, and more (up to 12) until one granted a credit, so the rebuild is
	// always exercised.
	for i, seed := range rwdSeeds(t, 12) {
		if i >= n && rebuiltAll > 0 {
			break
		}
		clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		s := newTestStore(t, clk)
		jr := journal.Repo{S: s}
		h := newRwdHistory(t, seed, NewRepo(s), tableBooks{jr}, clk)
		for range 40 {
			h.step()
		}
		h.check()
		h.replay()
		tb, err := jr.TrialBalance(context.Background(), clk.Now().Add(24*time.Hour))
		if err != nil {
			h.fail("trial balance: %v", err)
		}
		for _, c := range tb.Currencies {
			if !c.Balanced || c.Currency != "usd" {
				h.fail("trial balance %+v", c)
			}
		}
		// The backfill: nothing over the live journal; with the journal wiped, the same entries
		// exactly (a credit's entry is built from the redemption alone: same id, date and lines).
		live := walktest.Entries(t, s)
		if rep := walktest.Run(t, s, clk, walk.Options{}, 5); rep.Posted != 0 || rep.Present != len(live) {
			h.fail("backfill over the live journal: %+v (%d live entries)", rep.State, len(live))
		}
		walktest.Wipe(t, s)
		rep := walktest.Run(t, s, clk, walk.Options{Restart: true}, 5)
		rebuilt := walktest.Entries(t, s)
		if rep.Posted != len(live) || len(rebuilt) != len(live) {
			h.fail("backfill after a wipe: %+v, %d entries rebuilt of %d", rep.State, len(rebuilt), len(live))
		}
		for id, e := range live {
			if !journal.Same(rebuilt[id], e) {
				h.fail("entry %s rebuilt as %+v, live %+v", id, rebuilt[id], e)
			}
		}
		rebuiltAll += len(rebuilt)
		h.check()
	}
	if rebuiltAll == 0 {
		t.Fatal("no credit entry was rebuilt: the histories granted no credit")
	}
}
