package rewards

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/facts"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
	"github.com/liberation/monetization/shared/store"
)

var bg = context.Background()

func TestEarningRulesAndDailyCaps(t *testing.T) {
	w := newWorld()
	lesson := func(n int, at time.Time) Earning {
		return Earning{UserID: "ana", Rule: RuleLessonCompleted, SourceID: "c1/l" + itoa(int64(n)), OccurredAt: at}
	}
	var outs []Outcome
	for i := 0; i < 12; i++ {
		out, _, err := w.d.earner().Earn(bg, lesson(i, monday))
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out)
	}
	if outs[9] != OutEarned || outs[10] != OutCapped || outs[11] != OutCapped {
		t.Fatalf("outcomes %v", outs)
	}
	if out, _, _ := w.d.earner().Earn(bg, lesson(0, monday)); out != OutDuplicate {
		t.Fatalf("replay: %s", out)
	}
	if a := w.account(t, "ana"); a.Balance != 50 || a.Seq != 10 {
		t.Fatalf("capped day: %+v", a)
	}
	// The next UTC day has its own cap; a cap almost reached grants what it leaves.
	tomorrow := monday.Add(24 * time.Hour)
	w.repo.caps[gk("ana", RuleLessonCompleted, Day(tomorrow))] = 47
	out, e, err := w.d.earner().Earn(bg, lesson(20, tomorrow))
	if err != nil || out != OutEarned || e.Delta != 3 {
		t.Fatalf("near the cap: %s %+v %v", out, e, err)
	}
	if w.repo.caps[gk("ana", RuleLessonCompleted, Day(tomorrow))] != 50 {
		t.Fatalf("cap counter %d", w.repo.caps[gk("ana", RuleLessonCompleted, Day(tomorrow))])
	}
	for _, c := range []struct {
		name   string
		e      Earning
		out    Outcome
		code   apperr.Code
		tokens int64 // the entry's delta + pending delta
	}{
		{"course", Earning{UserID: "ben", Rule: RuleCourseCompleted, SourceID: "c1"}, OutEarned, "", 100},
		{"review", Earning{UserID: "ben", Rule: RuleReviewPublished, SourceID: "c1"}, OutEarned, "", 10},
		{"review of the same course", Earning{UserID: "ben", Rule: RuleReviewPublished, SourceID: "c1"}, OutDuplicate, "", 0},
		{"renewal by tier", Earning{UserID: "ben", Rule: RuleSubscriptionRenewed, SourceID: "in_1", Tokens: 50}, OutEarned, "", 50},
		{"renewal without tokens", Earning{UserID: "ben", Rule: RuleSubscriptionRenewed, SourceID: "in_2"}, OutIgnored, "", 0},
		{"purchase", Earning{UserID: "ben", Rule: RuleCoursePurchased, SourceID: "p1", ReleaseAt: monday.Add(RefundWindow), AmountCents: 4900}, OutPending, "", 50},
		{"unknown rule", Earning{UserID: "ben", Rule: "tweet", SourceID: "x"}, "", apperr.Invalid, 0},
		{"no user", Earning{Rule: RuleCourseCompleted, SourceID: "x"}, "", apperr.Invalid, 0},
		{"no source", Earning{UserID: "ben", Rule: RuleCourseCompleted}, "", apperr.Invalid, 0},
	} {
		out, e, err := w.d.earner().Earn(bg, c.e)
		if apperr.CodeOf(err) != c.code && !(c.code == "" && err == nil) || out != c.out || e.Delta+e.PendingDelta != c.tokens {
			t.Errorf("%s: %s %+v %v", c.name, out, e, err)
		}
	}
	if a := w.account(t, "ben"); a.Balance != 160 || a.Pending != 50 || a.LifetimeEarned != 160 {
		t.Fatalf("ben %+v", a)
	}
}

func factMsg(t *testing.T, typ string, v any) queue.Message {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return queue.Message{Type: typ, DedupeID: typ + "-1", Payload: b}
}

