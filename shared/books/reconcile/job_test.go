package reconcile

// The job on the table (minidyn in `go test`, moto with the integration tag): a fake Stripe port,
// the journal's real repository.

import (
	"context"
	"encoding/json"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/metric"
)

// fakeStripe answers the transactions created in the asked range, as Stripe's list does.
type fakeStripe struct {
	txns []Txn
	err  error
}

func (f *fakeStripe) BalanceTransactions(_ context.Context, from, to time.Time) ([]Txn, error) {
	var out []Txn
	for _, t := range f.txns {
		if !t.Created.Before(from) && t.Created.Before(to) {
			out = append(out, t)
		}
	}
	return out, f.err
}

type emitted struct {
	names  []string
	values []int64
}

func (e *emitted) emit(_ context.Context, name string, v int64) {
	e.names, e.values = append(e.names, name), append(e.values, v)
}

func trialBalance(t *testing.T, r Repo, asOf time.Time) map[journal.AccountID]int64 {
	t.Helper()
	tb, err := r.Journal.TrialBalance(t.Context(), asOf)
	if err != nil {
		t.Fatalf("trial balance: %v", err)
	}
	for _, c := range tb.Currencies {
		if !c.Balanced {
			t.Fatalf("trial balance of %s does not balance: %d / %d", c.Currency, c.Debits, c.Credits)
		}
	}
	out := map[journal.AccountID]int64{}
	for _, a := range journal.Chart() {
		out[a.ID] = balanceOf(tb, "usd", a.ID)
	}
	return out
}

func TestRunPostsOnceAndReportsFaults(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	clk := clock.NewFake(day0.AddDate(0, 0, 3).Add(2*time.Hour + 30*time.Minute))
	repo := NewRepo(newTestStore(t, clk))
	ctx := t.Context()
	h := randomHistory(rng, 25)
	for _, e := range h.entries {
		if err := repo.Post(ctx, e); err != nil {
			t.Fatalf("post %s: %v", e.ID, err)
		}
	}
	stripe := &fakeStripe{txns: h.txns}
	var em emitted
	d := Deps{Stripe: stripe, Books: repo, Clock: clk, Emit: em.emit}

	run := func(day time.Time) Report {
		t.Helper()
		rep, err := Run(ctx, d, day)
		if err != nil {
			t.Fatalf("run %s: %v", day.Format(time.DateOnly), err)
		}
		return rep
	}
	// Both days Stripe's items of the history fall on.
	r0, r1 := run(day0), run(day0.AddDate(0, 0, 1))
	if r0.Differences+r1.Differences != 0 {
		t.Fatalf("differences on a consistent history: %+v %+v", r0, r1)
	}
	if r0.Posted+r1.Posted != len(h.txns) || r0.Transactions+r1.Transactions != len(h.txns) {
		t.Fatalf("posted %d+%d for %d transactions", r0.Posted, r1.Posted, len(h.txns))
	}
	last := day0.AddDate(0, 0, 2)
	tb := trialBalance(t, repo, last)
	var net int64
	for _, x := range h.txns {
		net += x.Net()
	}
	if tb[journal.StripeInFlight] != 0 || tb[journal.TransfersConnected] != 0 || tb[journal.Suspense] != 0 || tb[journal.StripeBalance] != net {
		t.Fatalf("after reconciliation: %v; want clearing and suspense 0, stripe_balance %d", tb, net)
	}
	if !slices.Equal(em.names, []string{metric.ReconciliationDifferences, metric.ReconciliationDifferences}) || em.values[0] != 0 {
		t.Fatalf("metrics %v %v", em.names, em.values)
	}

	// A re-run changes nothing.
	again := run(day0)
	if again.Posted != 0 || again.Corrected != 0 || again.AlreadyPosted != r0.Posted || again.Differences != 0 {
		t.Fatalf("re-run: %+v", again)
	}
	if tb2 := trialBalance(t, repo, last); !mapsEqual(tb, tb2) {
		t.Fatalf("re-run changed the books:\n%v\n%v", tb, tb2)
	}
	stored, err := repo.LoadReport(ctx, day0)
	if err != nil || stored.Day != "2026-11-03" || stored.AlreadyPosted != again.AlreadyPosted || stored.MatchedCount != r0.MatchedCount {
		t.Fatalf("stored report %+v, %v", stored, err)
	}
	if _, err := repo.LoadReport(ctx, day0.AddDate(0, 0, -5)); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("report of a day never run: %v", err)
	}

	// Faults: a charge Stripe made that nobody booked, and a fee Stripe charged on its own.
	noon := day0.Add(12 * time.Hour)
	stripe.txns = append(stripe.txns, tx("txn_unbooked", "charge", "ch_unbooked", 4000, fee(4000), noon),
		tx("txn_fee", "stripe_fee", "fee_unseen", -500, 0, noon))
	faulty := run(day0)
	if faulty.Differences != 2 || faulty.MissingInBooksCount != 2 || faulty.Posted != 2 {
		t.Fatalf("faults: %+v", faulty)
	}
	got := map[string]string{}
	for _, it := range faulty.MissingInBooks {
		for _, o := range it.Objects {
			got[o] = it.Posted
		}
	}
	if got["ch_unbooked"] != "suspense" || got["fee_unseen"] != "fees_stripe_processing" {
		t.Fatalf("missing in books: %+v", faulty.MissingInBooks)
	}
	if em.values[len(em.values)-1] != 2 {
		t.Fatalf("metric %v", em.values)
	}
	tb3 := trialBalance(t, repo, last)
	if tb3[journal.Suspense] != -4000 || tb3[journal.FeesStripeProcessing]-tb[journal.FeesStripeProcessing] != fee(4000)+500 {
		t.Fatalf("suspense %d, fees +%d", tb3[journal.Suspense], tb3[journal.FeesStripeProcessing]-tb[journal.FeesStripeProcessing])
	}

	// The area books the charge late: the next run matches it and moves it out of suspense.
	if err := repo.Post(ctx, areaEntry(kInvoice, "ch_unbooked", noon.Add(time.Hour), dr(journal.StripeInFlight, 4000), cr(journal.RevenueSubscriptions, 4000))); err != nil {
		t.Fatal(err)
	}
	fixed := run(day0)
	if fixed.Differences != 1 || fixed.Corrected != 1 || fixed.Posted != 0 {
		t.Fatalf("after the late booking: %+v", fixed)
	}
	tb4 := trialBalance(t, repo, last)
	if tb4[journal.Suspense] != 0 || tb4[journal.StripeInFlight] != 0 {
		t.Fatalf("after the correction: suspense %d, stripe_in_flight %d", tb4[journal.Suspense], tb4[journal.StripeInFlight])
	}
	if re := run(day0); re.Corrected != 0 || re.Posted != 0 || !mapsEqual(tb4, trialBalance(t, repo, last)) {
		t.Fatalf("a re-run after the correction: %+v", re)
	}

	// Stripe unavailable: the run fails and stores nothing new.
	stripe.err = apperr.New(apperr.Unavailable, "stripe down")
	if _, err := Run(ctx, d, day0); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("run with Stripe down: %v", err)
	}
	if _, err := Run(ctx, d, clk.Now().AddDate(0, 0, 1)); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a day in the future: %v", err)
	}
}

