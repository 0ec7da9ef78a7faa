package marketplace

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/metric"
)

// releasePageSize is how many due sales one read returns.
const releasePageSize = 100

// deadlineMargin is the time a run keeps in hand before its Lambda's deadline: it stops taking new
// sales then, reports Truncated, and the next run continues (oldest first).
const deadlineMargin = 30 * time.Second

// stuckAfter is how long a payout may stay transferring before the daily run sends it to the
// payouts queue again (the queue gave up on it: five failed receives, then the DLQ).
const stuckAfter = time.Hour

// ReleaseReport is what a release-earnings run did.
type ReleaseReport struct {
	Day           string `json:"day"`
	Released      int    `json:"released"`      // sales moved from pending to available
	ReleasedCents int64  `json:"releasedCents"` // instructor money moved
	Skipped       int    `json:"skipped"`       // already released by a concurrent run
	Truncated     bool   `json:"truncated"`     // stopped at the deadline; the next run continues
	// RequeuedPayouts are payouts found transferring for over an hour (the queue gave up on them),
	// sent to the payouts queue again: the consumer resolves each from Stripe's records.
	RequeuedPayouts int `json:"requeuedPayouts"`
}

func wireReleaseEarnings(w wiring) (job.Handler[ReleaseReport], error) {
	return job.Handle(w.rt.Log, func(ctx context.Context) (ReleaseReport, error) { return RunRelease(ctx, w.d) }), nil
}

// RunRelease releases every sale whose refund window has passed (GSI2 SALEPENDING, release time ≤
// now, oldest first), page after page until none is left or the Lambda's deadline is near: per
// sale, one transaction moves the shares' free part from pending to available
// (ledger.Sale.Release), writes the ledger entries, counters and audit, marks the sale released
// and takes it off the index — conditioned on the sale's version, so a sale is released exactly
// once however often or concurrently the job runs. Then it sends stuck payouts back to the queue.
func RunRelease(ctx context.Context, d *Deps) (ReleaseReport, error) {
	now := d.Clock.Now().UTC()
	rep := ReleaseReport{Day: now.Format("2006-01-02")}
	after := ""
	for {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < deadlineMargin {
			rep.Truncated = true
			logging.From(ctx).Error("release stopped at the deadline; the next run continues", "released", rep.Released)
			d.Emit(ctx, metric.ReleaseTruncated, 1)
			break
		}
		due, next, err := d.Books.DueSales(ctx, now, after, releasePageSize)
		if err != nil {
			return rep, err
		}
		for _, s := range due {
			if err := releaseSale(ctx, d, s.InstructorID, s.ID, &rep); err != nil {
				return rep, err
			}
		}
		if after = next; after == "" {
			break
		}
	}
	n, err := requeueStuckPayouts(ctx, d, now)
	rep.RequeuedPayouts = n
	return rep, err
}

func releaseSale(ctx context.Context, d *Deps, instructorID, saleID string, rep *ReleaseReport) error {
	return retryConflicts(ctx, "release sale", func() error {
		s, err := d.Books.Sale(ctx, instructorID, saleID)
		if err != nil {
			return err
		}
		now := d.Clock.Now().UTC()
		if s.Released || s.ReleaseAt.After(now) {
			rep.Skipped++
			return nil
		}
		m := s.Release()
		s.ReleasedAt = &now
		err = d.Books.Commit(ctx, &Change{Sale: &s, Move: m, // off the pending index: released
			Book: booking{At: now, Actor: audit.ActorJob, RequestID: "release-earnings-" + rep.Day, SaleID: s.ID,
				CourseID: s.CourseID, Memo: s.CourseTitle}})
		if err != nil {
			return err
		}
		rep.Released++
		rep.ReleasedCents += m.Released
		logging.From(ctx).Info("sale released", "saleId", s.ID, "releasedCents", m.Released)
		return nil
	})
}

// requeueStuckPayouts sends every payout of this period and the last that has been transferring
// for more than stuckAfter to the payouts queue again. The consumer looks for the transfer in
// Stripe's records before anything else, so a payout is never paid twice.
func requeueStuckPayouts(ctx context.Context, d *Deps, now time.Time) (int, error) {
	n := 0
	for _, period := range []string{Period(now.AddDate(0, -1, 0)), Period(now)} {
		stuck, err := d.Books.PayoutsOf(ctx, period, PayoutTransferring)
		if err != nil {
			return n, err
		}
		for _, po := range stuck {
			if now.Sub(po.UpdatedAt) < stuckAfter {
				continue
			}
			if err := sendPayout(ctx, d, po.InstructorID, po.Period); err != nil {
				return n, err
			}
			logging.From(ctx).Warn("payout stuck in transferring sent to the queue again", "payoutId", po.ID, "since", po.UpdatedAt)
			n++
		}
	}
	return n, nil
}
