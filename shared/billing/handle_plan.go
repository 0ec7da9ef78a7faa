package billing

import (
	"context"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// patch writes a user-initiated change to the stored item: only if the item still describes the
// same Stripe subscription. It leaves the ordering watermark alone, so Stripe's own event for the
// change (which always follows) stays authoritative.
func patch(ctx context.Context, d *Deps, r *httpapi.Request, sub store.Subscription, action string,
	details map[string]string, fn func(next *store.Subscription)) (store.Subscription, error) {
	stored, _, err := apply(ctx, d, change{
		userID: r.Principal.UserID, at: d.Clock.Now(),
		mutate: func(cur store.Subscription) (store.Subscription, bool, error) {
			if cur.StripeSubscriptionID != sub.StripeSubscriptionID {
				return cur, false, apperr.New(apperr.Conflict, "the subscription changed meanwhile; reload and retry")
			}
			next := cur
			fn(&next)
			return next, true, nil
		},
		audit: func(prev, next store.Subscription) audit.Entry {
			return audit.Entry{Actor: r.Principal.UserID, Action: action, Target: "subscription:" + sub.StripeSubscriptionID,
				RequestID: r.ID, Details: details}
		},
	})
	return stored, err
}

type changeRequest struct {
	Tier string `json:"tier"`
}

func (c changeRequest) Validate() error {
	_, err := parseTier("tier", c.Tier, true)
	return err
}

// HandleChangeSubscription serves PUT /subscription {tier}: an upgrade takes effect now and is
// invoiced now with proration; a downgrade takes effect at the period end (a Stripe subscription
// schedule); "free" cancels at the period end. See docs/decisions/0009.
func HandleChangeSubscription(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.Idempotent(d.Store, fn.Name, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req changeRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		target, _ := TierByID(req.Tier)
		sub, err := loadSubscription(ctx, d, r.Principal.UserID)
		if err != nil {
			return httpapi.Response{}, err
		}
		now := d.Clock.Now()
		if !hasLiveSubscription(sub, AccessAt(sub, now)) {
			if target.ID == TierFree {
				return httpapi.Response{}, apperr.New(apperr.Unprocessable, "you are on the Free tier already")
			}
			return httpapi.Response{}, apperr.New(apperr.Unprocessable,
				"there is no active subscription to change; start one with POST /subscription/checkout")
		}
		if target.ID == TierFree {
			return cancelAtPeriodEnd(ctx, d, r, sub)
		}
		current, _ := TierByID(sub.Tier)
		sc, err := stripeClient(ctx, d)
		if err != nil {
			return httpapi.Response{}, err
		}
		switch {
		case target.ID == current.ID && sub.PendingTier != "":
			// Asking for the current tier while a downgrade is pending undoes the downgrade.
			if err := releaseSchedule(sc, sub); err != nil {
				return httpapi.Response{}, err
			}
			stored, err := patch(ctx, d, r, sub, "subscription.downgrade_undone", nil, func(n *store.Subscription) {
				n.PendingTier, n.ScheduleID = "", ""
			})
			return viewOrErr(stored, now, err)
		case target.ID == current.ID:
			return httpapi.Response{}, apperr.New(apperr.Unprocessable, "you are on the %s tier already", current.Name)
		case sub.CancelAtPeriodEnd:
			return httpapi.Response{}, apperr.New(apperr.Unprocessable,
				"the subscription is set to cancel; resume it first with POST /subscription/resume")
		case target.Rank > current.Rank:
			return upgrade(ctx, d, r, sc, sub, target)
		default:
			return scheduleDowngrade(ctx, d, r, sc, sub, current, target)
		}
	}))
}

func viewOrErr(sub store.Subscription, now time.Time, err error) (httpapi.Response, error) {
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.OK(View(sub, now)), nil
}

