package migratejob

import (
	"time"

	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/migrate"
	"github.com/liberation/monetization/shared/migrate/migrations"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
)

// wiring is what the job makes once per cold start (decision 0074): the generated NewMigrate
// (functions_gen.go) builds it and hands it to wireMigrate.
type wiring struct {
	rt *platform.Runtime
	d  migrate.Deps
}

// pageSize: items a Scan page evaluates; a page is at most 100 small UpdateItems, so the
// checkpoint is never more than seconds behind.
const pageSize = 100

// reserve: the Lambda's time kept to save the checkpoint before its deadline.
const reserve = 30 * time.Second

func newWiring(rt *platform.Runtime) (wiring, error) {
	r := migrate.NewRepo(store.Open(rt))
	return wiring{rt: rt, d: migrate.Deps{Migrations: migrations.All(), Walk: r, Items: r, States: r, Clock: rt.Clock,
		PageSize: pageSize, Reserve: reserve}}, nil
}

// wireMigrate is the migrate job: {"dryRun": true} counts.
func wireMigrate(w wiring) (job.Handler[migrate.Report], error) {
	return handler(w.d, func(f job.Func[migrate.Report]) job.Handler[migrate.Report] { return job.Handle(w.rt.Log, f) }), nil
}
