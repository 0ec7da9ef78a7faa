// Package migrate is the single table's data-migration runner (issue 19, docs/operations.md
// "Migrations", decision 0088): numbered migrations, each a forward step applied to every item of
// the types it names, run in order by the migrate job after a deploy (and daily, as a net).
//
// The table records its schema version (store.SchemaVersionKey: the last migration applied, its
// number and name) and the walk's checkpoint (store.JobRunKey("migrate", "live" | "dry-run"): the
// migration being walked, the next page's position, the counts so far). A run walks the pending
// migrations one after the other with the books backfill's table walker (a paged, filtered Scan,
// walk.Walker), saves the checkpoint after every page, and finishes a migration in ONE transaction
// that moves the version and the checkpoint on together. A run that stops — the Lambda's deadline,
// a failed write — is continued by the next from the last finished page; a step is idempotent
// (an item it changed needs nothing the next time), so a replayed page changes nothing twice.
//
// A run refuses, changing nothing, when the code's migrations are not numbered 1, 2, 3… in order,
// when the table's recorded migration is not the code's migration of that number (out of order),
// when the recorded version is ahead of the code's (an older deploy), and when the checkpoint is
// for another migration than the next one. A dry run walks with a checkpoint of its own, writes
// nothing but that checkpoint, and counts per migration what a run would change.
package migrate

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/backfill/walk"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/logging"
)

// JobName is the job's manifest name and its checkpoints' JOBRUN partition.
const JobName = "migrate"

// Migration is one numbered change of item shape.
type Migration struct {
	Number int    // 1, 2, 3… in the order they run
	Name   string // recorded with the version: a renumbered or reordered list is caught by it
	// Types are the item types ("type" attribute) the walk hands to Step; nothing else is read.
	Types []string
	// Step is the forward step for one item: the attributes to set (store.S, store.N values), or
	// nil when the item needs nothing. It must be idempotent: on an item it changed, it returns nil.
	// An error stops the run (the checkpoint stays at the last finished page).
	Step func(item map[string]types.AttributeValue) (map[string]types.AttributeValue, error)
}

// Validate checks a code's migration list: numbered 1…n in order, each named, with types and a step.
func Validate(ms []Migration) error {
	for i, m := range ms {
		if m.Number != i+1 {
			return apperr.New(apperr.Conflict, "migrations out of order: position %d holds migration %d (%s); they must be numbered 1, 2, 3… in the order they run", i+1, m.Number, m.Name)
		}
		if m.Name == "" || len(m.Types) == 0 || m.Step == nil {
			return apperr.New(apperr.Internal, "migration %d is missing its name, item types or step", m.Number)
		}
	}
	return nil
}

// Items applies a step's attributes to an item (found by its PK and SK); applied is false when the
// item no longer exists (deleted during the walk: nothing to migrate).
type Items interface {
	Apply(ctx context.Context, item map[string]types.AttributeValue, set map[string]types.AttributeValue) (applied bool, err error)
}

// Version is the table's recorded schema version (the zero Version: no migration applied yet).
type Version struct {
	Number    int       `json:"number" dynamodbav:"version"`
	Name      string    `json:"name,omitempty" dynamodbav:"name,omitempty"`
	AppliedAt time.Time `json:"appliedAt" dynamodbav:"appliedAt"`
}

// States keeps the version and the checkpoints.
type States interface {
	Version(ctx context.Context) (Version, error)
	Load(ctx context.Context, dryRun bool) (Checkpoint, error) // the zero Checkpoint when none
	Save(ctx context.Context, cp Checkpoint) error
	// Finish records migration to as applied (the version was from) and stores next as the live
	// checkpoint, in one transaction; apperr.Conflict when the version is no longer from.
	Finish(ctx context.Context, from int, to Version, next Checkpoint) error
}

// Result is what a walk did (a dry run: would do) for one migration.
type Result struct {
	Number    int    `json:"number" dynamodbav:"number"`
	Name      string `json:"name" dynamodbav:"name"`
	Examined  int    `json:"examined" dynamodbav:"examined"`   // items of its types the walk handed to the step
	Changed   int    `json:"changed" dynamodbav:"changed"`     // items changed (dry run: that would be)
	Unchanged int    `json:"unchanged" dynamodbav:"unchanged"` // items the step left as they are
	Gone      int    `json:"gone" dynamodbav:"gone"`           // items deleted between the read and the write
	Done      bool   `json:"done" dynamodbav:"done"`
}

