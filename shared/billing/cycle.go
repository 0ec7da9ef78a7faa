package billing

import (
	"context"
	"log/slog"
	"time"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/metric"
)

// Bounds of one billing-cycle run: pages of due subscriptions per status. What a run leaves is
// picked up by the next (the query always starts with the oldest due).
const (
	cycleMaxPages = 50
	cycleJobName  = "billing-cycle"
)

// CycleReport is what a billing-cycle run did (logged, returned by the job, and recorded on the
// job-run item).
type CycleReport struct {
	Day     string `json:"day" dynamodbav:"day"`
	Checked int    `json:"checked" dynamodbav:"checked"` // due subscriptions looked at
	// Reconciled: Stripe's state differed from the stored one and was stored.
	Reconciled int `json:"reconciled" dynamodbav:"reconciled"`
	// ReconcileSkipped: Stripe's state was not usable (not ours, unknown price, another user's);
	// left as it was.
	ReconcileSkipped int `json:"reconcileSkipped" dynamodbav:"reconcileSkipped"`
	// SkippedUnreachable: Stripe could not be read; the subscription was left exactly as it was
	// (never expired) and the next run tries again.
	SkippedUnreachable int `json:"skippedUnreachable" dynamodbav:"skippedUnreachable"`
	// Expired: access ended by a time rule (a cancellation past its period end, past_due beyond
	// paid-through + grace) and written as Free; PastDueExpired counts the past_due ones among them.
	Expired        int `json:"expired" dynamodbav:"expired"`
	PastDueExpired int `json:"pastDueExpired" dynamodbav:"pastDueExpired"`
	// DuplicateLive: users with two live Stripe subscriptions (audited, and the alarm metric
	// DuplicateLiveSubscriptions); Adopted: another subscription stored once the stored one had ended.
	DuplicateLive   int  `json:"duplicateLive" dynamodbav:"duplicateLive"`
	Adopted         int  `json:"adopted" dynamodbav:"adopted"`
	SnapshotWritten bool `json:"snapshotWritten" dynamodbav:"snapshotWritten"`
	Truncated       bool `json:"truncated" dynamodbav:"truncated"` // hit the page bound; the next run continues
}

// cycle is the billing-cycle job and what it uses.
type cycle struct {
	fn      string // function name, the metric's dimension
	life    *lifecycle
	due     dueLister
	others  otherSubscriptions
	stripe  stripeAPI
	metrics metricsReader
	records jobRecords
	audit   auditor
}

func wireBillingCycle(w wiring) (job.Handler[CycleReport], error) {
	c := &cycle{fn: w.rt.Fn.Name, life: w.lifecycle(), due: w.repo, others: w.repo, stripe: w.stripe,
		metrics: w.repo, records: w.repo, audit: w.repo}
	return job.Handle(w.rt.Log, c.run), nil
}

// run is the daily job: (1) each subscription whose stored state may be out of date (period ended;
// past_due beyond grace) is read from Stripe, stored if newer, and its tier written Free if a time
// rule ended its access — a subscription Stripe could not be read for is left exactly as it was;
// (2) live subscriptions other than a user's stored one are checked: adopted once the stored one
// ended, reported (audit, alarm metric) while both are live; (3) the day's metrics snapshot is
// written once; the run is recorded. Running it twice changes nothing more.
func (c *cycle) run(ctx context.Context) (CycleReport, error) {
	now := c.life.clock.Now().UTC()
	rep := CycleReport{Day: dayOf(now)}
	requestID := cycleJobName + "-" + rep.Day
	log := logging.From(ctx)

	for _, q := range dueQueries(now, c.life.rules.Grace) {
		trunc, err := c.due.EachDue(ctx, q.status, q.before, cycleMaxPages, func(sub Subscription) error {
			return c.review(ctx, sub, now, requestID, &rep)
		})
		if err != nil {
			return rep, err
		}
		rep.Truncated = rep.Truncated || trunc
	}

	trunc, err := c.others.EachOpenOther(ctx, cycleMaxPages, func(o OtherSubscription) error {
		return c.checkOther(ctx, o, now, requestID, &rep)
	})
	if err != nil {
		return rep, err
	}
	rep.Truncated = rep.Truncated || trunc
	// Every run emits the count (0 included), so the alarm sees data and an absent point means the
	// job did not run rather than "no duplicates".
	metric.Emit(ctx, log, c.fn, metric.DuplicateLiveSubscriptions, int64(rep.DuplicateLive))

	m, err := readMetrics(ctx, c.metrics, c.due, c.life.rules, now, cycleMaxPages)
	if err != nil {
		return rep, err
	}
	if rep.SnapshotWritten, err = c.records.PutSnapshot(ctx, snapshotOf(m, now)); err != nil {
		return rep, err
	}
	emitGauges(ctx, log, m)
	// The first run of the day is recorded; a rerun leaves the record as it is.
	if err := c.records.RecordJobRun(ctx, cycleJobName, rep.Day, now, rep); err != nil {
		return rep, err
	}
	// Only a run that finished says so: the alarm fires after 26 hours without one.
	metric.Count1(ctx, log, metric.BillingCycleSucceeded)
	return rep, nil
}

