// Package restoredrill rehearses the table's restore (docs/runbooks/restore.md) on the local stack:
// export the table to a file as DynamoDB's export to S3 would, restore the file into a NEW table,
// point a store at the new table and verify every area's invariants there, and that every entity
// type has as many items in the restore as in the original. `make restore-drill` runs it against
// `make dev`'s moto (infra/local/cmd/localstack, restore-drill).
package restoredrill

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace"
	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/store"
)

// DB is the part of the DynamoDB client the drill uses: the store's calls (the checks read the
// restored table through a store, as the functions would) plus Scan, CreateTable, DescribeTable and
// BatchWriteItem for the export and the restore.
type DB interface {
	store.DynamoAPI
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// ScanAll reads every item of table (consistent, page by page).
func ScanAll(ctx context.Context, db DB, table string) ([]map[string]types.AttributeValue, error) {
	in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
	var out []map[string]types.AttributeValue
	for {
		res, err := db.Scan(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", table, err)
		}
		out = append(out, res.Items...)
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// Export writes every item of table to path, one DynamoDB-JSON line per item; it returns the
// items written (the original as exported: what the restore is compared with).
func Export(ctx context.Context, db DB, table, path string) ([]map[string]types.AttributeValue, error) {
	items, err := ScanAll(ctx, db, table)
	if err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(f)
	for _, it := range items {
		line, err := encodeItem(it)
		if err != nil {
			f.Close()
			return nil, err
		}
		w.Write(line)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	return items, f.Close()
}

// Restore creates target with the stack's table definition (keys, GSIs: store.TableDefinition) and
// writes every item of the export file into it. target must not exist: a restore never writes over
// a table (as PITR and AWS Backup restores, which also create a new table).
func Restore(ctx context.Context, db DB, path, target string) (int, error) {
	if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(target)}); err == nil {
		return 0, fmt.Errorf("table %s exists: a restore goes into a new table", target)
	}
	if _, err := db.CreateTable(ctx, store.TableDefinition(target)); err != nil {
		return 0, fmt.Errorf("create %s: %w", target, err)
	}
	for i := 0; ; i++ {
		d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(target)})
		if err == nil && d.Table.TableStatus == types.TableStatusActive {
			break
		}
		if i == 120 {
			return 0, fmt.Errorf("table %s not active after a minute", target)
		}
		time.Sleep(500 * time.Millisecond)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20) // an item is at most 400 KB
	var batch []types.WriteRequest
	n := 0
	for line := 1; sc.Scan(); line++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		item, err := decodeItem(sc.Bytes())
		if err != nil {
			return n, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		if len(batch) == 25 {
			if err := writeBatch(ctx, db, target, batch); err != nil {
				return n, err
			}
			n += len(batch)
			batch = nil
		}
	}
	if err := sc.Err(); err != nil {
		return n, err
	}
	if len(batch) > 0 {
		if err := writeBatch(ctx, db, target, batch); err != nil {
			return n, err
		}
		n += len(batch)
	}
	return n, nil
}

// writeBatch writes up to 25 items, retrying what DynamoDB leaves unprocessed.
func writeBatch(ctx context.Context, db DB, table string, reqs []types.WriteRequest) error {
	pending := map[string][]types.WriteRequest{table: reqs}
	for try := 0; len(pending[table]) > 0; try++ {
		if try == 10 {
			return fmt.Errorf("batch write to %s: %d items still unprocessed", table, len(pending[table]))
		}
		if try > 0 {
			time.Sleep(time.Duration(try) * 100 * time.Millisecond)
		}
		out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return fmt.Errorf("batch write to %s: %w", table, err)
		}
		pending = out.UnprocessedItems
	}
	return nil
}

// TypeCount is one entity type's item count in the original and in the restore.
type TypeCount struct {
	Type               string
	Original, Restored int
}

// Check is one area's invariant on the restored table: how many things it checked and what does
// not hold.
type Check struct {
	Name     string
	Checked  int
	Problems []string
}

// Report is the drill's outcome.
type Report struct {
	Source, Target, ExportFile string
	Exported, Restored         int
	Counts                     []TypeCount
	Checks                     []Check
	Took                       time.Duration
}

// OK reports whether the restore is whole: every type's count equal and no invariant broken.
func (r Report) OK() bool {
	for _, c := range r.Counts {
		if c.Original != c.Restored {
			return false
		}
	}
	for _, c := range r.Checks {
		if len(c.Problems) > 0 {
			return false
		}
	}
	return r.Exported == r.Restored
}

// Write prints the report as a person reads it.
func (r Report) Write(w io.Writer) {
	fmt.Fprintf(w, "restore drill: %s → %s (export %s)\n", r.Source, r.Target, r.ExportFile)
	fmt.Fprintf(w, "  exported %d items, restored %d, in %s\n\n", r.Exported, r.Restored, r.Took.Round(time.Millisecond))
	fmt.Fprintf(w, "  %-28s %9s %9s\n", "entity type", "original", "restored")
	for _, c := range r.Counts {
		mark := ""
		if c.Original != c.Restored {
			mark = "  DIFFERENT"
		}
		fmt.Fprintf(w, "  %-28s %9d %9d%s\n", c.Type, c.Original, c.Restored, mark)
	}
	fmt.Fprintln(w)
	for _, c := range r.Checks {
		status := "ok"
		if len(c.Problems) > 0 {
			status = fmt.Sprintf("FAILED (%d)", len(c.Problems))
		}
		fmt.Fprintf(w, "  %-50s %5d checked  %s\n", c.Name, c.Checked, status)
		for _, p := range c.Problems {
			fmt.Fprintf(w, "      %s\n", p)
		}
	}
	if r.OK() {
		fmt.Fprintln(w, "\nRESTORE OK: every count equal, every invariant holds on the restored table")
	} else {
		fmt.Fprintln(w, "\nRESTORE FAILED: see the differences above")
	}
}

