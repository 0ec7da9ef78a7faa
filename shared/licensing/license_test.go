package licensing

import (
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
)

var (
	t0      = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	started = t0.Add(-24 * time.Hour)
)

func activeLicense(seats, used int64, overage, expiration string) License {
	at := started
	l := License{ID: "lic_01JDZ9A2B3C4D5E6F7G8H9J0KM", OrgID: "org_x", OrgName: "Acme", Seats: seats, SeatsUsed: used,
		StartsAt: started, ExpiresAt: t0.Add(30 * 24 * time.Hour), OveragePolicy: overage, ExpirationPolicy: expiration,
		Features: EnterpriseFeatures(), ActivatedAt: &at, Version: 3}
	l.lifecycle(t0)
	return l
}

func TestSeatArithmeticAndPolicies(t *testing.T) {
	expired := t0.Add(31 * 24 * time.Hour)
	for _, tc := range []struct {
		name    string
		l       func() License
		at      time.Time
		want    seatVariant
		errCode apperr.Code
	}{
		{"FreeSeat", func() License { return activeLicense(10, 9, OverageBlock, ExpireRestrict) }, t0, seatWithin, ""},
		{"LastSeatTakenBlock", func() License { return activeLicense(10, 10, OverageBlock, ExpireRestrict) }, t0, 0, apperr.Conflict},
		{"BeyondBlock", func() License { return activeLicense(10, 12, OverageBlock, ExpireRestrict) }, t0, 0, apperr.Conflict},
		{"FullAllow", func() License { return activeLicense(10, 10, OverageAllow, ExpireRestrict) }, t0, seatOverage, ""},
		{"WithinAllow", func() License { return activeLicense(10, 3, OverageAllow, ExpireRestrict) }, t0, seatWithin, ""},
		{"Suspended", func() License { l := activeLicense(10, 0, OverageAllow, ExpireMaintain); l.Suspended = true; return l }, t0, 0, apperr.Unprocessable},
		{"NotActivated", func() License { l := activeLicense(10, 0, OverageAllow, ExpireMaintain); l.ActivatedAt = nil; return l }, t0, 0, apperr.Unprocessable},
		{"ExpiredRestrict", func() License { return activeLicense(10, 0, OverageAllow, ExpireRestrict) }, expired, 0, apperr.Unprocessable},
		{"ExpiredRevoke", func() License { return activeLicense(10, 0, OverageAllow, ExpireRevoke) }, expired, 0, apperr.Unprocessable},
		{"ExpiredMaintain", func() License { return activeLicense(10, 0, OverageBlock, ExpireMaintain) }, expired, seatWithin, ""},
		{"ExpiredMaintainFullAllow", func() License { return activeLicense(1, 1, OverageAllow, ExpireMaintain) }, expired, seatOverage, ""},
		{"AtTheExpiryInstant", func() License { return activeLicense(10, 0, OverageBlock, ExpireRestrict) }, t0.Add(30 * 24 * time.Hour), 0, apperr.Unprocessable},
		{"BeforeStartIsFine", func() License {
			l := activeLicense(10, 0, OverageBlock, ExpireRestrict)
			l.StartsAt = t0.Add(time.Hour)
			return l
		}, t0, seatWithin, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := seatVariantAt(tc.l(), tc.at)
			if tc.errCode != "" {
				if !apperr.Is(err, tc.errCode) {
					t.Fatalf("err %v, want %s", err, tc.errCode)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("%v %v, want %v", got, err, tc.want)
			}
		})
	}
}

func TestAccessByExpirationPolicy(t *testing.T) {
	before, after := t0, t0.Add(31*24*time.Hour)
	for _, tc := range []struct {
		name       string
		policy     string
		at         time.Time
		mutate     func(*License)
		granted    bool
		status     string
		hasUntil   bool
		reasonPart string
	}{
		{"RestrictBefore", ExpireRestrict, before, nil, true, StatusActive, false, "until 2026-12-30"},
		{"RestrictAfter", ExpireRestrict, after, nil, true, StatusExpired, false, "restrict policy"},
		{"RevokeBefore", ExpireRevoke, before, nil, true, StatusActive, true, "until 2026-12-30"},
		{"RevokeAfter", ExpireRevoke, after, nil, false, StatusExpired, false, "expired on 2026-12-30"},
		{"MaintainAfter", ExpireMaintain, after, nil, true, StatusExpired, false, "maintain policy"},
		{"Suspended", ExpireMaintain, before, func(l *License) { l.Suspended = true }, false, StatusSuspended, false, "suspended"},
		{"NotStarted", ExpireMaintain, before, func(l *License) { l.StartsAt = before.Add(time.Hour) }, false, StatusActive, false, "starts on"},
		{"NotActivated", ExpireMaintain, before, func(l *License) { l.ActivatedAt = nil }, false, StatusIssued, false, "not activated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := activeLicense(10, 1, OverageBlock, tc.policy)
			if tc.mutate != nil {
				tc.mutate(&l)
			}
			a := l.AccessAt(tc.at)
			if a.Granted != tc.granted || a.Status != tc.status || (a.Until != nil) != tc.hasUntil || !strings.Contains(a.Reason, tc.reasonPart) {
				t.Fatalf("%+v", a)
			}
			if tc.hasUntil && !a.Until.Equal(l.ExpiresAt) {
				t.Fatalf("until %v", a.Until)
			}
		})
	}
}

