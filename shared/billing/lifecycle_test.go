package billing

import (
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/platform"
)

const day = 24 * time.Hour

func sub(tier, status string, end time.Time, cancel bool) Subscription {
	return Subscription{Version: 1, Tier: tier, PlanTier: tier, Status: status, StripeSubscriptionID: "sub_1",
		CurrentPeriodEnd: end, CancelAtPeriodEnd: cancel}
}

// pastDue is a past_due subscription whose renewal moved the period to [start, start+1 month) while
// the last paid invoice covered the period up to paid.
func pastDue(paid, start time.Time) Subscription {
	s := sub(TierPro, StatusPastDue, start.AddDate(0, 1, 0), false)
	s.PaidThrough, s.CurrentPeriodStart = paid, start
	return s
}

func TestAccessAt(t *testing.T) {
	end := t0.Add(72 * time.Hour)
	grace := 3 * day
	renewal := t0 // Stripe moved the period forward at t0; the renewal charge failed
	legacyUnpaid := sub(TierPro, StatusUnpaid, end, false)
	legacyUnpaid.PlanTier = ""
	tests := []struct {
		name      string
		sub       Subscription
		now       time.Time
		tier      string
		status    string
		wantUntil time.Time // zero: none
	}{
		{"NoSubscription", Subscription{}, t0, TierFree, StatusNone, time.Time{}},
		{"StubWithoutStatus", Subscription{Version: 1, Tier: TierFree}, t0, TierFree, StatusNone, time.Time{}},
		{"Active", sub(TierPro, StatusActive, end, false), t0, TierPro, StatusActive, time.Time{}},
		{"ActivePastPeriodEndRenews", sub(TierPro, StatusActive, end, false), end.Add(time.Hour), TierPro, StatusActive, time.Time{}},
		{"Trialing", sub(TierEnterprise, StatusTrialing, end, false), t0, TierEnterprise, StatusTrialing, time.Time{}},
		{"CancelingBeforeEnd", sub(TierPro, StatusActive, end, true), t0, TierPro, StatusActive, end},
		{"CanceledAtEnd", sub(TierPro, StatusActive, end, true), end, TierFree, StatusActive, time.Time{}},
		// past_due: access until paid-through + grace, however far Stripe moved currentPeriodEnd.
		{"PastDueWithinGrace", pastDue(renewal, renewal), renewal.Add(grace - time.Second), TierPro, StatusPastDue, renewal.Add(grace)},
		{"PastDueAtGraceEnd", pastDue(renewal, renewal), renewal.Add(grace), TierFree, StatusPastDue, time.Time{}},
		{"PastDueBeyondGraceBeforePeriodEnd", pastDue(renewal, renewal), renewal.Add(10 * day), TierFree, StatusPastDue, time.Time{}},
		{"PastDuePaidThroughUnknownUsesPeriodStart", pastDue(time.Time{}, renewal), renewal.Add(grace + time.Second), TierFree, StatusPastDue, time.Time{}},
		{"PastDuePaidThroughUnknownWithinGrace", pastDue(time.Time{}, renewal), renewal.Add(time.Hour), TierPro, StatusPastDue, renewal.Add(grace)},
		{"PastDueProrationUnpaidKeepsPaidPeriod", pastDue(renewal.AddDate(0, 1, 0), renewal), renewal.Add(20 * day), TierPro, StatusPastDue, renewal.AddDate(0, 1, 0).Add(grace)},
		{"Unpaid", sub(TierFree, StatusUnpaid, end, false), t0, TierFree, StatusUnpaid, time.Time{}},
		{"UnpaidEvenIfTierLingers", legacyUnpaid, t0, TierFree, StatusUnpaid, time.Time{}},
		{"Paused", sub(TierPro, StatusPaused, end, false), t0, TierFree, StatusPaused, time.Time{}},
		{"Canceled", sub(TierFree, StatusCanceled, end, false), t0, TierFree, StatusCanceled, time.Time{}},
		{"IncompleteExpired", sub(TierPro, StatusIncompleteExpired, end, false), t0, TierFree, StatusIncompleteExpired, time.Time{}},
		{"Incomplete", sub(TierPro, StatusIncomplete, end, false), t0, TierFree, StatusIncomplete, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := AccessAt(tc.sub, tc.now, grace)
			if a.Tier != tc.tier || a.Status != tc.status || a.Reason == "" {
				t.Fatalf("got %+v, want tier %s status %s", a, tc.tier, tc.status)
			}
			if !a.AccessUntil.Equal(tc.wantUntil) {
				t.Fatalf("accessUntil = %v, want %v", a.AccessUntil, tc.wantUntil)
			}
		})
	}
	t.Run("ReasonNamesPaidThroughAndGraceEnd", func(t *testing.T) {
		a := AccessAt(pastDue(renewal, renewal), renewal.Add(4*day), grace)
		want := "payment is past due; paid through 2026-03-01T12:00:00Z, grace ended at 2026-03-04T12:00:00Z: the Free tier"
		if a.Reason != want {
			t.Fatalf("reason %q\nwant   %q", a.Reason, want)
		}
	})
}

