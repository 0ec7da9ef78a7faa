package books

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/books/journal"
)

// The journal's reads each route takes; journal.Repo implements them all (the handler tests run
// them on the in-process table with entries posted through the journal, not on fakes).

type trialBalances interface {
	TrialBalance(ctx context.Context, asOf time.Time) (journal.TrialBalance, error)
}

type accountPostings interface {
	AccountEntries(ctx context.Context, account journal.AccountID, from, to time.Time, cursor string, limit int32) ([]journal.Posting, string, error)
}

type statements interface {
	Statement(ctx context.Context, month, now time.Time) (journal.Statement, error)
}

type monthPostings interface {
	MonthPostings(ctx context.Context, month time.Time) ([]journal.Posting, error)
}

// exportStore stores an export and links to it (blob.Store is one).
type exportStore interface {
	Put(ctx context.Context, o blob.Object, body []byte) error
	PresignGet(ctx context.Context, o blob.Object, ttl time.Duration) (string, error)
}
