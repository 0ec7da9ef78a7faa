package billing

import (
	"context"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/manifest"
)

// planDeps is what the plan-change routes (PUT/DELETE /subscription, resume) use.
type planDeps struct {
	life   *lifecycle
	idem   idempotency.Store
	stripe stripeAPI
}

func (d planDeps) view(sub Subscription, err error) (httpapi.Response, error) {
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.OK(View(sub, d.life.clock.Now(), d.life.rules.Grace)), nil
}

// patch writes a user-initiated change to the stored item: only if the item still describes the
// same Stripe subscription. It leaves the ordering watermark alone, so Stripe's own event for the
// change (which always follows) stays authoritative.
func (d planDeps) patch(ctx context.Context, r *httpapi.Request, sub Subscription, action string,
	details map[string]string, fn func(next *Subscription)) (Subscription, error) {
	res, err := d.life.apply(ctx, change{
		userID: r.Principal.UserID, at: d.life.clock.Now(),
		mutate: func(cur Subscription) (Subscription, bool, error) {
			if cur.StripeSubscriptionID != sub.StripeSubscriptionID {
				return cur, false, apperr.New(apperr.Conflict, "the subscription changed meanwhile; reload and retry")
			}
			next := cur
			fn(&next)
			return next, true, nil
		},
		audit: func(prev, next Subscription) audit.Entry {
			return audit.Entry{Actor: r.Principal.UserID, Action: action, Target: "subscription:" + sub.StripeSubscriptionID,
				RequestID: r.ID, Details: details}
		},
	})
	return res.stored, err
}

type changeRequest struct {
	Tier string `json:"tier"`
}

func (c changeRequest) Validate() error {
	_, err := parseTier("tier", c.Tier, true)
	return err
}

func wireChangeSubscription(w wiring) (httpapi.Lambda, error) {
	return HandleChangeSubscription(w.rt.Fn, w.plan()), nil
}

// HandleChangeSubscription serves PUT /subscription {tier}: an upgrade takes effect now and is
// invoiced now with proration; a downgrade takes effect at the period end (a Stripe subscription
// schedule); "free" cancels at the period end. See docs/decisions/0009.
func HandleChangeSubscription(fn manifest.Function, d planDeps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.Idempotent(d.idem, fn.Name, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req changeRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		target, _ := TierByID(req.Tier)
		sub, err := loadSubscription(ctx, d.life.subs, r.Principal.UserID)
		if err != nil {
			return httpapi.Response{}, err
		}
		if !hasLiveSubscription(sub, AccessAt(sub, d.life.clock.Now(), d.life.rules.Grace)) {
			if target.ID == TierFree {
				return httpapi.Response{}, apperr.New(apperr.Unprocessable, "you are on the Free tier already")
			}
			return httpapi.Response{}, apperr.New(apperr.Unprocessable,
				"there is no active subscription to change; start one with POST /subscription/checkout")
		}
		if target.ID == TierFree {
			return d.cancelAtPeriodEnd(ctx, r, sub)
		}
		current, _ := TierByID(planTier(sub))
		switch {
		case target.ID == current.ID && sub.PendingTier != "":
			// Asking for the current tier while a downgrade is pending undoes the downgrade.
			if err := d.releaseSchedule(ctx, sub); err != nil {
				return httpapi.Response{}, err
			}
			return d.view(d.patch(ctx, r, sub, "subscription.downgrade_undone", nil, func(n *Subscription) {
				n.PendingTier, n.ScheduleID = "", ""
			}))
		case target.ID == current.ID:
			return httpapi.Response{}, apperr.New(apperr.Unprocessable, "you are on the %s tier already", current.Name)
		case sub.CancelAtPeriodEnd:
			return httpapi.Response{}, apperr.New(apperr.Unprocessable,
				"the subscription is set to cancel; resume it first with POST /subscription/resume")
		case target.Rank > current.Rank:
			return d.upgrade(ctx, r, sub, target)
		default:
			return d.scheduleDowngrade(ctx, r, sub, current, target)
		}
	}))
}

