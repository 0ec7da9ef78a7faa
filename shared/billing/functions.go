package billing

import (
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

// Constructors of billing's functions: functions/<name>/main.go (generated) and the local gateway
// call New<Name>(runtime). Each builds only what its function uses and hands its handler the small
// interfaces of ports.go, implemented over DynamoDB and Stripe.

// wiring is what a billing function's process provides: its settings, the table and, for functions
// whose manifest entry declares Stripe, the Stripe port.
type wiring struct {
	set    Settings
	repo   dynamoRepo
	stripe stripeAPI
	rt     *platform.Runtime
}

func wire(rt *platform.Runtime) (wiring, error) {
	set, err := settingsOf(rt)
	if err != nil {
		return wiring{}, err
	}
	w := wiring{set: set, repo: dynamoRepo{store.Open(rt)}, rt: rt}
	var port stripePort // without Stripe in the manifest entry, any call fails naming the field
	if rt.Fn.Stripe {
		port.c = stripeapi.Open(rt)
	}
	w.stripe = port
	return w, nil
}

func (w wiring) lifecycle() *lifecycle {
	return &lifecycle{subs: w.repo, clock: w.rt.Clock, rules: w.set.Rules}
}

func (w wiring) plan() planDeps {
	return planDeps{life: w.lifecycle(), idem: w.repo, stripe: w.stripe}
}

func build(rt *platform.Runtime, h func(w wiring) httpapi.Lambda) (httpapi.Lambda, error) {
	w, err := wire(rt)
	if err != nil {
		return nil, err
	}
	return h(w), nil
}

// NewGetSubscription builds GET /subscription.
func NewGetSubscription(rt *platform.Runtime) (httpapi.Lambda, error) {
	return build(rt, func(w wiring) httpapi.Lambda {
		return HandleGetSubscription(rt.Fn, w.repo, licenseSeats{w.repo.Store}, w.set.Rules, rt.Clock)
	})
}

// NewCheckFeature builds GET /features/{feature}.
func NewCheckFeature(rt *platform.Runtime) (httpapi.Lambda, error) {
	return build(rt, func(w wiring) httpapi.Lambda {
		return HandleCheckFeature(rt.Fn, w.repo, licenseSeats{w.repo.Store}, w.set.Rules, rt.Clock)
	})
}

// NewCreateCheckout builds POST /subscription/checkout.
func NewCreateCheckout(rt *platform.Runtime) (httpapi.Lambda, error) {
	return build(rt, func(w wiring) httpapi.Lambda {
		return HandleCreateCheckout(rt.Fn, checkoutDeps{subs: w.repo, customers: w.repo, audit: w.repo, idem: w.repo,
			stripe: w.stripe, settings: w.set})
	})
}

// NewCreatePortalSession builds POST /subscription/portal.
func NewCreatePortalSession(rt *platform.Runtime) (httpapi.Lambda, error) {
	return build(rt, func(w wiring) httpapi.Lambda {
		return HandleCreatePortalSession(rt.Fn, portalDeps{customers: w.repo, stripe: w.stripe, settings: w.set})
	})
}

// NewChangeSubscription builds PUT /subscription.
func NewChangeSubscription(rt *platform.Runtime) (httpapi.Lambda, error) {
	return build(rt, func(w wiring) httpapi.Lambda { return HandleChangeSubscription(rt.Fn, w.plan()) })
}

// NewCancelSubscription builds DELETE /subscription.
func NewCancelSubscription(rt *platform.Runtime) (httpapi.Lambda, error) {
	return build(rt, func(w wiring) httpapi.Lambda { return HandleCancelSubscription(rt.Fn, w.plan()) })
}

// NewResumeSubscription builds POST /subscription/resume.
func NewResumeSubscription(rt *platform.Runtime) (httpapi.Lambda, error) {
	return build(rt, func(w wiring) httpapi.Lambda { return HandleResumeSubscription(rt.Fn, w.plan()) })
}

// NewGetMetrics builds GET /admin/metrics.
func NewGetMetrics(rt *platform.Runtime) (httpapi.Lambda, error) {
	return build(rt, func(w wiring) httpapi.Lambda { return HandleGetMetrics(rt.Fn, w.repo, w.repo, w.set.Rules, rt.Clock) })
}

// NewBillingCycle builds the daily billing-cycle job; its report is the job's result.
func NewBillingCycle(rt *platform.Runtime) (job.Handler[CycleReport], error) {
	w, err := wire(rt)
	if err != nil {
		return nil, err
	}
	c := &cycle{fn: rt.Fn.Name, life: w.lifecycle(), due: w.repo, others: w.repo, stripe: w.stripe,
		metrics: w.repo, records: w.repo, audit: w.repo}
	return job.Handle(rt.Log, c.run), nil
}