// emitGauges reports the snapshot's business gauges (dashboard, churn alarm). The churn rate is
// left out when it is undefined (nobody was paying when the window started): no point, not 0.
func emitGauges(ctx context.Context, log *slog.Logger, m Metrics) {
	metric.Record(ctx, log, metric.Point{Name: metric.MRRCents, Unit: metric.None, Value: m.MRRCents})
	metric.Record(ctx, log, metric.Point{Name: metric.PayingCustomers, Unit: metric.Count, Value: m.PayingCustomers})
	if bp := m.Churn.RateBasisPoints; bp != nil {
		metric.Record(ctx, log, metric.Point{Name: metric.ChurnRate30dBasisPoints, Unit: metric.None, Value: *bp})
	}
	// The marketplace's month to date, from the same read (its day counters: sales, shares,
	// refunds booked in the marketplace's transactions).
	for _, g := range []struct {
		name string
		v    int64
	}{{metric.MarketplaceGMVMonthCents, m.Marketplace.GMVCents}, {metric.MarketplaceCommissionMonthCents, m.Marketplace.PlatformRevenueCents},
		{metric.MarketplaceRefundsMonthCents, m.Marketplace.RefundedCents}} {
		metric.Record(ctx, log, metric.Point{Name: g.name, Unit: metric.None, Value: g.v})
	}
}

// review reconciles one due subscription with Stripe and applies the time rules to the result.
func (c *cycle) review(ctx context.Context, sub Subscription, now time.Time, requestID string, rep *CycleReport) error {
	rep.Checked++
	log := logging.From(ctx).With("userId", sub.UserID, "subscription", sub.StripeSubscriptionID)
	s, err := c.stripe.GetSubscription(ctx, sub.StripeSubscriptionID)
	if err != nil {
		// Stripe is the source of truth: without its answer nothing is inferred, not even an
		// expiry that the stored dates alone would suggest (feature checks already apply it on read).
		rep.SkippedUnreachable++
		log.Warn("billing cycle: Stripe read failed; subscription left as it was", "err", err.Error())
		return nil
	}
	if uid := s.Metadata["userId"]; (uid != "" && uid != sub.UserID) || s.ID != sub.StripeSubscriptionID {
		rep.ReconcileSkipped++
		log.Warn("billing cycle: Stripe's subscription belongs elsewhere; left as it was")
		return nil
	}
	st, err := StateFromStripe(s, c.life.rules.Prices)
	if err != nil {
		rep.ReconcileSkipped++
		log.Warn("billing cycle: Stripe's state not usable; left as it was", "err", err.Error())
		return nil
	}
	res, err := c.life.syncFromStripe(ctx, sub.UserID, st, Stamp{Created: now.Unix(), ID: "reconcile-" + rep.Day},
		audit.ActorJob, requestID)
	if err != nil {
		return err
	}
	before := res.Prev
	if res.Applied && !sameStripeState(res.Prev, res.Stored) {
		rep.Reconciled++
	}
	// A state Stripe's ordering kept out (or one that changed nothing) may still have lapsed by time.
	after, err := c.life.apply(ctx, change{
		userID: sub.UserID, at: now,
		mutate: func(cur Subscription) (Subscription, bool, error) { return cur, cur.Exists(), nil },
		audit: func(prev, next Subscription) audit.Entry {
			return audit.Entry{Actor: audit.ActorJob, Action: "subscription.expire",
				Target: "subscription:" + prev.StripeSubscriptionID, RequestID: requestID,
				Details: map[string]string{"userId": sub.UserID}}
		},
	})
	if err != nil {
		return err
	}
	if lapsed(before, after.stored, c.life.rules.Grace, now) {
		rep.Expired++
		if after.stored.Status == StatusPastDue {
			rep.PastDueExpired++
		}
	}
	return nil
}

