// Package walk is the journal's backfill (the backfill-journal job, shared/books/backfill) (issue 17, docs/books.md "Backfill"): it walks the
// table once, hands every record an area registered a journal.Backfiller for to that area, and
// posts the entries it gets back that are not in the journal yet — the money history that exists
// from before the journal. Areas rebuild their entries through the same builders as live posting,
// so an entry that was posted live has the same id and is found, not posted again.
//
// The walk is resumable: after every page the position is saved in a checkpoint item, so a run
// that stops (the Lambda's time is up, a failure) is continued by the next run from that page. A
// page replayed after a failure finds its first entries posted and posts the rest. Once the walk
// is done, runs do nothing until one asks to restart. A dry run walks with a checkpoint of its own
// and posts nothing: it counts what a run would post.
package walk

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/store"
)

// JobName is the job's manifest name and its checkpoints' JOBRUN partition.
const JobName = "backfill-journal"

// Walker pages through the table's items of the given types in key order, from an opaque position
// ("" = the start); next is "" after the last page.
type Walker interface {
	Page(ctx context.Context, itemTypes []string, from string, limit int32) (items []map[string]types.AttributeValue, next string, err error)
}

// Books is what the job asks of the journal: an entry by id and posting one.
type Books interface {
	Get(ctx context.Context, entryID string) (journal.Entry, error)
	Post(ctx context.Context, e journal.Entry) error
}

// States keeps the walk's checkpoint, one per mode (a dry run never moves the real one).
type States interface {
	Load(ctx context.Context, dryRun bool) (State, error) // the zero State when none
	Save(ctx context.Context, st State) error
}

// Deps is what a run needs.
type Deps struct {
	Walk   Walker
	Books  Books
	States States
	// Store is handed to the areas' backfillers (they read their own records through it).
	Store *store.Store
	Clock clock.Clock
	// PageSize is the items a page evaluates (DynamoDB's Limit); MaxPages, when positive, ends a
	// run after that many pages (tests; in AWS the Lambda's deadline ends it).
	PageSize int32
	MaxPages int
	// Reserve is the time a run keeps before its context's deadline to save where it is.
	Reserve time.Duration
}

// Options are a run's choices, from the event's detail: {"dryRun": true, "restart": true}.
type Options struct {
	DryRun  bool `json:"dryRun"`
	Restart bool `json:"restart"`
}

// MaxListed bounds the ids a report lists per kind (the counts are always complete).
const MaxListed = 100

// State is the walk's checkpoint and running totals (stored as JOBRUN#backfill-journal / <mode>).
type State struct {
	DryRun    bool      `json:"dryRun" dynamodbav:"dryRun"`
	Position  string    `json:"position,omitempty" dynamodbav:"position,omitempty"` // the next page's start
	Done      bool      `json:"done" dynamodbav:"done"`
	StartedAt time.Time `json:"startedAt" dynamodbav:"startedAt"`
	UpdatedAt time.Time `json:"updatedAt" dynamodbav:"updatedAt"`
	Runs      int       `json:"runs" dynamodbav:"runs"`
	Pages     int       `json:"pages" dynamodbav:"pages"`
	Records   int       `json:"records" dynamodbav:"records"` // records handed to a backfiller
	Live      int       `json:"live" dynamodbav:"live"`       // records booked with the journal running
	// Posted: entries this walk posted (a dry run: would post). Present: entries found with the
	// same content. KeptLive: entries found under the same id with other content (the live entry
	// stays: it was posted when the event happened). Skipped: records that need a person.
	Posted       int               `json:"posted" dynamodbav:"posted"`
	PostedCents  map[string]int64  `json:"postedCents" dynamodbav:"postedCents"` // Σ debits per currency
	Present      int               `json:"present" dynamodbav:"present"`
	KeptLive     int               `json:"keptLive" dynamodbav:"keptLive"`
	KeptLiveIDs  []string          `json:"keptLiveIds,omitempty" dynamodbav:"keptLiveIds,omitempty"`
	Skipped      int               `json:"skipped" dynamodbav:"skipped"`
	SkippedItems map[string]string `json:"skippedItems,omitempty" dynamodbav:"skippedItems,omitempty"` // record key → reason
	PostedByKind map[string]int    `json:"postedByKind" dynamodbav:"postedByKind"`
}

// Report is a run's answer: the walk's state after it, and whether it is finished.
type Report struct {
	State
	ThisRun struct {
		Pages  int `json:"pages"`
		Posted int `json:"posted"`
	} `json:"thisRun"`
}

