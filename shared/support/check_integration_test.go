//go:build integration

package support

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/support/sla"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// syncBuffer is a log sink for concurrent runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Overlapping runs of the SLA check (four at once, twice) send one warning and one escalation, and
// record — and emit the metric for — one breach.
func TestOverlappingChecks(t *testing.T) {
	env := localtest.New(t)
	clk := env.WithFakeClock()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clk.Set(t0)
	d, err := NewDeps(env.RuntimeFor(t, manifest.MustByName("support-sla-check")))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tk := newTicket(ids.New("tkt", t0), "u-"+ids.Random(4), "u@acme.example", sla.TierEnterprise, sla.Urgent, "Down", t0)
	stamp(Ticket{}, &tk)
	if err := d.Repo.WriteTicket(ctx, ticketWrite{Next: tk, At: t0}); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	runAll := func() []CheckReport {
		reps := make([]CheckReport, 4)
		var wg sync.WaitGroup
		for i := range reps {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				c := logging.With(ctx, logging.New(logs, "support-sla-check"))
				var err error
				if reps[i], err = RunCheck(c, d, "support-sla-check"); err != nil {
					t.Errorf("run %d: %v", i, err)
				}
			}(i)
		}
		wg.Wait()
		return reps
	}
	sum := func(reps []CheckReport, f func(CheckReport) int) int {
		n := 0
		for _, r := range reps {
			n += f(r)
		}
		return n
	}
	clk.Set(t0.Add(50 * time.Minute))
	reps := runAll()
	if w := sum(reps, func(r CheckReport) int { return r.Warnings }); w != 1 {
		t.Fatalf("%d warnings sent by overlapping runs: %+v", w, reps)
	}
	clk.Set(t0.Add(70 * time.Minute))
	reps = runAll()
	if e, b := sum(reps, func(r CheckReport) int { return r.Escalations }), sum(reps, func(r CheckReport) int { return r.BreachesRecorded }); e != 1 || b != 1 {
		t.Fatalf("%d escalations, %d breaches recorded: %+v", e, b, reps)
	}
	if n := strings.Count(logs.String(), `"SLABreaches":1`); n != 1 {
		t.Fatalf("%d breach metric points", n)
	}
	if n := strings.Count(logs.String(), `"SLAWarnings":1`); n != 1 { // the dashboard's SLA panel
		t.Fatalf("%d warning metric points", n)
	}
	msgs := env.Mailpit.Search(t, "to:"+d.AgentsEmail)
	if len(msgs) != 2 {
		t.Fatalf("%d e-mails to the agents", len(msgs))
	}
	// Recorded on the ticket; the schedule entry moved on to the resolution warning (6 h).
	got, err := d.Repo.Ticket(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Outcomes[sla.FirstReply] != OutcomeBreached || got.Events["firstReply#warning"].IsZero() || got.NextDueAt == nil ||
		!got.NextDueAt.Equal(t0.Add(6*time.Hour)) {
		t.Fatalf("ticket %+v", got)
	}
	var day map[string]any
	if err := env.Store().GetConsistent(ctx, store.SLAStatsKey(clk.Now()), &day); err != nil || day["enterprise_urgent_firstReply_breached"] != float64(1) {
		t.Fatalf("statistics %v %v", day, err)
	}
}
