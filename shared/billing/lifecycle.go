package billing

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/store"
)

// Stripe subscription statuses (stored as Stripe spells them), plus "none" for a user without one.
const (
	StatusNone              = "none"
	StatusActive            = string(stripe.SubscriptionStatusActive)
	StatusTrialing          = string(stripe.SubscriptionStatusTrialing)
	StatusPastDue           = string(stripe.SubscriptionStatusPastDue)
	StatusUnpaid            = string(stripe.SubscriptionStatusUnpaid)
	StatusCanceled          = string(stripe.SubscriptionStatusCanceled)
	StatusIncomplete        = string(stripe.SubscriptionStatusIncomplete)
	StatusIncompleteExpired = string(stripe.SubscriptionStatusIncompleteExpired)
	StatusPaused            = string(stripe.SubscriptionStatusPaused)
)

// grantsByStatus: the statuses under which the subscribed tier is usable. past_due keeps access
// while Stripe retries the payment (until currentPeriodEnd, checked on read); unpaid, canceled,
// incomplete(_expired) and paused are Free.
func grantsByStatus(status string) bool {
	return status == StatusActive || status == StatusTrialing || status == StatusPastDue
}

// payingStatus: the statuses counted in MRR and paying customers (trials pay nothing yet).
func payingStatus(status string) bool { return status == StatusActive || status == StatusPastDue }

// terminal statuses never come back for the same Stripe subscription.
func terminal(status string) bool {
	return status == StatusCanceled || status == StatusIncompleteExpired
}

// statusRank orders states of one subscription that Stripe stamped with the same second:
// incomplete < live states < terminal states (created(incomplete) and updated(active) routinely share
// a second at checkout).
func statusRank(status string) int {
	switch {
	case status == StatusIncomplete:
		return 0
	case terminal(status):
		return 2
	}
	return 1
}

// Access is what a subscription entitles to at a moment, and why.
type Access struct {
	Tier        string    // effective tier
	Status      string    // stored Stripe status, or "none"
	Reason      string    // human-readable why
	AccessUntil time.Time // when paid access ends if nothing changes (zero: renews / not applicable)
	PaidThrough time.Time // end of the last paid invoice period (zero: unknown)
}

