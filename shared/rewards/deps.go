package rewards

import (
	"log/slog"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
)

// Deps is what the area's code uses, built per function from its runtime. Business time comes
// from Clock (a fake one in tests: week boundaries, daily caps, refund windows). Storage is behind
// the area's ports (ports.go), one per responsibility; a port left nil is the DynamoDB repository
// over Store, so a Deps built from a store alone (benchmarks, other areas' tests) still works.
// Each Handle<Route>(fn, *Deps) resolves the ports its route uses and builds the handler on those
// only (poster: the clock and the Ledger; workflow: that and Redemptions).
type Deps struct {
	Clock clock.Clock
	// Store is the platform's records the frame and other areas read through it (idempotency
	// records, branding, activity); the area's own items go through the ports.
	Store *store.Store
	Log   *slog.Logger
	// Fn is the function's name (audit request ids, metrics).
	Fn string
	// Claims records the Idempotency-Key routes' requests; nil: Store.
	Claims idempotency.Store

	Ledger      Ledger
	Guards      EarnGuards
	Boards      Boards
	Redemptions Redemptions
	History     History
	Social      Social
	Metrics     Metrics
}

// NewDeps builds Deps for the runtime's function.
func NewDeps(rt *platform.Runtime) *Deps {
	s := store.Open(rt)
	return (&Deps{Clock: rt.Clock, Store: s, Log: rt.Log, Fn: rt.Fn.Name}).With(NewRepo(s))
}

// With wires every port to r.
func (d *Deps) With(r Repo) *Deps {
	d.Ledger, d.Guards, d.Boards, d.Redemptions, d.History, d.Social, d.Metrics = r, r, r, r, r, r, r
	return d
}

func (d *Deps) ledger() Ledger {
	if d.Ledger == nil {
		return NewRepo(d.Store)
	}
	return d.Ledger
}

func (d *Deps) guards() EarnGuards {
	if d.Guards == nil {
		return NewRepo(d.Store)
	}
	return d.Guards
}

func (d *Deps) boards() Boards {
	if d.Boards == nil {
		return NewRepo(d.Store)
	}
	return d.Boards
}

func (d *Deps) redemptions() Redemptions {
	if d.Redemptions == nil {
		return NewRepo(d.Store)
	}
	return d.Redemptions
}

func (d *Deps) history() History {
	if d.History == nil {
		return NewRepo(d.Store)
	}
	return d.History
}

func (d *Deps) social() Social {
	if d.Social == nil {
		return NewRepo(d.Store)
	}
	return d.Social
}

func (d *Deps) metrics() Metrics {
	if d.Metrics == nil {
		return NewRepo(d.Store)
	}
	return d.Metrics
}

func (d *Deps) claims() idempotency.Store {
	if d.Claims == nil {
		return d.Store
	}
	return d.Claims
}
