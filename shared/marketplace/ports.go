package marketplace

import (
	"context"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/auth"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/store"
)

// What the marketplace's money code needs from storage, as an interface it owns. Production wires
// dynamoBooks (repo_books.go, the only file of the money path with DynamoDB input literals); unit
// and property tests wire the in-memory memBooks (fakes_test.go), so every rule about sales,
// refunds, disputes, access, reviews, releases and payouts runs with nothing started. The contract
// test (books_contract_test.go) runs the same cases against both.

// Books is the marketplace's record of money and access: sales and their pointers, enrolments,
// reviews (as far as the rating aggregate goes), instructors' balances and ledgers, payouts, open
// Checkout Sessions and parked Stripe events. Reads are strongly consistent unless they list.
type Books interface {
	SaleBook
	PayoutBook
	// Commit writes a change atomically: every versioned item is written over the version read,
	// every new item only if absent, the movement's balances with their ledger entries. A lost race
	// is a failed condition (store.IsConditionFailed); nothing is written then.
	Commit(ctx context.Context, c *Change) error
}

// SaleBook is what booking, refunding and disputing a sale, and the access and reviews that follow
// it, read.
type SaleBook interface {
	Course(ctx context.Context, courseID string) (Course, error) // NotFound
	Sale(ctx context.Context, instructorID, saleID string) (Sale, error)
	// SaleOfSession reads the guard of a Checkout Session (NotFound: not booked).
	SaleOfSession(ctx context.Context, sessionID string) (SalePointer, error)
	// SaleOfCharge finds the sale of a charge by its PaymentIntent, else through payments' record
	// of the charge. NotFound when no sale is booked for it.
	SaleOfCharge(ctx context.Context, chargeID, paymentIntentID string) (Sale, error)
	// NotACourseCharge reports that payments recorded the charge as something else than a course
	// (a subscription invoice): its events are not the marketplace's.
	NotACourseCharge(ctx context.Context, chargeID, paymentIntentID string) (bool, error)
	Enrollment(ctx context.Context, userID, courseID string) (*Enrollment, error) // nil: none
	Review(ctx context.Context, courseID, userID string) (*Review, error)         // nil: none
	// DueSales lists unreleased sales whose release time is at or before now, oldest first, after
	// the position after ("" from the start); next is "" at the end.
	DueSales(ctx context.Context, now time.Time, after string, limit int) (sales []Sale, next string, err error)
	// ParkedEvents lists the events remembered for a PaymentIntent or charge; Park remembers one.
	ParkedEvents(ctx context.Context, ref string) ([]ParkedEvent, error)
	Park(ctx context.Context, e ParkedEvent) error
	// OpenCheckout reads a learner's open Checkout Session for a course (nil: none).
	OpenCheckout(ctx context.Context, userID, courseID string) (*OpenCheckout, error)
	// SaveCheckout records co as the open session, if the one recorded is still prev ("" : none).
	SaveCheckout(ctx context.Context, co OpenCheckout, prev string) error
}

// PayoutBook is what payouts and instructors' Connect accounts read and write.
type PayoutBook interface {
	Balance(ctx context.Context, instructorID string) (Balance, error)        // zero when none
	Instructor(ctx context.Context, instructorID string) (Instructor, error)  // {ID} when none
	Payout(ctx context.Context, instructorID, period string) (*Payout, error) // nil: none
	// PayableInstructors lists the instructors whose balance is on the payable index.
	PayableInstructors(ctx context.Context) ([]string, error)
	// Unlist takes a balance with nothing available off the payable index (a concurrent credit
	// wins: its condition fails silently).
	Unlist(ctx context.Context, instructorID string) error
	// PayoutsOf lists a period's payouts of one status.
	PayoutsOf(ctx context.Context, period, status string) ([]Payout, error)
	// CountTransferAttempt adds one to a transferring payout's attempts (failed condition: it is
	// no longer transferring).
	CountTransferAttempt(ctx context.Context, instructorID, period string) error
	// RecordAccount stores whether an instructor's Connect account can receive payouts, as of the
	// account.updated event created at a.EventAt (seconds), with its audit record. It applies only
	// to the account on the profile, and only over an older state — or, with sameSecond, over the
	// state of that same second (a tie the caller broke by reading the account from Stripe).
	// Failed condition: not applied.
	RecordAccount(ctx context.Context, a AccountState, sameSecond bool, au audit.Entry) error
	// SaveAccount stores an instructor's new Connect account once (the first stored wins).
	SaveAccount(ctx context.Context, instructorID, accountID, email string, at time.Time) (string, bool, error)
}

