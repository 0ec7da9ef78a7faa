package rewards

import (
	"log/slog"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
)

// Deps is what the area's code uses, built per function from its runtime. Business time comes
// from Clock (a fake one in tests: week boundaries, daily caps, refund windows).
type Deps struct {
	Clock clock.Clock
	Store *store.Store
	Log   *slog.Logger
	// Fn is the function's name (audit request ids, metrics).
	Fn string
}

// NewDeps builds Deps for the runtime's function.
func NewDeps(rt *platform.Runtime) *Deps {
	return &Deps{Clock: rt.Clock, Store: store.Open(rt), Log: rt.Log, Fn: rt.Fn.Name}
}
