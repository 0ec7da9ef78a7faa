package rewards

import (
	"errors"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
)

var monday = time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC) // 2026-W06

func TestApplyArithmetic(t *testing.T) {
	a := Account{UserID: "u"}
	steps := []struct {
		c                       Change
		bal, held, avail, pend  int64
		lifetime, week, version int64
	}{
		{Change{Kind: KindEarn, Delta: 100, Earned: 100}, 100, 0, 100, 0, 100, 100, 1},
		{Change{Kind: KindPending, PendingDelta: 50}, 100, 0, 100, 50, 100, 100, 2},
		{Change{Kind: KindHold, HeldDelta: 80}, 100, 80, 20, 50, 100, 100, 3},
		{Change{Kind: KindRelease, Delta: 50, PendingDelta: -50, Earned: 50}, 150, 80, 70, 0, 150, 150, 4},
		{Change{Kind: KindRedeem, Delta: -80, HeldDelta: -80}, 70, 0, 70, 0, 150, 150, 5}, // spending keeps the scores
		{Change{Kind: KindAdjust, Delta: -20, Earned: -20}, 50, 0, 50, 0, 130, 130, 6},
	}
	for i, s := range steps {
		n, e, err := a.Apply(s.c, monday)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if n.Balance != s.bal || n.Held != s.held || n.Available != s.avail || n.Pending != s.pend ||
			n.LifetimeEarned != s.lifetime || n.WeekEarned != s.week || n.Version != s.version || n.Seq != int64(i+1) {
			t.Fatalf("step %d: %+v", i, n)
		}
		if e.Seq != n.Seq || e.BalanceAfter != n.Balance || e.AvailableAfter != n.Available || e.HeldAfter != n.Held || e.PendingAfter != n.Pending {
			t.Fatalf("step %d: entry %+v does not record the account after it", i, e)
		}
		a = n
	}
}

func TestApplyRefusesWithoutChangingAnything(t *testing.T) {
	a := Account{UserID: "u", Balance: 300, Available: 300, Seq: 3, Version: 3}
	for _, c := range []Change{
		{Kind: KindHold, HeldDelta: 301},
		{Kind: KindAdjust, Delta: -301},
	} {
		n, _, err := a.Apply(c, monday)
		if !errors.Is(err, ErrInsufficient) || apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("%+v: %v", c, err)
		}
		if n != a {
			t.Fatalf("refused change altered the account: %+v", n)
		}
		if got := apperr.PublicMessage(err); got != "not enough tokens: 300 available, 301 needed" {
			t.Fatalf("message %q", got)
		}
	}
	if _, _, err := a.Apply(Change{Kind: KindUnhold, HeldDelta: -1}, monday); apperr.CodeOf(err) != apperr.Internal {
		t.Fatalf("releasing more than is held must be a bug, got %v", err)
	}
}

func TestWeekRolloverResetsOnlyTheWeeklyScore(t *testing.T) {
	a, _, _ := Account{UserID: "u"}.Apply(Change{Kind: KindEarn, Delta: 40, Earned: 40}, monday)
	sunday := time.Date(2026, 2, 8, 23, 59, 59, 0, time.UTC)
	nextMonday := time.Date(2026, 2, 9, 0, 0, 0, 0, time.UTC)
	if a.EarnedThisWeek(sunday) != 40 || a.EarnedThisWeek(nextMonday) != 0 {
		t.Fatalf("weekly score on Sunday %d, next Monday %d", a.EarnedThisWeek(sunday), a.EarnedThisWeek(nextMonday))
	}
	b, _, _ := a.Apply(Change{Kind: KindEarn, Delta: 5, Earned: 5}, nextMonday)
	if b.WeekID != "2026-W07" || b.WeekEarned != 5 || b.LifetimeEarned != 45 || b.Score(leaderboard.All, nextMonday) != 45 {
		t.Fatalf("after the rollover: %+v", b)
	}
	// A hold in a new week starts the week at zero without scoring.
	c, _, _ := a.Apply(Change{Kind: KindHold, HeldDelta: 10}, nextMonday)
	if c.WeekEarned != 0 || c.LifetimeEarned != 40 || !c.WeekReachedAt.IsZero() {
		t.Fatalf("hold in a new week: %+v", c)
	}
}