func TestLifecycleAndGauges(t *testing.T) {
	l := activeLicense(10, 4, OverageBlock, ExpireRestrict)
	if l.Status != StatusActive || !l.Counted {
		t.Fatalf("active license: %+v", l)
	}
	// Activation of an issued license: +1 active, +10 sold, +0 used.
	issued := l
	issued.ActivatedAt, issued.SeatsUsed = nil, 0
	issued.lifecycle(t0)
	if issued.Status != StatusIssued || issued.Counted {
		t.Fatalf("issued: %+v", issued)
	}
	activated := issued
	at := t0
	activated.ActivatedAt = &at
	activated.lifecycle(t0)
	assertDeltas(t, gaugeDeltas(issued, activated), 1, 10, 0)
	// Suspension takes it out entirely; resuming puts it back.
	susp := l
	susp.Suspended = true
	susp.lifecycle(t0)
	assertDeltas(t, gaugeDeltas(l, susp), -1, -10, -4)
	assertDeltas(t, gaugeDeltas(susp, l), 1, 10, 4)
	// More seats sold on an active license.
	more := l
	more.Seats = 25
	more.lifecycle(t0)
	assertDeltas(t, gaugeDeltas(l, more), 0, 15, 0)
	// Expiry.
	exp := l
	exp.lifecycle(t0.Add(31 * 24 * time.Hour))
	if exp.Status != StatusExpired || exp.Counted {
		t.Fatalf("expired: %+v", exp)
	}
	assertDeltas(t, gaugeDeltas(l, exp), -1, -10, -4)
	// An expiry moved into the future revives it.
	revived := exp
	revived.ExpiresAt = t0.Add(400 * 24 * time.Hour)
	revived.lifecycle(t0.Add(31 * 24 * time.Hour))
	if revived.Status != StatusActive || !revived.Counted {
		t.Fatalf("revived: %+v", revived)
	}
	if l.OverageSeats() != 0 || activeLicense(10, 13, OverageAllow, ExpireRestrict).OverageSeats() != 3 {
		t.Fatal("overage seats")
	}
}

func assertDeltas(t *testing.T, d map[string]int64, active, sold, used int64) {
	t.Helper()
	if d[gaugeActive] != active || d[gaugeSold] != sold || d[gaugeUsed] != used {
		t.Fatalf("deltas %v, want active %d sold %d used %d", d, active, sold, used)
	}
}

func TestExpiryNotices(t *testing.T) {
	day := 24 * time.Hour
	l := activeLicense(10, 0, OverageBlock, ExpireRestrict) // expires at t0 + 30 days
	for _, tc := range []struct {
		left time.Duration
		want int
		ok   bool
	}{
		{31 * day, 0, false},
		{30*day + time.Second, 0, false},
		{30 * day, 30, true},
		{8 * day, 30, true},
		{7 * day, 7, true},
		{2 * day, 7, true},
		{day, 1, true},
		{time.Minute, 1, true},
		{0, 0, false},    // expired: the expiry itself is the job's other step
		{-day, 0, false}, // past
	} {
		got, ok := expiryNotice(l, l.ExpiresAt.Add(-tc.left))
		if got != tc.want || ok != tc.ok {
			t.Errorf("%v left: %d %v, want %d %v", tc.left, got, ok, tc.want, tc.ok)
		}
	}
	l.Suspended = true
	if _, ok := expiryNotice(l, l.ExpiresAt.Add(-day)); ok {
		t.Error("notice for a suspended license")
	}
}

func TestInviteCodes(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		c := newInviteCode()
		if !validInviteCode(c) || seen[c] {
			t.Fatalf("code %q", c)
		}
		seen[c] = true
	}
	for _, bad := range []string{"", "LIB-AAAA-AAAA-AAAA-AAA", "LIB-AAAA-AAAA-AAAA-AAAI", "XYZ-AAAA-AAAA-AAAA-AAAA", "LIB-AAAA-AAAA-AAAAA-AAA", "LIB-aaaa-AAAA-AAAA-AAAA"} {
		if validInviteCode(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
	if inviteHash("LIB-AAAA-AAAA-AAAA-AAAA") == inviteHash("LIB-AAAA-AAAA-AAAA-AAAB") || len(inviteHash("x")) != 64 {
		t.Fatal("hash")
	}
	inv := Invite{Email: "sam@acme.example", MaxUses: 1, ExpiresAt: t0.Add(time.Hour)}
	for _, tc := range []struct {
		inv   Invite
		email string
		at    time.Time
		ok    bool
	}{
		{inv, "SAM@acme.example", t0, true},
		{inv, "eve@acme.example", t0, false},
		{inv, "sam@acme.example", t0.Add(time.Hour), false},
		{Invite{MaxUses: 2, Uses: 2, ExpiresAt: t0.Add(time.Hour)}, "x@y.example", t0, false},
		{Invite{MaxUses: 2, Uses: 1, ExpiresAt: t0.Add(time.Hour)}, "x@y.example", t0, true},
	} {
		if err := inviteUsable(tc.inv, tc.email, tc.at); (err == nil) != tc.ok || err != nil && !apperr.Is(err, apperr.Unprocessable) {
			t.Errorf("%+v by %s: %v", tc.inv, tc.email, err)
		}
	}
}
