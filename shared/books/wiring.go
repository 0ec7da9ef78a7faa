// Package books serves the admin routes over the double-entry journal (shared/books/journal):
// the trial balance, an account's postings, the monthly statement and the monthly general-ledger
// export (docs/books.md "Routes"). It only reads the journal; areas post to it.
package books

import (
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
)

// wiring is what books makes once per cold start for any of its functions (decision 0074): the
// generated New<Name> (functions_gen.go) builds it and hands it to the function's wire<Name>,
// beside its handler, which passes the handler only the ports it takes.
type wiring struct {
	rt    *platform.Runtime
	Clock clock.Clock
	Repo  journal.Repo
	Blobs blob.Store // nil unless the function declares Bucket
}

func newWiring(rt *platform.Runtime) (wiring, error) {
	w := wiring{rt: rt, Clock: rt.Clock, Repo: journal.Repo{S: store.Open(rt)}}
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
