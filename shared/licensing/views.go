package licensing

import "time"

// LicenseView is a license as its org admins see it (GET /licenses/{licenseId}).
type LicenseView struct {
	ID               string     `json:"id"`
	OrgID            string     `json:"orgId"`
	OrgName          string     `json:"orgName"`
	Status           string     `json:"status"`
	Suspended        bool       `json:"suspended"`
	Seats            int64      `json:"seats"`
	SeatsUsed        int64      `json:"seatsUsed"`
	OverageSeats     int64      `json:"overageSeats"`
	StartsAt         time.Time  `json:"startsAt"`
	ExpiresAt        time.Time  `json:"expiresAt"`
	OveragePolicy    string     `json:"overagePolicy"`
	ExpirationPolicy string     `json:"expirationPolicy"`
	TimeZone         string     `json:"timeZone"`
	Features         []string   `json:"features"`
	ActivatedAt      *time.Time `json:"activatedAt"`
	Branding         *Branding  `json:"branding"`
}

// AdminLicenseView adds what platform admins see: the admin e-mails and the key.
type AdminLicenseView struct {
	LicenseView
	AdminEmails []string  `json:"adminEmails"`
	Key         string    `json:"key"`
	KeyID       string    `json:"keyId"`
	KeyVersion  int64     `json:"keyVersion"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

func viewOf(l License, now time.Time, b *Branding) LicenseView {
	tz := l.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	v := LicenseView{ID: l.ID, OrgID: l.OrgID, OrgName: l.OrgName, Status: l.ShownStatus(now), Suspended: l.Suspended,
		Seats: l.Seats, SeatsUsed: l.SeatsUsed, OverageSeats: l.OverageSeats(), StartsAt: l.StartsAt.UTC(), ExpiresAt: l.ExpiresAt.UTC(),
		OveragePolicy: l.OveragePolicy, ExpirationPolicy: l.ExpirationPolicy, TimeZone: tz, Features: l.Features, Branding: b}
	if l.ActivatedAt != nil {
		t := l.ActivatedAt.UTC()
		v.ActivatedAt = &t
	}
	if v.Features == nil {
		v.Features = []string{}
	}
	return v
}

func adminViewOf(l License, now time.Time) AdminLicenseView {
	return AdminLicenseView{LicenseView: viewOf(l, now, nil), AdminEmails: l.AdminEmails, Key: l.Key, KeyID: l.KeyID,
		KeyVersion: l.KeyVersion, CreatedAt: l.CreatedAt.UTC(), UpdatedAt: l.UpdatedAt.UTC()}
}

// SeatView is one seat (seat lists, joins and assignments).
type SeatView struct {
	LicenseID string    `json:"licenseId"`
	UserID    string    `json:"userId"`
	Email     string    `json:"email"`
	Via       string    `json:"via"`
	Overage   bool      `json:"overage"`
	JoinedAt  time.Time `json:"joinedAt"`
}

func seatViewOf(s Seat) SeatView {
	return SeatView{LicenseID: s.LicenseID, UserID: s.UserID, Email: s.Email, Via: s.Via, Overage: s.Overage, JoinedAt: s.JoinedAt.UTC()}
}

// GrantView is a seat holder's entitlement as the join answer shows it.
type GrantView struct {
	Tier      string     `json:"tier"`
	Granted   bool       `json:"granted"`
	LicenseID string     `json:"licenseId"`
	OrgName   string     `json:"orgName"`
	Status    string     `json:"status"`
	Features  []string   `json:"features"`
	ExpiresAt time.Time  `json:"expiresAt"`
	Until     *time.Time `json:"accessUntil"`
	Reason    string     `json:"reason"`
}

func grantViewOf(g Grant) GrantView {
	tier := g.Tier
	if tier == "" {
		tier = "none"
	}
	f := g.Features
	if f == nil {
		f = []string{}
	}
	return GrantView{Tier: tier, Granted: g.Granted, LicenseID: g.LicenseID, OrgName: g.OrgName, Status: g.Status,
		Features: f, ExpiresAt: g.ExpiresAt, Until: g.Until, Reason: g.Reason}
}

// JoinView answers a join or an assignment: the seat and what it grants now.
type JoinView struct {
	Seat        SeatView  `json:"seat"`
	Entitlement GrantView `json:"entitlement"`
}

// InviteView answers POST /licenses/{licenseId}/invites; the code is shown once.
type InviteView struct {
	Code      string    `json:"code"`
	LicenseID string    `json:"licenseId"`
	Email     string    `json:"email"`
	MaxUses   int64     `json:"maxUses"`
	ExpiresAt time.Time `json:"expiresAt"`
	JoinURL   string    `json:"joinUrl"`
	Emailed   bool      `json:"emailed"`
}
