// Package licensing is the enterprise licensing area: licenses sold by sales (created by platform
// admins) with offline-verifiable Ed25519 keys (licensekey), activation by the organisation's
// admins, seats and invites that stay exact under races, white-label branding, monthly usage with
// its true-up line, and the daily expiry job. It exports, for other areas, the entitlement check
// (Entitlement), the branding of a seat holder (BrandingFor) and the usage signals (RecordActivity,
// RecordEnrolment, TicketUsage).
package licensing

import (
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/billing/tiers"
)

// Lifecycle statuses as stored. Suspension is a separate flag, so resuming returns a license to the
// status it had.
const (
	StatusIssued  = "issued"  // created; not yet activated by an org admin
	StatusActive  = "active"  // activated, within its term
	StatusExpired = "expired" // past its expiry (set by the daily job, or by a PATCH moving the expiry)
	// StatusSuspended is shown (never stored) while Suspended is set.
	StatusSuspended = "suspended"
)

// Overage policies: what a join beyond the seat count does.
const (
	OverageBlock = "block" // refused (409)
	OverageAllow = "allow" // allowed and recorded for the true-up
)

// Expiration policies (Keygen's strategies): what expiry does.
const (
	ExpireRestrict = "restrict" // seat holders keep access; no new seats
	ExpireRevoke   = "revoke"   // entitlements end
	ExpireMaintain = "maintain" // everything continues, new seats included
)

// Limits.
const (
	MaxSeats       = 100000
	MaxAdminEmails = 20
	MaxOrgName     = 120
)