func TestFactsEarnOnPorts(t *testing.T) {
	w := newWorld()
	for _, m := range []queue.Message{
		factMsg(t, facts.CoursePurchased, facts.CoursePurchasedFact{UserID: "ana", CourseID: "c1", PurchaseID: "p1", AmountCents: 4900, PurchasedAt: monday}),
		factMsg(t, facts.CoursePurchased, facts.CoursePurchasedFact{UserID: "ana", CourseID: "c2", PurchaseID: "p2", AmountCents: 0, PurchasedAt: monday}),
		factMsg(t, facts.CoursePurchased, facts.CoursePurchasedFact{UserID: "ana", CourseID: "c3", PurchaseID: "p3", AmountCents: 1000, PurchasedAt: monday,
			RefundWindowEndsAt: monday.Add(time.Hour)}),
		factMsg(t, facts.ReviewPublished, facts.ReviewPublishedFact{UserID: "ana", CourseID: "c1", PublishedAt: monday}),
		factMsg(t, facts.SubscriptionRenewed, facts.SubscriptionRenewedFact{UserID: "ana", Tier: "pro", InvoiceID: "in_1", PaidAt: monday}),
		factMsg(t, facts.SubscriptionRenewed, facts.SubscriptionRenewedFact{UserID: "ana", Tier: "free", InvoiceID: "in_2", PaidAt: monday}),
		factMsg(t, facts.CourseRefunded, facts.CourseRefundedFact{UserID: "ana", PurchaseID: "p1", RefundID: "re_1", AmountCents: 980, PurchaseAmountCents: 4900, RefundedAt: monday}),
		factMsg(t, facts.CourseRefunded, facts.CourseRefundedFact{UserID: "ana", PurchaseID: "p1", RefundID: "re_2", AmountCents: -1, RefundedAt: monday}),
	} {
		if err := w.d.earner().ApplyFact(bg, m); err != nil {
			t.Fatalf("%s: %v", m.Type, err)
		}
	}
	// p1 50 pending less a fifth refunded (40), p3 50 pending; the review 10 and the pro renewal 20.
	if a := w.account(t, "ana"); a.Balance != 30 || a.Pending != 90 {
		t.Fatalf("after facts %+v", a)
	}
	if g := w.repo.guards[gk("ana", RuleCoursePurchased, "p3")]; !g.ReleaseAt.Equal(monday.Add(time.Hour)) {
		t.Fatalf("the fact's window end: %v", g.ReleaseAt)
	}
	if g := w.repo.guards[gk("ana", RuleCoursePurchased, "p1")]; !g.ReleaseAt.Equal(monday.Add(RefundWindow)) || g.Cancelled != 10 {
		t.Fatalf("the default window and the refund: %+v", g)
	}
}

// purchase earns 50 pending tokens for a purchase of 4900 cents on monday, released 30 days later.
func (w *world) purchase(t *testing.T, user, id string) {
	t.Helper()
	out, _, err := w.d.earner().Earn(bg, Earning{UserID: user, Rule: RuleCoursePurchased, SourceID: id, OccurredAt: monday,
		ReleaseAt: monday.Add(RefundWindow), AmountCents: 4900})
	if err != nil || out != OutPending {
		t.Fatalf("purchase %s: %s %v", id, out, err)
	}
}

func (w *world) refund(t *testing.T, n RefundNotice) Outcome {
	t.Helper()
	if n.PurchaseCents == 0 {
		n.PurchaseCents = 4900
	}
	if n.At.IsZero() {
		n.At = monday.Add(time.Hour)
	}
	out, _, err := w.d.earner().Refund(bg, n)
	if err != nil {
		t.Fatalf("refund %+v: %v", n, err)
	}
	return out
}

