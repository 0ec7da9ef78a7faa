package licensing

import (
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/platform"
)

// wiring is what licensing makes once per cold start for any of its functions (decision 0074):
// the generated New<Name> (functions_gen.go) builds it and hands it to the function's wire<Name>,
// beside its handler.
type wiring struct {
	rt *platform.Runtime
	d  *Deps
}

func newWiring(rt *platform.Runtime) (wiring, error) {
	d, err := NewDeps(rt)
	return wiring{rt: rt, d: d}, err
}

// route serves h as the function's route.
func (w wiring) route(h httpapi.Handler) (httpapi.Lambda, error) {
	return httpapi.Route(w.rt.Fn, h), nil
}

// signing is the wiring of a function that signs license keys (SigningKey in its manifest entry).
func (w wiring) signing() (*Deps, error) { return withSigner(w.rt, w.d) }
