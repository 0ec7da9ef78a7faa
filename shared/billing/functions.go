package billing

import (
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/platform"
)

// Constructors of billing's functions: functions/<name>/main.go (generated) and the local gateway
// call New<Name>(runtime). Each builds only what its function uses.

// NewGetSubscription builds GET /subscription.
func NewGetSubscription(rt *platform.Runtime) (httpapi.Lambda, error) {
	return HandleGetSubscription(rt.Fn, depsOf(rt)), nil
}

// NewCheckFeature builds GET /features/{feature}.
func NewCheckFeature(rt *platform.Runtime) (httpapi.Lambda, error) {
	return HandleCheckFeature(rt.Fn, depsOf(rt)), nil
}

// NewCreateCheckout builds POST /subscription/checkout.
func NewCreateCheckout(rt *platform.Runtime) (httpapi.Lambda, error) {
	return HandleCreateCheckout(rt.Fn, depsOf(rt)), nil
}

// NewCreatePortalSession builds POST /subscription/portal.
func NewCreatePortalSession(rt *platform.Runtime) (httpapi.Lambda, error) {
	return HandleCreatePortalSession(rt.Fn, depsOf(rt)), nil
}

// NewChangeSubscription builds PUT /subscription.
func NewChangeSubscription(rt *platform.Runtime) (httpapi.Lambda, error) {
	return HandleChangeSubscription(rt.Fn, depsOf(rt)), nil
}

// NewCancelSubscription builds DELETE /subscription.
func NewCancelSubscription(rt *platform.Runtime) (httpapi.Lambda, error) {
	return HandleCancelSubscription(rt.Fn, depsOf(rt)), nil
}

// NewResumeSubscription builds POST /subscription/resume.
func NewResumeSubscription(rt *platform.Runtime) (httpapi.Lambda, error) {
	return HandleResumeSubscription(rt.Fn, depsOf(rt)), nil
}

// NewGetMetrics builds GET /admin/metrics.
func NewGetMetrics(rt *platform.Runtime) (httpapi.Lambda, error) {
	return HandleGetMetrics(rt.Fn, depsOf(rt)), nil
}

// NewBillingCycle builds the daily billing-cycle job.
func NewBillingCycle(rt *platform.Runtime) (job.Handler[CycleReport], error) {
	d := depsOf(rt)
	return job.Handle(rt.Log, HandleBillingCycle(d, stripeFetcher(d))), nil
}
