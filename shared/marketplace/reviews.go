package marketplace

import (
	"context"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/facts"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/store"
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

// reviewable returns the course if the caller may review it: an active enrolment, and not the
// course's own instructor (403 otherwise).
func reviewable(ctx context.Context, d *Deps, r *httpapi.Request) (Course, error) {
	id, err := courseID(r)
	if err != nil {
		return Course{}, err
	}
	c, err := loadCourse(ctx, d, id)
	if err != nil {
		return Course{}, err
	}
	if c.InstructorID == r.Principal.UserID {
		return Course{}, apperr.New(apperr.Forbidden, "instructors cannot review their own course")
	}
	e, err := enrollment(ctx, d, r.Principal.UserID, c.ID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return Course{}, err
	}
	if err != nil || !e.Active() {
		return Course{}, apperr.New(apperr.Forbidden, "only learners enrolled in this course may review it")
	}
	return c, nil
}

// readReview reads the caller's review (nil when none).
func readReview(ctx context.Context, d *Deps, courseID, userID string) (*Review, error) {
	var rv Review
	err := d.Store.GetConsistent(ctx, store.CourseReviewKey(courseID, userID), &rv)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &rv, nil
}

// HandlePutReview serves PUT /courses/{courseId}/review: one review per learner and course (PUT
// replaces it). The review and the course's rating count, sum and histogram change in one
// transaction, conditioned on the review read, so concurrent writers end with an exact aggregate.
func HandlePutReview(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req reviewRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		c, err := reviewable(ctx, d, r)
		if err != nil {
			return httpapi.Response{}, err
		}
		var rv Review
		created := false
		err = retryConflicts(ctx, "write review", func() error {
			cur, err := readReview(ctx, d, c.ID, r.Principal.UserID)
			if err != nil {
				return err
			}
			now := d.Clock.Now().UTC()
			rv = Review{CourseID: c.ID, UserID: r.Principal.UserID, AuthorName: displayName(r, "Learner"),
				Rating: req.Rating, Text: req.Text, CreatedAt: now, UpdatedAt: now, Version: 1}
			old, read := 0, int64(0)
			if cur != nil {
				old, read = cur.Rating, cur.Version
				rv.CreatedAt, rv.Version = cur.CreatedAt, cur.Version+1
			}
			created = cur == nil
			rv.SetKeys()
			put, err := putVersioned(rv, read)
			if err != nil {
				return err
			}
			counts := map[string]int64{}
			if created {
				counts[mktmetrics.CtrReviews] = 1
			}
			items := store.Append([]types.TransactWriteItem{put}, catalog.CountersItem(c.ID, RatingDeltas(old, rv.Rating)),
				store.AddCounters(store.MarketplaceMetricsDayKey(now), counts))
			return d.Store.Transact(ctx, items)
		})
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

// HandleDeleteReview serves DELETE /courses/{courseId}/review: the caller's review and its part of
// the aggregate go together. Idempotent: without a review of the caller (already deleted, or never
// written) the answer is 200 with deleted=false.
func HandleDeleteReview(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		id, err := courseID(r)
		if err != nil {
			return httpapi.Response{}, err
		}
		deleted := false
		err = retryConflicts(ctx, "delete review", func() error {
			deleted = false
			cur, err := readReview(ctx, d, id, r.Principal.UserID)
			if err != nil || cur == nil {
				return err
			}
			deleted = true
			del := types.TransactWriteItem{Delete: &types.Delete{
				Key:                       store.CourseReviewKey(id, r.Principal.UserID).Item(),
				ConditionExpression:       aws.String("#v = :v"),
				ExpressionAttributeNames:  map[string]string{"#v": "version"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": store.N(cur.Version)},
			}}
			return d.Store.Transact(ctx, store.Append([]types.TransactWriteItem{del}, catalog.CountersItem(id, RatingDeltas(cur.Rating, 0))))
		})
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
