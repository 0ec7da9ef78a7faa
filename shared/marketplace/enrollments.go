package marketplace

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
)

// enrollment reads a learner's enrolment in a course (consistent); NotFound when there is none.
func enrollment(ctx context.Context, d *Deps, userID, courseID string) (Enrollment, error) {
	e, err := d.Books.Enrollment(ctx, userID, courseID)
	if err != nil {
		return Enrollment{}, err
	}
	if e == nil {
		return Enrollment{}, apperr.New(apperr.NotFound, "not enrolled")
	}
	return *e, nil
}

// EnrollmentView is an enrolment as its learner sees it.
type EnrollmentView struct {
	CourseID    string `json:"courseId"`
	CourseTitle string `json:"courseTitle"`
	Status      string `json:"status"`
	Source      string `json:"source"`
	EnrolledAt  string `json:"enrolledAt"`
}

func enrollmentView(e Enrollment) EnrollmentView {
	return EnrollmentView{CourseID: e.CourseID, CourseTitle: e.CourseTitle, Status: e.Status, Source: e.Source,
		EnrolledAt: rfc3339(e.EnrolledAt)}
}

// EnrollmentList is the body of GET /me/courses (httpapi.ListPage writes it).
type EnrollmentList struct {
	Courses    []EnrollmentView `json:"courses"`
	NextCursor string           `json:"nextCursor,omitempty"`
}

func wireListMyCourses(w wiring) (httpapi.Lambda, error) {
	return HandleListMyCourses(w.rt.Fn, w.d), nil
}

// HandleListMyCourses serves GET /me/courses: the caller's active enrolments, newest first.
func HandleListMyCourses(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		return httpapi.ListPage(ctx, r, "courses", listLimits, pageOf(d.Courses.MyCourses, r.Principal.UserID), enrollmentView)
	})
}

type purchaseRequest struct {
	SuccessURL string `json:"successUrl"`
	CancelURL  string `json:"cancelUrl"`
	CouponCode string `json:"couponCode"` // optional: a rewards coupon of the buyer's
}

func (p *purchaseRequest) Validate() error {
	if err := platform.ValidRedirectURL("successUrl", p.SuccessURL); err != nil {
		return err
	}
	if err := platform.ValidRedirectURL("cancelUrl", p.CancelURL); err != nil {
		return err
	}
	if p.CouponCode != "" && !couponCode(p.CouponCode) {
		return apperr.New(apperr.Invalid, "couponCode must look like LIB20-7K3M9Q2X4D")
	}
	return nil
}