// AccessAt evaluates sub at now. Time-bound ends (a cancellation or a past_due subscription reaching
// currentPeriodEnd) apply here, on read, so access never outlives the period even before the
// billing-cycle job or Stripe's final event has updated the item.
func AccessAt(sub store.Subscription, now time.Time) Access {
	if !sub.Exists() || sub.Status == "" {
		return Access{Tier: TierFree, Status: StatusNone, Reason: "no subscription: the Free tier", PaidThrough: sub.PaidThrough}
	}
	a := Access{Tier: TierFree, Status: sub.Status, PaidThrough: sub.PaidThrough}
	end := sub.CurrentPeriodEnd
	switch {
	case sub.Tier == TierFree || sub.Tier == "":
		a.Reason = "subscription is " + sub.Status + ": the Free tier"
	case sub.Status == StatusActive || sub.Status == StatusTrialing:
		if sub.CancelAtPeriodEnd {
			if !now.Before(end) {
				a.Reason = "subscription was canceled and ended at " + rfc(end) + ": the Free tier"
				return a
			}
			a.AccessUntil = end
			a.Tier, a.Reason = sub.Tier, "subscription is "+sub.Status+" and cancels at "+rfc(end)
			return a
		}
		a.Tier, a.Reason = sub.Tier, "subscription is "+sub.Status
	case sub.Status == StatusPastDue:
		if !now.Before(end) {
			a.Reason = "payment is past due beyond the period ending " + rfc(end) + ": the Free tier"
			return a
		}
		a.AccessUntil = end
		a.Tier, a.Reason = sub.Tier, "payment is past due; access continues until "+rfc(end)+" while payment is retried"
	default:
		a.Reason = "subscription is " + sub.Status + ": the Free tier"
	}
	return a
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// payingTier is the tier counted in MRR for a stored item ("" when not paying). It depends on stored
// fields only, so the gauges change exactly when an item write changes it.
func payingTier(s store.Subscription) string {
	if s.Exists() && payingStatus(s.Status) && s.Tier != TierFree && s.Tier != "" {
		return s.Tier
	}
	return ""
}

// liveTier is the tier counted in "active subscriptions per tier" ("" when none).
func liveTier(s store.Subscription) string {
	if s.Exists() && grantsByStatus(s.Status) && s.Tier != TierFree && s.Tier != "" {
		return s.Tier
	}
	return ""
}

func tierPrice(id string) int64 {
	if t, ok := TierByID(id); ok {
		return t.PriceCents
	}
	return 0
}

// metricDeltas are the gauge and day-counter changes of moving from prev to next.
func metricDeltas(prev, next store.Subscription) (gauges, day map[string]int64) {
	gauges, day = map[string]int64{}, map[string]int64{}
	pp, np := payingTier(prev), payingTier(next)
	if pp != np {
		gauges[store.GaugeMRRCents] += tierPrice(np) - tierPrice(pp)
		switch {
		case pp == "":
			gauges[store.GaugePayingCustomers]++
			day[store.CtrNewPaying]++
		case np == "":
			gauges[store.GaugePayingCustomers]--
			day[store.CtrChurnedPaying]++
		}
	}
	if pl, nl := liveTier(prev), liveTier(next); pl != nl {
		if pl != "" {
			gauges[store.GaugeSubsPrefix+pl]--
		}
		if nl != "" {
			gauges[store.GaugeSubsPrefix+nl]++
		}
	}
	return gauges, day
}

// sameState reports whether two items describe the same subscription state (ignoring bookkeeping:
// version, watermark, update time).
func sameState(a, b store.Subscription) bool {
	return a.Tier == b.Tier && a.Status == b.Status && a.StripeSubscriptionID == b.StripeSubscriptionID &&
		a.StripeCustomerID == b.StripeCustomerID && a.StripeItemID == b.StripeItemID && a.PriceID == b.PriceID &&
		a.CurrentPeriodEnd.Equal(b.CurrentPeriodEnd) && a.CancelAtPeriodEnd == b.CancelAtPeriodEnd &&
		a.PendingTier == b.PendingTier && a.ScheduleID == b.ScheduleID && a.PaidThrough.Equal(b.PaidThrough)
}

// mutation computes the next item from the current one (cur.Exists() is false for a user without
// an item). Returning ok=false leaves the item as it is.
type mutation func(cur store.Subscription) (next store.Subscription, ok bool, err error)

// change is one write to a user's subscription.
type change struct {
	userID string
	at     time.Time // when the fact happened (event created, or now): the day counters' day
	mutate mutation
	audit  func(prev, next store.Subscription) audit.Entry
}

const maxApplyAttempts = 8

// apply reads the user's item, applies the mutation and writes the result together with the metric
// deltas and an audit record in one transaction, conditioned on the version read. On a lost race it
// reads again and retries. It returns the stored item and whether the state changed.
func apply(ctx context.Context, d *Deps, c change) (store.Subscription, bool, error) {
	for attempt := 0; attempt < maxApplyAttempts; attempt++ {
		cur, err := d.Store.GetSubscription(ctx, c.userID)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return cur, false, err
		}
		next, ok, err := c.mutate(cur)
		if err != nil || !ok {
			return cur, false, err
		}
		stateChanged := !sameState(cur, next) || !cur.Exists()
		if !stateChanged && next.LastEventCreated == cur.LastEventCreated &&
			next.LastEventRank == cur.LastEventRank && next.LastEventID == cur.LastEventID {
			return cur, false, nil
		}
		next.UpdatedAt = d.Clock.Now().UTC()
		put, err := d.Store.PutSubscriptionTx(c.userID, &next, cur.Version)
		if err != nil {
			return cur, false, err
		}
		items := []types.TransactWriteItem{put}
		if stateChanged {
			gauges, day := metricDeltas(cur, next)
			items = store.Append(items, store.AddCounters(store.MetricsCurrentKey(), gauges), store.AddDayCounters(c.at, day))
			if c.audit != nil {
				e := c.audit(cur, next)
				if e.Details == nil {
					e.Details = map[string]string{}
				}
				e.Details["fromTier"], e.Details["toTier"] = cur.Tier, next.Tier
				e.Details["fromStatus"], e.Details["toStatus"] = cur.Status, next.Status
				e.Details["version"] = strconv.FormatInt(next.Version, 10)
				a, err := audit.Item(e, d.Store.Clock.Now())
				if err != nil {
					return cur, false, err
				}
				items = append(items, a)
			}
		}
		err = d.Store.Transact(ctx, items)
		if store.IsConditionFailed(err) || txConflict(err) {
			// Another writer changed this item (re-read and recompute the deltas), or a concurrent
			// transaction held the shared metrics item: back off briefly and retry.
			if err := backoff(ctx, attempt); err != nil {
				return cur, false, err
			}
			continue
		}
		if err != nil {
			return cur, false, err
		}
		return next, stateChanged, nil
	}
	return store.Subscription{}, false, apperr.New(apperr.Conflict, "the subscription is changing concurrently; retry")
}

