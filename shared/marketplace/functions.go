package marketplace

import (
	"context"

	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/queue"
)

// Constructors of the marketplace's functions: functions/<name>/main.go (generated) and the local
// gateway call New<Name>(runtime). Each builds only what its function uses (the search and the
// catalog builder live in shared/marketplace/catalog).

func route(rt *platform.Runtime, h func(*Deps) httpapi.Lambda) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return h(d), nil
}

// NewCreateCourse builds POST /courses.
func NewCreateCourse(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandleCreateCourse(rt.Fn, d) })
}

// NewUpdateCourse builds PATCH /courses/{courseId}.
func NewUpdateCourse(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandleUpdateCourse(rt.Fn, d) })
}

// NewListInstructorCourses builds GET /instructors/me/courses.
func NewListInstructorCourses(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandleListInstructorCourses(rt.Fn, d) })
}

// NewCreateLesson builds POST /courses/{courseId}/lessons.
func NewCreateLesson(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandleCreateLesson(rt.Fn, d) })
}

// NewPublishCourse builds POST /courses/{courseId}/publish.
func NewPublishCourse(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandlePublishCourse(rt.Fn, d) })
}

// NewUnpublishCourse builds POST /courses/{courseId}/unpublish.
func NewUnpublishCourse(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandleUnpublishCourse(rt.Fn, d) })
}

// NewConnectInstructor builds POST /instructors/me/connect.
func NewConnectInstructor(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandleConnectInstructor(rt.Fn, d) })
}

// NewGetEarnings builds GET /instructors/me/earnings.
func NewGetEarnings(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandleGetEarnings(rt.Fn, d) })
}

// NewListSales builds GET /instructors/me/sales.
func NewListSales(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandleListSales(rt.Fn, d) })
}

// NewListMyPayouts builds GET /instructors/me/payouts.
func NewListMyPayouts(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandleListMyPayouts(rt.Fn, d) })
}

// NewGetCourse builds GET /courses/{courseId}.
func NewGetCourse(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandleGetCourse(rt.Fn, d) })
}

// NewListReviews builds GET /courses/{courseId}/reviews.
func NewListReviews(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandleListReviews(rt.Fn, d) })
}

// NewPurchaseCourse builds POST /courses/{courseId}/purchase.
func NewPurchaseCourse(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandlePurchaseCourse(rt.Fn, d) })
}

// NewListMyCourses builds GET /me/courses.
func NewListMyCourses(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandleListMyCourses(rt.Fn, d) })
}

// NewGetCourseContent builds GET /courses/{courseId}/content.
func NewGetCourseContent(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandleGetCourseContent(rt.Fn, d) })
}

// NewPutReview builds PUT /courses/{courseId}/review.
func NewPutReview(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandlePutReview(rt.Fn, d) })
}

// NewDeleteReview builds DELETE /courses/{courseId}/review.
func NewDeleteReview(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandleDeleteReview(rt.Fn, d) })
}

// NewListPayouts builds GET /admin/payouts.
func NewListPayouts(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandleListPayouts(rt.Fn, d) })
}

// NewRunPayouts builds POST /admin/payouts/run.
func NewRunPayouts(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandleRunPayouts(rt.Fn, d) })
}

// NewGetMarketplaceMetrics builds GET /admin/marketplace/metrics.
func NewGetMarketplaceMetrics(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, func(d *Deps) httpapi.Lambda { return HandleGetMarketplaceMetrics(rt.Fn, d) })
}

// NewPayouts builds the monthly payout job.
func NewPayouts(rt *platform.Runtime) (job.Handler[EnqueueReport], error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return job.Handle(rt.Log, func(ctx context.Context) (EnqueueReport, error) { return RunMonthlyPayouts(ctx, d) }), nil
}

// NewProcessPayouts builds the payouts queue's consumer.
func NewProcessPayouts(rt *platform.Runtime) (queue.Consumer, error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	var r queue.Router
	PayoutsHooks(d, &r)
	return r.Consumer(rt.Log), nil
}

// NewReleaseEarnings builds the daily release job.
func NewReleaseEarnings(rt *platform.Runtime) (job.Handler[ReleaseReport], error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return job.Handle(rt.Log, func(ctx context.Context) (ReleaseReport, error) { return RunRelease(ctx, d) }), nil
}
