package marketplace

import (
	"context"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/liberation/monetization/shared/facts"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace/ledger"
)

// The marketplace tells the other areas (shared/facts) about purchases, refunds and reviews after
// its own write has committed. There is no outbox: the fact is sent in the same delivery or request
// as the write, and every path that finds the write already done sends it again, so a crash between
// the two is repaired by Stripe's (or the client's) retry. Consumers are idempotent on the ids.

// A sale to the course's own instructor is not a purchase anyone is rewarded for: the instructor
// would pay themselves (70 % comes back) to mint tokens.
func purchaseFact(s Sale) (facts.CoursePurchasedFact, bool) {
	if s.BuyerID == "" || s.BuyerID == s.InstructorID || s.DuplicateOf != "" {
		return facts.CoursePurchasedFact{}, false
	}
	return facts.CoursePurchasedFact{UserID: s.BuyerID, CourseID: s.CourseID, PurchaseID: s.ID,
		AmountCents: s.Amount, Currency: s.Currency, PurchasedAt: s.SoldAt, RefundWindowEndsAt: s.ReleaseAt}, true
}

// tellPurchase counts the buyer's enrolment in their license's usage and sends course.purchased for
// a booked sale (also when an earlier delivery booked it: the consumers are idempotent). A second
// payment for a course the buyer held is not a purchase: it is being refunded.
func tellPurchase(ctx context.Context, d *Deps, s Sale) error {
	f, ok := purchaseFact(s)
	if !ok {
		return nil
	}
	// A seat holder's enrolment counts in their license's usage (counted once per user and course).
	if err := d.RecordEnrolment(ctx, s.BuyerID, s.CourseID, s.SoldAt); err != nil {
		return err
	}
	return d.Queue.Send(ctx, manifest.FactsQueue, facts.CoursePurchased, f.DedupeID(), f)
}

// refundFacts are the course.refunded facts of every refund counted against the sale, oldest id
// first, then one per refund that counted and later failed (Reversed: the tokens' side gives back
// what it took), then one per lost dispute (Dispute, Full: the money went back by force); at is used for
// refunds whose time Stripe did not give. Each carries the sale's price, so the tokens' side can
// take back the refunded fraction.
func refundFacts(s Sale, created map[string]time.Time, at time.Time) []facts.CourseRefundedFact {
	if _, ok := purchaseFact(s); !ok {
		return nil
	}
	ids := slices.Sorted(maps.Keys(s.RefundIDs))
	out := make([]facts.CourseRefundedFact, 0, len(ids)+len(s.Disputes))
	for _, id := range ids {
		when := created[id]
		if when.IsZero() {
			when = at
		}
		out = append(out, facts.CourseRefundedFact{UserID: s.BuyerID, CourseID: s.CourseID, PurchaseID: s.ID,
			RefundID: id, AmountCents: s.RefundIDs[id], PurchaseAmountCents: s.Amount, Currency: s.Currency,
			Full: s.Refunded >= s.Amount, RefundedAt: when.UTC()})
	}
	for _, id := range slices.Sorted(maps.Keys(s.ReversedRefundIDs)) {
		out = append(out, facts.CourseRefundedFact{UserID: s.BuyerID, CourseID: s.CourseID, PurchaseID: s.ID,
			RefundID: id, AmountCents: s.ReversedRefundIDs[id], PurchaseAmountCents: s.Amount, Currency: s.Currency,
			Reversed: true, RefundedAt: at.UTC()})
	}
	lost := make([]string, 0, len(s.Disputes))
	for id, dp := range s.Disputes {
		if dp.Status == ledger.DisputeLost {
			lost = append(lost, id)
		}
	}
	sort.Strings(lost)
	for _, id := range lost {
		out = append(out, facts.CourseRefundedFact{UserID: s.BuyerID, CourseID: s.CourseID, PurchaseID: s.ID,
			RefundID: id, AmountCents: s.Disputes[id].Amount, PurchaseAmountCents: s.Amount, Currency: s.Currency,
			Full: true, Dispute: true, RefundedAt: at.UTC()})
	}
	return out
}

func tellRefunds(ctx context.Context, d *Deps, fs []facts.CourseRefundedFact) error {
	for _, f := range fs {
		if err := d.Queue.Send(ctx, manifest.FactsQueue, facts.CourseRefunded, f.DedupeID(), f); err != nil {
			return err
		}
	}
	return nil
}

// reviewFact is review.published of a review. A review is one per learner and course, so its id is
// the pair; rewards earns once per course however often the review is rewritten.
func reviewFact(rv Review) facts.ReviewPublishedFact {
	return facts.ReviewPublishedFact{UserID: rv.UserID, CourseID: rv.CourseID, ReviewID: rv.CourseID + "/" + rv.UserID,
		Rating: rv.Rating, PublishedAt: rv.CreatedAt}
}
