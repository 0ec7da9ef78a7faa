package manifest

// Migrate: the single table's data migrations (issue 19, docs/operations.md "Migrations",
// decision 0088). The migrate job applies the pending numbered migrations (shared/migrate/migrations)
// by walking the table (Scan, TableWalkers) from its checkpoint item. `cdk deploy` invokes it as its
// last step (infra/cdk/migrations.go, docs/runbooks/migrations.md); the daily schedule is the net for
// a walk longer than one run, and does nothing but read the version and checkpoint when none is
// pending. GetItem: the version and the checkpoint; PutItem: the checkpoint and, in the transaction
// that finishes a migration, the version; UpdateItem: a step's change to an item.
func init() {
	declare(Area{
		Name:    "migrate",
		Package: "shared/migrate/migratejob",
		Functions: []Function{
			{Name: "migrate", Summary: "Apply the table's pending data migrations in order (resumable; dry run counts)",
				Trigger: Trigger{Kind: Schedule, Expression: "cron(15 4 * * ? *)"}, Auth: Internal,
				TimeoutSeconds: 900, MemoryMB: 512, Table: []string{Scan, GetItem, PutItem, UpdateItem}},
		},
	})
}
