package billing

import (
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

// Deps is what billing's code uses, built per function from its runtime: the Stripe client only
// for functions whose manifest entry declares Stripe.
type Deps struct {
	Config platform.Config
	Clock  clock.Clock
	Store  *store.Store
	Stripe *stripeapi.Client // nil unless the function calls Stripe
}

// depsOf builds Deps for the runtime's function.
func depsOf(rt *platform.Runtime) *Deps {
	d := &Deps{Config: rt.Config, Clock: rt.Clock, Store: store.Open(rt)}
	if rt.Fn.Stripe {
		d.Stripe = stripeapi.Open(rt)
	}
	return d
}