func TestScoresNeverGoNegative(t *testing.T) {
	a, _, _ := Account{UserID: "u"}.Apply(Change{Kind: KindEarn, Delta: 10, Earned: 10}, monday)
	a, _, _ = a.Apply(Change{Kind: KindAdjust, Delta: 100, Earned: 100}, monday.AddDate(0, 0, 7))
	n, _, err := a.Apply(Change{Kind: KindAdjust, Delta: -105, Earned: -105}, monday.AddDate(0, 0, 7))
	if err != nil || n.WeekEarned != 0 || n.LifetimeEarned != 5 || n.Balance != 5 {
		t.Fatalf("%v %+v", err, n)
	}
}

func TestProfileChangeWritesNoEntry(t *testing.T) {
	name, out := "Lin", true
	n, e, err := Account{UserID: "u", Seq: 4, Version: 9}.Apply(Change{Kind: KindProfile, DisplayName: &name, OptOut: &out}, monday)
	if err != nil || e.Seq != 0 || n.Seq != 4 || n.Version != 10 || n.DisplayName != "Lin" || !n.OptOut {
		t.Fatalf("%v %+v %+v", err, n, e)
	}
}

func TestVerifyFindsBrokenLedgers(t *testing.T) {
	a := Account{UserID: "u"}
	var entries []Entry
	for _, c := range []Change{{Kind: KindEarn, Delta: 30, Earned: 30}, {Kind: KindHold, HeldDelta: 20}, {Kind: KindUnhold, HeldDelta: -20}} {
		var e Entry
		a, e, _ = a.Apply(c, monday)
		entries = append(entries, e)
	}
	if err := Verify(a, entries); err != nil {
		t.Fatal(err)
	}
	bad := a
	bad.Balance++
	if Verify(bad, entries) == nil {
		t.Error("a balance that is not the sum of the entries passed")
	}
	if Verify(a, entries[:2]) == nil {
		t.Error("a missing entry passed")
	}
	tampered := append([]Entry(nil), entries...)
	tampered[1].AvailableAfter = 99
	if Verify(a, tampered) == nil {
		t.Error("a wrong running balance passed")
	}
}

func TestRulesAreTheIssuesPolicy(t *testing.T) {
	want := map[string][3]int64{ // tokens, daily cap, pending (0/1)
		RuleLessonCompleted: {5, 50, 0}, RuleCourseCompleted: {100, 0, 0}, RuleCoursePurchased: {50, 0, 1},
		RuleReviewPublished: {10, 0, 0}, RuleSubscriptionRenewed: {0, 0, 0},
	}
	for id, w := range want {
		r := Rules[id]
		pend := int64(0)
		if r.Pending {
			pend = 1
		}
		if r.ID != id || r.Tokens != w[0] || r.DailyCap != w[1] || pend != w[2] {
			t.Errorf("%s: %+v", id, r)
		}
	}
	if len(Rules) != len(want) || TierTokens["pro"] != 20 || TierTokens["enterprise"] != 50 || len(TierTokens) != 2 {
		t.Errorf("rules %v, tiers %v", Rules, TierTokens)
	}
}

func TestCapGrant(t *testing.T) {
	lesson := Rules[RuleLessonCompleted]
	for _, tc := range []struct{ tokens, today, want int64 }{
		{5, 0, 5}, {5, 45, 5}, {5, 50, 0}, {5, 48, 2}, {5, 60, 0},
	} {
		if got := CapGrant(lesson, tc.tokens, tc.today); got != tc.want {
			t.Errorf("CapGrant(%d after %d) = %d, want %d", tc.tokens, tc.today, got, tc.want)
		}
	}
	if CapGrant(Rules[RuleCourseCompleted], 100, 1_000_000) != 100 {
		t.Error("an uncapped rule is never cut")
	}
	if Day(time.Date(2026, 2, 2, 23, 59, 59, 0, time.FixedZone("X", -5*3600))) != "2026-02-03" {
		t.Error("days are UTC days")
	}
}

