package licensing

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/billing/tiers"
)

// Grant is what a user's seat entitles them to at an instant.
type Grant struct {
	// Tier is "enterprise" while the seat grants access, else "" (the caller's own subscription
	// decides alone).
	Tier      string
	Granted   bool
	LicenseID string
	OrgID     string
	OrgName   string
	// Status is the license's status as shown (active, expired, suspended, issued).
	Status string
	// Features the seat grants (the Enterprise tier's, cumulative) while Granted.
	Features         []string
	ExpiresAt        time.Time
	ExpirationPolicy string
	// Until is when the grant ends by itself (the revoke policy's expiry); nil when open-ended.
	Until  *time.Time
	Reason string
}

// NoGrant is the answer for a user without a seat.
var NoGrant = Grant{Reason: "no enterprise seat"}

// Entitlement answers what userID's seat grants at now, with one consistent GetItem for a user
// without a seat (the seat membership) and two for a seat holder (plus the license). The stamp
// changes whenever the answer can change other than by the passage of time: a seat taken or freed
// (a new seat id), or the license's terms or lifecycle changed (its version). A cache keyed on it
// never serves a stale grant; time-bound changes (expiry) come from evaluating at now, which
// Entitlement always does.
func Entitlement(ctx context.Context, r Reader, userID string, now time.Time) (Grant, string, error) {
	return entitlement(ctx, readerRepo{r}, userID, now)
}

// seatReader reads a seat holder's membership and license.
type seatReader interface {
	membershipReader
	licenseReader
}

func entitlement(ctx context.Context, r seatReader, userID string, now time.Time) (Grant, string, error) {
	m, ok, err := r.Membership(ctx, userID)
	if err != nil {
		return Grant{}, "", err
	}
	if !ok {
		return NoGrant, "none", nil
	}
	l, err := r.License(ctx, m.LicenseID)
	if apperr.Is(err, apperr.NotFound) {
		// A membership outliving its license cannot happen through our writes; answer "no seat".
		return Grant{Reason: "the seat's license no longer exists"}, "orphan:" + m.SeatID, nil
	}
	if err != nil {
		return Grant{}, "", err
	}
	return GrantOf(l, now), Stamp(m, l), nil
}

// Stamp is the version stamp of a seat holder's entitlement: seat id and license version.
func Stamp(m Membership, l License) string {
	return m.SeatID + "/" + l.ID + "@" + strconv.FormatInt(l.Version, 10)
}

// GrantOf is the grant of a seat on l at now.
func GrantOf(l License, now time.Time) Grant {
	a := l.AccessAt(now)
	g := Grant{LicenseID: l.ID, OrgID: l.OrgID, OrgName: l.OrgName, Status: a.Status, ExpiresAt: l.ExpiresAt.UTC(),
		ExpirationPolicy: l.ExpirationPolicy, Until: a.Until, Reason: a.Reason, Granted: a.Granted}
	if a.Granted {
		g.Tier = tiers.Enterprise
		g.Features = append([]string(nil), l.Features...)
	}
	return g
}

// MembershipOf returns the user's seat membership (ok false without one).
func MembershipOf(ctx context.Context, r Reader, userID string) (Membership, bool, error) {
	return readerRepo{r}.Membership(ctx, userID)
}

// Seat is what another area needs to know about a user's seat: the license, its organisation's
// time zone and whether the seat grants Enterprise now.
type SeatInfo struct {
	LicenseID string
	OrgID     string
	OrgName   string
	TimeZone  string
	Grant     Grant
}

// SeatOf returns the user's seat and its grant at now (ok false without a seat).
func SeatOf(ctx context.Context, r Reader, userID string, now time.Time) (SeatInfo, bool, error) {
	return seatOf(ctx, readerRepo{r}, userID, now)
}

func seatOf(ctx context.Context, r seatReader, userID string, now time.Time) (SeatInfo, bool, error) {
	m, ok, err := r.Membership(ctx, userID)
	if err != nil || !ok {
		return SeatInfo{}, false, err
	}
	l, err := r.License(ctx, m.LicenseID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return SeatInfo{}, false, nil
		}
		return SeatInfo{}, false, err
	}
	return SeatInfo{LicenseID: l.ID, OrgID: l.OrgID, OrgName: l.OrgName, TimeZone: l.TimeZone, Grant: GrantOf(l, now)}, true, nil
}

// adminReader reads a license and its org-admin records.
type adminReader interface {
	licenseReader
	orgAdminReader
}

// IsOrgAdmin reports whether userID administers the license.
func IsOrgAdmin(ctx context.Context, r Reader, licenseID, userID string) (bool, error) {
	return isOrgAdmin(ctx, readerRepo{r}, licenseID, userID)
}

func isOrgAdmin(ctx context.Context, r adminReader, licenseID, userID string) (bool, error) {
	l, err := getLicense(ctx, r, licenseID)
	if apperr.Is(err, apperr.NotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return isOrgAdminOf(ctx, r, l, userID)
}

// isOrgAdminOf reports whether userID administers l now: they activated it with a verified address
// that is still on its admin list. The record written at activation is not enough on its own:
// removing the address from adminEmails revokes the rights at once, whatever was recorded.
func isOrgAdminOf(ctx context.Context, r orgAdminReader, l License, userID string) (bool, error) {
	a, ok, err := r.OrgAdmin(ctx, l.ID, userID)
	if err != nil || !ok {
		return false, err
	}
	return a.Email != "" && slices.Contains(l.AdminEmails, strings.ToLower(a.Email)), nil
}
