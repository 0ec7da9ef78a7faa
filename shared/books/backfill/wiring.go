package backfill

import (
	"time"

	"github.com/liberation/monetization/shared/books/backfill/walk"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"

	// The areas whose records have entries: importing them registers their posting rules and
	// backfillers (journal.RegisterBackfill, from each area's init).
	_ "github.com/liberation/monetization/shared/marketplace"
	_ "github.com/liberation/monetization/shared/payments"
	_ "github.com/liberation/monetization/shared/rewards"
)

// wiring is what the backfill makes once per cold start (decision 0074): the generated
// NewBackfillJournal (functions_gen.go) builds it and hands it to wireBackfillJournal.
type wiring struct {
	rt *platform.Runtime
	d  walk.Deps
}

// pageSize: items a Scan page evaluates. Each record costs a few reads and at most a few
// transactions, so a page is seconds of work and the checkpoint is never far behind.
const pageSize = 100

// reserve: the Lambda's time kept to save the checkpoint (one PutItem) before its deadline.
const reserve = 30 * time.Second

func newWiring(rt *platform.Runtime) (wiring, error) {
	s := store.Open(rt)
	r := walk.NewRepo(s)
	return wiring{rt: rt, d: walk.Deps{Walk: r, Books: r, States: r, Store: s, Clock: rt.Clock, PageSize: pageSize, Reserve: reserve}}, nil
}

// wireBackfillJournal is the backfill job: {"dryRun": true} counts, {"restart": true} walks again.
func wireBackfillJournal(w wiring) (job.Handler[walk.Report], error) {
	return handler(w.d, func(f job.Func[walk.Report]) job.Handler[walk.Report] { return job.Handle(w.rt.Log, f) }), nil
}