func TestPlanEarning(t *testing.T) {
	lesson, course, purchase := Rules[RuleLessonCompleted], Rules[RuleCourseCompleted], Rules[RuleCoursePurchased]
	for _, tc := range []struct {
		name  string
		r     Rule
		g     earnState
		today int64
		kind  Kind
		delta int64
		pend  int64
		out   Outcome
	}{
		{"first lesson", lesson, earnState{}, 0, KindEarn, 5, 0, OutEarned},
		{"replayed lesson", lesson, earnState{Exists: true, State: EarnEarned}, 0, "", 0, 0, OutDuplicate},
		{"eleventh lesson", lesson, earnState{}, 50, "", 0, 0, OutCapped},
		{"course", course, earnState{}, 0, KindEarn, 100, 0, OutEarned},
		{"purchase", purchase, earnState{}, 0, KindPending, 0, 50, OutPending},
		{"purchase after its refund", purchase, earnState{Exists: true, State: EarnCancelled}, 0, "", 0, 0, OutDuplicate},
	} {
		c, state, out := planEarning(tc.r, tc.r.Tokens, tc.g, tc.today)
		if c.Kind != tc.kind || c.Delta != tc.delta || c.PendingDelta != tc.pend || out != tc.out || (state == "") != (tc.kind == "") {
			t.Errorf("%s: %+v %q %s", tc.name, c, state, out)
		}
		if c.Earned != c.Delta {
			t.Errorf("%s: earned %d ≠ delta %d (pending tokens score when released)", tc.name, c.Earned, c.Delta)
		}
	}
}

