package marketplace

import (
	"context"
	"testing"

	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/store"
)

// aggregate checks the course's rating counters against the reviews that count, and that no
// counter is negative.
func (w *world) aggregate(courseID string) map[string]int64 {
	w.t.Helper()
	want := map[string]int64{}
	for _, rv := range w.books.reviews {
		if rv.CourseID == courseID {
			for k, v := range RatingDeltas(0, (&rv).counted()) {
				want[k] += v
			}
		}
	}
	got := w.books.listing[courseID]
	for _, k := range []string{catalog.CtrRatingCount, catalog.CtrRatingSum, catalog.CtrStars(1), catalog.CtrStars(2),
		catalog.CtrStars(3), catalog.CtrStars(4), catalog.CtrStars(5)} {
		if got[k] != want[k] || got[k] < 0 {
			w.t.Fatalf("%s: aggregate %v, the reviews that count give %v", k, got, want)
		}
	}
	return got
}

// 6. A review deleted and written again keeps a growing version (the delete leaves a tombstone), so
// a stale PUT from another device, computed on the first review, fails its condition instead of
// taking the old rating out twice (the histogram went to −1).
func TestStaleReviewWriteAfterDeleteAndRecreateIsRefused(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.course("crs_1", "ins", 999)
	w.mustBook(w.paid("cs_a", "ana", "crs_1", 999))
	if _, _, err := putReview(ctx, w.d, "crs_1", "ana", "Ana", 5, "great"); err != nil {
		t.Fatal(err)
	}
	stale, _ := w.books.Review(ctx, "crs_1", "ana") // device A reads the 5★ review (version 1)
	if deleted, err := deleteReview(ctx, w.d, "crs_1", "ana"); err != nil || !deleted {
		t.Fatalf("delete: %v %v", deleted, err)
	}
	if rv, created, err := putReview(ctx, w.d, "crs_1", "ana", "Ana", 3, "ok"); err != nil || !created || rv.Version != 3 {
		t.Fatalf("written again: %+v created=%v %v", rv, created, err)
	}
	holding := w.enrolment("ana", "crs_1")
	next := Review{CourseID: "crs_1", UserID: "ana", Rating: 2, Status: ReviewPublished}
	err := w.books.Commit(ctx, reviewChange(stale, next, holding, w.clk.Now()))
	if !store.IsConditionFailed(err) {
		t.Fatalf("a stale write passed: %v", err)
	}
	if got := w.aggregate("crs_1"); got[catalog.CtrRatingCount] != 1 || got[catalog.CtrStars(3)] != 1 || got[catalog.CtrStars(5)] != 0 {
		t.Fatalf("aggregate %v", got)
	}
	// Deleting twice: the second changes nothing.
	if _, err := deleteReview(ctx, w.d, "crs_1", "ana"); err != nil {
		t.Fatal(err)
	}
	if deleted, _ := deleteReview(ctx, w.d, "crs_1", "ana"); deleted {
		t.Fatal("a tombstone was deleted again")
	}
	if rv := w.books.reviews[k2("crs_1", "ana")]; rv.Text != "" || rv.GSI1PK != "" {
		t.Fatalf("a deleted review keeps its text or its place in the list: %+v", rv)
	}
	w.aggregate("crs_1")
}

// 7. A review counts only while its author holds the course: a full refund withholds it (kept for
// moderation), a refund that fails publishes it again, and a learner without access cannot write.
func TestRefundWithholdsTheReviewAndAFailedRefundRestoresIt(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.course("crs_1", "ins", 999)
	p := w.paid("cs_a", "ana", "crs_1", 999)
	w.mustBook(p)
	if _, _, err := putReview(ctx, w.d, "crs_1", "ana", "Ana", 1, "bad"); err != nil {
		t.Fatal(err)
	}
	w.stripe.refunds[p.PaymentIntentID] = []StripeRefund{{ID: "re_1", AmountCents: 999, Status: "pending"}}
	if err := w.refundEvent(p.PaymentIntentID, "evt_1", 999); err != nil {
		t.Fatal(err)
	}
	rv := w.books.reviews[k2("crs_1", "ana")]
	if rv.Status != ReviewWithheld || rv.Text != "bad" || rv.GSI1PK != "" {
		t.Fatalf("the refunded learner's review: %+v", rv)
	}
	if got := w.aggregate("crs_1"); got[catalog.CtrRatingCount] != 0 {
		t.Fatalf("a refunded learner's review still counts: %v", got)
	}
	if _, _, err := putReview(ctx, w.d, "crs_1", "ana", "Ana", 1, "bad again"); err == nil {
		t.Fatal("a learner without access wrote a review")
	}
	w.stripe.refunds[p.PaymentIntentID][0].Status = "canceled"
	if err := w.refundEvent(p.PaymentIntentID, "evt_2", 0); err != nil {
		t.Fatal(err)
	}
	if rv := w.books.reviews[k2("crs_1", "ana")]; rv.Status != ReviewPublished || w.aggregate("crs_1")[catalog.CtrRatingCount] != 1 {
		t.Fatalf("access back, review not: %+v", rv)
	}
	// A lost dispute withholds it too.
	if err := w.disputeEvent(p.PaymentIntentID, "evt_dp", StripeDispute{ID: "dp_1", Status: "lost", AmountCents: 999}); err != nil {
		t.Fatal(err)
	}
	if rv := w.books.reviews[k2("crs_1", "ana")]; rv.Status != ReviewWithheld || w.aggregate("crs_1")[catalog.CtrRatingCount] != 0 {
		t.Fatalf("after a lost dispute: %+v", rv)
	}
}
