package reconcile

// The reconciliation's items in the single table: the journal (journal.Repo) and its reports
// (JOBRUN#reconcile / <day>, store.JobRunKey). Every SDK input of the package is here.

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/store"
)

// JobName is the job's manifest name, and its JOBRUN partition.
const JobName = "reconcile"

// Repo is Books on the single table.
type Repo struct {
	Journal journal.Repo
}

// NewRepo is the repository of a store.
func NewRepo(s *store.Store) Repo { return Repo{Journal: journal.Repo{S: s}} }

// Entries reads every entry effective in [from, to) (GSI1 by day, pages of 500).
func (r Repo) Entries(ctx context.Context, from, to time.Time) ([]journal.Entry, error) {
	var out []journal.Entry
	err := r.Journal.EachEntry(ctx, from, to, func(e journal.Entry) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// Post posts an entry (a no-op when it is there with the same content; apperr.Conflict with other).
func (r Repo) Post(ctx context.Context, e journal.Entry) error { return r.Journal.Post(ctx, e) }

// Get reads an entry.
func (r Repo) Get(ctx context.Context, id string) (journal.Entry, error) {
	return r.Journal.Get(ctx, id)
}

// reportItem is a day's report as stored: the last run's (a re-run after a fix replaces it).
type reportItem struct {
	PK     string    `dynamodbav:"PK"`
	SK     string    `dynamodbav:"SK"`
	Type   string    `dynamodbav:"type"`
	At     time.Time `dynamodbav:"at"`
	Report Report    `dynamodbav:"report"`
}

// SaveReport stores the day's report (unconditionally: the latest run's report is the day's).
func (r Repo) SaveReport(ctx context.Context, rep Report) error {
	k := store.JobRunKey(JobName, rep.Day)
	return r.Journal.S.Put(ctx, reportItem{PK: k.PK, SK: k.SK, Type: "jobrun", At: rep.RanAt, Report: rep}, "", nil, nil)
}

// LoadReport reads a day's stored report (apperr.NotFound when the day never ran).
func (r Repo) LoadReport(ctx context.Context, day time.Time) (Report, error) {
	var it reportItem
	if err := r.Journal.S.GetConsistent(ctx, store.JobRunKey(JobName, dayOf(day).Format(time.DateOnly)), &it); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return Report{}, apperr.New(apperr.NotFound, "no reconciliation report for %s", dayOf(day).Format(time.DateOnly))
		}
		return Report{}, err
	}
	return it.Report, nil
}