func TestRefundPolicy(t *testing.T) {
	end := monday.Add(RefundWindow)
	pending := earnState{Exists: true, State: EarnPending, Tokens: 50, ReleaseAt: end, AmountCents: 4900}
	released := pending
	released.State = EarnReleased
	halfGone := released // a 50 % refund already took 25
	halfGone.Refunds, halfGone.Cancelled = map[string]refundSeen{"re_1": {Cents: 2450, At: end.Add(-2 * time.Hour)}}, 25
	onePercentGone := released // a 1 % refund already took 1 (49 of 50 kept)
	onePercentGone.Refunds, onePercentGone.Cancelled = map[string]refundSeen{"re_1": {Cents: 49, At: end.Add(-2 * time.Hour)}}, 1
	legacy := earnState{Exists: true, State: EarnPending, Tokens: 50, ReleaseAt: end} // no price stored
	inside, after := end.Add(-time.Hour), end.Add(time.Hour)
	full := RefundNotice{RefundID: "re_9", Cents: 4900, At: inside}
	reversed := func(id string, cents int64) RefundNotice {
		return RefundNotice{RefundID: id, Cents: cents, At: inside, Reversed: true}
	}
	halfPending := halfGone
	halfPending.State = EarnPending
	cancelledPending := pending // a full refund cancelled it while pending
	cancelledPending.State, cancelledPending.Cancelled = EarnCancelled, 50
	cancelledPending.Refunds = map[string]refundSeen{"re_9": {Cents: 4900, At: inside}}
	cancelledReleased := cancelledPending // … or clawed it back once released
	cancelledReleased.Released = true
	reversedGone := released // re_1 failed after it took 25: they came back
	reversedGone.Refunds = map[string]refundSeen{"re_1": {Cents: 2450, At: inside, Reversed: true}}
	disputeGone := cancelledReleased
	disputeGone.Refunds = map[string]refundSeen{"dp_1": {Cents: 4900, At: after, Dispute: true, Full: true}}
	for _, tc := range []struct {
		name      string
		g         earnState
		n         RefundNotice
		available int64
		kind      Kind
		delta     int64
		pend      int64
		owed      int64
		earned    int64
		out       Outcome
		state     string // the guard's state after ("" unchanged)
	}{
		{"inside the window, pending", pending, full, 0, KindCancel, 0, -50, 0, 0, OutCancelled, EarnCancelled},
		{"at the window's last second", pending, RefundNotice{RefundID: "re_9", Cents: 4900, At: end}, 0, KindCancel, 0, -50, 0, 0, OutCancelled, EarnCancelled},
		{"1 % of a pending purchase", pending, RefundNotice{RefundID: "re_9", Cents: 49, At: inside}, 0, KindCancel, 0, -1, 0, 0, OutCancelled, EarnPending},
		{"50 % of a pending purchase", pending, RefundNotice{RefundID: "re_9", Cents: 2450, At: inside}, 0, KindCancel, 0, -25, 0, 0, OutCancelled, EarnPending},
		{"the second half", halfGone, RefundNotice{RefundID: "re_2", Cents: 2450, At: inside}, 80, KindClawback, -25, 0, 0, -25, OutClawback, EarnCancelled},
		{"the first half again", halfGone, RefundNotice{RefundID: "re_1", Cents: 2450, At: inside}, 80, "", 0, 0, 0, 0, OutDuplicate, ""},
		{"1 cent more takes no whole token", onePercentGone, RefundNotice{RefundID: "re_3", Cents: 1, At: inside}, 80, "", 0, 0, 0, 0, OutRecorded, EarnReleased},
		{"after the window, not yet released", pending, RefundNotice{RefundID: "re_9", Cents: 4900, At: end.Add(time.Second)}, 0, "", 0, 0, 0, 0, OutIgnored, ""},
		{"inside the window, learnt after release", released, full, 80, KindClawback, -50, 0, 0, -50, OutClawback, EarnCancelled},
		{"learnt after release, partly held: the rest is owed", released, full, 20, KindClawback, -20, 0, 30, -50, OutClawback, EarnCancelled},
		{"learnt after release, all held: all owed", released, full, 0, KindClawback, 0, 0, 50, -50, OutClawback, EarnCancelled},
		{"after the window, released", released, RefundNotice{RefundID: "re_9", Cents: 4900, At: after}, 80, "", 0, 0, 0, 0, OutIgnored, ""},
		{"a lost dispute after the window takes all", released, RefundNotice{RefundID: "dp_1", Cents: 100, Dispute: true, At: after.AddDate(0, 2, 0)}, 80, KindClawback, -50, 0, 0, -50, OutClawback, EarnCancelled},
		{"price unknown: a refund takes all, as before", legacy, RefundNotice{RefundID: "re_9", Cents: 49, At: inside}, 0, KindCancel, 0, -50, 0, 0, OutCancelled, EarnCancelled},
		{"price from the refund fact", legacy, RefundNotice{RefundID: "re_9", Cents: 2450, PurchaseCents: 4900, At: inside}, 0, KindCancel, 0, -25, 0, 0, OutCancelled, EarnPending},
		{"second refund after a full one", earnState{Exists: true, State: EarnCancelled, Tokens: 50, ReleaseAt: end}, full, 80, "", 0, 0, 0, 0, OutDuplicate, ""},
		{"before the purchase", earnState{}, full, 0, "", 0, 0, 0, 0, OutCancelled, EarnAwaiting},
		// A refund that failed or was canceled at Stripe (Reversed) gives back what it took.
		{"reversed: pending again", halfPending, reversed("re_1", 2450), 0, KindPending, 0, 25, 0, 0, OutRestored, EarnPending},
		{"reversed after the release: available again", halfGone, reversed("re_1", 2450), 0, KindEarn, 25, 0, 0, 25, OutRestored, EarnReleased},
		{"reversed, cancelled while pending: pending again", cancelledPending, reversed("re_9", 4900), 0, KindPending, 0, 50, 0, 0, OutRestored, EarnPending},
		{"reversed, clawed back after the release: available again", cancelledReleased, reversed("re_9", 4900), 0, KindEarn, 50, 0, 0, 50, OutRestored, EarnReleased},
		{"reversal redelivered", reversedGone, reversed("re_1", 2450), 80, "", 0, 0, 0, 0, OutDuplicate, ""},
		{"the refund after its reversal", reversedGone, RefundNotice{RefundID: "re_1", Cents: 2450, At: inside}, 80, "", 0, 0, 0, 0, OutDuplicate, ""},
		{"reversed before the refund", pending, reversed("re_1", 2450), 80, "", 0, 0, 0, 0, OutRecorded, EarnPending},
		{"reversed before the purchase", earnState{}, reversed("re_1", 2450), 0, "", 0, 0, 0, 0, OutRecorded, EarnAwaiting},
		{"a lost dispute is never reversed", disputeGone, RefundNotice{RefundID: "dp_1", Cents: 4900, Dispute: true, Reversed: true, At: after}, 80, "", 0, 0, 0, 0, OutIgnored, ""},
		{"a reversal told under a dispute's id", disputeGone, reversed("dp_1", 4900), 80, "", 0, 0, 0, 0, OutIgnored, ""},
		{"a lost dispute told after a reversal under its id", reversedGone, RefundNotice{RefundID: "re_1", Cents: 4900, Dispute: true, At: after}, 80, KindClawback, -50, 0, 0, -50, OutClawback, EarnCancelled},
	} {
		c, next, out, write := decideRefund(tc.g, tc.n, tc.available)
		if c.Kind != tc.kind || c.Delta != tc.delta || c.PendingDelta != tc.pend || c.OwedDelta != tc.owed || c.Earned != tc.earned ||
			out != tc.out || write != (tc.state != "") || tc.state != "" && next.State != tc.state {
			t.Errorf("%s: %+v → %q, %s, write %v", tc.name, c, next.State, out, write)
		}
		if write && next.Remaining() != tc.g.Remaining()+c.PendingDelta+c.Delta-c.OwedDelta && tc.g.State != "" {
			t.Errorf("%s: the guard's remaining %d does not follow the movement %+v", tc.name, next.Remaining(), c)
		}
	}
	if _, out := decideRelease(earnState{Exists: true, State: EarnPending, Tokens: 50, ReleaseAt: end}, RuleCoursePurchased, "p", end.Add(-time.Second)); out != OutIgnored {
		t.Error("released before the window ended")
	}
	c, out := decideRelease(earnState{Exists: true, State: EarnPending, Tokens: 50, ReleaseAt: end}, RuleCoursePurchased, "p", end)
	if out != OutReleased || c.Delta != 50 || c.PendingDelta != -50 || c.Earned != 50 {
		t.Errorf("release at the window's end: %+v %s", c, out)
	}
	c, _ = decideRelease(earnState{Exists: true, State: EarnPending, Tokens: 50, Cancelled: 25, ReleaseAt: end}, RuleCoursePurchased, "p", end)
	if c.Delta != 25 || c.PendingDelta != -25 {
		t.Errorf("a half-refunded purchase releases half: %+v", c)
	}
}