// Checkpoint is a walk's position and counts (JOBRUN#migrate / live | dry-run).
type Checkpoint struct {
	DryRun    bool      `json:"dryRun" dynamodbav:"dryRun"`
	Base      int       `json:"base" dynamodbav:"base"`                             // dry run: the version it counts from
	Migration int       `json:"migration" dynamodbav:"migration"`                   // being walked; 0 = none yet
	Position  string    `json:"position,omitempty" dynamodbav:"position,omitempty"` // the next page's start
	Done      bool      `json:"done" dynamodbav:"done"`                             // dry run: every pending migration counted
	Results   []Result  `json:"results" dynamodbav:"results"`                       // finished ones, then the current one
	UpdatedAt time.Time `json:"updatedAt" dynamodbav:"updatedAt"`
}

// Deps is what a run needs.
type Deps struct {
	Migrations []Migration
	Walk       walk.Walker
	Items      Items
	States     States
	Clock      clock.Clock
	// PageSize is the items a page evaluates (DynamoDB's Limit); MaxPages, when positive, ends a
	// run after that many pages (tests; in AWS the Lambda's deadline ends it).
	PageSize int32
	MaxPages int
	// Reserve is the time a run keeps before its context's deadline to save where it is.
	Reserve time.Duration
}

// Options are a run's choices, from the event's detail: {"dryRun": true}.
type Options struct {
	DryRun bool `json:"dryRun"`
}

// Report is a run's answer.
type Report struct {
	DryRun  bool     `json:"dryRun"`
	From    int      `json:"from"`    // the table's version when the run started
	Version int      `json:"version"` // after it (a dry run: unchanged)
	Code    int      `json:"code"`    // the newest migration this code has
	Done    bool     `json:"done"`    // nothing left to walk (a dry run: every pending one counted)
	Results []Result `json:"results"` // this walk's migrations (a live walk: since its last finish)
	ThisRun struct {
		Pages   int `json:"pages"`
		Changed int `json:"changed"`
	} `json:"thisRun"`
}

