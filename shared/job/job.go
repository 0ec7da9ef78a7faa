// Package job is the frame of scheduled functions: EventBridge Scheduler invokes the function with
// an events.EventBridgeEvent; the job runs, logs one line with its report, and returns the report
// (visible in the Lambda's response, and printed by `make job NAME=…` locally). Every job must be
// idempotent: running it twice for the same period changes nothing more.
package job

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/logging"
)

// Func is a job's work; R is its report (JSON-serialisable).
type Func[R any] func(ctx context.Context) (R, error)

// Handler is the signature lambda.Start receives for a scheduled function.
type Handler[R any] func(ctx context.Context, ev events.EventBridgeEvent) (R, error)

// Handle wraps a job with the frame's logging.
func Handle[R any](log *slog.Logger, f Func[R]) Handler[R] {
	return func(ctx context.Context, ev events.EventBridgeEvent) (R, error) {
		start := time.Now()
		l := log.With("eventId", ev.ID, "scheduledAt", ev.Time)
		rep, err := f(logging.With(ctx, l))
		if err != nil {
			l.Error("job failed", "code", apperr.CodeOf(err), "err", err.Error(), "ms", time.Since(start).Milliseconds())
			return rep, err
		}
		l.Info("job done", "report", rep, "ms", time.Since(start).Milliseconds())
		return rep, nil
	}
}
