package billing

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/logging"
)

// Enterprise seats: a user holding a seat on an organisation's license has the Enterprise tier
// while the license grants it (licensing decides: suspension, not yet active, expiry under the
// revoke policy end it). GET /subscription and GET /features/{feature} combine the seat with the
// user's own subscription: the higher tier wins; when both are Enterprise, access lasts until the
// later of the two ends (open-ended if either is). The grant is evaluated at every check from the
// seat and the license themselves (one or two consistent reads), so a seat taken or freed, or a
// license changed, is seen at once; the subscription item stays behind the version-stamped cache.

// seatGrants answers what a user's seat grants at now (licensing.Entitlement over the table).
type seatGrants interface {
	SeatGrant(ctx context.Context, userID string, now time.Time) (licensing.Grant, error)
}

// licenseSeats reads grants from the table, and records the activity of the users who ask (the
// sign-in calls of the apps: GET /subscription, GET /features/{feature}) for their license's
// monthly active learners.
type licenseSeats struct{ w licensing.Writer }

// SeatGrant implements seatGrants.
func (l licenseSeats) SeatGrant(ctx context.Context, userID string, now time.Time) (licensing.Grant, error) {
	g, _, err := licensing.Entitlement(ctx, l.w, userID, now)
	return g, err
}

// RecordActivity counts a signed-in user once per month among their license's active learners
// (nothing more after the first call per user and month in a container).
func (l licenseSeats) RecordActivity(ctx context.Context, userID, email string, at time.Time) error {
	return licensing.RecordActivity(ctx, l.w, userID, email, at)
}

// activity records that a signed-in user was active (licensing's usage: monthly active learners).
// Best effort on the request path: a failure is logged and tried again on the user's next request.
type activity interface {
	RecordActivity(ctx context.Context, userID, email string, at time.Time) error
}

func recordActivity(ctx context.Context, a activity, userID, email string, at time.Time) {
	if a == nil {
		return
	}
	if err := a.RecordActivity(ctx, userID, email, at); err != nil {
		logging.From(ctx).Warn("activity not recorded; retried on the next request", "err", err.Error())
	}
}

// LicenseView is the seat a user holds, shown with their subscription.
type LicenseView struct {
	LicenseID        string     `json:"licenseId"`
	OrgName          string     `json:"orgName"`
	Status           string     `json:"status"`
	Granted          bool       `json:"granted"` // the seat grants Enterprise now
	ExpiresAt        *time.Time `json:"expiresAt"`
	ExpirationPolicy string     `json:"expirationPolicy"`
	Reason           string     `json:"reason"`
}

func licenseView(g licensing.Grant) *LicenseView {
	if g.LicenseID == "" {
		return nil
	}
	return &LicenseView{LicenseID: g.LicenseID, OrgName: g.OrgName, Status: g.Status, Granted: g.Granted,
		ExpiresAt: timePtr(g.ExpiresAt), ExpirationPolicy: g.ExpirationPolicy, Reason: g.Reason}
}

// withSeat combines access a from the subscription with a seat's grant g.
func withSeat(a Access, g licensing.Grant) (Access, bool) {
	if !g.Granted {
		return a, false
	}
	own, _ := TierByID(a.Tier)
	ent, _ := TierByID(TierEnterprise)
	if own.Rank > ent.Rank {
		return a, false
	}
	out := a
	out.Tier = TierEnterprise
	out.Reason = g.Reason
	var until time.Time
	if g.Until != nil {
		until = *g.Until
	}
	if own.ID == TierEnterprise {
		// Both grant Enterprise: the later end wins; no end on either side means none.
		out.Reason = a.Reason + "; also " + g.Reason
		if a.AccessUntil.IsZero() || until.IsZero() {
			until = time.Time{}
		} else if a.AccessUntil.After(until) {
			until = a.AccessUntil
		}
	}
	out.AccessUntil = until
	return out, true
}
