// Package facts is what one area tells the others about something that happened to a user in its
// own domain — a course bought or refunded, a review published, a subscription renewed — as typed
// payloads on the platform's `facts` queue (manifest.FactsQueue), consumed by the apply-facts host
// with the hooks areas register (ApplyFactsHooks). Producers and consumers agree on these types
// without importing each other. Nothing here talks to AWS.
//
// Delivery is at least once and in any order: a producer sends a fact after its own write has
// committed, retrying or redriving freely; every consumer is idempotent on the ids a fact carries.
// A producer function declares Sends: []string{manifest.FactsQueue} and, for example:
//
//	f := facts.CoursePurchasedFact{UserID: u, CourseID: c, PurchaseID: p, AmountCents: 4900, Currency: "usd",
//		PurchasedAt: paidAt, RefundWindowEndsAt: paidAt.AddDate(0, 0, 30)}
//	err := sender.Send(ctx, manifest.FactsQueue, facts.CoursePurchased, f.DedupeID(), f)
package facts

import (
	"strings"
	"time"
)

// Fact types (the queue envelope's "type").
const (
	// CoursePurchased: a paid course purchase succeeded (marketplace, after recording the payment).
	CoursePurchased = "course.purchased"
	// CourseRefunded: a course purchase was refunded, in full or in part (marketplace).
	CourseRefunded = "course.refunded"
	// ReviewPublished: a learner's review of a course became visible (marketplace).
	ReviewPublished = "review.published"
	// SubscriptionRenewed: a subscription invoice for a new period was paid (billing).
	SubscriptionRenewed = "subscription.renewed"
)

// Types lists every fact type.
var Types = []string{CoursePurchased, CourseRefunded, ReviewPublished, SubscriptionRenewed}

// CoursePurchasedFact is the payload of course.purchased. PurchaseID identifies the purchase for
// good (a refund names it); RefundWindowEndsAt is the last moment a refund is granted under the
// marketplace's policy (purchase + 30 days today).
type CoursePurchasedFact struct {
	UserID             string    `json:"userId"`
	CourseID           string    `json:"courseId"`
	PurchaseID         string    `json:"purchaseId"`
	AmountCents        int64     `json:"amountCents"`
	Currency           string    `json:"currency"`
	PurchasedAt        time.Time `json:"purchasedAt"`
	RefundWindowEndsAt time.Time `json:"refundWindowEndsAt"`
}

// CourseRefundedFact is the payload of course.refunded. RefundID is unique per refund (several
// partial refunds of one purchase have different ids); AmountCents is this refund's amount and
// PurchaseAmountCents the purchase's price (so a consumer can take back the refunded fraction even
// when the refund arrives before the purchase); Full says the purchase is now refunded entirely.
// A lost dispute is told the same way: RefundID is the dispute's id, Dispute is true and Full is
// true (the money went back by force, outside any refund policy).
type CourseRefundedFact struct {
	UserID              string `json:"userId"`
	CourseID            string `json:"courseId"`
	PurchaseID          string `json:"purchaseId"`
	RefundID            string `json:"refundId"`
	AmountCents         int64  `json:"amountCents"`
	PurchaseAmountCents int64  `json:"purchaseAmountCents,omitempty"`
	Currency            string `json:"currency"`
	Full                bool   `json:"full"`
	Dispute             bool   `json:"dispute,omitempty"`
	// Reversed says the refund no longer counts: Stripe failed or canceled it after it was told
	// (the marketplace gave the shares and the course back). Its dedupe id differs from the refund's.
	Reversed   bool      `json:"reversed,omitempty"`
	RefundedAt time.Time `json:"refundedAt"`
}

// ReviewPublishedFact is the payload of review.published.
type ReviewPublishedFact struct {
	UserID      string    `json:"userId"`
	CourseID    string    `json:"courseId"`
	ReviewID    string    `json:"reviewId"`
	Rating      int       `json:"rating"`
	PublishedAt time.Time `json:"publishedAt"`
}

// SubscriptionRenewedFact is the payload of subscription.renewed: one per paid invoice of a new
// billing period after the first (Stripe billing_reason subscription_cycle). Tier is our tier id
// ("pro", "enterprise") the invoice paid for.
type SubscriptionRenewedFact struct {
	UserID         string    `json:"userId"`
	Tier           string    `json:"tier"`
	InvoiceID      string    `json:"invoiceId"`
	SubscriptionID string    `json:"subscriptionId"`
	PeriodStart    time.Time `json:"periodStart"`
	PeriodEnd      time.Time `json:"periodEnd"`
	PaidAt         time.Time `json:"paidAt"`
}

// DedupeID is the envelope's dedupe id of a fact: its type and the id that makes it unique
// ("course.purchased:pur_123"). A redelivered or re-sent fact carries the same one.
func DedupeID(typ string, ids ...string) string {
	return typ + ":" + strings.Join(ids, ":")
}

// Dedupe ids of each fact, from the ids it carries.
func (f CoursePurchasedFact) DedupeID() string { return DedupeID(CoursePurchased, f.PurchaseID) }
func (f CourseRefundedFact) DedupeID() string {
	if f.Reversed {
		return DedupeID(CourseRefunded, f.RefundID+"#reversed")
	}
	return DedupeID(CourseRefunded, f.RefundID)
}
func (f ReviewPublishedFact) DedupeID() string { return DedupeID(ReviewPublished, f.ReviewID) }
func (f SubscriptionRenewedFact) DedupeID() string {
	return DedupeID(SubscriptionRenewed, f.InvoiceID)
}
