//go:build integration

package rewards

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/facts"
	"github.com/liberation/monetization/shared/queue"
)

// refundFact is course.refunded as the marketplace sends it, plus the fields given as JSON (so a
// test can say what a lost dispute looks like on the wire).
func refundFact(t *testing.T, f facts.CourseRefundedFact, extra map[string]any) queue.Message {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		m[k] = v
	}
	return fact(t, facts.CourseRefunded, m)
}

// A refund takes back the refunded fraction of a purchase's tokens, floored (the tokens kept are
// floor(50 × kept cents / price)), whether they are still pending or already released; a full
// refund and a lost dispute take them all. Partial refunds add up, each counted once.
func TestPartialRefundsTakeTheRefundedFraction(t *testing.T) {
	const price = 4900
	type refund struct {
		id      string
		cents   int64
		late    bool // learnt after the release (the refund itself is dated inside the window)
		dispute bool // a lost dispute, dated after the window
	}
	for _, tc := range []struct {
		name    string
		early   bool // the refunds arrive before the purchase
		refunds []refund
		pending int64 // the purchase's tokens left pending (refunds inside the window, learnt in time)
		balance int64 // or left available (refunds learnt after the release)
	}{
		{"1 % refund", false, []refund{{id: "re_1", cents: 49}}, 49, 0},
		{"50 % refund", false, []refund{{id: "re_1", cents: 2450}}, 25, 0},
		{"100 % refund", false, []refund{{id: "re_1", cents: price}}, 0, 0},
		{"two halves, one redelivered", false, []refund{{id: "re_1", cents: 2450}, {id: "re_1", cents: 2450}, {id: "re_2", cents: 2450}}, 0, 0},
		{"1 % learnt after the release", false, []refund{{id: "re_1", cents: 49, late: true}}, 0, 49},
		{"50 % learnt after the release", false, []refund{{id: "re_1", cents: 2450, late: true}}, 0, 25},
		{"lost dispute after the release", false, []refund{{id: "dp_1", cents: price, dispute: true}}, 0, 0},
		{"50 % refund before the purchase is seen", true, []refund{{id: "re_1", cents: 2450}}, 25, 0},
		{"full refund before the purchase is seen", true, []refund{{id: "re_1", cents: price}}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, clk := newDeps(t)
			ctx := context.Background()
			t0 := clk.Now()
			buy := func() {
				t.Helper()
				if err := d.earner().ApplyFact(ctx, fact(t, facts.CoursePurchased, facts.CoursePurchasedFact{UserID: "ivy", CourseID: "crs_1",
					PurchaseID: "pur_1", AmountCents: price, Currency: "usd", PurchasedAt: t0, RefundWindowEndsAt: t0.Add(RefundWindow)})); err != nil {
					t.Fatal(err)
				}
			}
			if !tc.early {
				buy()
			}
			var refunded int64
			seen := map[string]bool{}
			for _, r := range tc.refunds {
				if r.late || r.dispute {
					clk.Set(t0.Add(RefundWindow + time.Hour))
					if _, err := RunReleasePendingTokens(ctx, d); err != nil {
						t.Fatal(err)
					}
				}
				if !seen[r.id] {
					refunded += r.cents
					seen[r.id] = true
				}
				at := t0.Add(24 * time.Hour)
				extra := map[string]any{}
				if r.dispute {
					at = t0.Add(RefundWindow + 40*24*time.Hour)
					extra["dispute"] = true
				}
				f := facts.CourseRefundedFact{UserID: "ivy", CourseID: "crs_1", PurchaseID: "pur_1", RefundID: r.id,
					AmountCents: r.cents, Currency: "usd", Full: refunded >= price, RefundedAt: at}
				if err := d.earner().ApplyFact(ctx, refundFact(t, f, extra)); err != nil {
					t.Fatal(err)
				}
			}
			if tc.early {
				buy()
				buy() // redelivered
			}
			a := mustAccount(t, d, "ivy")
			if a.Pending != tc.pending || a.Balance != tc.balance {
				t.Fatalf("pending %d, balance %d; want pending %d, balance %d (%+v)", a.Pending, a.Balance, tc.pending, tc.balance, a)
			}
			// What is left pending is what the window's end releases.
			clk.Set(t0.Add(RefundWindow + 2*time.Hour))
			if _, err := RunReleasePendingTokens(ctx, d); err != nil {
				t.Fatal(err)
			}
			a = mustAccount(t, d, "ivy")
			if a.Pending != 0 || a.Balance != tc.pending+tc.balance || a.LifetimeEarned != a.Balance {
				t.Fatalf("after the window: %+v", a)
			}
			if err := Verify(a, allEntries(t, d, "ivy")); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A refund learnt after the release, while the released tokens are held by a pending redemption,
// cannot take them at once; cancelling the redemption then must not hand them back: what the
// clawback could not take is owed and paid first from the tokens released.
func TestClawbackOfHeldTokensIsOwedNotForgiven(t *testing.T) {
	d, clk := newDeps(t)
	ctx := context.Background()
	t0 := clk.Now()
	if err := d.earner().ApplyFact(ctx, fact(t, facts.CoursePurchased, facts.CoursePurchasedFact{UserID: "jo", CourseID: "crs_1",
		PurchaseID: "pur_1", AmountCents: 4900, Currency: "usd", PurchasedAt: t0, RefundWindowEndsAt: t0.Add(RefundWindow)})); err != nil {
		t.Fatal(err)
	}
	clk.Set(t0.Add(RefundWindow + time.Hour))
	if _, err := RunReleasePendingTokens(ctx, d); err != nil {
		t.Fatal(err)
	}
	grant(t, d, "jo", 450)
	red, err := d.CreateRedemption(ctx, "jo", "jo@example.com", RedemptionRequest{RewardID: "course-coupon-20"}, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	// The refund, dated inside the window, is learnt now: nothing is available to take.
	if err := d.earner().ApplyFact(ctx, fact(t, facts.CourseRefunded, facts.CourseRefundedFact{UserID: "jo", CourseID: "crs_1",
		PurchaseID: "pur_1", RefundID: "re_1", AmountCents: 4900, Currency: "usd", Full: true, RefundedAt: t0.Add(time.Hour)})); err != nil {
		t.Fatal(err)
	}
	if a := mustAccount(t, d, "jo"); a.Available != 0 || a.Held != 500 || a.Owed != 50 || balanceView(a, clk.Now()).Owed != 50 {
		t.Fatalf("after the clawback, GET /tokens must show the 50 owed: %+v", a)
	}
	if _, err := d.Transition(ctx, red, ActCancel, "jo", "req-2", nil); err != nil {
		t.Fatal(err)
	}
	a := mustAccount(t, d, "jo")
	if a.Balance != 450 || a.Available != 450 || a.Held != 0 || a.Owed != 0 {
		t.Fatalf("after cancelling the redemption the 50 refunded tokens must be paid back: %+v", a)
	}
	entries := allEntries(t, d, "jo")
	if last := entries[len(entries)-1]; last.Kind != KindUnhold || last.Delta != -50 || last.OwedDelta != -50 || last.OwedAfter != 0 {
		t.Fatalf("the release of the hold pays the debt: %+v", last)
	}
	if err := Verify(a, entries); err != nil {
		t.Fatal(err)
	}
}

// A refund that fails or is canceled at Stripe after it was told stops counting: the marketplace
// sends its course.refunded again with Reversed set, and the tokens it took come back — pending
// again inside the window (the release job then releases them), available again after a clawback
// (paying first what the clawback left owed). Order and redeliveries do not matter: a reversal that
// comes before its refund leaves the refund never counted. A lost dispute is never reversed.
func TestRefundThatFailedGivesTheTokensBack(t *testing.T) {
	const price = 4900
	type step struct {
		op    string // buy, refund, reverse, dispute, reverse-dispute, release, hold
		id    string
		cents int64
	}
	for _, tc := range []struct {
		name  string
		steps []step
		// after the steps: pending, balance, held, owed
		pending, balance, held, owed int64
		released                     int64 // the balance once every window ended (and holds stay)
	}{
		{"50 % refund of a pending purchase fails", []step{{op: "buy"}, {"refund", "re_1", 2450}, {op: "reverse", id: "re_1", cents: 2450}},
			50, 0, 0, 0, 50},
		{"full refund of a pending purchase fails", []step{{op: "buy"}, {"refund", "re_1", price}, {op: "reverse", id: "re_1", cents: price}},
			50, 0, 0, 0, 50},
		{"one of two halves fails", []step{{op: "buy"}, {"refund", "re_1", 2450}, {"refund", "re_2", 2450}, {op: "reverse", id: "re_2", cents: 2450}},
			25, 0, 0, 0, 25},
		{"redelivered: the reversal and the refund again", []step{{op: "buy"}, {"refund", "re_1", 2450}, {op: "reverse", id: "re_1", cents: 2450},
			{op: "reverse", id: "re_1", cents: 2450}, {"refund", "re_1", 2450}}, 50, 0, 0, 0, 50},
		{"clawed back after the release, then failed", []step{{op: "buy"}, {op: "release"}, {"refund", "re_1", price}, {op: "reverse", id: "re_1", cents: price}},
			0, 50, 0, 0, 50},
		{"half clawed back after the release, then failed", []step{{op: "buy"}, {op: "release"}, {"refund", "re_1", 2450}, {op: "reverse", id: "re_1", cents: 2450},
			{op: "reverse", id: "re_1", cents: 2450}}, 0, 50, 0, 0, 50},
		{"clawback owed while held, then failed: the debt goes", []step{{op: "buy"}, {op: "release"}, {op: "hold"}, {"refund", "re_1", price},
			{op: "reverse", id: "re_1", cents: price}}, 0, 500, 500, 0, 500},
		{"reversed before the refund", []step{{op: "buy"}, {op: "reverse", id: "re_1", cents: 2450}, {"refund", "re_1", 2450}},
			50, 0, 0, 0, 50},
		{"reversed before the refund, after the release", []step{{op: "buy"}, {op: "release"}, {op: "reverse", id: "re_1", cents: price}, {"refund", "re_1", price}},
			0, 50, 0, 0, 50},
		{"reversed and refunded before the purchase", []step{{op: "reverse", id: "re_1", cents: price}, {"refund", "re_1", price}, {op: "buy"}, {op: "buy"}},
			50, 0, 0, 0, 50},
		{"refunded then reversed before the purchase", []step{{"refund", "re_1", price}, {op: "reverse", id: "re_1", cents: price}, {op: "buy"}},
			50, 0, 0, 0, 50},
		{"a lost dispute is never reversed", []step{{op: "buy"}, {op: "release"}, {"dispute", "dp_1", price}, {"reverse-dispute", "dp_1", price}},
			0, 0, 0, 0, 0},
		{"a reversal told before a lost dispute does not stop it", []step{{op: "buy"}, {op: "release"}, {"reverse-dispute", "dp_1", price}, {"dispute", "dp_1", price}},
			0, 0, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, clk := newDeps(t)
			ctx := context.Background()
			t0 := clk.Now()
			apply := func(m queue.Message) {
				t.Helper()
				if err := d.earner().ApplyFact(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			release := func(at time.Time) {
				t.Helper()
				clk.Set(at)
				if _, err := RunReleasePendingTokens(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range tc.steps {
				f := facts.CourseRefundedFact{UserID: "kim", CourseID: "crs_1", PurchaseID: "pur_1", RefundID: s.id,
					AmountCents: s.cents, PurchaseAmountCents: price, Currency: "usd", Full: s.cents >= price, RefundedAt: t0.Add(24 * time.Hour)}
				switch s.op {
				case "buy":
					apply(fact(t, facts.CoursePurchased, facts.CoursePurchasedFact{UserID: "kim", CourseID: "crs_1", PurchaseID: "pur_1",
						AmountCents: price, Currency: "usd", PurchasedAt: t0, RefundWindowEndsAt: t0.Add(RefundWindow)}))
				case "release":
					release(t0.Add(RefundWindow + time.Hour))
				case "hold": // every available token held: a clawback now can only be owed
					grant(t, d, "kim", 450)
					if _, err := d.CreateRedemption(ctx, "kim", "kim@example.com", RedemptionRequest{RewardID: "course-coupon-20"}, "req-1"); err != nil {
						t.Fatal(err)
					}
				case "refund":
					apply(refundFact(t, f, nil))
				case "reverse":
					f.Reversed = true
					apply(refundFact(t, f, nil))
				case "dispute", "reverse-dispute":
					f.Dispute, f.Full, f.Reversed, f.RefundedAt = true, true, s.op == "reverse-dispute", t0.Add(RefundWindow+40*24*time.Hour)
					apply(refundFact(t, f, nil))
				default:
					t.Fatalf("unknown step %q", s.op)
				}
			}
			a := mustAccount(t, d, "kim")
			if a.Pending != tc.pending || a.Balance != tc.balance || a.Held != tc.held || a.Owed != tc.owed {
				t.Fatalf("pending %d, balance %d, held %d, owed %d; want %d, %d, %d, %d (%+v)",
					a.Pending, a.Balance, a.Held, a.Owed, tc.pending, tc.balance, tc.held, tc.owed, a)
			}
			if err := Verify(a, allEntries(t, d, "kim")); err != nil {
				t.Fatal(err)
			}
			// What came back pending is released by the job as usual, once.
			release(t0.Add(RefundWindow + 2*time.Hour))
			release(t0.Add(RefundWindow + 3*time.Hour))
			a = mustAccount(t, d, "kim")
			if a.Pending != 0 || a.Balance != tc.released || a.Owed != 0 {
				t.Fatalf("after the window: pending %d, balance %d, owed %d; want 0, %d, 0 (%+v)", a.Pending, a.Balance, a.Owed, tc.released, a)
			}
			if err := Verify(a, allEntries(t, d, "kim")); err != nil {
				t.Fatal(err)
			}
		})
	}
}