// Options say what to restore where.
type Options struct {
	Source string // the table to back up
	Target string // the new table ("": <source>-restore-<unix time>)
	Dir    string // where the export file goes ("": the system's temporary directory)
	Clock  clock.Clock
}

// Run exports Source, restores it into Target and verifies the restore.
func Run(ctx context.Context, db DB, o Options) (Report, error) {
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	start := time.Now()
	if o.Target == "" {
		o.Target = fmt.Sprintf("%s-restore-%d", o.Source, o.Clock.Now().Unix())
	}
	if o.Dir == "" {
		o.Dir = os.TempDir()
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return Report{}, err
	}
	rep := Report{Source: o.Source, Target: o.Target, ExportFile: fmt.Sprintf("%s/%s.export.json", o.Dir, o.Target)}
	orig, err := Export(ctx, db, o.Source, rep.ExportFile)
	if err != nil {
		return rep, err
	}
	rep.Exported = len(orig)
	if rep.Restored, err = Restore(ctx, db, rep.ExportFile, o.Target); err != nil {
		return rep, err
	}
	rep, err = Verify(ctx, db, rep, orig, o.Clock)
	rep.Took = time.Since(start)
	return rep, err
}

// Verify compares item counts per entity type between the original and rep.Target and runs every
// area's invariants over the restored table, read through a store on it. The original is orig, the
// items as exported (a live table goes on changing: `make dev` may still apply queued facts while
// the drill runs); nil: rep.Source scanned now.
func Verify(ctx context.Context, db DB, rep Report, orig []map[string]types.AttributeValue, clk clock.Clock) (Report, error) {
	var err error
	if orig == nil {
		if orig, err = ScanAll(ctx, db, rep.Source); err != nil {
			return rep, err
		}
	}
	restored, err := ScanAll(ctx, db, rep.Target)
	if err != nil {
		return rep, err
	}
	rep.Counts = countTypes(orig, restored)
	s := store.New(db, rep.Target, clk, nil) // the code pointed at the restored table

	mk, err := marketplace.CheckInvariants(restored)
	if err != nil {
		return rep, fmt.Errorf("marketplace: %w", err)
	}
	rep.Checks = append(rep.Checks,
		Check{Name: "marketplace: balance = Σ ledger per instructor", Checked: len(mk.Balances), Problems: only(mk.Problems, "instructor ")},
		Check{Name: "marketplace: sale splits add up", Checked: len(mk.Splits), Problems: only(mk.Problems, "sale ")},
		Check{Name: "marketplace: review aggregates per course", Checked: len(mk.Ratings), Problems: only(mk.Problems, "course ")})
	nLic, seatProblems, err := licensing.CheckSeats(restored)
	if err != nil {
		return rep, fmt.Errorf("licensing: %w", err)
	}
	rep.Checks = append(rep.Checks, Check{Name: "licensing: seats used = seats per license", Checked: nLic, Problems: seatProblems})
	nAcc, tokProblems, err := rewards.VerifyItems(restored)
	if err != nil {
		return rep, fmt.Errorf("rewards: %w", err)
	}
	rep.Checks = append(rep.Checks, Check{Name: "rewards: token balance = Σ entries", Checked: nAcc, Problems: tokProblems})
	tb, err := journal.Repo{S: s}.TrialBalance(ctx, clk.Now().Add(24*time.Hour))
	if err != nil {
		return rep, fmt.Errorf("journal: %w", err)
	}
	jc := Check{Name: "journal: trial balance per currency", Checked: len(tb.Currencies)}
	for _, c := range tb.Currencies {
		if !c.Balanced {
			jc.Problems = append(jc.Problems, fmt.Sprintf("%s: debits %d, credits %d", c.Currency, c.Debits, c.Credits))
		}
	}
	rep.Checks = append(rep.Checks, jc)
	return rep, nil
}

// only keeps the problems that begin with prefix.
func only(problems []string, prefix string) []string {
	var out []string
	for _, p := range problems {
		if strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	return out
}

// EntityType is an item's "type" attribute; an item without one (counters, guards) is named by
// its partition key's prefix, e.g. "(METRICS#)".
func EntityType(item map[string]types.AttributeValue) string {
	if t, ok := item["type"].(*types.AttributeValueMemberS); ok && t.Value != "" {
		return t.Value
	}
	pk, _ := item[manifest.AttrPK].(*types.AttributeValueMemberS)
	if pk == nil {
		return "(no PK)"
	}
	if i := strings.IndexByte(pk.Value, '#'); i >= 0 {
		return "(" + pk.Value[:i+1] + ")"
	}
	return "(" + pk.Value + ")"
}

func countTypes(orig, restored []map[string]types.AttributeValue) []TypeCount {
	by := map[string]*TypeCount{}
	for _, set := range []struct {
		items []map[string]types.AttributeValue
		orig  bool
	}{{orig, true}, {restored, false}} {
		for _, it := range set.items {
			t := EntityType(it)
			c := by[t]
			if c == nil {
				c = &TypeCount{Type: t}
				by[t] = c
			}
			if set.orig {
				c.Original++
			} else {
				c.Restored++
			}
		}
	}
	out := make([]TypeCount, 0, len(by))
	for _, c := range by {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}