// upgrade switches the subscription's price now and invoices the prorated difference at once
// (proration_behavior always_invoice, payment_behavior error_if_incomplete: a declined card leaves
// the subscription unchanged and the caller gets a 422).
func (d planDeps) upgrade(ctx context.Context, r *httpapi.Request, sub Subscription, target Tier) (httpapi.Response, error) {
	price := target.PriceID(d.life.rules.Prices)
	if err := d.releaseSchedule(ctx, sub); err != nil {
		return httpapi.Response{}, err
	}
	itemID := sub.StripeItemID
	if itemID == "" {
		s, err := d.stripe.GetSubscription(ctx, sub.StripeSubscriptionID)
		if err != nil {
			return httpapi.Response{}, err
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
	if _, err := d.stripe.UpdateSubscription(ctx, sub.StripeSubscriptionID, params, stateKey("upgrade", sub, target.ID)); err != nil {
		return httpapi.Response{}, err
	}
	return d.view(d.patch(ctx, r, sub, "subscription.upgrade", map[string]string{"tier": target.ID},
		func(n *Subscription) {
			n.PlanTier, n.PriceID, n.StripeItemID, n.PendingTier, n.ScheduleID = target.ID, price, itemID, "", ""
		}))
}

// scheduleDowngrade attaches a subscription schedule: the current price until currentPeriodEnd, then
// the lower price; the schedule releases the subscription after that. Access stays at the current
// tier until the period ends; Stripe's subscription.updated at renewal brings the new price.
func (d planDeps) scheduleDowngrade(ctx context.Context, r *httpapi.Request, sub Subscription,
	current, target Tier) (httpapi.Response, error) {
	if sub.PendingTier == target.ID {
		return d.view(sub, nil)
	}
	var sched *stripe.SubscriptionSchedule
	var err error
	if sub.ScheduleID != "" {
		sched, err = d.stripe.GetSchedule(ctx, sub.ScheduleID)
	} else {
		p := &stripe.SubscriptionScheduleParams{FromSubscription: stripe.String(sub.StripeSubscriptionID)}
		sched, err = d.stripe.CreateSchedule(ctx, p, stateKey("schedule", sub, target.ID))
	}
	if err != nil {
		return httpapi.Response{}, err
	}
	start := sub.CurrentPeriodEnd.AddDate(0, -1, 0).Unix()
	if sched.CurrentPhase != nil && sched.CurrentPhase.StartDate > 0 {
		start = sched.CurrentPhase.StartDate
	} else if len(sched.Phases) > 0 && sched.Phases[0].StartDate > 0 {
		start = sched.Phases[0].StartDate
	}
	prices := d.life.rules.Prices
	up := &stripe.SubscriptionScheduleParams{
		EndBehavior: stripe.String(string(stripe.SubscriptionScheduleEndBehaviorRelease)),
		Phases: []*stripe.SubscriptionSchedulePhaseParams{
			{Items: []*stripe.SubscriptionSchedulePhaseItemParams{{Price: stripe.String(current.PriceID(prices)), Quantity: stripe.Int64(1)}},
				StartDate: stripe.Int64(start), EndDate: stripe.Int64(sub.CurrentPeriodEnd.Unix())},
			{Items: []*stripe.SubscriptionSchedulePhaseItemParams{{Price: stripe.String(target.PriceID(prices)), Quantity: stripe.Int64(1)}},
				Iterations: stripe.Int64(1), ProrationBehavior: stripe.String("none"),
				Metadata: map[string]string{"userId": r.Principal.UserID, "tier": target.ID}},
		},
	}
	if _, err := d.stripe.UpdateSchedule(ctx, sched.ID, up, stateKey("schedule-phases", sub, target.ID)); err != nil {
		return httpapi.Response{}, err
	}
	return d.view(d.patch(ctx, r, sub, "subscription.downgrade_scheduled", map[string]string{"pendingTier": target.ID},
		func(n *Subscription) { n.PendingTier, n.ScheduleID = target.ID, sched.ID }))
}

// releaseSchedule detaches a pending-downgrade schedule (the subscription keeps its current price).
func (d planDeps) releaseSchedule(ctx context.Context, sub Subscription) error {
	if sub.ScheduleID == "" {
		return nil
	}
	return d.stripe.ReleaseSchedule(ctx, sub.ScheduleID, stateKey("release", sub, sub.ScheduleID))
}

func (d planDeps) cancelAtPeriodEnd(ctx context.Context, r *httpapi.Request, sub Subscription) (httpapi.Response, error) {
	if sub.CancelAtPeriodEnd {
		return d.view(sub, nil)
	}
	if err := d.releaseSchedule(ctx, sub); err != nil {
		return httpapi.Response{}, err
	}
	params := &stripe.SubscriptionParams{CancelAtPeriodEnd: stripe.Bool(true)}
	if _, err := d.stripe.UpdateSubscription(ctx, sub.StripeSubscriptionID, params, stateKey("cancel", sub, "free")); err != nil {
		return httpapi.Response{}, err
	}
	return d.view(d.patch(ctx, r, sub, "subscription.cancel", nil, func(n *Subscription) {
		n.CancelAtPeriodEnd, n.PendingTier, n.ScheduleID = true, "", ""
	}))
}

func wireCancelSubscription(w wiring) (httpapi.Lambda, error) {
	return HandleCancelSubscription(w.rt.Fn, w.plan()), nil
}

// HandleCancelSubscription serves DELETE /subscription: cancel at the period end (access continues
// until then). Canceling an already canceling subscription returns it unchanged.
func HandleCancelSubscription(fn manifest.Function, d planDeps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.Idempotent(d.idem, fn.Name, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		sub, err := loadSubscription(ctx, d.life.subs, r.Principal.UserID)
		if err != nil {
			return httpapi.Response{}, err
		}
		if !hasLiveSubscription(sub, AccessAt(sub, d.life.clock.Now(), d.life.rules.Grace)) {
			return httpapi.Response{}, apperr.New(apperr.Unprocessable, "there is no active subscription to cancel")
		}
		return d.cancelAtPeriodEnd(ctx, r, sub)
	}))
}