// License is the license item (PK LIC#<id>, SK LICENSE).
//
// Version changes whenever the license's terms or lifecycle change (create, PATCH, activation,
// expiry) and never when seats are taken or freed: seat writes condition on it, so a seat is only
// ever taken under the terms it was checked against, and the entitlement stamp changes exactly when
// what a seat holder is entitled to can change. SeatsUsed is changed only by seat transactions
// (ADD), never by a whole-item write.
type License struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI1PK string `dynamodbav:"GSI1PK"`
	GSI1SK string `dynamodbav:"GSI1SK"`
	Type   string `dynamodbav:"type"`

	ID               string    `dynamodbav:"id"`
	OrgID            string    `dynamodbav:"orgId"`
	OrgName          string    `dynamodbav:"orgName"`
	Seats            int64     `dynamodbav:"seats"`
	SeatsUsed        int64     `dynamodbav:"seatsUsed"`
	StartsAt         time.Time `dynamodbav:"startsAt"`
	ExpiresAt        time.Time `dynamodbav:"expiresAt"`
	OveragePolicy    string    `dynamodbav:"overagePolicy"`
	ExpirationPolicy string    `dynamodbav:"expirationPolicy"`
	AdminEmails      []string  `dynamodbav:"adminEmails"`
	TimeZone         string    `dynamodbav:"timeZone"`
	Features         []string  `dynamodbav:"features"`

	Status      string     `dynamodbav:"status"`
	Suspended   bool       `dynamodbav:"suspended"`
	Counted     bool       `dynamodbav:"counted"` // included in the enterprise gauges (active, not suspended)
	ActivatedAt *time.Time `dynamodbav:"activatedAt,omitempty"`
	ActivatedBy string     `dynamodbav:"activatedBy,omitempty"`

	Key        string `dynamodbav:"key"`   // the current signed key
	KeyID      string `dynamodbav:"keyId"` // kid of the key that signed it
	KeyVersion int64  `dynamodbav:"keyVersion"`

	Version   int64     `dynamodbav:"version"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
	CreatedBy string    `dynamodbav:"createdBy"`
	UpdatedAt time.Time `dynamodbav:"updatedAt"`
}

// EnterpriseFeatures are the features a license grants: the Enterprise tier's.
func EnterpriseFeatures() []string {
	t, _ := tiers.ByID(tiers.Enterprise)
	return t.Features
}

// Expired reports whether the term has ended at now.
func (l License) Expired(now time.Time) bool { return !now.Before(l.ExpiresAt) }

// Activated reports whether an org admin has activated it.
func (l License) Activated() bool { return l.ActivatedAt != nil }

// ShownStatus is the status callers see at now: suspended, issued, expired or active.
func (l License) ShownStatus(now time.Time) string {
	switch {
	case l.Suspended:
		return StatusSuspended
	case !l.Activated():
		return StatusIssued
	case l.Expired(now):
		return StatusExpired
	}
	return StatusActive
}

// lifecycle recomputes Status and Counted from the terms at now (after a PATCH or activation).
func (l *License) lifecycle(now time.Time) {
	switch {
	case !l.Activated():
		l.Status = StatusIssued
	case l.Expired(now):
		l.Status = StatusExpired
	default:
		l.Status = StatusActive
	}
	l.Counted = l.Status == StatusActive && !l.Suspended
}

// OverageSeats is how many seats are taken beyond the seat count.
func (l License) OverageSeats() int64 {
	if l.SeatsUsed > l.Seats {
		return l.SeatsUsed - l.Seats
	}
	return 0
}

// Access is what a license grants its seat holders at an instant.
type Access struct {
	Granted bool
	Status  string     // ShownStatus
	Reason  string     // why, in words
	Until   *time.Time // when the grant ends by itself (revoke policy), nil if open-ended
}

// AccessAt evaluates the license's entitlement for its seat holders at now: suspended or not yet
// started → none; expired → by the expiration policy (revoke ends it; restrict and maintain keep it).
func (l License) AccessAt(now time.Time) Access {
	a := Access{Status: l.ShownStatus(now)}
	switch {
	case l.Suspended:
		a.Reason = "the organisation's license is suspended"
	case !l.Activated():
		a.Reason = "the organisation's license is not activated yet"
	case now.Before(l.StartsAt):
		a.Reason = "the organisation's license starts on " + day(l.StartsAt)
	case l.Expired(now) && l.ExpirationPolicy == ExpireRevoke:
		a.Reason = "the organisation's license expired on " + day(l.ExpiresAt)
	case l.Expired(now):
		a.Granted = true
		a.Reason = "the organisation's license expired on " + day(l.ExpiresAt) + "; access continues under its " +
			l.ExpirationPolicy + " policy"
	default:
		a.Granted = true
		a.Reason = "seat on the organisation's Enterprise license until " + day(l.ExpiresAt)
		if l.ExpirationPolicy == ExpireRevoke {
			until := l.ExpiresAt.UTC()
			a.Until = &until
		}
	}
	return a
}

// Seat variants a join can take.
type seatVariant int

const (
	seatWithin  seatVariant = iota + 1 // within the seat count
	seatOverage                        // beyond it, under the allow policy
)

// seatVariantAt decides whether a new seat may be taken at now and of which kind; the transaction
// that takes it re-checks the same conditions atomically.
func seatVariantAt(l License, now time.Time) (seatVariant, error) {
	switch {
	case l.Suspended:
		return 0, apperr.New(apperr.Unprocessable, "the license is suspended")
	case !l.Activated():
		return 0, apperr.New(apperr.Unprocessable, "the license is not activated yet")
	case l.Expired(now) && l.ExpirationPolicy != ExpireMaintain:
		return 0, apperr.New(apperr.Unprocessable, "the license expired on %s; its %s policy allows no new seats",
			day(l.ExpiresAt), l.ExpirationPolicy)
	case l.SeatsUsed < l.Seats:
		return seatWithin, nil
	case l.OveragePolicy == OverageAllow:
		return seatOverage, nil
	}
	return 0, apperr.New(apperr.Conflict, "all %d seats of the license are taken", l.Seats)
}

// Enterprise gauge deltas between two states of a license (both as of the write).
func gaugeDeltas(prev, next License) map[string]int64 {
	d := map[string]int64{}
	if prev.Counted {
		d[gaugeActive]--
		d[gaugeSold] -= prev.Seats
		d[gaugeUsed] -= prev.SeatsUsed
	}
	if next.Counted {
		d[gaugeActive]++
		d[gaugeSold] += next.Seats
		d[gaugeUsed] += next.SeatsUsed
	}
	return d
}

// expiryNotice returns the expiring-soon notice due at now (30, 7 or 1 days before expiry): the
// smallest threshold the remaining time is within, so a late first run sends the most urgent notice
// only. ok is false when none is due (more than 30 days left, already expired, suspended).
func expiryNotice(l License, now time.Time) (days int, ok bool) {
	if l.Suspended || l.Expired(now) {
		return 0, false
	}
	left := l.ExpiresAt.Sub(now)
	for _, d := range []int{1, 7, 30} {
		if left <= time.Duration(d)*24*time.Hour {
			return d, true
		}
	}
	return 0, false
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// month is "2006-01" of t in UTC.
func month(t time.Time) string { return t.UTC().Format("2006-01") }
