package payments

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/platform"
)

// Bounds of one resolve-refunds run.
const (
	maxOpsPerRun = 500              // pending operations read per run (the rest waits an hour)
	runMargin    = 10 * time.Second // stop converging this long before the function's deadline
)

// ResolveReport is what a resolve-refunds run did (logged and returned).
type ResolveReport struct {
	Checked      int  `json:"checked"`      // pending operations reserved before the window
	Payments     int  `json:"payments"`     // payments converged with Stripe's list
	Booked       int  `json:"booked"`       // operations booked (Stripe had their refund)
	Released     int  `json:"released"`     // operations released (Stripe had none)
	StillPending int  `json:"stillPending"` // of Checked, still pending after the run
	Errors       int  `json:"errors"`
	Truncated    bool `json:"truncated"` // more were pending than one run handles
}

func wireResolveRefunds(rt *platform.Runtime) (job.Handler[ResolveReport], error) {
	f, err := refunderOf(rt)
	if err != nil {
		return nil, err
	}
	return job.Handle(rt.Log, f.ResolveStale), nil
}

// ResolveStale is the resolve-refunds job (hourly): every refund reservation older than the
// resolution window is resolved from Stripe's list of its charge's refunds — booked under the real
// refund id when Stripe has it, released when Stripe has none — so nothing stays pending because
// a response was lost and no webhook came. It reports reservations it could not resolve as the
// StuckRefundReservations metric (alarmed). Running it twice changes nothing more.
func (f *Refunder) ResolveStale(ctx context.Context) (ResolveReport, error) {
	log := logging.From(ctx)
	now := f.Clock.Now()
	ops, more, err := f.Ledger.PendingRefundOps(ctx, now.Add(-f.window()), maxOpsPerRun)
	if err != nil {
		return ResolveReport{}, err
	}
	rep := ResolveReport{Checked: len(ops), Truncated: more}
	done := map[string]bool{}
	for _, op := range ops {
		key := op.UserID + "/" + op.PaymentID
		if done[key] {
			continue
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < runMargin {
			rep.Truncated = true
			break
		}
		done[key] = true
		p, err := f.Ledger.GetPayment(ctx, op.UserID, op.PaymentID)
		if err == nil {
			var res converged
			res, err = f.Sync(ctx, p, "", audit.ActorJob, "refund.resolve", "resolve-refunds")
			rep.Booked += len(res.Booked)
			rep.Released += len(res.Released)
		}
		if err != nil {
			rep.Errors++
			log.Error("refund reservation not resolved", "paymentId", op.PaymentID, "operationId", op.ID, "err", err.Error())
			continue
		}
		rep.Payments++
	}
	for _, op := range ops {
		cur, err := f.Ledger.RefundOp(ctx, op.ID)
		if err != nil || cur.Status == RefundOpPending {
			rep.StillPending++
		}
	}
	f.emit(ctx, metric.StuckRefundReservations, int64(rep.StillPending))
	if rep.Errors > 0 {
		return rep, apperr.New(apperr.Unavailable, "%d of %d payments with stale refund reservations could not be resolved",
			rep.Errors, rep.Errors+rep.Payments)
	}
	return rep, nil
}