// upgrade switches the subscription's price now and invoices the prorated difference at once
// (proration_behavior always_invoice, payment_behavior error_if_incomplete: a declined card leaves
// the subscription unchanged and the caller gets a 422).
func upgrade(ctx context.Context, d *Deps, r *httpapi.Request, sc *client.API, sub store.Subscription, target Tier) (httpapi.Response, error) {
	price := target.PriceID(pricesOf(d))
	if err := releaseSchedule(sc, sub); err != nil {
		return httpapi.Response{}, err
	}
	itemID := sub.StripeItemID
	if itemID == "" {
		s, err := sc.Subscriptions.Get(sub.StripeSubscriptionID, nil)
		if err != nil {
			return httpapi.Response{}, stripeFailure(err, "reading the subscription")
		}
		if s.Items == nil || len(s.Items.Data) == 0 {
			return httpapi.Response{}, apperr.New(apperr.Unprocessable, "the subscription has no item to change")
		}
		itemID = s.Items.Data[0].ID
	}
	params := &stripe.SubscriptionParams{
		Items:             []*stripe.SubscriptionItemsParams{{ID: stripe.String(itemID), Price: stripe.String(price)}},
		ProrationBehavior: stripe.String("always_invoice"),
		PaymentBehavior:   stripe.String("error_if_incomplete"),
		Metadata:          map[string]string{"userId": r.Principal.UserID, "tier": target.ID},
	}
	params.SetIdempotencyKey(stateKey("upgrade", sub, target.ID))
	if _, err := sc.Subscriptions.Update(sub.StripeSubscriptionID, params); err != nil {
		return httpapi.Response{}, stripeFailure(err, "upgrading the subscription")
	}
	stored, err := patch(ctx, d, r, sub, "subscription.upgrade", map[string]string{"tier": target.ID},
		func(n *store.Subscription) {
			n.Tier, n.PriceID, n.StripeItemID, n.PendingTier, n.ScheduleID = target.ID, price, itemID, "", ""
		})
	return viewOrErr(stored, d.Clock.Now(), err)
}

// scheduleDowngrade attaches a subscription schedule: the current price until currentPeriodEnd, then
// the lower price; the schedule releases the subscription after that. Access stays at the current
// tier until the period ends; Stripe's subscription.updated at renewal brings the new price.
func scheduleDowngrade(ctx context.Context, d *Deps, r *httpapi.Request, sc *client.API, sub store.Subscription,
	current, target Tier) (httpapi.Response, error) {
	if sub.PendingTier == target.ID {
		return httpapi.OK(View(sub, d.Clock.Now())), nil
	}
	var sched *stripe.SubscriptionSchedule
	var err error
	if sub.ScheduleID != "" {
		sched, err = sc.SubscriptionSchedules.Get(sub.ScheduleID, nil)
	} else {
		p := &stripe.SubscriptionScheduleParams{FromSubscription: stripe.String(sub.StripeSubscriptionID)}
		p.SetIdempotencyKey(stateKey("schedule", sub, target.ID))
		sched, err = sc.SubscriptionSchedules.New(p)
	}
	if err != nil {
		return httpapi.Response{}, stripeFailure(err, "scheduling the downgrade")
	}
	start := sub.CurrentPeriodEnd.AddDate(0, -1, 0).Unix()
	if sched.CurrentPhase != nil && sched.CurrentPhase.StartDate > 0 {
		start = sched.CurrentPhase.StartDate
	} else if len(sched.Phases) > 0 && sched.Phases[0].StartDate > 0 {
		start = sched.Phases[0].StartDate
	}
	up := &stripe.SubscriptionScheduleParams{
		EndBehavior: stripe.String(string(stripe.SubscriptionScheduleEndBehaviorRelease)),
		Phases: []*stripe.SubscriptionSchedulePhaseParams{
			{Items: []*stripe.SubscriptionSchedulePhaseItemParams{{Price: stripe.String(current.PriceID(pricesOf(d))), Quantity: stripe.Int64(1)}},
				StartDate: stripe.Int64(start), EndDate: stripe.Int64(sub.CurrentPeriodEnd.Unix())},
			{Items: []*stripe.SubscriptionSchedulePhaseItemParams{{Price: stripe.String(target.PriceID(pricesOf(d))), Quantity: stripe.Int64(1)}},
				Iterations: stripe.Int64(1), ProrationBehavior: stripe.String("none"),
				Metadata: map[string]string{"userId": r.Principal.UserID, "tier": target.ID}},
		},
	}
	up.SetIdempotencyKey(stateKey("schedule-phases", sub, target.ID))
	if _, err := sc.SubscriptionSchedules.Update(sched.ID, up); err != nil {
		return httpapi.Response{}, stripeFailure(err, "scheduling the downgrade")
	}
	stored, err := patch(ctx, d, r, sub, "subscription.downgrade_scheduled", map[string]string{"pendingTier": target.ID},
		func(n *store.Subscription) { n.PendingTier, n.ScheduleID = target.ID, sched.ID })
	return viewOrErr(stored, d.Clock.Now(), err)
}

