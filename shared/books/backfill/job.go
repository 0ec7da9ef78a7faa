// Package backfill is the backfill-journal job (issue 17, docs/books.md "Backfill"): the walk is
// shared/books/backfill/walk; this package is the Lambda around it, and imports every area whose
// records have entries so that their backfillers are registered.
package backfill

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/books/backfill/walk"
	"github.com/liberation/monetization/shared/job"
)

// OptionsOf reads a run's options from the event's detail: {"dryRun": true} counts without
// posting, {"restart": true} walks the table again from the start; absent, a live run goes on.
func OptionsOf(ev events.EventBridgeEvent) (walk.Options, error) {
	var det struct {
		DryRun  job.Flag `json:"dryRun"`
		Restart job.Flag `json:"restart"`
	}
	if err := job.Detail(ev, &det, "an object with dryRun and restart (true or false)"); err != nil {
		return walk.Options{}, err
	}
	return walk.Options{DryRun: bool(det.DryRun), Restart: bool(det.Restart)}, nil
}

// handler builds the job's handler from its deps.
func handler(d walk.Deps, frame func(job.Func[walk.Report]) job.Handler[walk.Report]) job.Handler[walk.Report] {
	return func(ctx context.Context, ev events.EventBridgeEvent) (walk.Report, error) {
		o, err := OptionsOf(ev)
		if err != nil {
			return walk.Report{}, err
		}
		return frame(func(ctx context.Context) (walk.Report, error) { return walk.Run(ctx, d, o) })(ctx, ev)
	}
}
