package licensing

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/store"
)

// The small interfaces licensing's rules are written against (decision 0070). Production
// implements them over DynamoDB (dynamoRepo, repo_dynamo.go, the only file with SDK inputs); unit
// tests use the in-memory memRepo (fakes_test.go), and one contract test runs on both. Writes are
// domain changes, so a fake needs no expression semantics, only the conditions each change states.

// Reader reads one item with a strongly consistent read (apperr.NotFound when absent): the port of
// the exported reads other areas call (Entitlement, SeatOf, BrandingFor, IsOrgAdmin). *store.Store
// implements it; readerRepo turns it into the ports below.
type Reader interface {
	GetConsistent(ctx context.Context, k store.Key, out any) error
}

var _ Reader = (*store.Store)(nil)

// Writer is what the exported usage signals need (RecordActivity, RecordEnrolment): reads, single
// writes and transactions. *store.Store implements it; writerRepo turns it into usageRecorder.
type Writer interface {
	Reader
	Put(ctx context.Context, v any, cond string, names map[string]string, values map[string]types.AttributeValue) error
	Transact(ctx context.Context, items []types.TransactWriteItem) error
}

var _ Writer = (*store.Store)(nil)

// licenseReader reads one license consistently; an unknown id (or one of the wrong shape) is
// apperr.NotFound.
type licenseReader interface {
	License(ctx context.Context, id string) (License, error)
}

// membershipReader reads a user's seat membership (ok false without one).
type membershipReader interface {
	Membership(ctx context.Context, userID string) (Membership, bool, error)
}

// orgAdminReader reads the record an activation wrote (ok false without one); isOrgAdminOf decides
// whether it still stands against the license's admin list.
type orgAdminReader interface {
	OrgAdmin(ctx context.Context, licenseID, userID string) (OrgAdmin, bool, error)
}

// brandingReader reads a license's branding record (ok false until its org admins set one).
type brandingReader interface {
	Branding(ctx context.Context, licenseID string) (BrandingRecord, bool, error)
}

// licenseStore is the license items: reads, the admin list and the versioned writes.
type licenseStore interface {
	licenseReader
	orgAdminReader
	LicensesPage(ctx context.Context, limit int32, cursor string) (store.Page[License], error)
	// EachLicense calls f for every license, oldest first (the jobs).
	EachLicense(ctx context.Context, f func(License) error) error
	WriteLicense(ctx context.Context, w licenseWrite) error
}

// licenseWrite is one atomic change of a license: all of it lands or none.
type licenseWrite struct {
	// Create is a new license (fails with a conflict on "license" if its id exists).
	Create *License
	// Prev → Next changes terms and lifecycle (never the seat count), conditioned on Prev's version
	// and seat count so that Gauges, computed from Prev, are exact when it lands.
	Prev, Next *License
	// Admin is an org-admin record written (replacing any) with the change.
	Admin *OrgAdmin
	// SignedWith is the kid of the key the change carries: the write commits only while that key is
	// published and not retired, else it fails with errRetiredKey.
	SignedWith string
	Gauges     map[string]int64
	Audit      []audit.Entry
	At         time.Time
}

// seatStore is seats, memberships, invites and the e-mail directory.
type seatStore interface {
	licenseReader
	membershipReader
	Seat(ctx context.Context, licenseID, userID string) (Seat, error) // apperr.NotFound
	SeatsPage(ctx context.Context, licenseID string, limit int32, cursor string) (store.Page[Seat], error)
	Invite(ctx context.Context, hash string) (Invite, error) // apperr.NotFound
	CreateInvite(ctx context.Context, inv Invite, a audit.Entry, at time.Time) error
	UserByEmail(ctx context.Context, email string) (UserByEmail, error) // apperr.NotFound
	TakeSeat(ctx context.Context, t seatTake) error
	FreeSeat(ctx context.Context, f seatFree) error
}

