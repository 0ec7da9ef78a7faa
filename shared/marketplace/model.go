package marketplace

import (
	"time"

	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/store"
)

// The marketplace's items. Keys come from shared/store/keys.go; docs/data-model.md lists every item
// and access pattern.

// Course is a course's own item (store.CourseKey). Status: draft → published ⇄ unpublished.
type Course struct {
	PK             string     `dynamodbav:"PK"`
	SK             string     `dynamodbav:"SK"`
	GSI1PK         string     `dynamodbav:"GSI1PK"`
	GSI1SK         string     `dynamodbav:"GSI1SK"`
	Type           string     `dynamodbav:"type"`
	ID             string     `dynamodbav:"id"`
	InstructorID   string     `dynamodbav:"instructorId"`
	InstructorName string     `dynamodbav:"instructorName"`
	Title          string     `dynamodbav:"title"`
	Subtitle       string     `dynamodbav:"subtitle,omitempty"`
	Description    string     `dynamodbav:"description"`
	Category       string     `dynamodbav:"category"`
	Level          string     `dynamodbav:"level"`
	Language       string     `dynamodbav:"language"`
	PriceCents     int64      `dynamodbav:"priceCents"`
	Currency       string     `dynamodbav:"currency"`
	Tags           []string   `dynamodbav:"tags,omitempty"`
	Status         string     `dynamodbav:"status"`
	LessonCount    int64      `dynamodbav:"lessonCount"`
	CreatedAt      time.Time  `dynamodbav:"createdAt"`
	UpdatedAt      time.Time  `dynamodbav:"updatedAt"`
	PublishedAt    *time.Time `dynamodbav:"publishedAt,omitempty"` // first publication
	Version        int64      `dynamodbav:"version"`
	// ErasedAs is the pseudonym of the erased instructor (privacy_erase.go): kept so that every
	// later whole-item write of the course keeps it.
	ErasedAs string `dynamodbav:"erasedAs,omitempty"`
}

// SetKeys fills the course's keys.
func (c *Course) SetKeys() {
	k := store.CourseKey(c.ID)
	c.PK, c.SK, c.Type = k.PK, k.SK, "course"
	c.GSI1PK, c.GSI1SK = store.InstructorCoursesGSI1(c.InstructorID, c.CreatedAt, c.ID)
}

// Listing is the course's catalog listing fields (counters are never written from here).
func (c Course) Listing() catalog.Listing {
	return catalog.Listing{CourseID: c.ID, InstructorID: c.InstructorID, InstructorName: c.InstructorName,
		Title: c.Title, Subtitle: c.Subtitle, Category: c.Category, Level: c.Level, Language: c.Language,
		Tags: c.Tags, Terms: catalog.DescriptionTerms(c.Description, c.Title, c.Subtitle, joinTags(c.Tags)),
		PriceCents: c.PriceCents, Status: c.Status, PublishedAt: c.PublishedAt, UpdatedAt: c.UpdatedAt}
}

// Lesson kinds and their limits.
const (
	KindVideo    = "video"
	KindDocument = "document"
)

// Lesson is one lesson of a course (store.LessonKey); its file is the S3 object at ObjectKey.
type Lesson struct {
	PK          string    `dynamodbav:"PK"`
	SK          string    `dynamodbav:"SK"`
	Type        string    `dynamodbav:"type"`
	ID          string    `dynamodbav:"id"`
	CourseID    string    `dynamodbav:"courseId"`
	Title       string    `dynamodbav:"title"`
	Kind        string    `dynamodbav:"kind"`
	ContentType string    `dynamodbav:"contentType"`
	SizeBytes   int64     `dynamodbav:"sizeBytes"`
	ObjectKey   string    `dynamodbav:"objectKey"`
	Uploaded    bool      `dynamodbav:"uploaded"` // the object was found at the last publish
	CreatedAt   time.Time `dynamodbav:"createdAt"`
}

// Enrollment statuses and sources.
const (
	EnrollActive  = "active"
	EnrollRevoked = "revoked"

	SourcePurchase = "purchase"
	SourceFree     = "free"
)

