package marketplace

import "github.com/liberation/monetization/shared/platform"

// wiring is what the marketplace makes once per cold start for any of its functions (decision
// 0074): the generated New<Name> (functions_gen.go) builds it and hands it to the function's
// wire<Name>, beside its handler. (The search and the catalog builder live in
// shared/marketplace/catalog.)
type wiring struct {
	rt *platform.Runtime
	d  *Deps
}

func newWiring(rt *platform.Runtime) (wiring, error) {
	d, err := NewDeps(rt)
	return wiring{rt: rt, d: d}, err
}