// seatTake takes a seat of License (as read) in one transaction. It fails with a conflict on
// partLicense when the license's version moved or the seat count no longer admits the variant
// (within: seatsUsed < seats; overage: seatsUsed >= seats under the allow policy), on partSeat
// when the seat or the user's membership exists, on partInvite when the invite is used up,
// expired or of another license.
type seatTake struct {
	License    License
	Overage    bool
	Seat       Seat
	Membership Membership
	Invite     *Invite // the invite used (its keys identify it), or nil
	Usage      map[string]int64
	Gauges     map[string]int64
	Audit      audit.Entry
	At         time.Time
}

// seatFree frees Seat of License: conflict on partLicense when the version moved or no seat is
// counted, on partSeat when the seat or the membership is no longer that seat.
type seatFree struct {
	License License
	Seat    Seat
	Usage   map[string]int64
	Gauges  map[string]int64
	Audit   audit.Entry
	At      time.Time
}

// brandingStore reads and replaces a license's branding.
type brandingStore interface {
	brandingReader
	PutBranding(ctx context.Context, rec BrandingRecord, a audit.Entry, at time.Time) error
}

// usageRecorder is what the usage signals write: markers counted once, and the e-mail directory.
type usageRecorder interface {
	membershipReader
	// CountOnce creates marker and adds deltas to licenseID's usage of the month of at, together;
	// an existing marker makes it a no-op (nil).
	CountOnce(ctx context.Context, marker store.Key, licenseID string, at time.Time, deltas map[string]int64) error
	// SaveAddress writes the directory entry unless another user holds the address (a conflict).
	SaveAddress(ctx context.Context, e UserByEmail) error
	AddressEntry(ctx context.Context, email string) (UserByEmail, error)
	// MoveAddress writes e over the entry of fromUserID (a conflict if it changed), with a.
	MoveAddress(ctx context.Context, e UserByEmail, fromUserID string, a audit.Entry) error
}

// usageStore is the monthly usage items and true-up lines.
type usageStore interface {
	Usage(ctx context.Context, licenseID, month string) (Usage, bool, error)
	TrueUp(ctx context.Context, licenseID, month string) (TrueUp, bool, error)
	// SampleDay adds overage to the month's overage seat-days once per day (false: already today).
	SampleDay(ctx context.Context, licenseID string, at time.Time, overage int64) (bool, error)
	// RaisePeak raises the month's peak seats to used (never lowers it).
	RaisePeak(ctx context.Context, licenseID string, used int64, at time.Time) error
	// CloseMonth writes the true-up line once (conflict on partTrueUp if it exists), marks the
	// month closed and adds the month's enterprise metrics.
	CloseMonth(ctx context.Context, c monthClose) error
}

// monthClose closes License's usage of Month.
type monthClose struct {
	License License
	Line    TrueUp
	Metrics map[string]int64
}

// signingKeys is the published key set.
type signingKeys interface {
	SigningKey(ctx context.Context, kid string) (SigningKeyRecord, error) // apperr.NotFound
	SigningKeys(ctx context.Context) ([]SigningKeyRecord, error)
	// RegisterSigningKey publishes rec unless its kid is known (then it changes nothing: a retired
	// flag set by an operator stays).
	RegisterSigningKey(ctx context.Context, rec SigningKeyRecord) error
}

// Parts of a change whose condition can fail.
const (
	partLicense = "license"
	partSeat    = "seat"
	partInvite  = "invite"
	partTrueUp  = "trueup"
	partAddress = "address"
)

// conflictError names the parts of a change whose condition failed. It unwraps to
// store.ErrConditionFailed, so a lost race is retryable (store.LostRace) wherever it comes from.
type conflictError struct{ parts []string }

func (e *conflictError) Error() string { return "condition failed on " + strings.Join(e.parts, ", ") }
func (e *conflictError) Unwrap() error { return store.ErrConditionFailed }

// conflict is the error of a change refused on parts: a 409 as the store's own failed conditions
// are, should a caller not retry it.
func conflict(parts ...string) error {
	return apperr.Wrap(&conflictError{parts: parts}, apperr.Conflict, "the record changed or already exists")
}

// conflictOn reports whether err is a failed condition on part.
func conflictOn(err error, part string) bool {
	var c *conflictError
	return errors.As(err, &c) && slices.Contains(c.parts, part)
}
