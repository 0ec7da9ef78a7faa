package billing

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/store"
)

// Bounds of one billing-cycle run: pages of due subscriptions per status. What a run leaves is
// picked up by the next (the query always starts with the oldest due).
const (
	cyclePageSize = 100
	cycleMaxPages = 50
	cycleJobName  = "billing-cycle"
)

// reconcileStatuses are the statuses whose stored state may be stale once currentPeriodEnd has
// passed (a renewal, a cancellation or a final payment failure we did not hear about).
var reconcileStatuses = []string{StatusActive, StatusTrialing, StatusPastDue}

// fetchSubscription reads a subscription's current state from Stripe.
type fetchSubscription func(ctx context.Context, subID string) (*stripe.Subscription, error)

func stripeFetcher(d *Deps) fetchSubscription {
	return func(ctx context.Context, subID string) (*stripe.Subscription, error) {
		sc, err := stripeClient(ctx, d)
		if err != nil {
			return nil, err
		}
		p := &stripe.SubscriptionParams{}
		p.Context = ctx
		s, err := sc.Subscriptions.Get(subID, p)
		if err != nil {
			return nil, stripeFailure(err, "reading the subscription")
		}
		return s, nil
	}
}

// CycleReport is what a billing-cycle run did (logged, and recorded on the job-run item).
type CycleReport struct {
	Day              string `json:"day" dynamodbav:"day"`
	Reconciled       int    `json:"reconciled" dynamodbav:"reconciled"`             // stored state changed from Stripe's
	ReconcileSkipped int    `json:"reconcileSkipped" dynamodbav:"reconcileSkipped"` // Stripe's state not usable (not ours / unknown price)
	ReconcileErrors  int    `json:"reconcileErrors" dynamodbav:"reconcileErrors"`   // Stripe unreachable for an item
	Expired          int    `json:"expired" dynamodbav:"expired"`                   // cancellations / unpaid moved to Free
	SnapshotWritten  bool   `json:"snapshotWritten" dynamodbav:"snapshotWritten"`
	Truncated        bool   `json:"truncated" dynamodbav:"truncated"` // hit the page bound; the next run continues
}

// HandleBillingCycle is the daily EventBridge job: (1) reconcile subscriptions whose period ended
// with Stripe, (2) move expired cancellations and unpaid subscriptions to Free, (3) write the day's
// metrics snapshot once, and record the run. Running it twice changes nothing more. It returns its
// report (logged by the job frame, printed by `make job`).
func HandleBillingCycle(d *Deps, fetch fetchSubscription) job.Func[CycleReport] {
	return func(ctx context.Context) (CycleReport, error) { return RunBillingCycle(ctx, d, fetch) }
}

