package manifest

// AuditSealPrefix is where the audit trail's daily seals are stored in the bucket (versioned).
const AuditSealPrefix = "audit/seals/"

// NoncurrentVersionDays is how long the bucket keeps an object's old versions under the
// VersionPrefixes; under AuditSealPrefix it keeps them always: a seal overwritten by someone with
// bucket rights is evidence, and its earlier version is what the verify job and a person compare.
const NoncurrentVersionDays = 30

// VersionPrefixes are the prefixes whose old versions expire after NoncurrentVersionDays (one
// lifecycle rule each, in CDK and template.yaml): every prefix a function is granted but the audit
// seals (TestBucketPrefixesHaveAVersionRule keeps the list complete).
var VersionPrefixes = []string{ContentPrefix, CatalogPrefix, ReceiptsPrefix, BooksPrefix, ExportsPrefix}

// Audit: the tamper-evident audit trail (issue 18, docs/decisions/0085). Every area writes audit
// records in its own transactions; the store chains them (shared/store/auditchain.go). These are
// the functions that read them: the admin listing, the daily seal and the verify job.
func init() {
	declare(Area{
		Name: "audit",
		Functions: []Function{
			// Query: the day partitions (no actor or target); QueryIndex: GSI1 by actor, GSI2 by
			// target; Cursors: the listing's cursors.
			{Name: "list-audit-records", Summary: "Audit records by actor, target, action and time, oldest first (admin)",
				Package: "shared/audit/trail",
				Trigger: route("GET", "/admin/audit"), Auth: Admin, Table: []string{Query, QueryIndex}, Cursors: true},
			// Query: the day's chain heads; GetObject: an existing seal (kept, compared);
			// PutObject: the seal.
			{Name: "audit-seal", Summary: "Daily: seal yesterday's audit hash chains (each chain's last hash) in S3 and the logs",
				Package: "shared/audit/trail",
				Trigger: Trigger{Kind: Schedule, Expression: "cron(20 0 * * ? *)"}, Auth: Internal,
				Table: []string{Query}, Bucket: []string{"s3:GetObject", "s3:PutObject"}, BucketPrefix: AuditSealPrefix,
				TimeoutSeconds: 60},
			// Query: the day's records and heads (consistent reads of the table's keys); GetObject:
			// the day's seal.
			{Name: "audit-verify", Summary: "Daily: recompute the audit hash chains and report the first record removed, edited or reordered",
				Package: "shared/audit/trail",
				Trigger: Trigger{Kind: Schedule, Expression: "cron(40 0 * * ? *)"}, Auth: Internal,
				Table: []string{Query}, Bucket: []string{"s3:GetObject"}, BucketPrefix: AuditSealPrefix,
				TimeoutSeconds: 300, MemoryMB: 512},
		},
	})
}
