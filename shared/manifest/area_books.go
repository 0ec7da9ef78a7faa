package manifest

// BooksPrefix is where the books' general-ledger exports are stored in the bucket.
const BooksPrefix = "books/"

// Books: the admin routes over the double-entry journal (issue 17, docs/books.md "Routes"): the
// trial balance, an account's postings, the monthly statement and the monthly export.
func init() {
	declare(Area{
		Name: "books",
		Functions: []Function{
			{Name: "get-books-trial-balance", Summary: "Every account's debits, credits and balance per currency as of a day (admin)",
				Trigger: route("GET", "/admin/books/trial-balance"), Auth: Admin, Table: []string{Query}},
			{Name: "list-books-account-entries", Summary: "An account's postings in a date range, oldest first (admin)",
				Trigger: route("GET", "/admin/books/accounts/{account}/entries"), Auth: Admin, Table: []string{Query}, Cursors: true},
			{Name: "get-books-statement", Summary: "A month's statement: revenue net of refunds, disputes and fees, instructor payable, token discounts (admin)",
				Trigger: route("GET", "/admin/books/statement"), Auth: Admin, Table: []string{Query}},
			// QueryIndex: the month's entries by day on GSI1; Cursors: the journal pages them with
			// store cursors (500 a page). GetObject is what the presigned download URL is signed for.
			{Name: "create-books-export", Summary: "Build a month's general-ledger export (CSV or JSON Lines) and a link to it (admin)",
				Trigger: route("POST", "/admin/books/exports"), Auth: Admin, Table: []string{QueryIndex}, Cursors: true,
				Bucket: []string{"s3:PutObject", "s3:GetObject"}, BucketPrefix: BooksPrefix,
				TimeoutSeconds: 60, MemoryMB: 512},
			reconcileJob(),
			backfillJob(),
		},
	})
}

// reconcileJob is the daily reconciliation with Stripe (issue 17, docs/books.md "Two clearing
// accounts", docs/runbooks/reconciliation-difference.md): yesterday's balance transactions matched
// to the journal, Stripe's side and fees posted, the report stored under JOBRUN#reconcile.
// QueryIndex: the journal's entries around the day (GSI1 by day; Cursors: 500 a page); GetItem,
// PutItem, UpdateItem: posting entries (journal.Repo.Post: the entry, its postings, the daily
// balances; an entry posted before is read back) and the report.
func reconcileJob() Function {
	return Function{Name: "reconcile", Summary: "Daily: reconcile yesterday's Stripe balance transactions with the journal and post Stripe's fees",
		Package: "shared/books/reconcile",
		Trigger: Trigger{Kind: Schedule, Expression: "cron(30 2 * * ? *)"}, Auth: Internal,
		TimeoutSeconds: 300, Table: []string{GetItem, QueryIndex, PutItem, UpdateItem}, Cursors: true, Stripe: true}
}

// backfillJob posts the entries of the history from before the journal (issue 17, docs/books.md
// "Backfill", shared/books/backfill): a table walk (Scan, TableWalkers) resumable from its
// checkpoint item, handing each record of money to its area's journal.Backfiller. Daily, so a walk
// longer than one run's 15 minutes goes on the next day; once done, a run only reads its
// checkpoint. GetItem/Query: the areas' own reads around a record (a refund's payment, a sale's
// entries) and the checkpoint; PutItem/UpdateItem: posting entries (journal.Repo.Post) and the
// checkpoint.
func backfillJob() Function {
	return Function{Name: "backfill-journal", Summary: "Post the journal entries of the money history from before the journal (resumable; dry run)",
		Package: "shared/books/backfill",
		Trigger: Trigger{Kind: Schedule, Expression: "cron(45 3 * * ? *)"}, Auth: Internal,
		TimeoutSeconds: 900, MemoryMB: 512, Table: []string{Scan, GetItem, Query, PutItem, UpdateItem}}
}
