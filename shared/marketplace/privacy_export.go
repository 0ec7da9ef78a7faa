package marketplace

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

// BuildPersonalExportHooks registers the marketplace's exporter with the export host
// (docs/privacy.md).
func BuildPersonalExportHooks(rt *platform.Runtime, r *privacy.Registry) error {
	r.RegisterExporter("marketplace", PersonalDataExporter(privacy.Reader{S: store.Open(rt)}))
	return nil
}

// PersonalDataExporter answers for the marketplace's items about a person, as a learner (their
// enrolments, the review they wrote of each course, their open checkouts) and as an instructor
// (profile, balance, courses, sales, ledger, payouts). Other people's data stays out: a sale shows
// no buyer nor the buyer's payment, and the reviews others wrote of the instructor's courses are
// theirs, not the instructor's. Stripe event ids are bookkeeping, left out everywhere.
func PersonalDataExporter(rd privacy.Reader) privacy.Exporter {
	return privacy.Sources(func(s privacy.Subject) []privacy.Source {
		pk, instr := store.UserPK(s.UserID), store.InstructorPK(s.UserID)
		courses, _ := store.InstructorCoursesGSI1(s.UserID, time.Time{}, "")
		return []privacy.Source{
			rd.Partition("enrollment", pk, store.EnrollmentPrefix).
				Expanding(func(ctx context.Context, row, clean map[string]any) ([]privacy.Item, error) {
					items := []privacy.Item{{Type: "enrollment", Data: clean}}
					course := privacy.Str(row, "courseId")
					if course == "" {
						return items, nil
					}
					review, ok, err := rd.Get(ctx, store.CourseReviewKey(course, s.UserID))
					if err != nil {
						return nil, err
					}
					if ok {
						items = append(items, privacy.Item{Type: "review", Data: privacy.Clean(review)})
					}
					return items, nil
				}),
			// The Checkout URL is a bearer link to a payment page: left out.
			rd.Partition("course-checkout", pk, store.OpenCheckoutPrefix).Without("url"),
			rd.One("instructor-profile", store.InstructorKey(s.UserID)),
			rd.One("instructor-balance", store.InstructorBalanceKey(s.UserID)),
			rd.Index("course", courses),
			rd.Partition("sale", instr, store.SalePrefix).Without("buyerId", "sessionId", "paymentIntentId", "chargeId", "paymentId", "eventId"),
			rd.Partition("ledger-entry", instr, store.LedgerPrefix).Without("requestId"),
			rd.Partition("payout", instr, store.PayoutPrefix),
		}
	})
}
