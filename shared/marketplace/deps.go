// Package marketplace is the course marketplace (seed section 3): instructors create courses and
// upload their content to S3 through presigned URLs, publish them into the catalog
// (shared/marketplace/catalog), and sell them; learners buy them through Stripe Checkout (or enrol
// at once in a free course), read their content through short-lived links and review them. Every
// sale is split 70/30 (shared/marketplace/ledger); an instructor's share is pending for the 30-day
// refund window, then available, and paid monthly by a Stripe Connect transfer through the payouts
// queue. Refunds and disputes of course sales reverse or hold the shares. Every money movement is
// one DynamoDB transaction: the sale, the instructor's balance and its ledger entry, the counters
// and an audit record (docs/decisions/0061, 0062).
package marketplace

import (
	"context"
	"strconv"
	"time"

	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

// Deps is what the marketplace's code uses, built per function from its runtime: optional parts
// only for functions whose manifest entry declares them.
type Deps struct {
	Config platform.Config
	Clock  clock.Clock
	Store  *store.Store
	Books  Books // the money and access records (DynamoDB; memory in tests)
	// Courses is courses, lessons, listings and the listed pages (DynamoDB; memory in tests).
	Courses Courses
	Stripe  StripePort   // Stripe: true
	Blobs   blob.Store   // Bucket
	Queue   queue.Sender // Sends
	Mail    mail.Sender  // Email
	// PayoutMinimum is the smallest payout in cents (PAYOUT_MINIMUM_CENTS).
	PayoutMinimum int64
	// RecordEnrolment counts a seat holder's enrolment in their license's usage (licensing's port).
	RecordEnrolment func(ctx context.Context, userID, courseID string, at time.Time) error
	// SendStatement e-mails a paid payout's statement once (statement.go's sendStatement).
	SendStatement func(ctx context.Context, po Payout) error
	// Emit reports a metric data point (metric.Emit as the function, in production).
	Emit func(ctx context.Context, name string, v int64)
}

// NewDeps builds Deps for the runtime's function.
func NewDeps(rt *platform.Runtime) (*Deps, error) {
	d := &Deps{Config: rt.Config, Clock: rt.Clock, Store: store.Open(rt), PayoutMinimum: manifest.DefaultPayoutMinimumCents}
	d.Emit = func(ctx context.Context, name string, v int64) {
		metric.Emit(ctx, logging.From(ctx), rt.Fn.Name, name, v)
	}
	d.Wire()
	if v := rt.Getenv(manifest.EnvPayoutMinimum); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return nil, errConfig(manifest.EnvPayoutMinimum + " must be a positive whole number of cents")
		}
		d.PayoutMinimum = n
	}
	var err error
	if rt.Fn.Stripe {
		d.Stripe = NewStripePort(stripeapi.Open(rt))
	}
	if len(rt.Fn.Sends) > 0 {
		if d.Queue, err = queue.From(rt); err != nil {
			return nil, err
		}
	}
	if len(rt.Fn.Bucket) > 0 {
		if d.Blobs, err = blob.From(rt); err != nil {
			return nil, err
		}
	}
	if rt.Fn.Email {
		if d.Mail, err = mail.From(rt); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Wire fills the parts left nil with the production ones over d.Store: the DynamoDB books and courses,
// licensing's enrolment count and the e-mailed payout statement.
func (d *Deps) Wire() *Deps {
	if d.Books == nil {
		d.Books = NewBooks(d.Store)
	}
	if d.Courses == nil {
		d.Courses = NewCourses(d.Store)
	}
	if d.RecordEnrolment == nil {
		d.RecordEnrolment = func(ctx context.Context, userID, courseID string, at time.Time) error {
			return licensing.RecordEnrolment(ctx, d.Store, userID, courseID, at)
		}
	}
	if d.Emit == nil {
		d.Emit = func(ctx context.Context, name string, v int64) {
			metric.Emit(ctx, logging.From(ctx), "marketplace", name, v)
		}
	}
	if d.SendStatement == nil {
		d.SendStatement = func(ctx context.Context, po Payout) error { return sendStatement(ctx, d, po) }
	}
	return d
}

type errConfig string

func (e errConfig) Error() string { return "marketplace: " + string(e) }
