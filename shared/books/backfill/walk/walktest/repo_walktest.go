// Package walktest helps the areas test their journal backfillers on the in-process table: read
// the whole journal, wipe it (the table as it was before the journal), and run the backfill to the
// end. Test support only; it builds SDK inputs, hence the repo file name.
package walktest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/books/backfill/walk"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

// journalPrefixes are the partitions of the journal's three item families (store/keys.go).
var journalPrefixes = []string{"JRNL#", "JPOST#", "JBAL#"}

// scanAll returns every item of the table.
func scanAll(t testing.TB, s *store.Store) []map[string]types.AttributeValue {
	t.Helper()
	api, ok := s.DB.(store.ScanAPI)
	if !ok {
		t.Fatal("walktest: the table's client cannot Scan")
	}
	var out []map[string]types.AttributeValue
	var start map[string]types.AttributeValue
	for {
		res, err := api.Scan(context.Background(), &dynamodb.ScanInput{TableName: &s.Table, ExclusiveStartKey: start})
		if err != nil {
			t.Fatalf("walktest: scan: %v", err)
		}
		out = append(out, res.Items...)
		if len(res.LastEvaluatedKey) == 0 {
			return out
		}
		start = res.LastEvaluatedKey
	}
}

func pk(item map[string]types.AttributeValue) string {
	if v, ok := item["PK"].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// Entries reads every journal entry of the table, by id.
func Entries(t testing.TB, s *store.Store) map[string]journal.Entry {
	t.Helper()
	out := map[string]journal.Entry{}
	r := journal.Repo{S: s}
	for _, it := range scanAll(t, s) {
		if p := pk(it); strings.HasPrefix(p, "JRNL#") {
			e, err := r.Get(context.Background(), strings.TrimPrefix(p, "JRNL#"))
			if err != nil {
				t.Fatalf("walktest: entry %s: %v", p, err)
			}
			out[e.ID] = e
		}
	}
	return out
}

// Wipe deletes the journal's items (entries, postings, balances), leaving the areas' records: the
// table as it was before the journal existed. It returns how many items it deleted.
func Wipe(t testing.TB, s *store.Store) int {
	t.Helper()
	var batch []types.TransactWriteItem
	n := 0
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := s.Transact(context.Background(), batch); err != nil {
			t.Fatalf("walktest: wipe: %v", err)
		}
		batch = batch[:0]
	}
	for _, it := range scanAll(t, s) {
		p := pk(it)
		for _, prefix := range journalPrefixes {
			if strings.HasPrefix(p, prefix) {
				batch = append(batch, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Table,
					Key: map[string]types.AttributeValue{"PK": it["PK"], "SK": it["SK"]}}})
				n++
				if len(batch) == 25 {
					flush()
				}
				break
			}
		}
	}
	flush()
	return n
}

// Run runs the backfill on s until its walk is done (pages of pageSize, one page per run, so
// every run resumes from a checkpoint) and returns the last report.
func Run(t testing.TB, s *store.Store, clk clock.Clock, o walk.Options, pageSize int32) walk.Report {
	t.Helper()
	r := walk.NewRepo(s)
	d := walk.Deps{Walk: r, Books: r, States: r, Store: s, Clock: clk, PageSize: pageSize, MaxPages: 1, Reserve: time.Second}
	for i := 0; i < 100000; i++ {
		rep, err := walk.Run(context.Background(), d, o)
		if err != nil {
			t.Fatalf("walktest: backfill run %d: %v", i, err)
		}
		if rep.Done {
			return rep
		}
		o.Restart = false
	}
	t.Fatal("walktest: the backfill never finished")
	return walk.Report{}
}

// Net is Σ debits − Σ credits per account, party and currency over entries.
func Net(entries map[string]journal.Entry) map[[3]string]int64 {
	out := map[[3]string]int64{}
	for _, e := range entries {
		for _, l := range e.Lines {
			k := [3]string{string(l.Account), l.Party, e.Currency}
			out[k] += l.Debit - l.Credit
			if out[k] == 0 {
				delete(out, k)
			}
		}
	}
	return out
}
