package reconcile

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/metric"
)

// Deps is what a run needs.
type Deps struct {
	Stripe StripeBalance
	Books  Books
	Clock  clock.Clock
	// Emit reports a metric data point (metric.Emit as the function, in production).
	Emit func(ctx context.Context, name string, v int64)
}

// The windows around the day: Stripe's transactions of the day before and after, and the
// journal's entries of two days either side, are read so that an object booked on one side of
// midnight and moved on the other still matches (Match reports each group on one day only).
const (
	stripeDaysAround  = 1
	journalDaysAround = 2
)

// MaxListed bounds each list of a report (the stored item stays far below DynamoDB's 400 KB; the
// counts are always complete, and the logs name every difference).
const MaxListed = 200

// Report is a day's reconciliation: the counts, the matched items and the differences (each with
// its object ids and cents), and what the run posted.
type Report struct {
	Day          string    `json:"day"`
	RanAt        time.Time `json:"ranAt"`
	Transactions int       `json:"transactions"` // Stripe's balance transactions created on the day
	Claims       int       `json:"claims"`       // our entries in the window that move a clearing account
	// Counts of the four lists (complete, also when a list is cut at MaxListed).
	MatchedCount           int `json:"matchedCount"`
	MissingInBooksCount    int `json:"missingInBooksCount"`
	MissingAtStripeCount   int `json:"missingAtStripeCount"`
	AmountDifferencesCount int `json:"amountDifferencesCount"`
	Differences            int `json:"differences"`
	// Posted: entries this run posted; AlreadyPosted: found as they should be (a re-run);
	// Corrected: posted before against another account (suspense, before the area booked the
	// object) and corrected; Unposted: could not be posted (logged; a person looks).
	Posted        int      `json:"posted"`
	AlreadyPosted int      `json:"alreadyPosted"`
	Corrected     int      `json:"corrected"`
	Unposted      []string `json:"unposted,omitempty"`
	Truncated     bool     `json:"truncated,omitempty"`

	Matched           []Item `json:"matched"`
	MissingInBooks    []Item `json:"missingInBooks"`
	MissingAtStripe   []Item `json:"missingAtStripe"`
	AmountDifferences []Item `json:"amountDifferences"`
}

