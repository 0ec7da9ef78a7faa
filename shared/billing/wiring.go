package billing

import (
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

// Billing's wiring (decision 0074): the generated New<Name> (functions_gen.go) makes it from the
// function's runtime and hands it to the function's wire<Name>, beside the handler, which passes the
// handler the small interfaces of ports.go, implemented over DynamoDB and Stripe.

// wiring is what a billing function's process provides: its settings, the table and, for functions
// whose manifest entry declares Stripe, the Stripe port.
type wiring struct {
	set    Settings
	repo   dynamoRepo
	stripe stripeAPI
	rt     *platform.Runtime
}

func newWiring(rt *platform.Runtime) (wiring, error) {
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