func wireResumeSubscription(w wiring) (httpapi.Lambda, error) {
	return HandleResumeSubscription(w.rt.Fn, w.plan()), nil
}

// HandleResumeSubscription serves POST /subscription/resume: undo a cancellation before the period
// ends.
func HandleResumeSubscription(fn manifest.Function, d planDeps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.Idempotent(d.idem, fn.Name, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		sub, err := loadSubscription(ctx, d.life.subs, r.Principal.UserID)
		if err != nil {
			return httpapi.Response{}, err
		}
		ended := apperr.New(apperr.Unprocessable, "the subscription has ended; start a new one with POST /subscription/checkout")
		switch {
		case terminal(sub.Status):
			return httpapi.Response{}, ended
		case sub.StripeSubscriptionID == "" || !sub.CancelAtPeriodEnd:
			return httpapi.Response{}, apperr.New(apperr.Unprocessable, "there is no pending cancellation to resume")
		case !hasLiveSubscription(sub, AccessAt(sub, d.life.clock.Now(), d.life.rules.Grace)):
			return httpapi.Response{}, ended
		}
		params := &stripe.SubscriptionParams{CancelAtPeriodEnd: stripe.Bool(false)}
		if _, err := d.stripe.UpdateSubscription(ctx, sub.StripeSubscriptionID, params, stateKey("resume", sub, planTier(sub))); err != nil {
			return httpapi.Response{}, err
		}
		return d.view(d.patch(ctx, r, sub, "subscription.resume", nil, func(n *Subscription) { n.CancelAtPeriodEnd = false }))
	}))
}
