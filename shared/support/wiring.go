package support

import (
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/platform"
)

// wiring is what support makes once per cold start for any of its functions (decision 0074): the
// generated New<Name> (functions_gen.go) builds it and hands it to the function's wire<Name>,
// beside its handler, which passes the handler only the ports it takes.
type wiring struct {
	rt *platform.Runtime
	*Deps
}

func newWiring(rt *platform.Runtime) (wiring, error) {
	d, err := NewDeps(rt)
	return wiring{rt: rt, Deps: d}, err
}

// route serves h as the function's route.
func (w wiring) route(h httpapi.Handler) (httpapi.Lambda, error) {
	return httpapi.Route(w.rt.Fn, h), nil
}
