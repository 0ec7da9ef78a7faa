package billing

import (
	"context"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/store"
)

// lifecycle is the one writer of subscription items: Stripe's states (webhook, reconciliation),
// user-initiated patches and the job's time-rule expiries all go through apply.
type lifecycle struct {
	subs  subscriptions
	clock clock.Clock
	rules Rules
}

// mutation computes the next item from the current one (cur.Exists() is false for a user without
// an item). Returning ok=false leaves the item as it is.
type mutation func(cur Subscription) (next Subscription, ok bool, err error)

// change is one write to a user's subscription.
type change struct {
	userID string
	at     time.Time // when the fact happened (event created, access end, or now): the day counters' day
	mutate mutation
	audit  func(prev, next Subscription) audit.Entry
}

// normalize derives the stored bookkeeping from the state: Tier is what the state entitles to at
// now (so the metric gauges, which follow Tier, change in the same write), ReviewAt is when the job
// must look at the item again.
func (l *lifecycle) normalize(next *Subscription, now time.Time) {
	if next.PlanTier == "" && next.Tier != TierFree {
		next.PlanTier = next.Tier
	}
	if next.Status == "" {
		next.Tier = TierFree
	} else {
		next.Tier = AccessAt(*next, now, l.rules.Grace).Tier
	}
	next.ReviewAt = reviewAt(*next)
}

// applied is what apply did: the item it read last, the item stored after it, and whether the
// state changed.
type applied struct {
	prev, stored Subscription
	changed      bool
}

// apply reads the user's item, applies the mutation and writes the result together with the metric
// deltas and an audit record in one transaction, conditioned on the version read; a lost race reads
// again (store.RetryOnConflict).
func (l *lifecycle) apply(ctx context.Context, c change) (applied, error) {
	var out applied
	err := store.RetryOnConflict(ctx, "the subscription", func() error {
		cur, err := l.subs.GetSubscription(ctx, c.userID)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return err
		}
		out = applied{prev: cur, stored: cur}
		next, ok, err := c.mutate(cur)
		if err != nil || !ok {
			return err
		}
		now := l.clock.Now().UTC()
		next.Version = cur.Version + 1 // what the write makes it (deltas and rules see a stored item)
		l.normalize(&next, now)
		stateChanged := !sameState(cur, next) || !cur.Exists()
		if !stateChanged && stampOf(next) == stampOf(cur) {
			return nil
		}
		next.UpdatedAt = now
		w := subscriptionWrite{UserID: c.userID, Next: &next, PrevVersion: cur.Version, At: c.at}
		if stateChanged {
			w.At = l.factTime(cur, next, c.at, now)
			w.Gauges, w.Day = metricDeltas(cur, next, w.At)
			if payingTier(cur) == "" && payingTier(next) != "" {
				next.PayingSince = w.At.UTC()
			}
			if c.audit != nil {
				e := c.audit(cur, next)
				if e.Details == nil {
					e.Details = map[string]string{}
				}
				e.Details["fromTier"], e.Details["toTier"] = cur.Tier, next.Tier
				e.Details["fromStatus"], e.Details["toStatus"] = cur.Status, next.Status
				e.Details["version"] = strconv.FormatInt(cur.Version+1, 10)
				w.Audit = &e
			}
		}
		if err := l.subs.WriteSubscription(ctx, w); err != nil {
			return err
		}
		emitPayingChange(ctx, w.Day)
		out = applied{prev: cur, stored: next, changed: stateChanged}
		return nil
	})
	return out, err
}

// factTime is the day a change is counted on. A subscription that stops paying stopped when a time
// rule ended its access (the period end of a cancellation, the end of a past_due grace) if that
// moment has passed — whoever writes it later (Stripe's final event, the next day's job) — and
// otherwise when the fact happened.
func (l *lifecycle) factTime(cur, next Subscription, at, now time.Time) time.Time {
	if payingTier(cur) != "" && payingTier(next) == "" {
		for _, end := range []time.Time{accessEndedAt(cur, l.rules.Grace), accessEndedAt(next, l.rules.Grace)} {
			if !end.IsZero() && !end.After(at) && !now.Before(end) {
				return end
			}
		}
		if end := accessEndedAt(next, l.rules.Grace); !end.IsZero() && !now.Before(end) {
			return end
		}
	}
	return at
}

