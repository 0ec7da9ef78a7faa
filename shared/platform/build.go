package platform

// Build is every generated constructor (shared/<package>/functions_gen.go): it makes the package's
// wiring from the function's runtime — what the package builds once per cold start (repositories,
// settings, clients the function declares) — then hands it to wire, the function's own line beside
// its handler, which passes the handler exactly what it takes. A failure of either is an init failure.
func Build[W, H any](wiring func(*Runtime) (W, error), wire func(W) (H, error)) func(*Runtime) (H, error) {
	return func(rt *Runtime) (H, error) {
		w, err := wiring(rt)
		if err != nil {
			var zero H
			return zero, err
		}
		h, err := wire(w)
		if err != nil {
			return h, err
		}
		return rateLimit(rt, h) // the manifest's per-user limit, in front of every HTTP route that has one
	}
}