func TestParseGraceDays(t *testing.T) {
	for raw, want := range map[string]time.Duration{"": 3 * day, "0": 0, " 7 ": 7 * day, "30": 30 * day} {
		if got, err := parseGraceDays(raw); err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", raw, got, err, want)
		}
	}
	for _, raw := range []string{"-1", "31", "3d", "1.5"} {
		if _, err := parseGraceDays(raw); err == nil || !strings.Contains(err.Error(), "PAST_DUE_GRACE_DAYS") {
			t.Errorf("%q: err = %v, want one naming PAST_DUE_GRACE_DAYS", raw, err)
		}
	}
}

func TestMetricDeltas(t *testing.T) {
	none := Subscription{}
	pro := sub(TierPro, StatusActive, t0, false)
	ent := sub(TierEnterprise, StatusActive, t0, false)
	pastDueSub := sub(TierPro, StatusPastDue, t0, false)
	lapsed := pastDueSub
	lapsed.Tier = TierFree
	trial := sub(TierPro, StatusTrialing, t0, false)
	canceled := sub(TierFree, StatusCanceled, t0, false)
	joinedRecently := pro
	joinedRecently.PayingSince = t0.Add(-10 * day)
	joinedLongAgo := pro
	joinedLongAgo.PayingSince = t0.Add(-30 * day)
	joined29DaysAgo := pro
	joined29DaysAgo.PayingSince = t0.Add(-29 * day)
	tests := []struct {
		name        string
		prev, next  Subscription
		gauges, day map[string]int64
	}{
		{"NewPro", none, pro, map[string]int64{"mrrCents": 999, "payingCustomers": 1, "subs_pro": 1}, map[string]int64{"newPaying": 1}},
		{"Upgrade", pro, ent, map[string]int64{"mrrCents": 9900 - 999, "subs_pro": -1, "subs_enterprise": 1}, map[string]int64{}},
		{"Downgrade", ent, pro, map[string]int64{"mrrCents": 999 - 9900, "subs_pro": 1, "subs_enterprise": -1}, map[string]int64{}},
		{"PastDueWithinGraceStillPaying", pro, pastDueSub, map[string]int64{}, map[string]int64{}},
		{"PastDueBeyondGraceStopsPaying", pastDueSub, lapsed, map[string]int64{"mrrCents": -999, "payingCustomers": -1, "subs_pro": -1}, map[string]int64{"churnedPaying": 1}},
		{"Churn", pastDueSub, canceled, map[string]int64{"mrrCents": -999, "payingCustomers": -1, "subs_pro": -1}, map[string]int64{"churnedPaying": 1}},
		{"ChurnOfARecentJoinerNamesTheJoinDay", joinedRecently, canceled, map[string]int64{"mrrCents": -999, "payingCustomers": -1, "subs_pro": -1},
			map[string]int64{"churnedPaying": 1, "churnedJoined#2026-02-19": 1}},
		{"ChurnJoined29DaysBefore", joined29DaysAgo, canceled, map[string]int64{"mrrCents": -999, "payingCustomers": -1, "subs_pro": -1},
			map[string]int64{"churnedPaying": 1, "churnedJoined#2026-01-31": 1}},
		{"ChurnJoined30DaysBeforeIsAlwaysOld", joinedLongAgo, canceled, map[string]int64{"mrrCents": -999, "payingCustomers": -1, "subs_pro": -1},
			map[string]int64{"churnedPaying": 1}},
		{"TrialIsLiveNotPaying", none, trial, map[string]int64{"subs_pro": 1}, map[string]int64{}},
		{"TrialConverts", trial, pro, map[string]int64{"mrrCents": 999, "payingCustomers": 1}, map[string]int64{"newPaying": 1}},
		{"NoChange", pro, pro, map[string]int64{}, map[string]int64{}},
		{"CanceledFirstSeen", none, canceled, map[string]int64{}, map[string]int64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, d := metricDeltas(tc.prev, tc.next, t0)
			if !equalNonZero(g, tc.gauges) || !equalNonZero(d, tc.day) {
				t.Fatalf("gauges %v day %v; want %v %v", g, d, tc.gauges, tc.day)
			}
		})
	}
}

