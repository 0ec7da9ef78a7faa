// Package migrations holds the single table's data migrations, one numbered file each
// (NNNN_name.go), listed in All in the order they run (docs/operations.md "Migrations"). A
// migration is never renumbered, reordered or removed once deployed: the table records the number
// and name of the last one applied, and the runner (shared/migrate) refuses a list that disagrees.
package migrations

import "github.com/liberation/monetization/shared/migrate"

// All is every migration, in order: append a new one at the end with the next number.
func All() []migrate.Migration {
	return []migrate.Migration{
		privacyRequestsIndex(), // 0001
	}
}