// The handler reconciles the event's day, else yesterday by the clock; a malformed day is refused.
func TestHandlerDay(t *testing.T) {
	now := day0.Add(2*time.Hour + 30*time.Minute)
	ev := func(detail string) events.EventBridgeEvent {
		return events.EventBridgeEvent{Detail: json.RawMessage(detail)}
	}
	for _, c := range []struct {
		detail, want string
		bad          bool
	}{{`{"job":"reconcile"}`, "2026-11-02", false}, {`{"job":"reconcile","day":"2026-10-30"}`, "2026-10-30", false},
		{``, "2026-11-02", false}, {`{"day":"30/10/2026"}`, "", true}, {`[1]`, "", true}} {
		got, err := DayOf(ev(c.detail), now)
		if c.bad != (err != nil) || !c.bad && got.Format(time.DateOnly) != c.want {
			t.Errorf("%s: %v %v, want %s", c.detail, got, err, c.want)
		}
	}
	clk := clock.NewFake(now)
	repo := NewRepo(newTestStore(t, clk))
	var ran time.Time
	h := handler(Deps{Stripe: &fakeStripe{}, Books: repo, Clock: clk}, func(f job.Func[Report]) job.Handler[Report] {
		return func(ctx context.Context, _ events.EventBridgeEvent) (Report, error) {
			rep, err := f(ctx)
			ran, _ = time.Parse(time.DateOnly, rep.Day)
			return rep, err
		}
	})
	if rep, err := h(t.Context(), ev(`{"job":"reconcile"}`)); err != nil || !ran.Equal(day0.AddDate(0, 0, -1)) || rep.Differences != 0 {
		t.Fatalf("handler: %+v %v (ran %s)", rep, err, ran)
	}
	if _, err := h(t.Context(), ev(`{"day":"nope"}`)); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("handler with a bad day: %v", err)
	}
}

func mapsEqual(a, b map[journal.AccountID]int64) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return len(a) == len(b)
}

func balanceOf(tb journal.TrialBalance, currency string, a journal.AccountID) int64 {
	for _, c := range tb.Currencies {
		if c.Currency != currency {
			continue
		}
		for _, l := range c.Accounts {
			if l.Account.ID == a {
				return l.Debits - l.Credits
			}
		}
	}
	return 0
}
