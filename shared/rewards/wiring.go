package rewards

import "github.com/liberation/monetization/shared/platform"

// wiring is what rewards makes once per cold start for any of its functions (decision 0074): the
// generated New<Name> (functions_gen.go) builds it and hands it to the function's wire<Name>,
// beside its handler.
type wiring struct {
	rt *platform.Runtime
	d  *Deps
}

func newWiring(rt *platform.Runtime) (wiring, error) { return wiring{rt: rt, d: NewDeps(rt)}, nil }
