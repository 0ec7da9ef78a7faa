package billing

import (
	"context"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/stripeapi"
)

// stripePort is billing's stripeAPI over the process's one Stripe client: every call is bound to
// the caller's context (the Lambda's deadline) with its idempotency key, and every failure goes
// through stripeapi.Error (a definite refusal is a 422, an ambiguous failure a 503; IsAmbiguous
// still answers on the result). See docs/decisions/0016.
type stripePort struct{ c *stripeapi.Client }

func (p stripePort) api(ctx context.Context) (*client.API, error) {
	if p.c == nil {
		return nil, apperr.New(apperr.Internal, "this function has no Stripe client: declare Stripe in its manifest entry")
	}
	return p.c.API(ctx)
}

func (p stripePort) CreateCustomer(ctx context.Context, params *stripe.CustomerParams, key string) (*stripe.Customer, error) {
	sc, err := p.api(ctx)
	if err != nil {
		return nil, err
	}
	stripeapi.Bind(ctx, &params.Params, key)
	c, err := sc.Customers.New(params)
	return c, stripeapi.Error(err, "creating the customer")
}

func (p stripePort) CreateCheckoutSession(ctx context.Context, params *stripe.CheckoutSessionParams, key string) (*stripe.CheckoutSession, error) {
	sc, err := p.api(ctx)
	if err != nil {
		return nil, err
	}
	stripeapi.Bind(ctx, &params.Params, key)
	s, err := sc.CheckoutSessions.New(params)
	return s, stripeapi.Error(err, "starting checkout")
}

func (p stripePort) CreatePortalSession(ctx context.Context, params *stripe.BillingPortalSessionParams, key string) (*stripe.BillingPortalSession, error) {
	sc, err := p.api(ctx)
	if err != nil {
		return nil, err
	}
	stripeapi.Bind(ctx, &params.Params, key)
	s, err := sc.BillingPortalSessions.New(params)
	return s, stripeapi.Error(err, "opening the billing portal")
}

func (p stripePort) GetSubscription(ctx context.Context, id string) (*stripe.Subscription, error) {
	sc, err := p.api(ctx)
	if err != nil {
		return nil, err
	}
	params := &stripe.SubscriptionParams{}
	stripeapi.Bind(ctx, &params.Params, "")
	s, err := sc.Subscriptions.Get(id, params)
	return s, stripeapi.Error(err, "reading the subscription")
}

func (p stripePort) UpdateSubscription(ctx context.Context, id string, params *stripe.SubscriptionParams, key string) (*stripe.Subscription, error) {
	sc, err := p.api(ctx)
	if err != nil {
		return nil, err
	}
	stripeapi.Bind(ctx, &params.Params, key)
	s, err := sc.Subscriptions.Update(id, params)
	return s, stripeapi.Error(err, "changing the subscription")
}

func (p stripePort) GetSchedule(ctx context.Context, id string) (*stripe.SubscriptionSchedule, error) {
	sc, err := p.api(ctx)
	if err != nil {
		return nil, err
	}
	params := &stripe.SubscriptionScheduleParams{}
	stripeapi.Bind(ctx, &params.Params, "")
	s, err := sc.SubscriptionSchedules.Get(id, params)
	return s, stripeapi.Error(err, "reading the subscription schedule")
}

func (p stripePort) CreateSchedule(ctx context.Context, params *stripe.SubscriptionScheduleParams, key string) (*stripe.SubscriptionSchedule, error) {
	sc, err := p.api(ctx)
	if err != nil {
		return nil, err
	}
	stripeapi.Bind(ctx, &params.Params, key)
	s, err := sc.SubscriptionSchedules.New(params)
	return s, stripeapi.Error(err, "scheduling the downgrade")
}

func (p stripePort) UpdateSchedule(ctx context.Context, id string, params *stripe.SubscriptionScheduleParams, key string) (*stripe.SubscriptionSchedule, error) {
	sc, err := p.api(ctx)
	if err != nil {
		return nil, err
	}
	stripeapi.Bind(ctx, &params.Params, key)
	s, err := sc.SubscriptionSchedules.Update(id, params)
	return s, stripeapi.Error(err, "scheduling the downgrade")
}

func (p stripePort) ReleaseSchedule(ctx context.Context, id string, key string) error {
	sc, err := p.api(ctx)
	if err != nil {
		return err
	}
	params := &stripe.SubscriptionScheduleReleaseParams{}
	stripeapi.Bind(ctx, &params.Params, key)
	_, err = sc.SubscriptionSchedules.Release(id, params)
	return stripeapi.Error(err, "undoing the scheduled downgrade")
}

// CancelSubscriptionNow ends a subscription at once (DELETE /v1/subscriptions/{id}): no proration,
// no final invoice — Stripe's defaults.
func (p stripePort) CancelSubscriptionNow(ctx context.Context, id string, key string) error {
	sc, err := p.api(ctx)
	if err != nil {
		return err
	}
	params := &stripe.SubscriptionCancelParams{}
	stripeapi.Bind(ctx, &params.Params, key)
	_, err = sc.Subscriptions.Cancel(id, params)
	return stripeapi.Error(err, "cancelling the subscription")
}

// DeleteCustomer deletes a customer (DELETE /v1/customers/{id}): Stripe removes the customer's
// personal data and keeps its charges, invoices and refunds, and cancels any subscription left.
func (p stripePort) DeleteCustomer(ctx context.Context, id string, key string) error {
	sc, err := p.api(ctx)
	if err != nil {
		return err
	}
	params := &stripe.CustomerParams{}
	stripeapi.Bind(ctx, &params.Params, key)
	_, err = sc.Customers.Del(id, params)
	return stripeapi.Error(err, "deleting the customer")
}
