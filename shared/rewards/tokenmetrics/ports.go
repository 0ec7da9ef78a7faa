package tokenmetrics

import "context"

// Source is where the metrics are read from: the counter items shared/rewards writes in the
// transaction of each ledger entry. Production reads them from the table (NewSource,
// repo_dynamo.go, the only file of the package with DynamoDB inputs); tests use an in-memory one,
// and the contract test runs the same cases on both.
type Source interface {
	// DayCounters reads the day counter items (every shard) of the UTC days from..to, inclusive
	// ("2006-01-02").
	DayCounters(ctx context.Context, from, to string) ([]Counters, error)
	// Gauges reads the gauge item of every shard, strongly consistent.
	Gauges(ctx context.Context) ([]Counters, error)
}
