package privacy

import (
	"fmt"

	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/notify"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/store"
)

// wiring is what privacy makes once per cold start for its HTTP functions (decision 0074): the
// generated New<Name> (functions_gen.go) builds it and hands it to the function's wire<Name>.
type wiring struct {
	rt    *platform.Runtime
	Clock clock.Clock
	Store *store.Store
	Repo  Repo
	Queue queue.Sender // nil unless the function declares Sends
	Blobs blob.Store   // nil unless the function declares Bucket
}

func newWiring(rt *platform.Runtime) (wiring, error) {
	s := store.Open(rt)
	w := wiring{rt: rt, Clock: rt.Clock, Store: s, Repo: Repo{S: s}}
	if len(rt.Fn.Sends) > 0 {
		q, err := queue.From(rt)
		if err != nil {
			return w, err
		}
		w.Queue = q
	}
	if len(rt.Fn.Bucket) > 0 {
		b, err := blob.From(rt)
		if err != nil {
			return w, err
		}
		w.Blobs = b
	}
	return w, nil
}

// Hooks is what an area contributes to the export host: it registers its exporter.
type Hooks func(rt *platform.Runtime, r *Registry) error

// NewHost builds the export host (build-personal-export) from the areas' hooks: the exports
// queue's consumer, running the Builder.
func NewHost(hooks ...Hooks) func(*platform.Runtime) (queue.Consumer, error) {
	return func(rt *platform.Runtime) (queue.Consumer, error) {
		reg := &Registry{}
		for _, h := range hooks {
			if err := h(rt, reg); err != nil {
				return nil, err
			}
		}
		s := store.Open(rt)
		blobs, err := blob.From(rt)
		if err != nil {
			return nil, err
		}
		sender, err := mail.From(rt)
		if err != nil {
			return nil, err
		}
		q, err := queue.From(rt)
		if err != nil {
			return nil, err
		}
		b := &Builder{Repo: Repo{S: s}, Registry: reg, Blobs: blobs, Mail: sender, Idem: s, Queue: q,
			Clock: rt.Clock, From: notify.From(notify.Brand{}, rt.Config.MailFrom)}
		var r queue.Router
		r.On(MessageBuild, b.Handle)
		return r.Consumer(rt.Log), nil
	}
}

// route serves h as the function's route.
func (w wiring) route(h httpapi.Handler) (httpapi.Lambda, error) {
	return httpapi.Route(w.rt.Fn, h), nil
}

func need(w wiring, ok bool, what string) error {
	if !ok {
		return fmt.Errorf("%s: no %s (the manifest entry declares none)", w.rt.Fn.Name, what)
	}
	return nil
}
