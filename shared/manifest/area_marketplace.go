package manifest

// Queues of the marketplace.
const (
	// PayoutsQueue carries one message per instructor and payout period (the design card's
	// payout-calculation queue).
	PayoutsQueue = "payouts"
	// CatalogQueue asks for a rebuild of the catalog search snapshot after a catalog change.
	CatalogQueue = "catalog"
)

// S3 prefixes the marketplace's functions are limited to.
const (
	ContentPrefix = "content/" // course files, uploaded and downloaded through presigned URLs
	CatalogPrefix = "catalog/" // the catalog search snapshot
	// CatalogSnapshotPrefix holds the snapshots; the bucket expires them after
	// CatalogSnapshotDays (the builder writes the current one again every day).
	CatalogSnapshotPrefix = CatalogPrefix + "snapshots/"
	CatalogSnapshotDays   = 7
)

// Marketplace: courses and uploads, catalog search, purchases with the 70/30 split, instructor
// earnings and monthly Connect payouts, reviews (seed section 3). Instructor routes are User routes
// whose handlers require the `instructor` group (and ownership) themselves.
func init() {
	declare(Area{
		Name:  "marketplace",
		Hooks: []string{StripeWebhook, BuildPersonalExport, ErasePersonalData},
		Queues: []QueueDef{
			// Consumer timeouts 60 s → visibility 360 s.
			{Name: PayoutsQueue, MaxReceiveCount: 5, VisibilitySeconds: 360},
			{Name: CatalogQueue, MaxReceiveCount: 5, VisibilitySeconds: 360},
		},
		Functions: []Function{
			// Instructors.
			{Name: "create-course", Summary: "Create a draft course (instructors)",
				Trigger: route("POST", "/courses"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}},
			{Name: "update-course", Summary: "Edit a course's details (owner or admin)",
				Trigger: route("PATCH", "/courses/{courseId}"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}, Sends: []string{CatalogQueue}},
			{Name: "list-instructor-courses", Summary: "The caller's own courses, drafts included (instructors)",
				Trigger: route("GET", "/instructors/me/courses"), Auth: User, Table: []string{QueryIndex}, Cursors: true},
			{Name: "create-lesson", Summary: "Add a lesson and get a presigned upload URL for its file",
				Trigger: route("POST", "/courses/{courseId}/lessons"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem},
				Bucket: []string{"s3:PutObject"}, BucketPrefix: ContentPrefix},
			{Name: "publish-course", Summary: "Publish a course once its content is uploaded",
				Trigger: route("POST", "/courses/{courseId}/publish"), Auth: User, Table: []string{GetItem, Query, PutItem, UpdateItem},
				Bucket: []string{"s3:GetObject"}, BucketPrefix: ContentPrefix, Sends: []string{CatalogQueue}},
			{Name: "unpublish-course", Summary: "Hide a course from the catalog; enrolled learners keep access",
				Trigger: route("POST", "/courses/{courseId}/unpublish"), Auth: User, Table: []string{GetItem, Query, PutItem, UpdateItem}, Sends: []string{CatalogQueue}},
			{Name: "connect-instructor", Summary: "Create the caller's Stripe Connect account once and return an onboarding link",
				Trigger: route("POST", "/instructors/me/connect"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}, Stripe: true},
			{Name: "get-earnings", Summary: "The caller's earnings: pending, available, held, paid and balance",
				Trigger: route("GET", "/instructors/me/earnings"), Auth: User, Table: []string{GetItem, Query}},
			{Name: "list-sales", Summary: "The caller's course sales and their split, newest first",
				Trigger: route("GET", "/instructors/me/sales"), Auth: User, Table: []string{Query}, Cursors: true},
			{Name: "list-my-payouts", Summary: "The caller's payouts, newest first",
				Trigger: route("GET", "/instructors/me/payouts"), Auth: User, Table: []string{Query}, Cursors: true},

			// Public catalog. Search links no Stripe client: its own package. 1 GB (≈ 0.6 vCPU): loading
			// a new snapshot of 10,000 courses is CPU-bound (docs/performance.md).
			{Name: "search-courses", Summary: "Search and browse published courses",
				Package: "shared/marketplace/catalog", MemoryMB: 1024,
				Trigger: route("GET", "/courses"), Auth: Public, Table: []string{GetItem}, Cursors: true,
				Bucket: []string{"s3:GetObject"}, BucketPrefix: CatalogPrefix},
			{Name: "get-course", Summary: "A published course with its lessons and rating summary",
				Trigger: route("GET", "/courses/{courseId}"), Auth: Public, Table: []string{GetItem, Query}},
			{Name: "list-reviews", Summary: "A course's reviews, newest first",
				Trigger: route("GET", "/courses/{courseId}/reviews"), Auth: Public, Table: []string{GetItem, QueryIndex}, Cursors: true},

			// Learners.
			{Name: "purchase-course", Summary: "Buy a course through Stripe Checkout, or enrol at once in a free one", RateLimit: &RateLimit{PerMinute: 10, PerHour: 60}, // per user: a Stripe Checkout Session per request (decision 0077)
				Trigger: route("POST", "/courses/{courseId}/purchase"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}, Stripe: true},
			{Name: "list-my-courses", Summary: "The caller's enrolments, newest first",
				Trigger: route("GET", "/me/courses"), Auth: User, Table: []string{QueryIndex}, Cursors: true},
			{Name: "get-course-content", Summary: "A course's lessons with short-lived download links (enrolled learners, owner, admins)",
				Trigger: route("GET", "/courses/{courseId}/content"), Auth: User, Table: []string{GetItem, Query},
				Bucket: []string{"s3:GetObject"}, BucketPrefix: ContentPrefix},
			{Name: "put-review", Summary: "Write or replace the caller's review of a course (enrolled learners)",
				Trigger: route("PUT", "/courses/{courseId}/review"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem, ConditionCheckItem}, Sends: []string{FactsQueue}},
			{Name: "delete-review", Summary: "Delete the caller's review of a course",
				Trigger: route("DELETE", "/courses/{courseId}/review"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}}, // a tombstone, not a delete

			// Admins.
			{Name: "list-payouts", Summary: "Instructor payouts of a period, by status (admin)",
				Trigger: route("GET", "/admin/payouts"), Auth: Admin, Table: []string{QueryIndex}, Cursors: true},
			{Name: "run-payouts", Summary: "Queue a period's instructor payouts (admin)",
				Trigger: route("POST", "/admin/payouts/run"), Auth: Admin, Table: []string{GetItem, QueryIndex, PutItem, UpdateItem}, Sends: []string{PayoutsQueue}},
			{Name: "get-marketplace-metrics", Summary: "Marketplace GMV, platform revenue, instructor earnings and payouts of a period (admin)",
				Trigger: route("GET", "/admin/marketplace/metrics"), Auth: Admin, Table: []string{GetItem, Query}},

			// Jobs and consumers.
			{Name: "payouts", Summary: "Monthly: queue one payout per instructor with available earnings",
				Trigger: Trigger{Kind: Schedule, Expression: "cron(0 2 1 * ? *)"}, Auth: Internal,
				TimeoutSeconds: 300, Table: []string{QueryIndex}, Sends: []string{PayoutsQueue}},
			{Name: "process-payouts", Summary: "Pay an instructor's available balance by Stripe transfer and e-mail the statement",
				Trigger: Trigger{Kind: Queue, Queue: PayoutsQueue, BatchSize: 5}, Auth: Internal,
				TimeoutSeconds: 60, Table: []string{GetItem, Query, PutItem, UpdateItem}, Stripe: true, Email: true, Env: []string{EnvPayoutMinimum}},
			// Releases until nothing is due (or 30 s before its 15-minute deadline), then sends payouts
			// stuck in transferring back to the payouts queue.
			{Name: "release-earnings", Summary: "Daily: release earnings whose refund window has passed; requeue stuck payouts",
				Trigger: Trigger{Kind: Schedule, Expression: "cron(30 1 * * ? *)"}, Auth: Internal,
				TimeoutSeconds: 900, MemoryMB: 512, Table: []string{GetItem, QueryIndex, PutItem, UpdateItem}, Sends: []string{PayoutsQueue}},
			{Name: "index-catalog", Summary: "Rebuild the catalog search snapshot after a catalog change",
				Package: "shared/marketplace/catalog",
				Trigger: Trigger{Kind: Queue, Queue: CatalogQueue, BatchSize: 10}, Auth: Internal,
				TimeoutSeconds: 60, MemoryMB: 1024, Table: []string{GetItem, Query, UpdateItem},
				Bucket: []string{"s3:PutObject"}, BucketPrefix: CatalogPrefix},
			{Name: "refresh-catalog", Summary: "Every 5 minutes: refresh the catalog snapshot's ratings and enrolment counts",
				Package: "shared/marketplace/catalog",
				Trigger: Trigger{Kind: Schedule, Expression: "rate(5 minutes)"}, Auth: Internal,
				TimeoutSeconds: 60, MemoryMB: 1024, Table: []string{GetItem, Query, UpdateItem},
				Bucket: []string{"s3:PutObject"}, BucketPrefix: CatalogPrefix},
		},
	})
}
