package billing

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/licensing"
)

// fakeSeats answers seat grants from a map (no seat: licensing.NoGrant).
type fakeSeats map[string]licensing.Grant

func (f fakeSeats) SeatGrant(_ context.Context, userID string, _ time.Time) (licensing.Grant, error) {
	if g, ok := f[userID]; ok {
		return g, nil
	}
	return licensing.NoGrant, nil
}

func seatGrant(granted bool, until *time.Time) licensing.Grant {
	g := licensing.Grant{LicenseID: "lic_1", OrgName: "Acme", Status: "active", ExpiresAt: t0.AddDate(1, 0, 0),
		ExpirationPolicy: "restrict", Granted: granted, Until: until, Reason: "seat on the organisation's Enterprise license"}
	if granted {
		g.Tier = TierEnterprise
	} else {
		g.Status, g.Reason = "suspended", "the organisation's license is suspended"
	}
	return g
}

func TestWithSeat(t *testing.T) {
	revokeAt := t0.AddDate(0, 6, 0)
	later := t0.AddDate(0, 9, 0)
	for _, tc := range []struct {
		name      string
		own       Access
		grant     licensing.Grant
		wantTier  string
		wantSeat  bool
		wantUntil time.Time
	}{
		{"NoSeat", Access{Tier: TierPro, Status: StatusActive}, licensing.NoGrant, TierPro, false, time.Time{}},
		{"SuspendedSeatGrantsNothing", Access{Tier: TierFree}, seatGrant(false, nil), TierFree, false, time.Time{}},
		{"SeatLiftsFree", Access{Tier: TierFree, Status: StatusNone}, seatGrant(true, nil), TierEnterprise, true, time.Time{}},
		{"SeatLiftsPro", Access{Tier: TierPro, Status: StatusActive}, seatGrant(true, &revokeAt), TierEnterprise, true, revokeAt},
		{"BothEnterpriseLaterEndWins", Access{Tier: TierEnterprise, AccessUntil: later}, seatGrant(true, &revokeAt), TierEnterprise, true, later},
		{"BothEnterpriseOpenEndedWins", Access{Tier: TierEnterprise}, seatGrant(true, &revokeAt), TierEnterprise, true, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, bySeat := withSeat(tc.own, tc.grant)
			if a.Tier != tc.wantTier || bySeat != tc.wantSeat || !a.AccessUntil.Equal(tc.wantUntil) {
				t.Fatalf("got %+v bySeat=%v", a, bySeat)
			}
		})
	}
}

// A seat holder without a subscription: GET /subscription and the feature check say Enterprise
// from the license, and the seat is shown; a suspended license shows the seat and grants nothing.
func TestRoutesCombineTheSeat(t *testing.T) {
	w := newWorld(t)
	seats := fakeSeats{"u-seat": seatGrant(true, nil), "u-susp": seatGrant(false, nil)}
	feature := HandleCheckFeature(fn("check-feature"), w.repo, seats, testRules, w.clock)
	sub := HandleGetSubscription(fn("get-subscription"), w.repo, seats, testRules, w.clock)

	code, v := call(t, sub, "u-seat", "", callOpts{})
	lic, _ := v["license"].(map[string]any)
	if code != http.StatusOK || v["tier"] != TierEnterprise || v["status"] != StatusNone || v["source"] != "license" ||
		lic["licenseId"] != "lic_1" || lic["orgName"] != "Acme" || lic["granted"] != true {
		t.Fatalf("seat holder's subscription: %d %v", code, v)
	}
	code, d := call(t, feature, "u-seat", "", callOpts{path: map[string]string{"feature": FeatureSSO}})
	if code != http.StatusOK || d["allowed"] != true || d["tier"] != TierEnterprise || d["source"] != "license" {
		t.Fatalf("seat holder's feature check: %d %v", code, d)
	}
	code, v = call(t, sub, "u-susp", "", callOpts{})
	lic, _ = v["license"].(map[string]any)
	if code != http.StatusOK || v["tier"] != TierFree || v["source"] != "subscription" || lic["granted"] != false || lic["status"] != "suspended" {
		t.Fatalf("suspended seat: %d %v", code, v)
	}
	code, d = call(t, feature, "u-susp", "", callOpts{path: map[string]string{"feature": FeatureSSO}})
	if code != http.StatusOK || d["allowed"] != false || d["source"] != "subscription" {
		t.Fatalf("suspended seat's feature check: %d %v", code, d)
	}
	if _, ok := v["license"]; !ok {
		t.Fatal("the seat is not shown")
	}
	code, v = call(t, sub, "u-none", "", callOpts{})
	if _, shown := v["license"]; code != http.StatusOK || shown {
		t.Fatalf("no seat: %d %v", code, v)
	}
}