// The tokens a purchase keeps follow the price kept, floored: 1 %, 50 % and 100 % refunds of
// 4,900 cents leave 49, 25 and 0 of 50 tokens; refunds after the window do not count; a lost
// dispute takes all whenever it comes; refunds of a purchase whose price is unknown take all.
func TestKeptTokens(t *testing.T) {
	end := monday.Add(RefundWindow)
	in, out := end.Add(-time.Hour), end.Add(time.Hour)
	for _, tc := range []struct {
		name    string
		amount  int64
		refunds map[string]refundSeen
		want    int64
	}{
		{"no refund", 4900, nil, 50},
		{"1 %", 4900, map[string]refundSeen{"a": {Cents: 49, At: in}}, 49},
		{"50 %", 4900, map[string]refundSeen{"a": {Cents: 2450, At: in}}, 25},
		{"100 %", 4900, map[string]refundSeen{"a": {Cents: 4900, At: in}}, 0},
		{"more than paid", 4900, map[string]refundSeen{"a": {Cents: 4900, At: in}, "b": {Cents: 100, At: in}}, 0},
		{"two halves", 4900, map[string]refundSeen{"a": {Cents: 2450, At: in}, "b": {Cents: 2450, At: in}}, 0},
		{"half after the window", 4900, map[string]refundSeen{"a": {Cents: 2450, At: in}, "b": {Cents: 2450, At: out}}, 25},
		{"1 cent", 4900, map[string]refundSeen{"a": {Cents: 1, At: in}}, 49},
		{"lost dispute after the window", 4900, map[string]refundSeen{"dp": {Cents: 10, At: out, Dispute: true}}, 0},
		{"price unknown", 0, map[string]refundSeen{"a": {Cents: 1, At: in}}, 0},
		{"price unknown, no refund counted", 0, map[string]refundSeen{"a": {Cents: 1, At: out}}, 50},
		{"a reversed refund does not count", 4900, map[string]refundSeen{"a": {Cents: 2450, At: in, Reversed: true}}, 50},
		{"one of two halves reversed", 4900, map[string]refundSeen{"a": {Cents: 2450, At: in}, "b": {Cents: 2450, At: in, Reversed: true}}, 25},
	} {
		if got := keptTokens(50, tc.amount, end, tc.refunds); got != tc.want {
			t.Errorf("%s: kept %d, want %d", tc.name, got, tc.want)
		}
	}
}