// Run reconciles day (UTC): lists Stripe's balance transactions and the journal's entries around
// it, matches them, posts one entry per transaction of the day (idempotent: a re-run finds them
// posted), stores the report (JOBRUN#reconcile / day) and returns it. Any difference is logged
// with its ids and counted in metric.ReconciliationDifferences (emitted by every run, 0 included).
func Run(ctx context.Context, d Deps, day time.Time) (Report, error) {
	day = dayOf(day)
	now := d.Clock.Now().UTC()
	if day.Before(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) || day.After(now) {
		return Report{}, apperr.New(apperr.Invalid, "day %s is out of range (2000-01-01 to today)", day.Format(time.DateOnly))
	}
	log := logging.From(ctx).With("day", day.Format(time.DateOnly))
	txns, err := d.Stripe.BalanceTransactions(ctx, day.AddDate(0, 0, -stripeDaysAround), day.AddDate(0, 0, 1+stripeDaysAround))
	if err != nil {
		return Report{}, err
	}
	entries, err := d.Books.Entries(ctx, day.AddDate(0, 0, -journalDaysAround), day.AddDate(0, 0, 1+journalDaysAround))
	if err != nil {
		return Report{}, err
	}
	claims := Claims(entries)
	res := Match(day, txns, claims)
	rep := Report{Day: day.Format(time.DateOnly), RanAt: now, Claims: len(claims),
		MatchedCount: len(res.Matched), MissingInBooksCount: len(res.MissingInBooks),
		MissingAtStripeCount: len(res.MissingAtStripe), AmountDifferencesCount: len(res.AmountDifferences),
		Differences: res.Differences()}
	for _, t := range txns {
		if !dayOf(t.Created).Before(day) && dayOf(t.Created).Before(day.AddDate(0, 0, 1)) {
			rep.Transactions++
		}
	}
	for _, e := range res.Entries() {
		if err := post(ctx, d.Books, e, &rep); err != nil {
			return rep, err
		}
	}
	clip := func(items []Item) []Item {
		if len(items) > MaxListed {
			rep.Truncated = true
			return items[:MaxListed]
		}
		if items == nil {
			return []Item{}
		}
		return items
	}
	rep.Matched, rep.MissingInBooks = clip(res.Matched), clip(res.MissingInBooks)
	rep.MissingAtStripe, rep.AmountDifferences = clip(res.MissingAtStripe), clip(res.AmountDifferences)

	for _, l := range []struct {
		what  string
		items []Item
	}{{"missing in our books", res.MissingInBooks}, {"missing at Stripe", res.MissingAtStripe}, {"amount difference", res.AmountDifferences}} {
		for _, it := range l.items {
			log.Error("reconciliation difference: "+l.what, "objects", it.Objects, "txns", it.Txns, "entries", it.Entries,
				"types", it.Types, "currency", it.Currency, "stripeCents", it.StripeCents, "booksCents", it.BooksCents,
				"differenceCents", it.DifferenceCents, "posted", it.Posted)
		}
	}
	if d.Emit != nil {
		d.Emit(ctx, metric.ReconciliationDifferences, int64(rep.Differences))
	}
	if err := d.Books.SaveReport(ctx, rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// post posts one of the run's entries: new, already there, or there with other content — then the
// difference is posted as a correction (rec.correction.<type>.<txn>), once.
func post(ctx context.Context, b Books, e journal.Entry, rep *Report) error {
	was, err := b.Get(ctx, e.ID)
	switch {
	case apperr.Is(err, apperr.NotFound):
		if err := b.Post(ctx, e); err != nil {
			if apperr.Is(err, apperr.Conflict) { // a concurrent run posted it otherwise
				return post(ctx, b, e, rep)
			}
			return err
		}
		rep.Posted++
		return nil
	case err != nil:
		return err
	case sameEntry(was, e):
		rep.AlreadyPosted++
		return nil
	}
	c, ok := Correction(was, e)
	if !ok {
		rep.AlreadyPosted++ // the same lines in another order
		return nil
	}
	if prev, err := b.Get(ctx, c.ID); err == nil && sameEntry(prev, c) {
		rep.AlreadyPosted++
		return nil
	}
	if err := b.Post(ctx, c); err != nil {
		if apperr.Is(err, apperr.Conflict) {
			// Corrected before towards another account: a third state of the object needs a person.
			logging.From(ctx).Error("reconciliation entry cannot be corrected again", "entryId", e.ID, "correction", c.ID)
			rep.Unposted = append(rep.Unposted, e.ID)
			return nil
		}
		return err
	}
	rep.Corrected++
	return nil
}

func sameEntry(a, b journal.Entry) bool {
	if a.ID != b.ID || a.Kind != b.Kind || a.Area != b.Area || a.Source != b.Source || !a.Date.Equal(b.Date) ||
		a.Currency != b.Currency || a.Memo != b.Memo || len(a.Lines) != len(b.Lines) {
		return false
	}
	for i := range a.Lines {
		if a.Lines[i] != b.Lines[i] {
			return false
		}
	}
	return true
}

// jobDetail is the event's detail: the schedule sends {"job":"reconcile"}; a person re-running a
// day invokes the function with {"job":"reconcile","day":"yyyy-mm-dd"}.
type jobDetail struct {
	Day string `json:"day"`
}

// DayOf is the day a run reconciles: the detail's day, else yesterday (UTC) by the clock.
func DayOf(ev events.EventBridgeEvent, now time.Time) (time.Time, error) {
	var det jobDetail
	if err := job.Detail(ev, &det, "an object"); err != nil {
		return time.Time{}, err
	}
	if det.Day == "" {
		return dayOf(now).AddDate(0, 0, -1), nil
	}
	d, err := time.Parse(time.DateOnly, det.Day)
	if err != nil {
		return time.Time{}, apperr.New(apperr.Invalid, "day %q is not yyyy-mm-dd", det.Day)
	}
	return d, nil
}

// handler builds the job's handler from its deps.
func handler(d Deps, frame func(job.Func[Report]) job.Handler[Report]) job.Handler[Report] {
	return func(ctx context.Context, ev events.EventBridgeEvent) (Report, error) {
		day, err := DayOf(ev, d.Clock.Now())
		if err != nil {
			return Report{}, err
		}
		return frame(func(ctx context.Context) (Report, error) { return Run(ctx, d, day) })(ctx, ev)
	}
}