// Courses is what the marketplace's course pages and lists read and write: courses with their
// catalog listings and lessons, the instructor's profile as a course creates it, and the listed
// pages of sales, payouts, enrolments and reviews (each page with the store's signed cursor, bound
// to its list). Production wires dynamoCourses (repo_courses.go); unit tests wire memBooks.
type Courses interface {
	// CreateCourse writes a new course, its catalog listing, the instructor's profile (created on
	// first use, e-mail kept up to date, Connect fields untouched) and au, at c.CreatedAt.
	CreateCourse(ctx context.Context, c Course, instructor auth.Principal, au audit.Entry) error
	// SaveCourse replaces a course over the version read with its listing's fields and au (at
	// c.UpdatedAt), moving the published-courses gauge by publishedDelta. Failed condition: lost race.
	SaveCourse(ctx context.Context, c Course, read, publishedDelta int64, au audit.Entry) error
	// AddLesson stores a new lesson and counts it on its course (moving the course's version).
	// Failed condition: the course is gone or already has MaxLessons lessons.
	AddLesson(ctx context.Context, l Lesson) error
	// Lessons lists a course's lessons in creation order (strongly consistent).
	Lessons(ctx context.Context, courseID string) ([]Lesson, error)
	// SetUploaded records whether a lesson's object was found (failed condition: no such lesson).
	SetUploaded(ctx context.Context, l Lesson, ok bool) error
	// Listing reads a course's catalog listing ({CourseID} when none).
	Listing(ctx context.Context, courseID string) (catalog.Listing, error)

	// The lists, newest first; limit items after cursor ("" from the start). A cursor of another
	// list, or a forged one, is an apperr.Invalid.
	InstructorCourses(ctx context.Context, instructorID string, limit int32, cursor string) (store.Page[Course], error)
	MyCourses(ctx context.Context, userID string, limit int32, cursor string) (store.Page[Enrollment], error)
	CourseReviews(ctx context.Context, courseID string, limit int32, cursor string) (store.Page[Review], error)
	Sales(ctx context.Context, instructorID string, limit int32, cursor string) (store.Page[Sale], error)
	InstructorPayouts(ctx context.Context, instructorID string, limit int32, cursor string) (store.Page[Payout], error)
	// PeriodPayouts lists a period's payouts (of one status unless status is ""), by status then
	// instructor.
	PeriodPayouts(ctx context.Context, period, status string, limit int32, cursor string) (store.Page[Payout], error)

	// NextRelease is the release time of the instructor's oldest unreleased sale whose id is at or
	// after the id floor of since (nil: none).
	NextRelease(ctx context.Context, instructorID string, since time.Time) (*time.Time, error)
	// LedgerEntries reads an instructor's ledger entries from from to to, oldest first, at most max.
	LedgerEntries(ctx context.Context, instructorID string, from, to time.Time, max int32) ([]LedgerEntry, error)
	// Metrics reads the marketplace's gauges and a period's counters (admin metrics).
	Metrics(ctx context.Context, period string) (mktmetrics.Metrics, error)
	// WriteAudit records an audit entry on its own (a route's action that moves nothing).
	WriteAudit(ctx context.Context, e audit.Entry) error
}

// checkoutRecorder is payments' record of a paid Checkout Session: a course purchase's payment is
// written with the sale's items (extra) in one transaction (docs/decisions/0062).
// payments.CheckoutRecorder in production.
type checkoutRecorder interface {
	CheckoutPaidWith(ctx context.Context, userID string, s *stripe.CheckoutSession, src payments.Source, extra payments.Extra) error
}

var _ checkoutRecorder = (*payments.Recorder)(nil)

// Versioned is an item as it will be written and the version it was read at (0: it did not exist).
type Versioned[T any] struct {
	Item T
	Read int64
}

// Change is one atomic change of the marketplace's books. Book says who, when and why (the ledger
// entries' and the audit record's fields); Move is the money (balances with their ledger entries,
// gauges and day counters, and an audit record "marketplace.<kind>"); Audit replaces that record
// when nothing moves. Every other part is optional.
type Change struct {
	Book  booking
	Move  ledger.Movement
	Audit *audit.Entry

	// Sale is created when its Version is 0 (after NewPointers' guard), else replaced over its
	// Version. Commit derives its keys and status and increments Version.
	Sale        *Sale
	NewPointers []SalePointer // must not exist: the first is the Checkout Session's guard
	Pointers    []SalePointer // written whatever was there (PaymentIntent pointers)

	Enrollment *Versioned[Enrollment]
	// Holding conditions the change on the learner still holding the course (a review write).
	Holding *Enrollment
	Review  *Versioned[Review]
	// Listing moves the course's catalog counters (enrolments, rating count, sum and histogram).
	Listing map[string]int64

	Payout *Versioned[Payout]
	Unpark []ParkedEvent
}

// AccountState is a Connect account's payouts capability as an event or Stripe reported it.
type AccountState struct {
	InstructorID   string
	AccountID      string
	PayoutsEnabled bool
	EventAt        int64 // the account.updated event's created time (seconds)
	At             time.Time
}

// ParkedEvent is a Stripe event about a charge whose sale was not booked when it arrived.
type ParkedEvent struct {
	Ref       string    `dynamodbav:"ref"` // PaymentIntent id, else charge id
	EventID   string    `dynamodbav:"eventId"`
	EventType string    `dynamodbav:"eventType"`
	ChargeID  string    `dynamodbav:"chargeId,omitempty"`
	At        time.Time `dynamodbav:"at"`
}

// OpenCheckout is a learner's Checkout Session for a course that may still be paid.
type OpenCheckout struct {
	UserID     string    `dynamodbav:"userId"`
	CourseID   string    `dynamodbav:"courseId"`
	SessionID  string    `dynamodbav:"sessionId"`
	URL        string    `dynamodbav:"url"`
	PriceCents int64     `dynamodbav:"priceCents"`
	CouponID   string    `dynamodbav:"couponId,omitempty"`
	SuccessURL string    `dynamodbav:"successUrl"`
	CancelURL  string    `dynamodbav:"cancelUrl"`
	CreatedAt  time.Time `dynamodbav:"createdAt"`
	ExpiresAt  time.Time `dynamodbav:"expiresAtTime"`
}