// couponCode reports the shape of a rewards coupon code (docs/openapi.yaml's CouponCode):
// "LIB20-" and ten characters of a redemption id (digits and capitals).
func couponCode(s string) bool {
	if len(s) != 16 || s[:6] != "LIB20-" {
		return false
	}
	for _, r := range s[6:] {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// buyersCoupon checks that a coupon can be applied to this buyer's checkout: Stripe has it, still
// valid, and it was issued to this buyer (rewards sets metadata.userId). A coupon id cannot be typed
// into Stripe Checkout, so this check is the only way a code reaches a session (decision 0044).
func buyersCoupon(ctx context.Context, d *Deps, code, buyer string) (Coupon, error) {
	c, err := d.Stripe.Coupon(ctx, code)
	if apperr.Is(err, apperr.NotFound) || err == nil && (c.UserID != buyer || !c.Valid) {
		return Coupon{}, apperr.New(apperr.Unprocessable, "couponCode is not a valid coupon of yours (unknown, used, expired, or someone else's)")
	}
	return c, err
}

// PurchaseResponse is the 201 of POST /courses/{courseId}/purchase: a Checkout Session to send the
// buyer to, or (free course) the enrolment made at once.
type PurchaseResponse struct {
	URL        string          `json:"url,omitempty"`
	SessionID  string          `json:"sessionId,omitempty"`
	Enrollment *EnrollmentView `json:"enrollment,omitempty"`
}

func wirePurchaseCourse(w wiring) (httpapi.Lambda, error) {
	return HandlePurchaseCourse(w.rt.Fn, w.d), nil
}

// HandlePurchaseCourse serves POST /courses/{courseId}/purchase (Idempotency-Key honoured): a
// Stripe Checkout Session (mode payment, the course's current price, metadata userId and courseId,
// client_reference_id) for a paid course, or an enrolment at once for a free one. The sale itself
// is recorded when Stripe reports the session paid (checkout.session.completed). Unpublished
// courses are 404; one's own course, or one already enrolled in, 409. A couponCode (a rewards
// coupon issued to the buyer) is applied as the session's discount; the sale is then split on what
// the buyer paid, like any sale.
func HandlePurchaseCourse(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.Idempotent(d.Store, fn.Name, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req purchaseRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		if err := platform.OnAppOrigin(d.Config, platform.RedirectField{Name: "successUrl", URL: req.SuccessURL},
			platform.RedirectField{Name: "cancelUrl", URL: req.CancelURL}); err != nil {
			return httpapi.Response{}, err
		}
		id, err := courseID(r)
		if err != nil {
			return httpapi.Response{}, err
		}
		c, err := loadCourse(ctx, d, id)
		if err != nil {
			return httpapi.Response{}, err
		}
		if c.Status != catalog.StatusPublished {
			return httpapi.Response{}, apperr.New(apperr.NotFound, "course not found")
		}
		user := r.Principal.UserID
		if c.InstructorID == user {
			return httpapi.Response{}, apperr.New(apperr.Conflict, "this is your own course")
		}
		cur, err := d.Books.Enrollment(ctx, user, c.ID)
		if err != nil {
			return httpapi.Response{}, err
		}
		if cur != nil && cur.Active() {
			return httpapi.Response{}, apperr.New(apperr.Conflict, "you are already enrolled in this course")
		}
		if c.PriceCents == 0 && req.CouponCode != "" {
			return httpapi.Response{}, apperr.New(apperr.Unprocessable, "couponCode applies to paid courses only; this one is free")
		}
		if c.PriceCents == 0 {
			e, err := enrolFree(ctx, d, r, c)
			if err != nil {
				return httpapi.Response{}, err
			}
			// Usage reporting only: a failure is not the learner's problem, and a retry would be 409.
			if err := d.RecordEnrolment(ctx, user, c.ID, e.EnrolledAt); err != nil {
				r.Log.Warn("license enrolment not counted", "courseId", c.ID, "err", err.Error())
			}
			v := enrollmentView(e)
			return httpapi.JSON(http.StatusCreated, PurchaseResponse{Enrollment: &v}), nil
		}
		op := "r" + r.ID
		if k := r.Header(httpapi.IdempotencyHeader); k != "" {
			op = "k" + idempotency.Hash([]byte(fn.Name), []byte(user), []byte(k))[:40]
		}
		in := CheckoutInput{UserID: user, Email: r.Principal.Email, CourseID: c.ID, InstructorID: c.InstructorID,
			Title: c.Title, PriceCents: c.PriceCents, SuccessURL: req.SuccessURL, CancelURL: req.CancelURL, Operation: op}
		details := map[string]string{"courseId": c.ID, "priceCents": itoa(c.PriceCents)}
		if req.CouponCode != "" {
			cp, err := buyersCoupon(ctx, d, req.CouponCode, user)
			if err != nil {
				return httpapi.Response{}, err
			}
			in.CouponID, details["couponId"] = cp.ID, cp.ID
		}
		sess, reused, err := openCheckout(ctx, d, in)
		if err != nil {
			return httpapi.Response{}, err
		}
		if !reused {
			if err := d.Courses.WriteAudit(ctx, audit.Entry{Actor: user, Action: "course.checkout", Target: "checkout:" + sess.ID,
				RequestID: r.ID, Details: details}); err != nil {
				r.Log.Warn("audit record not written", "err", err.Error())
			}
		}
		return httpapi.JSON(http.StatusCreated, PurchaseResponse{URL: sess.URL, SessionID: sess.ID}), nil
	}))
}

// checkoutReuseMargin is how long an open session must still have to be handed out again.
const checkoutReuseMargin = 10 * time.Minute