// What a clawback could not take is owed, and whatever becomes available pays it first: a release
// of held tokens, an earning, a grant. Balance stays the sum of the deltas and available never goes
// below zero; nothing is owed while tokens are available.
func TestOwedIsPaidFirst(t *testing.T) {
	a := Account{UserID: "u"}
	var entries []Entry
	for i, s := range []struct {
		c                     Change
		delta, owedDelta      int64
		bal, held, avail, owe int64
	}{
		{Change{Kind: KindEarn, Delta: 500, Earned: 500}, 500, 0, 500, 0, 500, 0},
		{Change{Kind: KindHold, HeldDelta: 500}, 0, 0, 500, 500, 0, 0},
		{Change{Kind: KindClawback, OwedDelta: 50, Earned: -50}, 0, 50, 500, 500, 0, 50}, // nothing available to take
		{Change{Kind: KindEarn, Delta: 20, Earned: 20}, 0, -20, 500, 500, 0, 30},         // an earning pays first
		{Change{Kind: KindUnhold, HeldDelta: -500}, -30, -30, 470, 0, 470, 0},            // the cancellation cannot dodge it
		{Change{Kind: KindAdjust, Delta: 10, Earned: 10}, 10, 0, 480, 0, 480, 0},         // nothing owed any more
		{Change{Kind: KindClawback, Delta: -480, OwedDelta: 20, Earned: -500}, -480, 20, 0, 0, 0, 20},
		{Change{Kind: KindRelease, Delta: 50, PendingDelta: 0, Earned: 50}, 30, -20, 30, 0, 30, 0},
	} {
		n, e, err := a.Apply(s.c, monday)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if e.Delta != s.delta || e.OwedDelta != s.owedDelta || n.Balance != s.bal || n.Held != s.held || n.Available != s.avail ||
			n.Owed != s.owe || e.OwedAfter != n.Owed {
			t.Fatalf("step %d: entry %+v, account %+v", i, e, n)
		}
		a, entries = n, append(entries, e)
	}
	if err := Verify(a, entries); err != nil {
		t.Fatal(err)
	}
	tampered := append([]Entry(nil), entries...)
	tampered[3].OwedAfter = 0
	if Verify(a, tampered) == nil {
		t.Error("a wrong running debt passed")
	}
	if _, _, err := (Account{UserID: "u"}).Apply(Change{Kind: KindClawback, OwedDelta: -1}, monday); apperr.CodeOf(err) != apperr.Internal {
		t.Errorf("owing less than nothing must be a bug, got %v", err)
	}
	// Counted as the metrics count it: issued − redeemed − deducted = Σ balances.
	var issued, deducted int64
	for _, e := range entries {
		c := balanceCounts(e)
		issued, deducted = issued+c[CtrIssued], deducted+c[CtrDeducted]
	}
	if issued-deducted != a.Balance || issued != 580 {
		t.Errorf("issued %d − deducted %d ≠ balance %d", issued, deducted, a.Balance)
	}
}

