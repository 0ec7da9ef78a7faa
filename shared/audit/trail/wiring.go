// Package trail serves the audit trail's functions (docs/decisions/0085): GET /admin/audit (the
// records by actor, target, action and time), the daily seal (each chain's head of the day before,
// kept in S3) and the verify job (the chains recomputed and compared with the seals). It is apart
// from shared/audit, which every area links, so that only these functions link what they use.
package trail

import (
	"context"

	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
)

// wiring is what the audit trail's functions make once per cold start (decision 0074): the
// generated New<Name> (functions_gen.go) builds it and hands it to the function's wire<Name>.
type wiring struct {
	rt    *platform.Runtime
	Clock clock.Clock
	Store *store.Store
	Blobs blob.Store // nil unless the function declares Bucket
	Emit  func(ctx context.Context, name string, v int64)
}

func newWiring(rt *platform.Runtime) (wiring, error) {
	w := wiring{rt: rt, Clock: rt.Clock, Store: store.Open(rt), Emit: func(ctx context.Context, name string, v int64) {
		metric.Emit(ctx, logging.From(ctx), rt.Fn.Name, name, v)
	}}
	if len(rt.Fn.Bucket) > 0 {
		b, err := blob.From(rt)
		if err != nil {
			return w, err
		}
		w.Blobs = b
	}
	return w, nil
}

// route serves h as the function's route.
func (w wiring) route(h httpapi.Handler) (httpapi.Lambda, error) {
	return httpapi.Route(w.rt.Fn, h), nil
}
