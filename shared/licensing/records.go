package licensing

import (
	"time"

	"github.com/liberation/monetization/shared/store"
)

// Seat is one seat of a license (PK LIC#<id>, SK SEAT#<userId>).
type Seat struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	Type      string    `dynamodbav:"type"`
	LicenseID string    `dynamodbav:"licenseId"`
	UserID    string    `dynamodbav:"userId"`
	Email     string    `dynamodbav:"email,omitempty"`
	SeatID    string    `dynamodbav:"seatId"`
	Via       string    `dynamodbav:"via"` // "invite" or "assigned"
	Overage   bool      `dynamodbav:"overage"`
	JoinedAt  time.Time `dynamodbav:"joinedAt"`
	AddedBy   string    `dynamodbav:"addedBy"`
}

// Membership is the seat holder's side of a seat (PK USER#<id>, SK LICSEAT): at most one per user.
// SeatID changes with every new seat, so the entitlement stamp changes when a seat is freed and
// taken again.
type Membership struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	Type      string    `dynamodbav:"type"`
	UserID    string    `dynamodbav:"userId"`
	LicenseID string    `dynamodbav:"licenseId"`
	SeatID    string    `dynamodbav:"seatId"`
	JoinedAt  time.Time `dynamodbav:"joinedAt"`
}

// OrgAdmin marks an org admin of a license (PK LIC#<id>, SK ADMIN#<userId>).
type OrgAdmin struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	Type      string    `dynamodbav:"type"`
	LicenseID string    `dynamodbav:"licenseId"`
	UserID    string    `dynamodbav:"userId"`
	Email     string    `dynamodbav:"email"`
	Since     time.Time `dynamodbav:"since"`
}

// Invite is an invite code's record, keyed by the code's hash (the code itself is not stored).
type Invite struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	Type      string    `dynamodbav:"type"`
	LicenseID string    `dynamodbav:"licenseId"`
	Email     string    `dynamodbav:"email,omitempty"` // only this address may use it
	MaxUses   int64     `dynamodbav:"maxUses"`
	Uses      int64     `dynamodbav:"uses"`
	ExpiresAt time.Time `dynamodbav:"validUntil"`
	// ValidUnix is ExpiresAt in Unix seconds: conditions compare numbers, not time strings.
	ValidUnix int64     `dynamodbav:"validUntilUnix"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
	CreatedBy string    `dynamodbav:"createdBy"`
	// TTL: DynamoDB deletes the item 30 days after the invite stops working.
	TTL int64 `dynamodbav:"expiresAt"`
}

// BrandingRecord is a license's branding item (PK LIC#<id>, SK BRANDING).
type BrandingRecord struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	Type      string    `dynamodbav:"type"`
	LicenseID string    `dynamodbav:"licenseId"`
	Branding  Branding  `dynamodbav:"branding"`
	UpdatedAt time.Time `dynamodbav:"updatedAt"`
	UpdatedBy string    `dynamodbav:"updatedBy"`
}

// UserByEmail is the directory entry mapping an e-mail address to its user.
type UserByEmail struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	Type      string    `dynamodbav:"type"`
	UserID    string    `dynamodbav:"userId"`
	Email     string    `dynamodbav:"email"`
	UpdatedAt time.Time `dynamodbav:"updatedAt"`
}

// SigningKeyRecord is one public license-signing key (PK LICKEYS, SK KID#<kid>): the JWK set.
type SigningKeyRecord struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	Type      string    `dynamodbav:"type"`
	KeyID     string    `dynamodbav:"kid"`
	X         string    `dynamodbav:"x"` // base64url public key
	CreatedAt time.Time `dynamodbav:"createdAt"`
	// Retired keys leave the published set and verify nothing (docs/runbooks/rotate-license-signing-key.md).
	Retired bool `dynamodbav:"retired"`
}

// Usage is a license's counters for a month (PK LIC#<id>, SK USAGE#<yyyy-mm>), changed with ADD.
type Usage struct {
	PK              string `dynamodbav:"PK"`
	SK              string `dynamodbav:"SK"`
	Joins           int64  `dynamodbav:"joins"`
	OverageJoins    int64  `dynamodbav:"overageJoins"`
	Removals        int64  `dynamodbav:"removals"`
	PeakSeats       int64  `dynamodbav:"peakSeats"`
	ActiveLearners  int64  `dynamodbav:"activeLearners"`
	Enrolments      int64  `dynamodbav:"enrolments"`
	TicketsLow      int64  `dynamodbav:"ticketsLow"`
	TicketsNormal   int64  `dynamodbav:"ticketsNormal"`
	TicketsHigh     int64  `dynamodbav:"ticketsHigh"`
	TicketsUrgent   int64  `dynamodbav:"ticketsUrgent"`
	OverageSeatDays int64  `dynamodbav:"overageSeatDays"`
	LastSampledDay  string `dynamodbav:"lastSampledDay"`
	// Set when the monthly job closes the month.
	Closed       bool  `dynamodbav:"closed"`
	SeatsAtClose int64 `dynamodbav:"seatsAtClose"`
	UsedAtClose  int64 `dynamodbav:"usedAtClose"`
}

// TrueUp is a closed month's true-up line (PK LIC#<id>, SK TRUEUP#<yyyy-mm>), written once.
type TrueUp struct {
	PK              string    `dynamodbav:"PK"`
	SK              string    `dynamodbav:"SK"`
	Type            string    `dynamodbav:"type"`
	LicenseID       string    `dynamodbav:"licenseId"`
	OrgName         string    `dynamodbav:"orgName"`
	Month           string    `dynamodbav:"month"`
	Seats           int64     `dynamodbav:"seats"`
	PeakSeats       int64     `dynamodbav:"peakSeats"`
	OverageSeatDays int64     `dynamodbav:"overageSeatDays"`
	OverageJoins    int64     `dynamodbav:"overageJoins"`
	CreatedAt       time.Time `dynamodbav:"createdAt"`
}

// Enterprise gauge names (store's counters block).
const (
	gaugeActive = store.GaugeEntLicensesActive
	gaugeSold   = store.GaugeEntSeatsSold
	gaugeUsed   = store.GaugeEntSeatsUsed
)