func equalNonZero(a, b map[string]int64) bool {
	for k, v := range a {
		if v != b[k] {
			return false
		}
	}
	for k, v := range b {
		if v != a[k] {
			return false
		}
	}
	return true
}

func TestSyncDecision(t *testing.T) {
	stored := Subscription{Version: 3, StripeSubscriptionID: "sub_1", Status: StatusActive, LastEventCreated: 100, LastEventRank: 1, LastEventID: "evt_b"}
	canceledByStripe := stored
	canceledByStripe.Status, canceledByStripe.LastEventRank = StatusCanceled, rankTerminal
	// What earlier versions of the billing-cycle job wrote: "canceled" under a live watermark.
	canceledByUs := stored
	canceledByUs.Status = StatusCanceled
	for _, status := range []string{StatusIncomplete, StatusTrialing, StatusPastDue, StatusUnpaid, StatusPaused} {
		stored := stored
		stored.Status = status
		t.Run("OtherLiveWhileStored"+status, func(t *testing.T) {
			d := syncDecision(stored, State{SubscriptionID: "sub_2", Status: StatusActive}, Stamp{500, 1, "evt_z"})
			if d.apply || !d.otherLive {
				t.Fatalf("another live subscription must not replace a stored %s one: %+v", status, d)
			}
		})
	}
	tests := []struct {
		name      string
		cur       Subscription
		state     State
		stamp     Stamp
		want      bool
		otherLive bool
	}{
		{"Absent", Subscription{}, State{SubscriptionID: "sub_1", Status: StatusActive}, Stamp{1, 1, "evt_a"}, true, false},
		{"Newer", stored, State{SubscriptionID: "sub_1", Status: StatusPastDue}, Stamp{101, 1, "evt_a"}, true, false},
		{"Older", stored, State{SubscriptionID: "sub_1", Status: StatusPastDue}, Stamp{99, 1, "evt_z"}, false, false},
		{"SameSecondHigherRank", stored, State{SubscriptionID: "sub_1", Status: StatusCanceled}, Stamp{100, 2, "evt_a"}, true, false},
		{"SameSecondLowerRank", stored, State{SubscriptionID: "sub_1", Status: StatusIncomplete}, Stamp{100, 0, "evt_z"}, false, false},
		{"SameSecondTieBreakByID", stored, State{SubscriptionID: "sub_1", Status: StatusActive}, Stamp{100, 1, "evt_a"}, false, false},
		{"SameEventAgain", stored, State{SubscriptionID: "sub_1", Status: StatusActive}, Stamp{100, 1, "evt_b"}, true, false},
		{"NeverReviveCanceledByStripe", canceledByStripe, State{SubscriptionID: "sub_1", Status: StatusActive}, Stamp{500, 1, "evt_c"}, false, false},
		{"OurOwnTerminalNeverBlocksStripe", canceledByUs, State{SubscriptionID: "sub_1", Status: StatusActive}, Stamp{500, 1, "evt_c"}, true, false},
		{"OurOwnTerminalStillOrdered", canceledByUs, State{SubscriptionID: "sub_1", Status: StatusActive}, Stamp{99, 1, "evt_c"}, false, false},
		{"NewSubscriptionAfterCanceled", canceledByStripe, State{SubscriptionID: "sub_2", Status: StatusActive}, Stamp{500, 1, "evt_c"}, true, false},
		{"NewLiveSubscriptionReplacesEndedWhateverTheStamps", canceledByStripe, State{SubscriptionID: "sub_2", Status: StatusActive}, Stamp{50, 1, "evt_c"}, true, false},
		{"OlderEndedSubscriptionDoesNotReplaceNewerEnded", canceledByStripe, State{SubscriptionID: "sub_2", Status: StatusCanceled}, Stamp{50, 2, "evt_c"}, false, false},
		{"OldSubscriptionEndsLate", stored, State{SubscriptionID: "sub_0", Status: StatusCanceled}, Stamp{500, 2, "evt_c"}, false, false},
		{"SecondLiveSubscriptionIsRecordedNotStored", stored, State{SubscriptionID: "sub_2", Status: StatusActive}, Stamp{500, 1, "evt_c"}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := syncDecision(tc.cur, tc.state, tc.stamp)
			if d.apply != tc.want || d.otherLive != tc.otherLive || (!d.apply && d.reason == "") {
				t.Fatalf("syncDecision = %+v, want apply=%v otherLive=%v", d, tc.want, tc.otherLive)
			}
		})
	}
}

