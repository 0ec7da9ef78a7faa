package reconcile

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/books/journal"
)

// StripeBalance is what the reconciliation asks of Stripe: its balance transactions created in
// [from, to), every page (the real one, stripe.go, goes through shared/stripeapi; tests pass a fake).
type StripeBalance interface {
	BalanceTransactions(ctx context.Context, from, to time.Time) ([]Txn, error)
}

// Books is what it asks of the table: the journal's entries of a window, posting (idempotent per
// entry id: journal.Repo.Post), reading an entry posted before, and keeping the day's report.
// Repo implements it on the single table.
type Books interface {
	Entries(ctx context.Context, from, to time.Time) ([]journal.Entry, error)
	Post(ctx context.Context, e journal.Entry) error
	Get(ctx context.Context, entryID string) (journal.Entry, error)
	SaveReport(ctx context.Context, rep Report) error
	LoadReport(ctx context.Context, day time.Time) (Report, error)
}