// sameState reports whether two items describe the same subscription state (ignoring bookkeeping:
// version, watermark, review time, update time).
func sameState(a, b Subscription) bool {
	return a.Tier == b.Tier && a.PlanTier == b.PlanTier && a.Status == b.Status &&
		a.StripeSubscriptionID == b.StripeSubscriptionID && a.StripeCustomerID == b.StripeCustomerID &&
		a.StripeItemID == b.StripeItemID && a.PriceID == b.PriceID &&
		a.CurrentPeriodStart.Equal(b.CurrentPeriodStart) && a.CurrentPeriodEnd.Equal(b.CurrentPeriodEnd) &&
		a.CancelAtPeriodEnd == b.CancelAtPeriodEnd && a.PendingTier == b.PendingTier &&
		a.ScheduleID == b.ScheduleID && a.PaidThrough.Equal(b.PaidThrough)
}

// State is the part of a Stripe subscription we store.
type State struct {
	SubscriptionID     string
	CustomerID         string
	ItemID             string
	PriceID            string
	PriceTier          string // tier of the price (pro / enterprise)
	Status             string
	CurrentPeriodStart time.Time
	CurrentPeriodEnd   time.Time
	CancelAtPeriodEnd  bool
}

// StateFromStripe reads a Stripe subscription. A subscription none of whose prices is one of our
// tiers is an apperr.Unprocessable (not ours, or a configuration error).
func StateFromStripe(sub *stripe.Subscription, p Prices) (State, error) {
	st := State{SubscriptionID: sub.ID, Status: string(sub.Status), CancelAtPeriodEnd: sub.CancelAtPeriodEnd,
		CurrentPeriodStart: unix(sub.CurrentPeriodStart), CurrentPeriodEnd: unix(sub.CurrentPeriodEnd)}
	if sub.Customer != nil {
		st.CustomerID = sub.Customer.ID
	}
	if sub.Items != nil {
		for _, it := range sub.Items.Data {
			if it == nil || it.Price == nil {
				continue
			}
			if t, ok := TierByPrice(p, it.Price.ID); ok {
				st.ItemID, st.PriceID, st.PriceTier = it.ID, it.Price.ID, t.ID
				break
			}
		}
	}
	if st.SubscriptionID == "" || st.Status == "" {
		return st, apperr.New(apperr.Invalid, "subscription without id or status")
	}
	if st.PriceTier == "" {
		return st, apperr.New(apperr.Unprocessable, "subscription %s has no price of a known tier", sub.ID)
	}
	return st, nil
}