// openCheckout gives the learner at most one open Checkout Session per course, so one purchase
// cannot be paid twice from two tabs or devices: the open one is handed out again while it has time
// left and asks for the same price, coupon and return pages; otherwise it is expired at Stripe
// before a new one is made (a session Stripe says is complete was paid: 409, the enrolment is on
// its way). Two requests racing both create one; the loser expires its own and answers with the
// winner's. A second payment that gets through anyway (a session paid before it could be expired)
// is refunded when booked (planSale).
func openCheckout(ctx context.Context, d *Deps, in CheckoutInput) (CheckoutSession, bool, error) {
	now := d.Clock.Now().UTC()
	cur, err := d.Books.OpenCheckout(ctx, in.UserID, in.CourseID)
	if err != nil {
		return CheckoutSession{}, false, err
	}
	prev := ""
	if cur != nil {
		prev = cur.SessionID
		if cur.ExpiresAt.After(now.Add(checkoutReuseMargin)) && cur.PriceCents == in.PriceCents && cur.CouponID == in.CouponID &&
			cur.SuccessURL == in.SuccessURL && cur.CancelURL == in.CancelURL {
			return CheckoutSession{ID: cur.SessionID, URL: cur.URL, ExpiresAt: cur.ExpiresAt}, true, nil
		}
		if cur.ExpiresAt.After(now) {
			if err := d.Stripe.ExpireCheckout(ctx, cur.SessionID); err != nil {
				return CheckoutSession{}, false, err
			}
		}
	}
	in.ExpiresAt = now.Add(checkoutLifetime)
	sess, err := d.Stripe.CourseCheckout(ctx, in)
	if err != nil {
		return CheckoutSession{}, false, err
	}
	if sess.ExpiresAt.IsZero() {
		sess.ExpiresAt = in.ExpiresAt
	}
	err = d.Books.SaveCheckout(ctx, OpenCheckout{UserID: in.UserID, CourseID: in.CourseID, SessionID: sess.ID, URL: sess.URL,
		PriceCents: in.PriceCents, CouponID: in.CouponID, SuccessURL: in.SuccessURL, CancelURL: in.CancelURL,
		CreatedAt: now, ExpiresAt: sess.ExpiresAt}, prev)
	if !store.IsConditionFailed(err) {
		return sess, false, err
	}
	// Another request recorded its session first: ours is expired, theirs is the one.
	if err := d.Stripe.ExpireCheckout(ctx, sess.ID); err != nil && !errors.Is(err, ErrCheckoutComplete) {
		return CheckoutSession{}, false, err
	}
	won, err := d.Books.OpenCheckout(ctx, in.UserID, in.CourseID)
	if err != nil || won == nil {
		return CheckoutSession{}, false, apperr.Wrap(err, apperr.Conflict, "another purchase of this course is starting; retry")
	}
	return CheckoutSession{ID: won.SessionID, URL: won.URL, ExpiresAt: won.ExpiresAt}, true, nil
}

// enrolFree enrols the caller in a free course (no money moves; counted as a free enrolment).
func enrolFree(ctx context.Context, d *Deps, r *httpapi.Request, c Course) (Enrollment, error) {
	var e Enrollment
	err := retryConflicts(ctx, "enrol", func() error {
		cur, err := d.Books.Enrollment(ctx, r.Principal.UserID, c.ID)
		if err != nil {
			return err
		}
		if cur != nil && cur.Active() {
			return apperr.New(apperr.Conflict, "you are already enrolled in this course")
		}
		now := d.Clock.Now().UTC()
		var read int64
		if cur != nil {
			e, read = *cur, cur.Version
		}
		e.UserID, e.CourseID, e.CourseTitle, e.InstructorID = r.Principal.UserID, c.ID, c.Title, c.InstructorID
		e.Source, e.EnrolledAt, e.Status, e.RevokedAt, e.Version = SourceFree, now, EnrollActive, nil, read+1
		return d.Books.Commit(ctx, &Change{Book: booking{At: now, CourseID: c.ID,
			Counters: map[string]int64{mktmetrics.CtrFreeEnrollments: 1}},
			Enrollment: &Versioned[Enrollment]{Item: e, Read: read},
			Listing:    map[string]int64{catalog.CtrEnrollments: 1},
			Audit: &audit.Entry{Actor: r.Principal.UserID, Action: "course.enrol", Target: "course:" + c.ID,
				RequestID: r.ID, Details: map[string]string{"source": SourceFree}}})
	})
	return e, err
}