// lapsed reports a paid tier that a time rule ended between prev and next.
func lapsed(prev, next Subscription, grace time.Duration, now time.Time) bool {
	end := accessEndedAt(next, grace)
	return prev.Tier != TierFree && prev.Tier != "" && next.Tier == TierFree && !end.IsZero() && !now.Before(end)
}

// sameStripeState compares what Stripe decides (not our derived tier).
func sameStripeState(a, b Subscription) bool {
	a.Tier, b.Tier = "", ""
	return sameState(a, b)
}

// checkOther looks at a live subscription that is not the user's stored one: resolved when it has
// ended or become the stored one, adopted once the stored one has ended at Stripe, reported while
// both are live.
func (c *cycle) checkOther(ctx context.Context, o OtherSubscription, now time.Time, requestID string, rep *CycleReport) error {
	log := logging.From(ctx).With("userId", o.UserID, "other", o.StripeSubscriptionID)
	stored, err := loadSubscription(ctx, c.life.subs, o.UserID)
	if err != nil {
		return err
	}
	if stored.StripeSubscriptionID == o.StripeSubscriptionID {
		return c.others.ResolveOtherSubscription(ctx, o.UserID, o.StripeSubscriptionID, "stored")
	}
	other, err := c.readState(ctx, o.StripeSubscriptionID, rep)
	if err != nil || other == nil {
		return err
	}
	if terminal(other.Status) {
		return c.others.ResolveOtherSubscription(ctx, o.UserID, o.StripeSubscriptionID, "ended")
	}
	stamp := Stamp{Created: now.Unix(), ID: "reconcile-" + rep.Day}
	if stored.StripeSubscriptionID != "" && !terminal(stored.Status) {
		// Bring the stored one up to date first: it may have ended without us hearing of it.
		cur, err := c.readState(ctx, stored.StripeSubscriptionID, rep)
		if err != nil || cur == nil {
			return err
		}
		res, err := c.life.syncFromStripe(ctx, o.UserID, *cur, stamp, audit.ActorJob, requestID)
		if err != nil {
			return err
		}
		if stored = res.Stored; !terminal(stored.Status) {
			rep.DuplicateLive++
			log.Error("two live Stripe subscriptions for one user; see docs/runbooks/subscription-state-mismatch.md",
				"stored", stored.StripeSubscriptionID, "storedStatus", stored.Status, "otherStatus", other.Status)
			return c.audit.WriteAudit(ctx, audit.Entry{Actor: audit.ActorJob, Action: "subscription.duplicate_live",
				Target: "user:" + o.UserID, RequestID: requestID, Details: map[string]string{
					"stored": stored.StripeSubscriptionID, "storedStatus": stored.Status,
					"other": o.StripeSubscriptionID, "otherStatus": other.Status}})
		}
	}
	res, err := c.life.syncFromStripe(ctx, o.UserID, *other, stamp, audit.ActorJob, requestID)
	if err != nil {
		return err
	}
	if res.Stored.StripeSubscriptionID != o.StripeSubscriptionID {
		// The stored item changed under us (yet another subscription); the next run looks again.
		log.Warn("billing cycle: other subscription not adopted", "reason", res.Refused)
		return nil
	}
	rep.Adopted++
	return c.others.ResolveOtherSubscription(ctx, o.UserID, o.StripeSubscriptionID, "adopted")
}

// readState reads a subscription's state from Stripe for the job: nil (and the report counted)
// when Stripe cannot be read or its state is not ours.
func (c *cycle) readState(ctx context.Context, id string, rep *CycleReport) (*State, error) {
	s, err := c.stripe.GetSubscription(ctx, id)
	if err != nil {
		rep.SkippedUnreachable++
		logging.From(ctx).Warn("billing cycle: Stripe read failed; left as it was", "subscription", id, "err", err.Error())
		return nil, nil
	}
	st, err := StateFromStripe(s, c.life.rules.Prices)
	if err != nil {
		rep.ReconcileSkipped++
		logging.From(ctx).Warn("billing cycle: Stripe's state not usable; left as it was", "subscription", id, "err", err.Error())
		return nil, nil
	}
	return &st, nil
}
