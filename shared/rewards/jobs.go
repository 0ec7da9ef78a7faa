package rewards

import (
	"context"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/logging"
)

// ReleaseReport is what one run of release-pending-tokens did.
type ReleaseReport struct {
	Due       int  `json:"due"`       // pending earnings whose window had ended
	Released  int  `json:"released"`  // made available by this run
	Skipped   int  `json:"skipped"`   // already released or cancelled meanwhile
	Errors    int  `json:"errors"`    // left for the next run
	Truncated bool `json:"truncated"` // more were due than one run handles
}

// Release job bounds: pages of releasePage, at most releasePages per run (the job runs hourly,
// and what is left is due again next time).
const (
	releasePage  = 100
	releasePages = 50
)

func wireReleasePendingTokens(w wiring) (job.Handler[ReleaseReport], error) {
	return job.Handle(w.rt.Log, w.d.earner().releaseDue), nil
}

// RunReleasePendingTokens makes available every pending earning whose refund window has ended.
// Each release is conditional on the earning still being pending, so running twice, or racing a
// refund, changes nothing more.
func RunReleasePendingTokens(ctx context.Context, d *Deps) (ReleaseReport, error) {
	return d.earner().releaseDue(ctx)
}

// releaseDue is RunReleasePendingTokens.
func (er earner) releaseDue(ctx context.Context) (ReleaseReport, error) {
	var rep ReleaseReport
	now := er.clk.Now()
	var after *earnItem
	log := logging.From(ctx)
	for page := 0; ; page++ {
		if page == releasePages {
			rep.Truncated = true
			return rep, nil
		}
		due, more, err := er.guards.DueEarnings(ctx, now, after, releasePage)
		if err != nil {
			return rep, err
		}
		for _, g := range due {
			rep.Due++
			out, _, err := er.Release(ctx, g.UserID, g.Rule, g.SourceID)
			switch {
			case err != nil:
				rep.Errors++
				log.Error("release failed", "userId", g.UserID, "sourceId", g.SourceID, "code", apperr.CodeOf(err), "err", err.Error())
			case out == OutReleased:
				rep.Released++
			default:
				rep.Skipped++
			}
		}
		if !more || len(due) == 0 {
			return rep, nil
		}
		after = &due[len(due)-1]
	}
}
