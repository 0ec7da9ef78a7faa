package marketplace

import (
	"context"
	"testing"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/privacy/privacytest"
	"github.com/liberation/monetization/shared/store"
)

// The erasure's writes (repo_privacy.go) on the table — in process, and on moto with the
// integration tag (decision 0073): each is refused when the record changed since it was read or is
// already erased, so a concurrent change is never lost and nothing is erased twice.
func TestErasureRepoConditions(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, nil)
	r := erasureRepo{s: s}
	rd := privacy.Reader{S: s}
	it := privacytest.Item
	enrol, entry, review := store.EnrollmentKey("u1", "crs_1"), store.LedgerKey("ins", t0, "le_1"), store.CourseReviewKey("crs_1", "u1")
	co, prof := store.OpenCheckoutKey("u1", "crs_2"), store.InstructorKey("ins")
	privacytest.Seed(t, s,
		it(enrol, "enrollment", map[string]any{"courseId": "crs_1", "version": 2}),
		it(entry, "ledger", map[string]any{"available": 500}),
		it(review, "review", map[string]any{"rating": 4, "text": "mine", "authorName": "Uma", "status": "published", "version": 3}),
		it(co, "course-checkout", map[string]any{"sessionId": "cs_new"}),
		it(prof, "instructor", map[string]any{"email": "new@example.com", "bio": "hi", "connectAccountId": "acct_1"}),
		it(store.SaleKey("ins", "sale_1"), "sale", map[string]any{"status": SaleDisputed, "id": "sale_1"}),
		it(store.SaleKey("ins", "sale_2"), "sale", map[string]any{"status": SaleAvailable, "id": "sale_2"}),
	)
	get := func(k store.Key) map[string]any {
		t.Helper()
		row, _, err := rd.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		return row
	}
	failed := func(what string, err error) {
		t.Helper()
		if !store.IsConditionFailed(err) {
			t.Fatalf("%s: %v, want a failed condition", what, err)
		}
	}
	ok := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	failed("tag over a stale version", r.tag(ctx, enrol, "anon_1", 1))
	ok("tag", r.tag(ctx, enrol, "anon_1", 2))
	if row := get(enrol); privacy.Str(row, "erasedAs") != "anon_1" || num(row, "version") != 3 {
		t.Fatalf("tagged enrolment %v", row)
	}
	failed("tag twice", r.tag(ctx, enrol, "anon_1", 3))
	ok("tag an unversioned record", r.tag(ctx, entry, "anon_1", 0))
	failed("tag an unversioned record twice", r.tag(ctx, entry, "anon_1", 0))
	failed("tag a missing record", r.tag(ctx, store.LedgerKey("ins", t0, "le_none"), "anon_1", 0))
	if row := get(store.LedgerKey("ins", t0, "le_none")); row != nil {
		t.Fatalf("a tag created a record: %v", row)
	}

	failed("review over a stale version", r.eraseReview(ctx, review, "anon_1", privacy.ErasedText, 2))
	ok("review", r.eraseReview(ctx, review, "anon_1", privacy.ErasedText, 3))
	if row := get(review); privacy.Str(row, "text") != privacy.ErasedText || privacy.Str(row, "authorName") != "anon_1" ||
		num(row, "rating") != 4 || privacy.Str(row, "status") != "published" || num(row, "version") != 4 {
		t.Fatalf("erased review %v", row)
	}

	failed("checkout of another session", r.deleteCheckout(ctx, co, "cs_old"))
	ok("checkout", r.deleteCheckout(ctx, co, "cs_new"))
	if get(co) != nil {
		t.Fatal("the checkout is still there")
	}

	au := audit.Entry{Actor: privacy.ActorErasure, Action: ActionEraseInstructor, Target: "person:anon_1", RequestID: "era_1"}
	pe := profileErasure{Set: map[string]string{"email": "anon_1@erased.invalid", "erasedAs": "anon_1"}, Remove: []string{"bio"},
		Read: map[string]string{"email": "old@example.com"}, At: t0, Audit: au}
	failed("profile over an e-mail changed since", r.eraseProfile(ctx, prof, pe))
	pe.Read["email"] = "new@example.com"
	ok("profile", r.eraseProfile(ctx, prof, pe))
	row := get(prof)
	if privacy.Str(row, "email") != "anon_1@erased.invalid" || row["bio"] != nil || privacy.Str(row, "connectAccountId") != "acct_1" {
		t.Fatalf("erased profile %v", row)
	}
	failed("profile twice", r.eraseProfile(ctx, prof, pe))

	sales, err := r.disputedSales(ctx, "ins")
	if err != nil || len(sales) != 1 || sales[0].ID != "sale_1" {
		t.Fatalf("disputed sales %+v %v", sales, err)
	}
}
