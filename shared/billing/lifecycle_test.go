package billing

import (
	"testing"
	"time"

	"github.com/liberation/monetization/shared/store"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func sub(tier, status string, end time.Time, cancel bool) store.Subscription {
	return store.Subscription{Version: 1, Tier: tier, Status: status, StripeSubscriptionID: "sub_1",
		CurrentPeriodEnd: end, CancelAtPeriodEnd: cancel}
}

func TestAccessAt(t *testing.T) {
	end := t0.Add(72 * time.Hour)
	tests := []struct {
		name      string
		sub       store.Subscription
		now       time.Time
		tier      string
		status    string
		untilSet  bool
		wantUntil time.Time
	}{
		{"NoSubscription", store.Subscription{}, t0, TierFree, StatusNone, false, time.Time{}},
		{"StubWithoutStatus", store.Subscription{Version: 1, Tier: TierFree}, t0, TierFree, StatusNone, false, time.Time{}},
		{"Active", sub(TierPro, StatusActive, end, false), t0, TierPro, StatusActive, false, time.Time{}},
		{"ActivePastPeriodEndRenews", sub(TierPro, StatusActive, end, false), end.Add(time.Hour), TierPro, StatusActive, false, time.Time{}},
		{"Trialing", sub(TierEnterprise, StatusTrialing, end, false), t0, TierEnterprise, StatusTrialing, false, time.Time{}},
		{"CancelingBeforeEnd", sub(TierPro, StatusActive, end, true), t0, TierPro, StatusActive, true, end},
		{"CanceledAtEnd", sub(TierPro, StatusActive, end, true), end, TierFree, StatusActive, false, time.Time{}},
		{"PastDueBeforeEnd", sub(TierPro, StatusPastDue, end, false), end.Add(-time.Second), TierPro, StatusPastDue, true, end},
		{"PastDueAfterEnd", sub(TierPro, StatusPastDue, end, false), end, TierFree, StatusPastDue, false, time.Time{}},
		{"Unpaid", sub(TierFree, StatusUnpaid, end, false), t0, TierFree, StatusUnpaid, false, time.Time{}},
		{"UnpaidEvenIfTierLingers", sub(TierPro, StatusUnpaid, end, false), t0, TierFree, StatusUnpaid, false, time.Time{}},
		{"Canceled", sub(TierFree, StatusCanceled, end, false), t0, TierFree, StatusCanceled, false, time.Time{}},
		{"IncompleteExpired", sub(TierPro, StatusIncompleteExpired, end, false), t0, TierFree, StatusIncompleteExpired, false, time.Time{}},
		{"Incomplete", sub(TierPro, StatusIncomplete, end, false), t0, TierFree, StatusIncomplete, false, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := AccessAt(tc.sub, tc.now)
			if a.Tier != tc.tier || a.Status != tc.status || a.Reason == "" {
				t.Fatalf("got %+v, want tier %s status %s", a, tc.tier, tc.status)
			}
			if tc.untilSet != !a.AccessUntil.IsZero() || (tc.untilSet && !a.AccessUntil.Equal(tc.wantUntil)) {
				t.Fatalf("accessUntil = %v, want %v", a.AccessUntil, tc.wantUntil)
			}
		})
	}
}

func TestMetricDeltas(t *testing.T) {
	none := store.Subscription{}
	pro := sub(TierPro, StatusActive, t0, false)
	ent := sub(TierEnterprise, StatusActive, t0, false)
	pastDue := sub(TierPro, StatusPastDue, t0, false)
	trial := sub(TierPro, StatusTrialing, t0, false)
	canceled := sub(TierFree, StatusCanceled, t0, false)
	tests := []struct {
		name        string
		prev, next  store.Subscription
		gauges, day map[string]int64
	}{
		{"NewPro", none, pro, map[string]int64{"mrrCents": 999, "payingCustomers": 1, "subs_pro": 1}, map[string]int64{"newPaying": 1}},
		{"Upgrade", pro, ent, map[string]int64{"mrrCents": 9900 - 999, "subs_pro": -1, "subs_enterprise": 1}, map[string]int64{}},
		{"Downgrade", ent, pro, map[string]int64{"mrrCents": 999 - 9900, "subs_pro": 1, "subs_enterprise": -1}, map[string]int64{}},
		{"PastDueStillPaying", pro, pastDue, map[string]int64{}, map[string]int64{}},
		{"Churn", pastDue, canceled, map[string]int64{"mrrCents": -999, "payingCustomers": -1, "subs_pro": -1}, map[string]int64{"churnedPaying": 1}},
		{"TrialIsLiveNotPaying", none, trial, map[string]int64{"subs_pro": 1}, map[string]int64{}},
		{"TrialConverts", trial, pro, map[string]int64{"mrrCents": 999, "payingCustomers": 1}, map[string]int64{"newPaying": 1}},
		{"NoChange", pro, pro, map[string]int64{}, map[string]int64{}},
		{"CanceledFirstSeen", none, canceled, map[string]int64{}, map[string]int64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, d := metricDeltas(tc.prev, tc.next)
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
	stored := store.Subscription{Version: 3, StripeSubscriptionID: "sub_1", Status: StatusActive, LastEventCreated: 100, LastEventRank: 1, LastEventID: "evt_b"}
	canceled := stored
	canceled.Status = StatusCanceled
	tests := []struct {
		name  string
		cur   store.Subscription
		state State
		stamp Stamp
		want  bool
	}{
		{"Absent", store.Subscription{}, State{SubscriptionID: "sub_1", Status: StatusActive}, Stamp{1, 1, "evt_a"}, true},
		{"Newer", stored, State{SubscriptionID: "sub_1", Status: StatusPastDue}, Stamp{101, 1, "evt_a"}, true},
		{"Older", stored, State{SubscriptionID: "sub_1", Status: StatusPastDue}, Stamp{99, 1, "evt_z"}, false},
		{"SameSecondHigherRank", stored, State{SubscriptionID: "sub_1", Status: StatusCanceled}, Stamp{100, 2, "evt_a"}, true},
		{"SameSecondLowerRank", stored, State{SubscriptionID: "sub_1", Status: StatusIncomplete}, Stamp{100, 0, "evt_z"}, false},
		{"SameSecondTieBreakByID", stored, State{SubscriptionID: "sub_1", Status: StatusActive}, Stamp{100, 1, "evt_a"}, false},
		{"SameEventAgain", stored, State{SubscriptionID: "sub_1", Status: StatusActive}, Stamp{100, 1, "evt_b"}, true},
		{"NeverReviveCanceled", canceled, State{SubscriptionID: "sub_1", Status: StatusActive}, Stamp{500, 1, "evt_c"}, false},
		{"NewSubscriptionAfterCanceled", canceled, State{SubscriptionID: "sub_2", Status: StatusActive}, Stamp{500, 1, "evt_c"}, true},
		{"OldSubscriptionEndsLate", stored, State{SubscriptionID: "sub_0", Status: StatusCanceled}, Stamp{500, 2, "evt_c"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := syncDecision(tc.cur, tc.state, tc.stamp); got != tc.want {
				t.Fatalf("syncDecision = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestValidateRedirectURL(t *testing.T) {
	long := "https://app.example.com/" + string(make([]byte, maxURLLength))
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
		if err := validateRedirectURL("successUrl", tc.url); (err == nil) != tc.ok {
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