func TestRedemptionStateMachine(t *testing.T) {
	want := map[Status]map[Action]Status{
		Pending:   {ActApprove: Approved, ActReject: Rejected, ActCancel: Cancelled},
		Approved:  {ActFulfil: Fulfilled, ActReject: Rejected},
		Fulfilled: {},
		Rejected:  {},
		Cancelled: {},
	}
	for _, from := range Statuses {
		for _, act := range []Action{ActApprove, ActFulfil, ActReject, ActCancel} {
			to, err := Next(from, act)
			exp, ok := want[from][act]
			switch {
			case ok && (err != nil || to != exp):
				t.Errorf("%s --%s--> %s, %v; want %s", from, act, to, err, exp)
			case !ok && apperr.CodeOf(err) != apperr.Conflict:
				t.Errorf("%s --%s--> must be a 409, got %s %v", from, act, to, err)
			}
		}
	}
	if _, err := Next(Cancelled, ActApprove); apperr.PublicMessage(err) != "the redemption is cancelled: it cannot be approved" {
		t.Errorf("message: %q", apperr.PublicMessage(err))
	}
	// Token movements: hold on creation; spend on fulfilment; release on reject/cancel; none on approval.
	if c := HoldChange(500); c.HeldDelta != 500 || c.Delta != 0 {
		t.Errorf("hold %+v", c)
	}
	for act, want := range map[Action][2]int64{ActFulfil: {-500, -500}, ActReject: {0, -500}, ActCancel: {0, -500}} {
		c, ok := TokenChange(act, 500)
		if !ok || c.Delta != want[0] || c.HeldDelta != want[1] || c.Earned != 0 {
			t.Errorf("%s: %+v", act, c)
		}
	}
	if _, moves := TokenChange(ActApprove, 500); moves {
		t.Error("approval moves no tokens")
	}
}

func TestRedemptionIDs(t *testing.T) {
	for _, bad := range []string{"", "rdm_", "pay_01JE0A2B3C4D5E7K2M9QXA4D0Z", "rdm_01je0a2b3c4d5e7k2m9qxa4d0z", "rdm_01JE0A2B3C4D5E7K2M9QXA4D0Z#"} {
		if ValidRedemptionID(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
	if !ValidRedemptionID("rdm_01JE0A2B3C4D5E7K2M9QXA4D0Z") || !validClassID("cls_01JE0A2B3C4D5E6F7G8H9J0KMN") || validClassID("cls_x") {
		t.Error("ids")
	}
}

func TestDisplayNames(t *testing.T) {
	for name, ok := range map[string]bool{
		"Lin Q.": true, "Zoë": true, "O'Brien-Smith": true, "李小龙": true, "ab": true,
		"a": false, "this name is far too long for a board": false, " Lin": false, "Lin  Q": false,
		"lin@example.com": false, "lin.example.com": false, "example.io": false, "http://x": false,
		"see www.x.org": false, "<b>Lin</b>": false, "Lin\nQ": false, "J.R.R. Tolkien": true,
	} {
		if got := ValidDisplayName(name) == ""; got != ok {
			t.Errorf("%q accepted = %v, want %v (%s)", name, got, ok, ValidDisplayName(name))
		}
	}
}