// RunBillingCycle runs the job once at d.Clock's now.
func RunBillingCycle(ctx context.Context, d *Deps, fetch fetchSubscription) (CycleReport, error) {
	now := d.Clock.Now().UTC()
	rep := CycleReport{Day: day(now)}
	requestID := cycleJobName + "-" + rep.Day
	log := logging.From(ctx)

	// (1) Reconcile: Stripe's state of each subscription whose period has ended.
	for _, status := range reconcileStatuses {
		trunc, err := eachDue(ctx, d, status, now, func(sub store.Subscription) error {
			s, err := fetch(ctx, sub.StripeSubscriptionID)
			if err != nil {
				rep.ReconcileErrors++
				log.Warn("reconcile: Stripe read failed", "userId", sub.UserID, "err", err.Error())
				return nil
			}
			if uid := s.Metadata["userId"]; (uid != "" && uid != sub.UserID) || s.ID != sub.StripeSubscriptionID {
				rep.ReconcileSkipped++
				return nil
			}
			res, err := SyncFromStripe(ctx, d, sub.UserID, s, Stamp{Created: now.Unix(), ID: "reconcile-" + rep.Day},
				audit.ActorJob, requestID)
			switch {
			case apperr.Is(err, apperr.Unprocessable) || apperr.Is(err, apperr.Invalid):
				rep.ReconcileSkipped++
				log.Warn("reconcile: Stripe state not usable", "userId", sub.UserID, "err", err.Error())
			case err != nil:
				return err
			case res.Applied:
				rep.Reconciled++
			}
			return nil
		})
		if err != nil {
			return rep, err
		}
		rep.Truncated = rep.Truncated || trunc
	}

	// (2) Expire: cancellations whose period has ended, and unpaid subscriptions, are Free.
	for _, status := range append(append([]string{}, reconcileStatuses...), StatusUnpaid) {
		trunc, err := eachDue(ctx, d, status, now, func(sub store.Subscription) error {
			if !sub.CancelAtPeriodEnd && sub.Status != StatusUnpaid {
				return nil
			}
			_, changed, err := apply(ctx, d, change{
				userID: sub.UserID, at: sub.CurrentPeriodEnd, mutate: expireMutation(now),
				audit: func(prev, next store.Subscription) audit.Entry {
					return audit.Entry{Actor: audit.ActorJob, Action: "subscription.expire",
						Target: "subscription:" + prev.StripeSubscriptionID, RequestID: requestID,
						Details: map[string]string{"userId": sub.UserID}}
				},
			})
			if err != nil {
				return err
			}
			if changed {
				rep.Expired++
			}
			return nil
		})
		if err != nil {
			return rep, err
		}
		rep.Truncated = rep.Truncated || trunc
	}

	// (3) Snapshot, once per day.
	m, err := ReadMetrics(ctx, d.Store, now)
	if err != nil {
		return rep, err
	}
	err = d.Store.Put(ctx, snapshotOf(m, now), "attribute_not_exists(PK)", nil, nil)
	switch {
	case err == nil:
		rep.SnapshotWritten = true
	case !store.IsConditionFailed(err):
		return rep, err
	}

	// Record the run (the first run of the day wins; a rerun leaves the record as it is).
	k := store.JobRunKey(cycleJobName, rep.Day)
	run := struct {
		PK     string      `dynamodbav:"PK"`
		SK     string      `dynamodbav:"SK"`
		Type   string      `dynamodbav:"type"`
		At     time.Time   `dynamodbav:"at"`
		Report CycleReport `dynamodbav:"report"`
	}{k.PK, k.SK, "jobrun", now, rep}
	if err := d.Store.Put(ctx, run, "attribute_not_exists(PK)", nil, nil); err != nil && !store.IsConditionFailed(err) {
		return rep, err
	}
	return rep, nil
}

// expireMutation moves a subscription whose cancellation took effect, or that is unpaid, to Free.
// It re-checks the freshly read item: the index the job queried may lag.
func expireMutation(now time.Time) mutation {
	return func(cur store.Subscription) (store.Subscription, bool, error) {
		next := cur
		switch {
		case cur.CancelAtPeriodEnd && grantsByStatus(cur.Status) && !now.Before(cur.CurrentPeriodEnd):
			next.Status = StatusCanceled
		case cur.Status == StatusUnpaid && cur.Tier != TierFree:
		default:
			return cur, false, nil
		}
		next.Tier, next.PendingTier, next.ScheduleID = TierFree, "", ""
		return next, true, nil
	}
}

// eachDue calls f for every subscription with status whose period ended before now, in bounded
// pages. It reports whether it stopped at the bound.
func eachDue(ctx context.Context, d *Deps, status string, now time.Time, f func(store.Subscription) error) (bool, error) {
	var start map[string]types.AttributeValue
	for page := 0; page < cycleMaxPages; page++ {
		subs, next, err := d.Store.SubscriptionsDue(ctx, status, now, cyclePageSize, start)
		if err != nil {
			return false, err
		}
		for _, s := range subs {
			if err := f(s); err != nil {
				return false, err
			}
		}
		if next == nil {
			return false, nil
		}
		start = next
	}
	return true, nil
}
