package manifest

// Privacy: a person's data exported across every area (issue 18, docs/privacy.md, decision 0084).
const (
	// ExportsQueue carries the export jobs: one message starts an export, and the consumer puts a
	// message back on it after every run until the export is built (paged, resumable).
	ExportsQueue = "personal-exports"
	// BuildPersonalExport is the host consuming ExportsQueue: it runs the exporters every area
	// registers (Area.Hooks, <area>.BuildPersonalExportHooks) page by page.
	BuildPersonalExport = "build-personal-export"
	// ExportsPrefix is where exports are built and stored in the bucket: exports/<userId>/<exportId>/.
	ExportsPrefix = "exports/"
	// ExportsDays is how long the bucket keeps an export's objects (a lifecycle rule on
	// ExportsPrefix): the link works 24 h, the file is gone a week later whatever happens.
	ExportsDays = 7
	// ErasuresQueue carries the erasure runs: one message starts (or resumes) an erasure, and the
	// consumer puts a message back on it after every run until every area is done.
	ErasuresQueue = "personal-erasures"
	// ErasePersonalData is the host consuming ErasuresQueue: it runs the erasers every area
	// registers (Area.Hooks, <area>.ErasePersonalDataHooks) step by step.
	ErasePersonalData = "erase-personal-data"
)

func init() {
	declare(Area{
		Name: "privacy",
		Queues: []QueueDef{
			// Consumer timeout 120 s → visibility 720 s.
			{Name: ExportsQueue, MaxReceiveCount: 5, VisibilitySeconds: 720},
			// Consumer timeout 120 s → visibility 720 s.
			{Name: ErasuresQueue, MaxReceiveCount: 5, VisibilitySeconds: 720},
		},
		Functions: []Function{
			// PutItem: the export and the user's running-export pointer in one transaction, and the
			// Idempotency-Key record; GetItem/UpdateItem: the running export (a second POST answers
			// with it) and the idempotency record.
			{Name: "create-personal-export", Summary: "Export the caller's data from every area (a zip with one JSON document and their PDFs, linked by e-mail)",
				Trigger: route("POST", "/me/export"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem},
				Sends: []string{ExportsQueue}},
			// GetObject on exports/ only: what the download link is presigned for.
			{Name: "get-personal-export", Summary: "One of the caller's exports: its status and, once ready, the download link",
				Trigger: route("GET", "/me/exports/{exportId}"), Auth: User, Table: []string{GetItem},
				Bucket: []string{"s3:GetObject"}, BucketPrefix: ExportsPrefix},
			// Query/QueryIndex/GetItem: the areas' exporters read the user's items (their own keys,
			// GSI1 for tickets and an instructor's courses), paged by the last key read, which is
			// the export's checkpoint (never shown, so unsigned: no cursor secret).
			// PutItem/UpdateItem/DeleteItem: the checkpoint, the finished export with its pointer
			// removed, the e-mail's dedupe record. Bucket: it writes and reads back its parts and the
			// zip under exports/, and reads the user's receipt and credit-note PDFs under receipts/
			// (BucketAlso). Sends: it puts its own continuation back on the queue.
			{Name: BuildPersonalExport, Summary: "Build a personal-data export page by page (resumable) and e-mail its link",
				Package: "shared/privacy", Host: true,
				Trigger: Trigger{Kind: Queue, Queue: ExportsQueue, BatchSize: 1}, Auth: Internal,
				TimeoutSeconds: 120, MemoryMB: 512,
				Table:  []string{GetItem, Query, QueryIndex, PutItem, UpdateItem, DeleteItem},
				Bucket: []string{"s3:PutObject", "s3:GetObject"}, BucketPrefix: ExportsPrefix,
				BucketAlso: []BucketGrant{{Actions: []string{"s3:GetObject"}, Prefix: ReceiptsPrefix}},
				Email:      true, Sends: []string{ExportsQueue}},
			// Erasure (decision 0087). The routes: GetItem/PutItem/UpdateItem as the export's
			// create (the request with its audit record in one transaction, a resume saved over
			// its version, the Idempotency-Key record). One request per user: a second answers
			// with it (and resumes it when held or failed).
			{Name: "delete-me", Summary: "Erase the caller's personal data in every area (background; financial records kept under a pseudonym)",
				Trigger: route("DELETE", "/me"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem},
				Sends: []string{ErasuresQueue}, RateLimit: &RateLimit{PerMinute: 5, PerHour: 20}},
			{Name: "admin-erase-user", Summary: "Erase a user's personal data on a request received outside the app (admin)",
				Trigger: route("POST", "/admin/users/{userId}/erase"), Auth: Admin, Table: []string{GetItem, PutItem, UpdateItem},
				Sends: []string{ErasuresQueue}},
			// QueryIndex: GSI1's privacy-requests partition, newest first; Cursors: the list's.
			{Name: "list-privacy-requests", Summary: "Every export and erasure request, newest first (admin)",
				Trigger: route("GET", "/admin/privacy-requests"), Auth: Admin, Table: []string{QueryIndex}, Cursors: true},
			// The erasure host. Query/QueryIndex/GetItem: the areas' erasers read the person's
			// items as the exporters do; PutItem/UpdateItem/DeleteItem: each record's change (one
			// transaction each, with journal and audit records where money or tokens move), the
			// checkpoint. Stripe: billing cancels the subscription and deletes the customer.
			// Bucket: payments re-renders receipts and credit notes under receipts/ and removes
			// their old versions (BucketVersions); the frame deletes the person's exports under
			// exports/ (DeleteObject, BucketAlso) with their versions.
			{Name: ErasePersonalData, Summary: "Erase a person's data step by step in every area (resumable), keeping financial records under a pseudonym",
				Package: "shared/privacy/erasehost", Host: true,
				Trigger: Trigger{Kind: Queue, Queue: ErasuresQueue, BatchSize: 1}, Auth: Internal,
				TimeoutSeconds: 120, MemoryMB: 512,
				Table:  []string{GetItem, Query, QueryIndex, PutItem, UpdateItem, DeleteItem},
				Bucket: []string{"s3:PutObject", "s3:GetObject"}, BucketPrefix: ReceiptsPrefix,
				BucketAlso:     []BucketGrant{{Actions: []string{"s3:DeleteObject"}, Prefix: ExportsPrefix}},
				BucketVersions: []string{ReceiptsPrefix, ExportsPrefix},
				Stripe:         true, Sends: []string{ErasuresQueue}},
		},
	})
}
