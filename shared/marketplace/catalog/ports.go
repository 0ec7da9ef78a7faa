package catalog

import "context"

// What the catalog needs from the table, as interfaces it owns. Production wires dynamoCatalog
// (repo_catalog.go, the only file of the package with DynamoDB inputs); unit tests wire the
// in-memory memCatalog, and the contract test (repo_contract_test.go) runs the same cases on both.

// snapshotTable is what the snapshot builder reads and writes: the published listings and the stamp
// that names the current snapshot.
type snapshotTable interface {
	// PublishedListings reads every published listing (each catalog shard, strongly consistent).
	PublishedListings(ctx context.Context) ([]Listing, error)
	// CurrentStamp reads the stamp, strongly consistent (apperr.NotFound: nothing built yet).
	CurrentStamp(ctx context.Context) (Stamp, error)
	// MoveStamp points the stamp at st's snapshot (Key, Hash, Count, Bytes), built at st.BuiltAt from
	// listings read at st.SourceAt, and returns the stamp written (its Version one more). The stamp
	// only moves forward: when a build that read the listings later already moved it, nothing is
	// written and the error is a failed condition (store.IsConditionFailed).
	MoveStamp(ctx context.Context, st Stamp) (Stamp, error)
}

// stampReader is what a search reads on the table: the stamp (eventually consistent; the only
// DynamoDB read of a search). apperr.NotFound: nothing built yet.
type stampReader interface {
	Stamp(ctx context.Context) (Stamp, error)
}
