package catalog

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/store"
)

// NewSearchCourses builds GET /courses.
func NewSearchCourses(rt *platform.Runtime) (httpapi.Lambda, error) {
	blobs, err := blob.From(rt)
	if err != nil {
		return nil, err
	}
	return HandleSearchCourses(rt.Fn, &Reader{Store: store.Open(rt), Blobs: blobs}), nil
}

func builder(rt *platform.Runtime) (*Builder, error) {
	blobs, err := blob.From(rt)
	if err != nil {
		return nil, err
	}
	return &Builder{Store: store.Open(rt), Blobs: blobs, Clock: rt.Clock}, nil
}

// NewIndexCatalog builds the catalog queue's consumer.
func NewIndexCatalog(rt *platform.Runtime) (queue.Consumer, error) {
	b, err := builder(rt)
	if err != nil {
		return nil, err
	}
	c := b.Consumer()
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return c(logging.With(ctx, rt.Log), ev)
	}, nil
}

// NewRefreshCatalog builds the 5-minute refresh job (ratings and enrolment counts change without a
// catalog message; this keeps the snapshot's within five minutes of them).
func NewRefreshCatalog(rt *platform.Runtime) (job.Handler[BuildReport], error) {
	b, err := builder(rt)
	if err != nil {
		return nil, err
	}
	return job.Handle(rt.Log, b.Rebuild), nil
}