// Enrollment is a learner's access to a course (store.EnrollmentKey). Active ones carry the
// MyCourses GSI1 keys; a revoked one (every sale behind it fully refunded or lost in a dispute)
// loses them. A purchase enrolment stays active while any of its sales stands (SaleIDs): a learner
// who paid twice keeps access when one of the two is refunded.
type Enrollment struct {
	PK           string     `dynamodbav:"PK"`
	SK           string     `dynamodbav:"SK"`
	GSI1PK       string     `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK       string     `dynamodbav:"GSI1SK,omitempty"`
	Type         string     `dynamodbav:"type"`
	UserID       string     `dynamodbav:"userId"`
	CourseID     string     `dynamodbav:"courseId"`
	CourseTitle  string     `dynamodbav:"courseTitle"`
	InstructorID string     `dynamodbav:"instructorId"`
	Status       string     `dynamodbav:"status"`
	Source       string     `dynamodbav:"source"`
	SaleID       string     `dynamodbav:"saleId,omitempty"`  // the first sale
	SaleIDs      []string   `dynamodbav:"saleIds,omitempty"` // the sales that stand behind the access
	EnrolledAt   time.Time  `dynamodbav:"enrolledAt"`
	RevokedAt    *time.Time `dynamodbav:"revokedAt,omitempty"`
	Version      int64      `dynamodbav:"version"`
	ErasedAs     string     `dynamodbav:"erasedAs,omitempty"` // the erased learner's pseudonym (privacy_erase.go)
}

// SetKeys fills the enrolment's keys (GSI1 only while active).
func (e *Enrollment) SetKeys() {
	k := store.EnrollmentKey(e.UserID, e.CourseID)
	e.PK, e.SK, e.Type = k.PK, k.SK, "enrollment"
	e.GSI1PK, e.GSI1SK = "", ""
	if e.Status == EnrollActive {
		e.GSI1PK, e.GSI1SK = store.MyCoursesGSI1(e.UserID, e.EnrolledAt, e.CourseID)
	}
}

// Active reports access.
func (e Enrollment) Active() bool { return e.Status == EnrollActive }

// standing returns the sales behind the access (an item written before SaleIDs existed names its
// one sale in SaleID).
func (e Enrollment) standing() []string {
	if len(e.SaleIDs) == 0 && e.SaleID != "" && e.Active() && e.Source == SourcePurchase {
		return []string{e.SaleID}
	}
	return e.SaleIDs
}

// Review statuses. Only a published review counts in the course's rating aggregate and is listed;
// a withheld one belongs to a learner who no longer holds the course (refunded, dispute lost) and is
// kept for moderation; a deleted one is a tombstone, so the review's version keeps growing across a
// delete and a new review and no stale write can pass its condition.
const (
	ReviewPublished = "published"
	ReviewWithheld  = "withheld"
	ReviewDeleted   = "deleted"
)

// Review is a learner's one review of a course (store.CourseReviewKey).
type Review struct {
	PK         string    `dynamodbav:"PK"`
	SK         string    `dynamodbav:"SK"`
	GSI1PK     string    `dynamodbav:"GSI1PK,omitempty"` // while published
	GSI1SK     string    `dynamodbav:"GSI1SK,omitempty"`
	Type       string    `dynamodbav:"type"`
	CourseID   string    `dynamodbav:"courseId"`
	UserID     string    `dynamodbav:"userId"`
	AuthorName string    `dynamodbav:"authorName"`
	Rating     int       `dynamodbav:"rating"`
	Text       string    `dynamodbav:"text,omitempty"`
	Status     string    `dynamodbav:"status,omitempty"` // "" (written before statuses) is published
	CreatedAt  time.Time `dynamodbav:"createdAt"`
	UpdatedAt  time.Time `dynamodbav:"updatedAt"`
	Version    int64     `dynamodbav:"version"`
	ErasedAs   string    `dynamodbav:"erasedAs,omitempty"` // the erased author's pseudonym (privacy_erase.go)
}

// SetKeys fills the review's keys (GSI1 by update time, newest first, while published).
func (r *Review) SetKeys() {
	k := store.CourseReviewKey(r.CourseID, r.UserID)
	r.PK, r.SK, r.Type = k.PK, k.SK, "review"
	r.GSI1PK, r.GSI1SK = "", ""
	if r.Counts() {
		r.GSI1PK, r.GSI1SK = store.CourseReviewsGSI1(r.CourseID, r.UpdatedAt, r.UserID)
	}
}

// Counts reports whether the review is in the course's rating aggregate (and listed).
func (r Review) Counts() bool { return r.Status == "" || r.Status == ReviewPublished }

// countsNow is Counts on a review that may be absent (nil: it does not count).
func (r *Review) countsNow() bool { return r != nil && r.Counts() }

// counted is the rating a review adds to the aggregate (0: none).
func (r *Review) counted() int {
	if r == nil || !r.Counts() {
		return 0
	}
	return r.Rating
}

// Instructor is an instructor's profile (store.InstructorKey).
type Instructor struct {
	PK               string    `dynamodbav:"PK"`
	SK               string    `dynamodbav:"SK"`
	Type             string    `dynamodbav:"type"`
	ID               string    `dynamodbav:"id"`
	Email            string    `dynamodbav:"email,omitempty"`
	ConnectAccountID string    `dynamodbav:"connectAccountId,omitempty"`
	PayoutsEnabled   bool      `dynamodbav:"payoutsEnabled"`
	AccountEventAt   int64     `dynamodbav:"accountEventAt,omitempty"` // created time of the last account.updated applied
	CreatedAt        time.Time `dynamodbav:"createdAt"`
	UpdatedAt        time.Time `dynamodbav:"updatedAt"`
}

// Balance is an instructor's buckets (store.InstructorBalanceKey). It changes only by ADD, in the
// transaction that writes the ledger entry explaining the change.
type Balance struct {
	PK             string `dynamodbav:"PK"`
	SK             string `dynamodbav:"SK"`
	Type           string `dynamodbav:"type"`
	InstructorID   string `dynamodbav:"instructorId"`
	Currency       string `dynamodbav:"currency"`
	ledger.Buckets        // pending, available, held, paid
}

// Sale statuses (derived from the money state).
const (
	SalePending           = "pending"
	SaleAvailable         = "available"
	SalePartiallyRefunded = "partially_refunded"
	SaleRefunded          = "refunded"
	SaleDisputed          = "disputed"
)

// Sale is one course sale (store.SaleKey), in its instructor's partition. Every write after its
// creation is a whole-item Put conditioned on Version, because the share arithmetic cannot be
// expressed as condition expressions.
type Sale struct {
	PK              string           `dynamodbav:"PK"`
	SK              string           `dynamodbav:"SK"`
	GSI2PK          string           `dynamodbav:"GSI2PK,omitempty"` // while not released
	GSI2SK          string           `dynamodbav:"GSI2SK,omitempty"`
	Type            string           `dynamodbav:"type"`
	ID              string           `dynamodbav:"id"`
	InstructorID    string           `dynamodbav:"instructorId"`
	CourseID        string           `dynamodbav:"courseId"`
	CourseTitle     string           `dynamodbav:"courseTitle"`
	BuyerID         string           `dynamodbav:"buyerId"`
	SessionID       string           `dynamodbav:"sessionId"`
	PaymentIntentID string           `dynamodbav:"paymentIntentId,omitempty"`
	ChargeID        string           `dynamodbav:"chargeId,omitempty"`
	PaymentID       string           `dynamodbav:"paymentId,omitempty"`
	Currency        string           `dynamodbav:"currency"`
	RefundIDs       map[string]int64 `dynamodbav:"refundIds,omitempty"` // Stripe refund id → cents counted
	// ReversedRefundIDs are refunds that counted once and then failed or were canceled at Stripe
	// (id → cents): course.refunded facts tell them as reversed.
	ReversedRefundIDs map[string]int64 `dynamodbav:"reversedRefundIds,omitempty"`
	Status            string           `dynamodbav:"status"`
	SoldAt            time.Time        `dynamodbav:"soldAt"`
	ReleaseAt         time.Time        `dynamodbav:"releaseAt"`
	ReleasedAt        *time.Time       `dynamodbav:"releasedAt,omitempty"`
	EventID           string           `dynamodbav:"eventId,omitempty"`
	// DuplicateOf names the sale (or "free" enrolment) that already gave the buyer the course when
	// this one was booked: a second payment for the same course, refunded automatically.
	DuplicateOf string `dynamodbav:"duplicateOf,omitempty"`
	// DiscountCents is the token-funded discount Stripe applied at checkout — the rewards coupon
	// CouponID the checkout was created with (PurchaseOf) — on top of what the buyer paid (Amount).
	// The sale's journal entry books it (journalEntry, also when a backfill rebuilds the entry from
	// the stored sale): Dr marketing_token_redemptions, the commission grossed up by it. Refunds and
	// disputes never give it back: Stripe does not restore a used coupon.
	DiscountCents int64  `dynamodbav:"discountCents,omitempty"`
	CouponID      string `dynamodbav:"couponId,omitempty"`
	Version       int64  `dynamodbav:"version"`
	// ErasedAs is the pseudonym of the erased instructor (privacy_erase.go), kept by every later
	// whole-item write of the sale.
	ErasedAs    string `dynamodbav:"erasedAs,omitempty"`
	ledger.Sale        // amount (what was paid), shares, platform, refunds, disputes, released
}

// Stands reports whether the sale still gives its buyer the course (not everything was returned).
func (s Sale) Stands() bool { return !s.FullyReversed() }

// SetKeys fills the sale's keys and derives its status.
func (s *Sale) SetKeys() {
	k := store.SaleKey(s.InstructorID, s.ID)
	s.PK, s.SK, s.Type = k.PK, k.SK, "sale"
	s.GSI2PK, s.GSI2SK = "", ""
	if !s.Released {
		s.GSI2PK, s.GSI2SK = store.PendingSaleGSI2(s.ReleaseAt, s.ID)
	}
	s.Status = s.derivedStatus()
}

func (s Sale) derivedStatus() string {
	for _, d := range s.Disputes {
		if d.Status != ledger.DisputeWon && d.Status != ledger.DisputeLost && d.Status != ledger.DisputeWarningClose {
			return SaleDisputed
		}
	}
	switch {
	case s.FullyReversed():
		return SaleRefunded
	case s.Returned() > 0:
		return SalePartiallyRefunded
	case s.Released:
		return SaleAvailable
	}
	return SalePending
}

// SalePointer points an external id (Checkout Session, PaymentIntent) at a sale. A Checkout
// Session that could not become a sale (a currency we do not sell in) has a pointer with Rejected
// set and no sale: it records the payment to refund, and that the session was handled.
type SalePointer struct {
	PK           string `dynamodbav:"PK"`
	SK           string `dynamodbav:"SK"`
	Type         string `dynamodbav:"type"`
	InstructorID string `dynamodbav:"instructorId,omitempty"`
	SaleID       string `dynamodbav:"saleId,omitempty"`
	// A rejected session: why, and what to refund.
	Rejected        string `dynamodbav:"rejected,omitempty"`
	BuyerID         string `dynamodbav:"buyerId,omitempty"`
	CourseID        string `dynamodbav:"courseId,omitempty"`
	PaymentIntentID string `dynamodbav:"paymentIntentId,omitempty"`
	AmountCents     int64  `dynamodbav:"amountCents,omitempty"`
	Currency        string `dynamodbav:"currency,omitempty"`
}

// LedgerEntry explains one change of an instructor's balance (store.LedgerKey): the bucket deltas
// sum, over all entries, to the balance.
type LedgerEntry struct {
	PK           string    `dynamodbav:"PK"`
	SK           string    `dynamodbav:"SK"`
	Type         string    `dynamodbav:"type"`
	ID           string    `dynamodbav:"id"`
	InstructorID string    `dynamodbav:"instructorId"`
	Kind         string    `dynamodbav:"kind"`
	SaleID       string    `dynamodbav:"saleId,omitempty"`
	CourseID     string    `dynamodbav:"courseId,omitempty"`
	PayoutID     string    `dynamodbav:"payoutId,omitempty"`
	Ref          string    `dynamodbav:"ref,omitempty"`  // refund ids, dispute id
	Memo         string    `dynamodbav:"memo,omitempty"` // for people: the course title
	Currency     string    `dynamodbav:"currency"`
	At           time.Time `dynamodbav:"at"`
	RequestID    string    `dynamodbav:"requestId,omitempty"`
	ledger.Buckets
}

// Payout statuses.
const (
	PayoutCarried      = "carried"      // nothing paid this period (below minimum, not enabled, negative)
	PayoutTransferring = "transferring" // balance moved to paid; the transfer is in flight or ambiguous
	PayoutPaid         = "paid"
	PayoutFailed       = "failed" // Stripe definitely refused; the balance was restored
)

// Payout is an instructor's payout of a period (store.PayoutKey).
type Payout struct {
	PK               string     `dynamodbav:"PK"`
	SK               string     `dynamodbav:"SK"`
	GSI2PK           string     `dynamodbav:"GSI2PK"`
	GSI2SK           string     `dynamodbav:"GSI2SK"`
	Type             string     `dynamodbav:"type"`
	ID               string     `dynamodbav:"id"`
	InstructorID     string     `dynamodbav:"instructorId"`
	Period           string     `dynamodbav:"period"`
	Status           string     `dynamodbav:"status"`
	AmountCents      int64      `dynamodbav:"amountCents"`
	Currency         string     `dynamodbav:"currency"`
	AvailableCents   int64      `dynamodbav:"availableCents"` // the available balance when decided
	CarryReason      string     `dynamodbav:"carryReason,omitempty"`
	ConnectAccountID string     `dynamodbav:"connectAccountId,omitempty"`
	TransferID       string     `dynamodbav:"transferId,omitempty"`
	ReversedCents    int64      `dynamodbav:"reversedCents,omitempty"` // transfer reversals booked back
	FailureCode      string     `dynamodbav:"failureCode,omitempty"`
	Attempts         int        `dynamodbav:"attempts"`
	CreatedAt        time.Time  `dynamodbav:"createdAt"`
	UpdatedAt        time.Time  `dynamodbav:"updatedAt"`
	PaidAt           *time.Time `dynamodbav:"paidAt,omitempty"`
	Version          int64      `dynamodbav:"version"`
	ErasedAs         string     `dynamodbav:"erasedAs,omitempty"` // the erased instructor's pseudonym (privacy_erase.go)
}

// SetKeys fills the payout's keys.
func (p *Payout) SetKeys() {
	k := store.PayoutKey(p.InstructorID, p.Period)
	p.PK, p.SK, p.Type = k.PK, k.SK, "payout"
	p.GSI2PK, p.GSI2SK = store.PayoutsGSI2(p.Period, p.Status, p.InstructorID)
}
