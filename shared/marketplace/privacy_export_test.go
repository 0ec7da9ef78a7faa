package marketplace

import (
	"fmt"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/privacy/privacytest"
	"github.com/liberation/monetization/shared/store"
)

// The marketplace exports a person as a learner (enrolments, the review they wrote, open
// checkouts without their URL) and as an instructor (profile, balance, courses, sales without the
// buyer, ledger, payouts) — and not the reviews others wrote of their course, nor another
// learner's review of a course they hold.
func TestPersonalDataExporter(t *testing.T) {
	s := newTestStore(t, nil)
	it := privacytest.Item
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	gpk, gsk := store.InstructorCoursesGSI1("u1", at, "crs_own")
	privacytest.Seed(t, s,
		it(store.EnrollmentKey("u1", "crs_a"), "enrollment", map[string]any{"userId": "u1", "courseId": "crs_a", "status": "active"}),
		it(store.CourseReviewKey("crs_a", "u1"), "review", map[string]any{"courseId": "crs_a", "userId": "u1", "text": "mine, on crs_a"}),
		it(store.CourseReviewKey("crs_a", "u2"), "review", map[string]any{"courseId": "crs_a", "userId": "u2", "text": "theirs, on crs_a"}),
		it(store.OpenCheckoutKey("u1", "crs_b"), "course-checkout", map[string]any{"sessionId": "cs_1", "url": "https://checkout.stripe.com/c/pay/cs_1"}),
		it(store.InstructorKey("u1"), "instructor", map[string]any{"email": "u1@example.com"}),
		it(store.InstructorBalanceKey("u1"), "balance", map[string]any{"available": 699}),
		it(store.CourseKey("crs_own"), "course", map[string]any{"id": "crs_own", "title": "Own course", "GSI1PK": gpk, "GSI1SK": gsk}),
		it(store.CourseReviewKey("crs_own", "u3"), "review", map[string]any{"courseId": "crs_own", "userId": "u3", "text": "a learner's review of u1's course"}),
		it(store.PayoutKey("u1", "2026-11"), "payout", map[string]any{"amountCents": 699}),
	)
	for i := 0; i < 4; i++ {
		privacytest.Seed(t, s,
			it(store.SaleKey("u1", fmt.Sprintf("sal_%d", i)), "sale", map[string]any{"id": fmt.Sprintf("sal_%d", i), "amountCents": 999,
				"buyerId": "u3", "paymentId": "pay_of_u3", "chargeId": "ch_of_u3", "eventId": "evt_of_u3"}),
			it(store.LedgerKey("u1", at.Add(time.Duration(i)*time.Second), fmt.Sprintf("le_%d", i)), "ledger", map[string]any{"kind": "sale", "requestId": "req-1"}))
	}
	items, _ := privacytest.All(t, PersonalDataExporter(privacy.Reader{S: s}), privacy.Subject{UserID: "u1"}, 3)
	want := map[string]int{"enrollment": 1, "review": 1, "course-checkout": 1, "instructor-profile": 1, "instructor-balance": 1,
		"course": 1, "sale": 4, "ledger-entry": 4, "payout": 1}
	got := privacytest.Count(items)
	for typ, n := range want {
		if got[typ] != n {
			t.Errorf("%s: %d items, want %d (%v)", typ, got[typ], n, got)
		}
	}
	privacytest.Holds(t, items, []string{"mine, on crs_a", "Own course", "cs_1", `"available":699`},
		[]string{"theirs", "a learner's review", "u3", "checkout.stripe.com", "req-1"})
}