func (w *world) release(t *testing.T) ReleaseReport {
	t.Helper()
	rep, err := RunReleasePendingTokens(bg, w.d)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestRefundsOnPorts(t *testing.T) {
	after := monday.Add(RefundWindow + time.Hour)
	type step struct {
		refund  *RefundNotice
		release bool // move past the window and run the job
		hold    bool // hold every available token for a merchandise redemption (2000)
		grant   int64
		out     Outcome
	}
	r := func(id string, cents int64) *RefundNotice {
		return &RefundNotice{UserID: "ana", PurchaseID: "p1", RefundID: id, Cents: cents}
	}
	rev := func(n *RefundNotice) *RefundNotice { c := *n; c.Reversed = true; return &c }
	dispute := func(n *RefundNotice) *RefundNotice { c := *n; c.Dispute = true; c.At = after.Add(time.Hour); return &c }
	late := func(n *RefundNotice) *RefundNotice { c := *n; c.At = after; return &c }
	for _, c := range []struct {
		name                             string
		late                             int // 0: purchased first; n: the purchase is told after step n
		steps                            []step
		balance, pending, owed, released int64
	}{
		{"partial inside the window", 0, []step{{refund: r("re1", 2450), out: OutCancelled}, {release: true}}, 25, 0, 0, 1},
		{"two partials in any order", 0, []step{{refund: r("re2", 1225), out: OutCancelled}, {refund: r("re1", 2450), out: OutCancelled}}, 0, 12, 0, 0},
		{"redelivered", 0, []step{{refund: r("re1", 2450), out: OutCancelled}, {refund: r("re1", 2450), out: OutDuplicate}}, 0, 25, 0, 0},
		{"a cent more takes no whole token", 0, []step{{refund: r("re1", 1), out: OutCancelled}, {refund: r("re2", 1), out: OutRecorded}}, 0, 49, 0, 0},
		{"full, then nothing to release", 0, []step{{refund: r("re1", 4900), out: OutCancelled}, {refund: r("re2", 1), out: OutDuplicate}, {release: true}}, 0, 0, 0, 0},
		{"after the window", 0, []step{{refund: late(r("re1", 4900)), out: OutIgnored}, {release: true}}, 50, 0, 0, 1},
		{"learnt after the release", 0, []step{{release: true}, {refund: r("re1", 4900), out: OutClawback}}, 0, 0, 0, 1},
		{"lost dispute after the window", 0, []step{{release: true}, {refund: dispute(r("dp1", 4900)), out: OutClawback}, {refund: rev(dispute(r("dp1", 4900))), out: OutIgnored}}, 0, 0, 0, 1},
		{"clawback of held tokens is owed", 0, []step{{release: true}, {grant: 1950}, {hold: true}, {refund: r("re1", 4900), out: OutClawback}}, 2000, 0, 50, 1},
		{"reversed inside the window", 0, []step{{refund: r("re1", 2450), out: OutCancelled}, {refund: rev(r("re1", 2450)), out: OutRestored}, {refund: rev(r("re1", 2450)), out: OutDuplicate}}, 0, 50, 0, 0},
		{"reversed after a full cancel, then released", 0, []step{{refund: r("re1", 4900), out: OutCancelled}, {refund: rev(r("re1", 4900)), out: OutRestored}, {release: true}}, 50, 0, 0, 1},
		{"reversed after the clawback", 0, []step{{release: true}, {refund: r("re1", 4900), out: OutClawback}, {refund: rev(r("re1", 4900)), out: OutRestored}}, 50, 0, 0, 1},
		{"reversal told first", 0, []step{{refund: rev(r("re1", 4900)), out: OutRecorded}, {refund: r("re1", 4900), out: OutDuplicate}}, 0, 50, 0, 0},
		{"refund before its purchase", 1, []step{{refund: r("re1", 2450), out: OutCancelled}}, 0, 25, 0, 0},
		{"refunded in full before its purchase", 1, []step{{refund: r("re1", 4900), out: OutCancelled}}, 0, 0, 0, 0},
		{"refunded in full before its purchase, then reversed", 1, []step{{refund: r("re1", 4900), out: OutCancelled}, {refund: rev(r("re1", 4900)), out: OutRestored}}, 0, 50, 0, 0},
		{"reversed before its purchase", 2, []step{{refund: r("re1", 4900), out: OutCancelled}, {refund: rev(r("re1", 4900)), out: OutRecorded}}, 0, 50, 0, 0},
		{"partial refund before its purchase, released", 1, []step{{refund: r("re1", 2450), out: OutCancelled}, {release: true}}, 25, 0, 0, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld()
			if c.late == 0 {
				w.purchase(t, "ana", "p1")
			}
			released := 0
			for i, s := range c.steps {
				switch {
				case s.refund != nil:
					if out := w.refund(t, *s.refund); out != s.out {
						t.Fatalf("step %d: %s, want %s", i, out, s.out)
					}
				case s.release:
					w.clk.Set(after)
					released += w.release(t).Released
				case s.grant != 0:
					w.grantTo(t, "ana", s.grant)
				case s.hold:
					if _, err := w.d.CreateRedemption(bg, "ana", "", RedemptionRequest{RewardID: rewardcatalog.Merchandise, Shipping: shipTo}, "r"); err != nil {
						t.Fatal(err)
					}
				}
				if i+1 == c.late {
					w.purchase2(t)
				}
			}
			a := w.account(t, "ana")
			if a.Balance != c.balance || a.Pending != c.pending || a.Owed != c.owed || int64(released) != c.released {
				t.Fatalf("balance %d pending %d owed %d released %d; want %d %d %d %d", a.Balance, a.Pending, a.Owed, released,
					c.balance, c.pending, c.owed, c.released)
			}
			if err := Verify(a, w.repo.entries["ana"]); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// purchase2 is the purchase of p1 told after its refunds.
func (w *world) purchase2(t *testing.T) {
	t.Helper()
	if _, _, err := w.d.earner().Earn(bg, Earning{UserID: "ana", Rule: RuleCoursePurchased, SourceID: "p1", OccurredAt: monday,
		ReleaseAt: monday.Add(RefundWindow), AmountCents: 4900}); err != nil {
		t.Fatal(err)
	}
}

func TestReleaseJobPagesAndRunsTwiceSafely(t *testing.T) {
	w := newWorld()
	for i := 0; i < 130; i++ {
		w.purchase(t, "u"+itoa(int64(i%7)), "p"+itoa(int64(i)))
	}
	if _, _, err := w.d.earner().Earn(bg, Earning{UserID: "u0", Rule: RuleCoursePurchased, SourceID: "later", OccurredAt: monday,
		ReleaseAt: monday.Add(40 * 24 * time.Hour), AmountCents: 4900}); err != nil {
		t.Fatal(err)
	}
	if rep := w.release(t); rep != (ReleaseReport{}) {
		t.Fatalf("before the window: %+v", rep)
	}
	w.clk.Set(monday.Add(RefundWindow))
	if rep := w.release(t); rep != (ReleaseReport{Due: 130, Released: 130}) {
		t.Fatalf("first run %+v", rep)
	}
	if rep := w.release(t); rep != (ReleaseReport{}) {
		t.Fatalf("second run %+v", rep)
	}
	var total int64
	for i := 0; i < 7; i++ {
		a := w.account(t, "u"+itoa(int64(i)))
		total += a.Balance
		if i > 0 && a.Pending != 0 {
			t.Fatalf("u%d %+v", i, a)
		}
	}
	if total != 130*50 || w.account(t, "u0").Pending != 50 {
		t.Fatalf("released %d", total)
	}
	// A release racing a refund: the guard is no longer pending when the release reads it.
	if out, _, err := w.d.earner().Release(bg, "u1", RuleCoursePurchased, "p1"); err != nil || out != OutDuplicate {
		t.Fatalf("released twice: %s %v", out, err)
	}
	if out, _, err := w.d.earner().Release(bg, "u0", RuleCoursePurchased, "later"); err != nil || out != OutIgnored {
		t.Fatalf("released early: %s %v", out, err)
	}
}

func TestRedemptionWorkflowOnPorts(t *testing.T) {
	w := newWorld()
	w.grantTo(t, "ana", 5000)
	create := func(reward string) Redemption {
		q := RedemptionRequest{RewardID: reward}
		if reward == rewardcatalog.Merchandise {
			q.Shipping = shipTo
		}
		red, err := w.d.CreateRedemption(bg, "ana", "ana@example.com", q, "req")
		if err != nil {
			t.Fatal(err)
		}
		return red
	}
	must := func(red Redemption, err error) Redemption {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return red
	}
	conflict := func(what string, err error) {
		t.Helper()
		if apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// Merchandise: approve, then fulfil spends the held tokens.
	merch := create(rewardcatalog.Merchandise)
	merch = must(w.d.Transition(bg, merch, ActApprove, "root", "r1", func(r *Redemption) { r.DecidedBy = "root" }))
	if a := w.account(t, "ana"); merch.Status != Approved || a.Held != 2000 || a.Balance != 5000 {
		t.Fatalf("approved %+v %+v", merch, a)
	}
	merch = must(w.d.Transition(bg, merch, ActFulfil, "root", "r2", func(r *Redemption) { r.Note = "UPS 1Z" }))
	if a := w.account(t, "ana"); merch.Status != Fulfilled || merch.FulfilledAt.IsZero() || a.Held != 0 || a.Balance != 3000 {
		t.Fatalf("fulfilled %+v %+v", merch, a)
	}
	if v := merch.AdminView(); v.DecidedBy != "root" || v.Note != "UPS 1Z" || v.FulfilledAt == nil || v.UserID != "ana" {
		t.Fatalf("admin view %+v", v)
	}
	_, err := w.d.Transition(bg, merch, ActFulfil, "root", "r3", nil)
	conflict("fulfilled twice", err)

	// A coupon: the approval claims it, a rejection meanwhile is refused, the holder fulfils.
	coupon := create(rewardcatalog.CourseCoupon)
	held := must(w.d.Claim(bg, coupon, ActApprove, "root", "r4", time.Minute, nil))
	if held.Status != Approved || held.Claim != ActApprove || held.claimToken == "" {
		t.Fatalf("claimed %+v", held)
	}
	_, err = w.d.Transition(bg, coupon, ActReject, "root2", "r5", nil)
	conflict("a rejection during the approval's call", err)
	_, err = w.d.Transition(bg, coupon, ActFulfil, "root2", "r5", nil)
	conflict("a fulfilment by another", err)
	done := must(w.d.Transition(bg, held, ActFulfil, "root", "r6", func(r *Redemption) { r.CouponCode = "SAVE20" }))
	if done.Status != Fulfilled || done.View().CouponCode != "SAVE20" || done.ClaimID != "" {
		t.Fatalf("fulfilled coupon %+v", done)
	}
	if a := w.account(t, "ana"); a.Balance != 2500 || a.Held != 0 {
		t.Fatalf("after the coupon %+v", a)
	}

	// An approved credit is rejected only through a reject claim; afterwards it is never fulfilled.
	credit := create(rewardcatalog.SubscriptionCredit)
	credit = must(w.d.Transition(bg, credit, ActApprove, "root", "r7", nil))
	if credit.View().CouponCode != "" {
		t.Fatal("a code shown before fulfilment")
	}
	if _, err := w.d.Transition(bg, credit, ActReject, "root", "r8", nil); !IsRevokeFirst(err) {
		t.Fatalf("rejected without revoking: %v", err)
	}
	rc := must(w.d.Claim(bg, credit, ActReject, "root", "r9", time.Minute, nil))
	if rc.Status != Approved || rc.Claim != ActReject {
		t.Fatalf("reject claim %+v", rc)
	}
	rej := must(w.d.Transition(bg, rc, ActReject, "root", "r10", func(r *Redemption) { r.Reason = "revoked" }))
	if a := w.account(t, "ana"); rej.Status != Rejected || a.Held != 0 || a.Balance != 2500 || rej.Claim != "" {
		t.Fatalf("rejected %+v %+v", rej, a)
	}
	_, err = w.d.Claim(bg, rej, ActFulfil, "root", "r11", time.Minute, nil)
	conflict("a fulfil claim of a rejected credit", err)
	for _, c := range []struct {
		act   Action
		lease time.Duration
	}{{ActApprove, 0}, {ActCancel, time.Minute}} {
		if _, err := w.d.Claim(bg, credit, c.act, "root", "r", c.lease, nil); apperr.CodeOf(err) != apperr.Internal {
			t.Fatalf("claim %s for %s: %v", c.act, c.lease, err)
		}
	}
	// A pending coupon is rejected directly.
	p := create(rewardcatalog.CourseCoupon)
	p = must(w.d.Transition(bg, p, ActReject, "root", "r12", func(r *Redemption) { r.Reason = "duplicate" }))
	if a := w.account(t, "ana"); p.Status != Rejected || a.Held != 0 {
		t.Fatalf("pending rejected %+v %+v", p, a)
	}
	last := w.repo.audits[len(w.repo.audits)-1]
	if last.Action != "redemption.reject" || last.Details["reason"] != "duplicate" || last.Details["from"] != "pending" {
		t.Fatalf("audit %+v", last)
	}

	// Finding redemptions by id alone; recording beside the workflow over the version read.
	if got, err := w.d.RedemptionByID(bg, merch.ID); err != nil || got.UserID != "ana" || got.Status != Fulfilled {
		t.Fatalf("by id %+v %v", got, err)
	}
	if _, err := w.d.RedemptionByID(bg, "nope"); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("malformed: %v", err)
	}
	if _, err := w.d.RedemptionByID(bg, "rdm_01HZZZZZZZZZZZZZZZZZZZZZZZ"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("unknown: %v", err)
	}
	cur, _ := w.d.GetRedemption(bg, "ana", merch.ID)
	upd := must(w.d.UpdateRedemption(bg, cur, func(r *Redemption) { r.NotifiedStatus = Fulfilled }))
	if upd.Version != cur.Version+1 {
		t.Fatalf("updated %+v", upd)
	}
	_, err = w.d.UpdateRedemption(bg, cur, func(r *Redemption) { r.NotifiedStatus = Rejected })
	conflict("an update over a stale version", err)
	if list, next, err := w.d.workflow().RedemptionsByStatus(bg, Rejected, 1, ""); err != nil || len(list) != 1 || next == "" {
		t.Fatalf("rejected queue %d %q %v", len(list), next, err)
	}
	if list, _, err := w.d.workflow().ListRedemptions(bg, "ana", 10, ""); err != nil || len(list) != 4 {
		t.Fatalf("mine %d %v", len(list), err)
	}
}

// flaky loses the race a number of times, or commits and loses the answer (the SDK's retry then
// fails the condition its own first attempt satisfied).
type flaky struct {
	*memRepo
	lose       int
	lostAnswer bool
}

func (f *flaky) Commit(ctx context.Context, m Movement) error {
	if f.lostAnswer {
		f.lostAnswer = false
		if err := f.memRepo.Commit(ctx, m); err != nil {
			return err
		}
		return conditionFailed()
	}
	if f.lose > 0 {
		f.lose--
		return conditionFailed()
	}
	return f.memRepo.Commit(ctx, m)
}

func TestPostRetriesLostRacesAndRecognisesItsOwnWrite(t *testing.T) {
	for _, c := range []struct {
		name    string
		f       flaky
		code    apperr.Code
		balance int64
	}{
		{"a few lost races", flaky{lose: 3}, "", 10},
		{"a lost answer", flaky{lostAnswer: true}, "", 10},
		{"always losing", flaky{lose: postAttempts}, apperr.Conflict, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld()
			f := c.f
			f.memRepo = w.repo
			w.d.Ledger = &f
			_, e, err := w.d.Post(bg, "ana", func(context.Context, Account) (Plan, error) {
				return Plan{Change: Change{Kind: KindAdjust, Delta: 10, Earned: 10}}, nil
			})
			if apperr.CodeOf(err) != c.code && !(c.code == "" && err == nil) {
				t.Fatalf("%v", err)
			}
			if a := w.account(t, "ana"); a.Balance != c.balance || len(w.repo.entries["ana"]) != int(c.balance/10) {
				t.Fatalf("balance %d, entries %d", a.Balance, len(w.repo.entries["ana"]))
			}
			if err == nil && e.Seq != 1 {
				t.Fatalf("entry %+v", e)
			}
		})
	}
	// An interrupted retry stops.
	w := newWorld()
	w.d.Ledger = &flaky{memRepo: w.repo, lose: 5}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	_, _, err := w.d.Post(ctx, "ana", func(context.Context, Account) (Plan, error) {
		return Plan{Change: Change{Kind: KindAdjust, Delta: 10, Earned: 10}}, nil
	})
	if apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("cancelled: %v", err)
	}
	var wf error = &WriteFailed{Writes: []int{0}}
	if wf.Error() == "" || !store.IsConditionFailed(wf) {
		t.Fatal("WriteFailed is a failed condition")
	}
}