// State is the part of a Stripe subscription we store.
type State struct {
	SubscriptionID    string
	CustomerID        string
	ItemID            string
	PriceID           string
	PriceTier         string // tier of the price (pro / enterprise)
	Status            string
	CurrentPeriodEnd  time.Time
	CancelAtPeriodEnd bool
}

// StateFromStripe reads a Stripe subscription. A subscription none of whose prices is one of our
// tiers is an apperr.Unprocessable (not ours, or a configuration error).
func StateFromStripe(sub *stripe.Subscription, p Prices) (State, error) {
	st := State{SubscriptionID: sub.ID, Status: string(sub.Status), CancelAtPeriodEnd: sub.CancelAtPeriodEnd,
		CurrentPeriodEnd: time.Unix(sub.CurrentPeriodEnd, 0).UTC()}
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

// Stamp orders Stripe-sourced states of a user's subscription: Stripe's event created time, then
// the status rank, then the event id (any deterministic tie-break makes arrival order irrelevant).
type Stamp struct {
	Created int64
	Rank    int
	ID      string
}

func (a Stamp) less(b Stamp) bool {
	if a.Created != b.Created {
		return a.Created < b.Created
	}
	if a.Rank != b.Rank {
		return a.Rank < b.Rank
	}
	return a.ID < b.ID
}

func stampOf(s store.Subscription) Stamp {
	return Stamp{Created: s.LastEventCreated, Rank: s.LastEventRank, ID: s.LastEventID}
}

// syncDecision says whether a Stripe state stamped st may replace the stored item cur, and why not.
func syncDecision(cur store.Subscription, s State, st Stamp) (bool, string) {
	if !cur.Exists() || cur.StripeSubscriptionID == "" {
		return true, ""
	}
	if cur.StripeSubscriptionID == s.SubscriptionID {
		if terminal(cur.Status) && !terminal(s.Status) {
			return false, "subscription already ended"
		}
		if st.less(stampOf(cur)) {
			return false, "older than the stored state"
		}
		return true, ""
	}
	// Another Stripe subscription than the stored one.
	if !terminal(cur.Status) && terminal(s.Status) {
		return false, "an old subscription ended; the current one stays"
	}
	if st.less(stampOf(cur)) {
		return false, "older than the stored state"
	}
	return true, ""
}

// syncMutation applies a Stripe-sourced state with the ordering guard.
func syncMutation(s State, st Stamp) mutation {
	return func(cur store.Subscription) (store.Subscription, bool, error) {
		if ok, _ := syncDecision(cur, s, st); !ok {
			return cur, false, nil
		}
		next := cur
		tier := s.PriceTier
		if !grantsByStatus(s.Status) {
			tier = TierFree
		}
		if cur.StripeSubscriptionID != s.SubscriptionID {
			next.PendingTier, next.ScheduleID = "", ""
		}
		// A pending downgrade is done once the price has changed (or the subscription ended).
		if next.PendingTier != "" && (s.PriceTier != cur.Tier || terminal(s.Status)) {
			next.PendingTier, next.ScheduleID = "", ""
		}
		next.Tier, next.Status = tier, s.Status
		next.StripeSubscriptionID, next.StripeItemID, next.PriceID = s.SubscriptionID, s.ItemID, s.PriceID
		if s.CustomerID != "" {
			next.StripeCustomerID = s.CustomerID
		}
		next.CurrentPeriodEnd, next.CancelAtPeriodEnd = s.CurrentPeriodEnd, s.CancelAtPeriodEnd
		if stampOf(cur).less(st) {
			next.LastEventCreated, next.LastEventRank, next.LastEventID = st.Created, st.Rank, st.ID
		}
		return next, true, nil
	}
}

// SyncResult says what a sync did.
type SyncResult struct {
	Applied bool // the stored state changed
	Stored  store.Subscription
}

// SyncFromStripe stores the state of a Stripe subscription for userID if it is not older than what is
// stored (see docs/decisions/0007). stamp orders it: the event's created time and id for webhook
// events; the fetch time for reconciliation. Duplicates and any arrival order end in the same state.
func SyncFromStripe(ctx context.Context, d *Deps, userID string, sub *stripe.Subscription, stamp Stamp,
	actor, requestID string) (SyncResult, error) {
	s, err := StateFromStripe(sub, pricesOf(d))
	if err != nil {
		return SyncResult{}, err
	}
	stamp.Rank = statusRank(s.Status)
	stored, changed, err := apply(ctx, d, change{
		userID: userID, at: time.Unix(stamp.Created, 0).UTC(), mutate: syncMutation(s, stamp),
		audit: func(prev, next store.Subscription) audit.Entry {
			return audit.Entry{Actor: actor, Action: "subscription.sync", Target: "subscription:" + s.SubscriptionID,
				RequestID: requestID, Details: map[string]string{"userId": userID}}
		},
	})
	return SyncResult{Applied: changed, Stored: stored}, err
}

// RecordPaidThrough remembers the end of a paid invoice period (the later of what is stored and
// periodEnd, so any order of invoice.paid events gives the same result).
func RecordPaidThrough(ctx context.Context, d *Deps, userID string, periodEnd time.Time, eventID string) error {
	periodEnd = periodEnd.UTC()
	_, _, err := apply(ctx, d, change{
		userID: userID, at: d.Clock.Now(),
		mutate: func(cur store.Subscription) (store.Subscription, bool, error) {
			if !periodEnd.After(cur.PaidThrough) {
				return cur, false, nil
			}
			next := cur
			next.PaidThrough = periodEnd
			if !cur.Exists() {
				next.Tier = TierFree
			}
			return next, true, nil
		},
		audit: func(prev, next store.Subscription) audit.Entry {
			return audit.Entry{Actor: audit.ActorStripe, Action: "subscription.paid_through",
				Target: "user:" + userID, RequestID: eventID,
				Details: map[string]string{"paidThrough": rfc(periodEnd)}}
		},
	})
	return err
}

func pricesOf(d *Deps) Prices {
	return Prices{Pro: d.Config.PricePro, Enterprise: d.Config.PriceEnterprise}
}

// txConflict reports a transaction refused because another transaction was using one of its items
// (DynamoDB's TransactionConflict), which is worth retrying at once.
func txConflict(err error) bool {
	if err == nil {
		return false
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "TransactionConflict" {
				return true
			}
		}
	}
	var tc *types.TransactionConflictException
	return errors.As(err, &tc)
}

func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(5+rand.IntN(20*(attempt+1))) * time.Millisecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