// releaseSchedule detaches a pending-downgrade schedule (the subscription keeps its current price).
func releaseSchedule(sc *client.API, sub store.Subscription) error {
	if sub.ScheduleID == "" {
		return nil
	}
	p := &stripe.SubscriptionScheduleReleaseParams{}
	p.SetIdempotencyKey(stateKey("release", sub, sub.ScheduleID))
	if _, err := sc.SubscriptionSchedules.Release(sub.ScheduleID, p); err != nil {
		return stripeFailure(err, "undoing the scheduled downgrade")
	}
	return nil
}

func cancelAtPeriodEnd(ctx context.Context, d *Deps, r *httpapi.Request, sub store.Subscription) (httpapi.Response, error) {
	if sub.CancelAtPeriodEnd {
		return httpapi.OK(View(sub, d.Clock.Now())), nil
	}
	sc, err := stripeClient(ctx, d)
	if err != nil {
		return httpapi.Response{}, err
	}
	if err := releaseSchedule(sc, sub); err != nil {
		return httpapi.Response{}, err
	}
	params := &stripe.SubscriptionParams{CancelAtPeriodEnd: stripe.Bool(true)}
	params.SetIdempotencyKey(stateKey("cancel", sub, "free"))
	if _, err := sc.Subscriptions.Update(sub.StripeSubscriptionID, params); err != nil {
		return httpapi.Response{}, stripeFailure(err, "canceling the subscription")
	}
	stored, err := patch(ctx, d, r, sub, "subscription.cancel", nil, func(n *store.Subscription) {
		n.CancelAtPeriodEnd, n.PendingTier, n.ScheduleID = true, "", ""
	})
	return viewOrErr(stored, d.Clock.Now(), err)
}

// HandleCancelSubscription serves DELETE /subscription: cancel at the period end (access continues
// until then). Canceling an already canceling subscription returns it unchanged.
func HandleCancelSubscription(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.Idempotent(d.Store, fn.Name, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		sub, err := loadSubscription(ctx, d, r.Principal.UserID)
		if err != nil {
			return httpapi.Response{}, err
		}
		if !hasLiveSubscription(sub, AccessAt(sub, d.Clock.Now())) {
			return httpapi.Response{}, apperr.New(apperr.Unprocessable, "there is no active subscription to cancel")
		}
		return cancelAtPeriodEnd(ctx, d, r, sub)
	}))
}

// HandleResumeSubscription serves POST /subscription/resume: undo a cancellation before the period
// ends.
func HandleResumeSubscription(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.Idempotent(d.Store, fn.Name, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		sub, err := loadSubscription(ctx, d, r.Principal.UserID)
		if err != nil {
			return httpapi.Response{}, err
		}
		now := d.Clock.Now()
		if sub.StripeSubscriptionID == "" || !sub.CancelAtPeriodEnd || terminal(sub.Status) {
			if terminal(sub.Status) {
				return httpapi.Response{}, apperr.New(apperr.Unprocessable, "the subscription has ended; start a new one with POST /subscription/checkout")
			}
			return httpapi.Response{}, apperr.New(apperr.Unprocessable, "there is no pending cancellation to resume")
		}
		if !hasLiveSubscription(sub, AccessAt(sub, now)) {
			return httpapi.Response{}, apperr.New(apperr.Unprocessable, "the subscription has ended; start a new one with POST /subscription/checkout")
		}
		sc, err := stripeClient(ctx, d)
		if err != nil {
			return httpapi.Response{}, err
		}
		params := &stripe.SubscriptionParams{CancelAtPeriodEnd: stripe.Bool(false)}
		params.SetIdempotencyKey(stateKey("resume", sub, sub.Tier))
		if _, err := sc.Subscriptions.Update(sub.StripeSubscriptionID, params); err != nil {
			return httpapi.Response{}, stripeFailure(err, "resuming the subscription")
		}
		stored, err := patch(ctx, d, r, sub, "subscription.resume", nil, func(n *store.Subscription) { n.CancelAtPeriodEnd = false })
		return viewOrErr(stored, now, err)
	}))
}