func unix(s int64) time.Time {
	if s <= 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// SyncResult says what a sync did.
type SyncResult struct {
	Applied bool   // the stored state changed
	Refused string // why Stripe's state was not stored ("" when it was, or when it changed nothing)
	// OtherLive: the state is a live subscription other than the user's stored live one; it was not
	// stored and was recorded for the billing-cycle job (one live subscription per user).
	OtherLive bool
	Prev      Subscription // the item before
	Stored    Subscription // the item after
}

// syncFromStripe stores the state of a Stripe subscription for userID if the ordering rules allow it
// (docs/decisions/0007 and 0036). stamp orders it: the event's created time and id for webhook
// events, the fetch time for reconciliation. Duplicates and any arrival order end in the same state.
func (l *lifecycle) syncFromStripe(ctx context.Context, userID string, s State, stamp Stamp,
	actor, requestID string) (SyncResult, error) {
	stamp.Rank = statusRank(s.Status)
	var d decision
	res, err := l.apply(ctx, change{
		userID: userID, at: time.Unix(stamp.Created, 0).UTC(),
		mutate: func(cur Subscription) (Subscription, bool, error) {
			d = syncDecision(cur, s, stamp)
			if !d.apply {
				return cur, false, nil
			}
			return syncedState(cur, s, stamp), true, nil
		},
		audit: func(prev, next Subscription) audit.Entry {
			action := "subscription.sync"
			if sameStripeState(prev, next) {
				action = "subscription.expire" // Stripe's state as stored; only a time rule ended the tier
			}
			return audit.Entry{Actor: actor, Action: action, Target: "subscription:" + s.SubscriptionID,
				RequestID: requestID, Details: map[string]string{"userId": userID}}
		},
	})
	return SyncResult{Applied: res.changed, Refused: d.reason, OtherLive: d.otherLive, Prev: res.prev, Stored: res.stored}, err
}

// syncedState is cur with Stripe's state s stamped st (Tier and ReviewAt are derived by normalize).
func syncedState(cur Subscription, s State, st Stamp) Subscription {
	next := cur
	if cur.StripeSubscriptionID != s.SubscriptionID {
		next.PendingTier, next.ScheduleID = "", ""
	}
	// A pending downgrade is done once the price has changed (or the subscription ended).
	if next.PendingTier != "" && (s.PriceTier != planTier(cur) || terminal(s.Status)) {
		next.PendingTier, next.ScheduleID = "", ""
	}
	next.PlanTier, next.Status = s.PriceTier, s.Status
	next.StripeSubscriptionID, next.StripeItemID, next.PriceID = s.SubscriptionID, s.ItemID, s.PriceID
	if s.CustomerID != "" {
		next.StripeCustomerID = s.CustomerID
	}
	next.CurrentPeriodStart, next.CurrentPeriodEnd, next.CancelAtPeriodEnd = s.CurrentPeriodStart, s.CurrentPeriodEnd, s.CancelAtPeriodEnd
	if stampOf(cur).less(st) || cur.StripeSubscriptionID != s.SubscriptionID {
		next.LastEventCreated, next.LastEventRank, next.LastEventID = st.Created, st.Rank, st.ID
	}
	return next
}

// recordPaidThrough remembers the end of a paid invoice period (the later of what is stored and
// periodEnd, so any order of invoice.paid events gives the same result).
func (l *lifecycle) recordPaidThrough(ctx context.Context, userID string, periodEnd time.Time, eventID string) error {
	periodEnd = periodEnd.UTC()
	_, err := l.apply(ctx, change{
		userID: userID, at: l.clock.Now(),
		mutate: func(cur Subscription) (Subscription, bool, error) {
			if !periodEnd.After(cur.PaidThrough) {
				return cur, false, nil
			}
			next := cur
			next.PaidThrough = periodEnd
			return next, true, nil
		},
		audit: func(prev, next Subscription) audit.Entry {
			return audit.Entry{Actor: audit.ActorStripe, Action: "subscription.paid_through",
				Target: "user:" + userID, RequestID: eventID,
				Details: map[string]string{"paidThrough": rfc(periodEnd)}}
		},
	})
	return err
}

// loadSubscription reads a user's item; a user without one gets the zero item (Free).
func loadSubscription(ctx context.Context, r subscriptionReader, userID string) (Subscription, error) {
	sub, err := r.GetSubscription(ctx, userID)
	if apperr.Is(err, apperr.NotFound) {
		return Subscription{}, nil
	}
	return sub, err
}

// emitPayingChange reports a subscription that became paying or stopped paying (the day counters
// just written) as the business metrics SubscriptionStarts / SubscriptionCancellations.
func emitPayingChange(ctx context.Context, day map[string]int64) {
	for _, c := range []struct{ ctr, name string }{{store.CtrNewPaying, metric.SubscriptionStarts},
		{store.CtrChurnedPaying, metric.SubscriptionCancellations}} {
		if n := day[c.ctr]; n > 0 {
			metric.Record(ctx, logging.From(ctx), metric.Point{Name: c.name, Unit: metric.Count, Value: n})
		}
	}
}