func TestValidateRedirectURL(t *testing.T) {
	long := "https://app.example.com/" + string(make([]byte, platform.MaxRedirectURLLength))
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://app.example.com/billing/done?session_id={CHECKOUT_SESSION_ID}", true},
		{"http://localhost:5173/ok", true},
		{"http://127.0.0.1:3000/ok", true},
		{"http://app.example.com/ok", false},
		{"ftp://app.example.com/ok", false},
		{"javascript:alert(1)", false},
		{"/relative/path", false},
		{"https://user:pass@app.example.com/", false},
		{"", false},
		{long, false},
	}
	for _, tc := range tests {
		if err := platform.ValidRedirectURL("successUrl", tc.url); (err == nil) != tc.ok {
			t.Errorf("%.60q: err = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
}

func TestBasisPoints(t *testing.T) {
	if basisPoints(1, 0) != nil {
		t.Fatal("zero denominator must be nil")
	}
	for _, tc := range []struct{ n, d, want int64 }{{1, 3, 3333}, {2, 3, 6667}, {999, 1000, 9990}, {0, 5, 0}, {5, 5, 10000}} {
		if got := *basisPoints(tc.n, tc.d); got != tc.want {
			t.Errorf("%d/%d = %d bp, want %d", tc.n, tc.d, got, tc.want)
		}
	}
}

func TestChurnArithmetic(t *testing.T) {
	from := t0.AddDate(0, 0, -29)
	bp := func(n int64) *int64 { return &n }
	tests := []struct {
		name   string
		paying int64
		sums   map[string]int64
		want   Churn
	}{
		{"NothingHappened", 10, map[string]int64{}, Churn{PayingAtStart: 10, RateBasisPoints: bp(0)}},
		{"OneOfFourLeft", 3, map[string]int64{"churnedPaying": 1}, Churn{ChurnedPaying: 1, PayingAtStart: 4, RateBasisPoints: bp(2500)}},
		// One customer paying at the start, ten who joined and left inside the window: the old formula
		// said 1000 %; those ten are reported apart and the rate is 0 %.
		{"JoinersWhoLeftAreApart", 1, map[string]int64{"newPaying": 10, "churnedPaying": 10, "churnedJoined#" + dayOf(t0.Add(-5*day)): 10},
			Churn{JoinedAndLeft: 10, NewPaying: 10, PayingAtStart: 1, RateBasisPoints: bp(0)}},
		{"EveryoneLeft", 0, map[string]int64{"newPaying": 3, "churnedPaying": 5, "churnedJoined#" + dayOf(t0.Add(-5*day)): 3},
			Churn{ChurnedPaying: 2, JoinedAndLeft: 3, NewPaying: 3, PayingAtStart: 2, RateBasisPoints: bp(10000)}},
		// Joined before the window's first day: they were paying at its start.
		{"JoinedBeforeTheWindow", 0, map[string]int64{"churnedPaying": 1, "churnedJoined#" + dayOf(from.Add(-day)): 1},
			Churn{ChurnedPaying: 1, PayingAtStart: 1, RateBasisPoints: bp(10000)}},
		{"JoinedOnTheWindowsFirstDay", 0, map[string]int64{"newPaying": 1, "churnedPaying": 1, "churnedJoined#" + dayOf(from): 1},
			Churn{JoinedAndLeft: 1, NewPaying: 1, PayingAtStart: 0}},
		// Day counters written before churnedJoined# existed: capped at 100 %.
		{"LegacyCountersCapped", 1, map[string]int64{"newPaying": 10, "churnedPaying": 10},
			Churn{ChurnedPaying: 10, NewPaying: 10, PayingAtStart: 1, RateBasisPoints: bp(10000)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := churnOf(tc.paying, tc.sums, from)
			tc.want.Definition = ChurnDefinition
			if got.ChurnedPaying != tc.want.ChurnedPaying || got.JoinedAndLeft != tc.want.JoinedAndLeft ||
				got.NewPaying != tc.want.NewPaying || got.PayingAtStart != tc.want.PayingAtStart ||
				(got.RateBasisPoints == nil) != (tc.want.RateBasisPoints == nil) ||
				(got.RateBasisPoints != nil && *got.RateBasisPoints != *tc.want.RateBasisPoints) || got.Definition != tc.want.Definition {
				t.Fatalf("got %+v (rate %v), want %+v (rate %v)", got, deref(got.RateBasisPoints), tc.want, deref(tc.want.RateBasisPoints))
			}
		})
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