// Run applies (or, dry, counts) the pending migrations from the checkpoint on, until they are done,
// MaxPages pass or the deadline nears.
func Run(ctx context.Context, d Deps, o Options) (Report, error) {
	if err := Validate(d.Migrations); err != nil {
		return Report{}, err
	}
	code := len(d.Migrations)
	v, err := d.States.Version(ctx)
	if err != nil {
		return Report{}, err
	}
	rep := Report{DryRun: o.DryRun, From: v.Number, Version: v.Number, Code: code}
	if v.Number > code {
		return rep, apperr.New(apperr.Conflict, "the table's schema version is %d (%s), ahead of this code's %d: this code is older than the table "+
			"(a rollback?); deploy the code that has migration %d, nothing was changed", v.Number, v.Name, code, v.Number)
	}
	if v.Number > 0 && d.Migrations[v.Number-1].Name != v.Name {
		return rep, apperr.New(apperr.Conflict, "out of order: the table records migration %d as %q, this code's migration %d is %q; "+
			"migrations are never renumbered or reordered, nothing was changed", v.Number, v.Name, v.Number, d.Migrations[v.Number-1].Name)
	}
	cp, err := d.States.Load(ctx, o.DryRun)
	if err != nil {
		return rep, err
	}
	switch {
	case o.DryRun && (cp.Migration == 0 || cp.Done || cp.Base != v.Number):
		cp = Checkpoint{DryRun: true, Base: v.Number, Migration: v.Number + 1} // a dry run counts afresh
	case !o.DryRun && cp.Migration == 0:
		cp = Checkpoint{Migration: v.Number + 1}
	case !o.DryRun && cp.Migration != v.Number+1:
		return rep, apperr.New(apperr.Conflict, "out of order: the checkpoint is walking migration %d but the table's version is %d "+
			"(the next is %d); nothing was changed — see docs/runbooks/migration-failed.md", cp.Migration, v.Number, v.Number+1)
	}
	log := logging.From(ctx).With("dryRun", o.DryRun)
	limit := d.PageSize
	if limit <= 0 {
		limit = 100
	}
	for cp.Migration <= code {
		if d.MaxPages > 0 && rep.ThisRun.Pages >= d.MaxPages {
			break
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d.Reserve {
			log.Info("migrate stops before the deadline; the next run continues", "migration", cp.Migration, "position", cp.Position)
			break
		}
		m := d.Migrations[cp.Migration-1]
		cur := current(&cp, m)
		items, next, err := d.Walk.Page(ctx, m.Types, cp.Position, limit)
		if err != nil {
			return rep, saveAfter(ctx, d, &cp, &rep, err)
		}
		for _, it := range items {
			changed, err := apply(ctx, d, m, cur, it, o.DryRun)
			if err != nil {
				return rep, saveAfter(ctx, d, &cp, &rep, err)
			}
			if changed {
				rep.ThisRun.Changed++
			}
		}
		rep.ThisRun.Pages++
		cp.Position = next
		cp.UpdatedAt = d.Clock.Now().UTC()
		if next != "" {
			if err := d.States.Save(ctx, cp); err != nil {
				return rep, err
			}
			continue
		}
		cur.Done = true
		log.Info("migration walked", "number", m.Number, "name", m.Name, "examined", cur.Examined, "changed", cur.Changed, "gone", cur.Gone)
		cp.Migration, cp.Position = m.Number+1, ""
		if o.DryRun {
			cp.Done = cp.Migration > code
			if err := d.States.Save(ctx, cp); err != nil {
				return rep, err
			}
			continue
		}
		to := Version{Number: m.Number, Name: m.Name, AppliedAt: cp.UpdatedAt}
		if err := d.States.Finish(ctx, rep.Version, to, cp); err != nil {
			return rep, err
		}
		rep.Version = m.Number
	}
	rep.Results = cp.Results
	rep.Done = cp.Migration > code
	log.Info("migrate run", "from", rep.From, "version", rep.Version, "code", code, "done", rep.Done,
		"pages", rep.ThisRun.Pages, "changed", rep.ThisRun.Changed)
	return rep, nil
}

// current is the checkpoint's result for migration m, added when the walk of m begins.
func current(cp *Checkpoint, m Migration) *Result {
	if n := len(cp.Results); n > 0 && cp.Results[n-1].Number == m.Number {
		return &cp.Results[n-1]
	}
	cp.Results = append(cp.Results, Result{Number: m.Number, Name: m.Name})
	return &cp.Results[len(cp.Results)-1]
}

// apply runs m's step on one item and writes (or, dry, counts) its change.
func apply(ctx context.Context, d Deps, m Migration, r *Result, item map[string]types.AttributeValue, dryRun bool) (bool, error) {
	r.Examined++
	set, err := m.Step(item)
	if err != nil {
		return false, apperr.Wrap(err, apperr.Internal, "migration %d (%s) on %s", m.Number, m.Name, itemKey(item))
	}
	if len(set) == 0 {
		r.Unchanged++
		return false, nil
	}
	if !dryRun {
		applied, err := d.Items.Apply(ctx, item, set)
		if err != nil {
			return false, err
		}
		if !applied {
			r.Gone++
			return false, nil
		}
	}
	r.Changed++
	return true, nil
}

// saveAfter saves the counts of a run that failed. The position stays at the last finished page,
// whose items the next run walks again: the ones changed meanwhile count as unchanged then, so
// Changed stays exact and Examined counts the replayed items twice.
func saveAfter(ctx context.Context, d Deps, cp *Checkpoint, rep *Report, cause error) error {
	cp.UpdatedAt = d.Clock.Now().UTC()
	rep.Results = cp.Results
	if err := d.States.Save(ctx, *cp); err != nil {
		logging.From(ctx).Error("migrate: checkpoint not saved after a failure", "err", err.Error())
	}
	return cause
}

// itemKey names an item in an error: its PK and SK.
func itemKey(item map[string]types.AttributeValue) string {
	s := func(k string) string {
		if v, ok := item[k].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	return fmt.Sprintf("%s / %s", s("PK"), s("SK"))
}
