package marketplace

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/facts"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
)

const maxReviewText = 2000

type reviewRequest struct {
	Rating int    `json:"rating"`
	Text   string `json:"text"`
}

func (r *reviewRequest) Validate() error {
	if r.Rating < 1 || r.Rating > 5 {
		return apperr.New(apperr.Invalid, "rating must be a whole number from 1 to 5")
	}
	if err := checkText("text", &r.Text, 0, maxReviewText, true); err != nil {
		return err
	}
	r.Text = strings.TrimSpace(r.Text)
	return nil
}

// RatingDeltas are the listing counter changes of replacing rating old with new (0: none), so the
// count, sum and histogram move exactly with each review write.
func RatingDeltas(old, new int) map[string]int64 {
	d := map[string]int64{}
	if old != 0 {
		d[catalog.CtrRatingCount]--
		d[catalog.CtrRatingSum] -= int64(old)
		d[catalog.CtrStars(old)]--
	}
	if new != 0 {
		d[catalog.CtrRatingCount]++
		d[catalog.CtrRatingSum] += int64(new)
		d[catalog.CtrStars(new)]++
	}
	return d
}

// reviewable returns the course and the caller's enrolment if the caller may review it: an active
// enrolment, and not the course's own instructor (403 otherwise).
func reviewable(ctx context.Context, d *Deps, r *httpapi.Request) (Course, Enrollment, error) {
	id, err := courseID(r)
	if err != nil {
		return Course{}, Enrollment{}, err
	}
	c, err := loadCourse(ctx, d, id)
	if err != nil {
		return Course{}, Enrollment{}, err
	}
	if c.InstructorID == r.Principal.UserID {
		return Course{}, Enrollment{}, apperr.New(apperr.Forbidden, "instructors cannot review their own course")
	}
	e, err := enrollment(ctx, d, r.Principal.UserID, c.ID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return Course{}, Enrollment{}, err
	}
	if err != nil || !e.Active() {
		return Course{}, Enrollment{}, apperr.New(apperr.Forbidden, "only learners enrolled in this course may review it")
	}
	return c, e, nil
}

func wirePutReview(w wiring) (httpapi.Lambda, error) { return HandlePutReview(w.rt.Fn, w.d), nil }

// HandlePutReview serves PUT /courses/{courseId}/review: one review per learner and course (PUT
// replaces it). The review and the course's rating count, sum and histogram change in one
// transaction, conditioned on the review's version (which keeps growing across a delete: the item
// stays as a tombstone, so a stale write from another device never passes) and on the learner
// still holding the course (a refund revoking access at the same moment wins or waits).
func HandlePutReview(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req reviewRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		c, e, err := reviewable(ctx, d, r)
		if err != nil {
			return httpapi.Response{}, err
		}
		rv, created, err := putReview(ctx, d, c.ID, e.UserID, displayName(r, "Learner"), req.Rating, req.Text)
		if err != nil {
			return httpapi.Response{}, err
		}
		// Sent on every write, not only the first: a send that failed after the commit is repaired by
		// the client's retry of this idempotent PUT (rewards earns once per course).
		f := reviewFact(rv)
		if err := d.Queue.Send(ctx, manifest.FactsQueue, facts.ReviewPublished, f.DedupeID(), f); err != nil {
			return httpapi.Response{}, apperr.Wrap(err, apperr.Unavailable, "your review is saved, but could not be announced; please send it again")
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		return httpapi.JSON(status, reviewView(rv)), nil
	})
}

// DeleteReviewResponse is the answer of DELETE /courses/{courseId}/review: the course's rating
// summary without the review.
type DeleteReviewResponse struct {
	Deleted bool          `json:"deleted"`
	Rating  RatingSummary `json:"rating"`
}

func wireDeleteReview(w wiring) (httpapi.Lambda, error) { return HandleDeleteReview(w.rt.Fn, w.d), nil }

// HandleDeleteReview serves DELETE /courses/{courseId}/review: the caller's review leaves the
// aggregate and the list in one transaction. The item stays as a tombstone without its text, so its
// version keeps growing (a stale PUT cannot resurrect the old rating). Idempotent: without a review
// of the caller (already deleted, or never written) the answer is 200 with deleted=false.
func HandleDeleteReview(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		id, err := courseID(r)
		if err != nil {
			return httpapi.Response{}, err
		}
		deleted, err := deleteReview(ctx, d, id, r.Principal.UserID)
		if err != nil {
			return httpapi.Response{}, err
		}
		l, err := readListing(ctx, d, id)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(DeleteReviewResponse{Deleted: deleted, Rating: ratingSummary(l)}), nil
	})
}

// putReview writes a learner's review of a course and moves the aggregate by the difference, in
// one change conditioned on the review's version and on the learner still holding the course.
// created reports a review that did not count before (new, or written again after a delete).
func putReview(ctx context.Context, d *Deps, courseID, userID, author string, rating int, text string) (Review, bool, error) {
	var rv Review
	created := false
	err := retryConflicts(ctx, "write review", func() error {
		cur, err := d.Books.Review(ctx, courseID, userID)
		if err != nil {
			return err
		}
		holding, err := d.Books.Enrollment(ctx, userID, courseID)
		if err != nil {
			return err
		}
		if holding == nil || !holding.Active() {
			return apperr.New(apperr.Forbidden, "only learners enrolled in this course may review it")
		}
		now := d.Clock.Now().UTC()
		rv = Review{CourseID: courseID, UserID: userID, AuthorName: author, Rating: rating, Text: text,
			Status: ReviewPublished, CreatedAt: now, UpdatedAt: now}
		created = cur == nil || !cur.Counts()
		if cur != nil && !created {
			rv.CreatedAt = cur.CreatedAt
		}
		ch := reviewChange(cur, rv, holding, now)
		if err := d.Books.Commit(ctx, ch); err != nil {
			return err
		}
		rv = ch.Review.Item
		return nil
	})
	return rv, created, err
}

// reviewChange is the change that replaces the review read (cur, nil: none) by next: next's version
// follows the one read, the aggregate moves by the difference of what each counts, and holding (the
// learner's enrolment as read, nil for a delete) must still be active at its version.
func reviewChange(cur *Review, next Review, holding *Enrollment, now time.Time) *Change {
	var read int64
	if cur != nil {
		read = cur.Version
	}
	next.Version = read + 1
	counts := map[string]int64{}
	if next.Counts() && !cur.countsNow() {
		counts[mktmetrics.CtrReviews] = 1
	}
	return &Change{Book: booking{At: now, CourseID: next.CourseID, Counters: counts}, Holding: holding,
		Review: &Versioned[Review]{Item: next, Read: read}, Listing: RatingDeltas(cur.counted(), next.counted())}
}

// deleteReview turns the learner's review into a tombstone without its text (its version keeps
// growing) and takes it out of the aggregate; false when there was none to delete.
func deleteReview(ctx context.Context, d *Deps, courseID, userID string) (bool, error) {
	deleted := false
	err := retryConflicts(ctx, "delete review", func() error {
		deleted = false
		cur, err := d.Books.Review(ctx, courseID, userID)
		if err != nil || cur == nil || cur.Status == ReviewDeleted {
			return err
		}
		deleted = true
		now := d.Clock.Now().UTC()
		next := *cur
		next.Status, next.Text, next.UpdatedAt = ReviewDeleted, "", now
		return d.Books.Commit(ctx, reviewChange(cur, next, nil, now))
	})
	return deleted, err
}
