// Package migratejob is the migrate Lambda (issue 19, docs/operations.md "Migrations"): the runner
// is shared/migrate, the migrations shared/migrate/migrations; this package is the job around them.
package migratejob

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/migrate"
)

// OptionsOf reads a run's options from the event's detail: {"dryRun": true} counts what the
// pending migrations would change and writes nothing but its own checkpoint; absent, a live run.
func OptionsOf(ev events.EventBridgeEvent) (migrate.Options, error) {
	var det struct {
		DryRun job.Flag `json:"dryRun"`
	}
	if err := job.Detail(ev, &det, "an object with dryRun (true or false)"); err != nil {
		return migrate.Options{}, err
	}
	return migrate.Options{DryRun: bool(det.DryRun)}, nil
}

// handler builds the job's handler from its deps.
func handler(d migrate.Deps, frame func(job.Func[migrate.Report]) job.Handler[migrate.Report]) job.Handler[migrate.Report] {
	return func(ctx context.Context, ev events.EventBridgeEvent) (migrate.Report, error) {
		o, err := OptionsOf(ev)
		if err != nil {
			return migrate.Report{}, err
		}
		return frame(func(ctx context.Context) (migrate.Report, error) { return migrate.Run(ctx, d, o) })(ctx, ev)
	}
}