// Run walks on from the checkpoint until the table ends, MaxPages pass or the deadline nears, and
// saves the checkpoint after every page. An error stops the run with the checkpoint at the last
// finished page (entries already posted from the failed page are found by the next run).
func Run(ctx context.Context, d Deps, o Options) (Report, error) {
	now := d.Clock.Now().UTC()
	st, err := d.States.Load(ctx, o.DryRun)
	if err != nil {
		return Report{}, err
	}
	if o.Restart || st.StartedAt.IsZero() {
		st = State{DryRun: o.DryRun, StartedAt: now}
	}
	st.Runs++
	log := logging.From(ctx).With("dryRun", o.DryRun)
	rep := Report{}
	if st.Done {
		st.UpdatedAt = now
		rep.State = st
		log.Info("journal backfill already done; restart to walk again", "posted", st.Posted)
		return rep, d.States.Save(ctx, st)
	}
	itemTypes := journal.BackfillTypes()
	limit := d.PageSize
	if limit <= 0 {
		limit = 100
	}
	for {
		if d.MaxPages > 0 && rep.ThisRun.Pages >= d.MaxPages {
			break
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d.Reserve {
			log.Info("journal backfill stops before the deadline; the next run continues", "position", st.Position)
			break
		}
		items, next, err := d.Walk.Page(ctx, itemTypes, st.Position, limit)
		if err != nil {
			return rep, saveAfter(ctx, d, &st, &rep, err)
		}
		for _, it := range items {
			if err := record(ctx, d, &st, &rep, it, o.DryRun); err != nil {
				return rep, saveAfter(ctx, d, &st, &rep, err)
			}
		}
		st.Pages++
		rep.ThisRun.Pages++
		st.Position, st.Done = next, next == ""
		st.UpdatedAt = d.Clock.Now().UTC()
		if err := d.States.Save(ctx, st); err != nil {
			return rep, err
		}
		if st.Done {
			break
		}
	}
	rep.State = st
	log.Info("journal backfill run", "done", st.Done, "pages", rep.ThisRun.Pages, "posted", rep.ThisRun.Posted,
		"postedTotal", st.Posted, "present", st.Present, "keptLive", st.KeptLive, "skipped", st.Skipped)
	return rep, nil
}

// saveAfter saves the counts of a run that failed (the position stays at the last finished page).
func saveAfter(ctx context.Context, d Deps, st *State, rep *Report, cause error) error {
	st.UpdatedAt = d.Clock.Now().UTC()
	rep.State = *st
	if err := d.States.Save(ctx, *st); err != nil {
		logging.From(ctx).Error("journal backfill: checkpoint not saved after a failure", "err", err.Error())
	}
	return cause
}

// record hands one item to its area and posts (or counts) what comes back.
func record(ctx context.Context, d Deps, st *State, rep *Report, item map[string]types.AttributeValue, dryRun bool) error {
	var typ string
	if v, ok := item["type"].(*types.AttributeValueMemberS); ok {
		typ = v.Value
	}
	b, ok := journal.BackfillerFor(typ)
	if !ok {
		return nil // the walk's filter keeps registered types only; an unknown one is not ours
	}
	st.Records++
	got, err := b.Entries(ctx, d.Store, item)
	if err != nil {
		return apperr.Wrap(err, apperr.Unavailable, "backfill of a %s record (%s)", typ, itemKey(item))
	}
	switch {
	case got.Skip != "":
		st.Skipped++
		if st.SkippedItems == nil {
			st.SkippedItems = map[string]string{}
		}
		if len(st.SkippedItems) < MaxListed {
			st.SkippedItems[itemKey(item)] = got.Skip
		}
		logging.From(ctx).Warn("journal backfill: a record needs a person", "record", itemKey(item), "reason", got.Skip)
		return nil
	case got.Live:
		st.Live++
		return nil
	}
	for _, e := range got.Entries {
		if err := post(ctx, d, st, rep, e, dryRun); err != nil {
			return err
		}
	}
	return nil
}

func post(ctx context.Context, d Deps, st *State, rep *Report, e journal.Entry, dryRun bool) error {
	was, err := d.Books.Get(ctx, e.ID)
	switch {
	case err == nil && journal.Same(was, e):
		st.Present++
		return nil
	case err == nil:
		st.KeptLive++
		if len(st.KeptLiveIDs) < MaxListed {
			st.KeptLiveIDs = append(st.KeptLiveIDs, e.ID)
		}
		return nil
	case !apperr.Is(err, apperr.NotFound):
		return err
	}
	if err := e.Validate(); err != nil {
		return err
	}
	if !dryRun {
		if err := d.Books.Post(ctx, e); err != nil {
			return err
		}
	}
	st.Posted++
	rep.ThisRun.Posted++
	if st.PostedCents == nil {
		st.PostedCents = map[string]int64{}
	}
	if st.PostedByKind == nil {
		st.PostedByKind = map[string]int{}
	}
	st.PostedCents[e.Currency] += e.Total()
	st.PostedByKind[e.Kind]++
	return nil
}

// itemKey names a record in a report: its PK and SK.
func itemKey(item map[string]types.AttributeValue) string {
	s := func(k string) string {
		if v, ok := item[k].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	return s("PK") + " / " + s("SK")
}
