package reconcile

import (
	"context"

	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

// wiring is what the reconciliation makes once per cold start (decision 0074): the generated
// NewReconcile (functions_gen.go) builds it and hands it to wireReconcile.
type wiring struct {
	rt *platform.Runtime
	d  Deps
}

func newWiring(rt *platform.Runtime) (wiring, error) {
	d := Deps{Books: NewRepo(store.Open(rt)), Clock: rt.Clock, Stripe: NewStripePort(stripeapi.Open(rt)),
		Emit: func(ctx context.Context, name string, v int64) {
			metric.Emit(ctx, logging.From(ctx), rt.Fn.Name, name, v)
		}}
	return wiring{rt: rt, d: d}, nil
}

// wireReconcile is the reconcile job: the day in the event's detail, else yesterday (UTC).
func wireReconcile(w wiring) (job.Handler[Report], error) {
	return handler(w.d, func(f job.Func[Report]) job.Handler[Report] { return job.Handle(w.rt.Log, f) }), nil
}
