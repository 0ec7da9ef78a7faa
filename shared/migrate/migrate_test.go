package migrate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/migrate"
	"github.com/liberation/monetization/shared/migrate/migrations"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

var day = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

func deps(s *store.Store, clk clock.Clock, ms []migrate.Migration, pageSize int32, maxPages int) migrate.Deps {
	r := migrate.NewRepo(s)
	return migrate.Deps{Migrations: ms, Walk: r, Items: r, States: r, Clock: clk, PageSize: pageSize, MaxPages: maxPages}
}

// failingItems lets `left` writes through, then fails every one: a write failing midway.
type failingItems struct {
	inner migrate.Items
	left  int
}

var errInjected = errors.New("injected write failure")

func (f *failingItems) Apply(ctx context.Context, item, set map[string]types.AttributeValue) (bool, error) {
	if f.left == 0 {
		return false, errInjected
	}
	f.left--
	return f.inner.Apply(ctx, item, set)
}

// export is one seeded personal export.
type export struct{ user, id string }

// seedExports creates n exports the way the service does (privacy.Repo.Create), an hour apart,
// then removes GSI1PK/GSI1SK from the first old ones: the exports made before the admins' list.
// Items of other types sit beside them (each user's running-export pointer, a profile).
func seedExports(t *testing.T, s *store.Store, n, old int) []export {
	t.Helper()
	ctx := context.Background()
	var out []export
	for i := 0; i < n; i++ {
		e := privacy.Export{ID: fmt.Sprintf("exp%03d", i), UserID: fmt.Sprintf("u%03d", i), Status: "building",
			CreatedAt: day.Add(-time.Duration(n-i) * time.Hour)}
		if _, created, err := (privacy.Repo{S: s}).Create(ctx, e); err != nil || !created {
			t.Fatalf("create export %d: %v %v", i, created, err)
		}
		k := store.UserKey(e.UserID)
		if err := s.Put(ctx, map[string]string{"PK": k.PK, "SK": k.SK, "type": "user"}, "", nil, nil); err != nil {
			t.Fatal(err)
		}
		if i < old {
			ek := store.ExportKey(e.UserID, e.ID)
			if err := s.Update(ctx, &dynamodb.UpdateItemInput{Key: ek.Item(), UpdateExpression: aws.String("REMOVE GSI1PK, GSI1SK")}, nil); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, export{e.UserID, e.ID})
	}
	return out
}

// listed is the number of exports GET /admin/privacy-requests can see (the GSI1 list).
func listed(t *testing.T, s *store.Store) int {
	t.Helper()
	n, cursor := 0, ""
	for {
		rows, next, err := (privacy.Repo{S: s}).Requests(context.Background(), 7, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Type == migrations.PersonalExportType {
				n++
			}
		}
		if cursor = next; cursor == "" {
			return n
		}
	}
}

// rawItem reads an item as stored.
func rawItem(t *testing.T, s *store.Store, k store.Key) map[string]types.AttributeValue {
	t.Helper()
	res, err := s.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &s.Table, Key: k.Item(), ConsistentRead: aws.Bool(true)})
	if err != nil || res.Item == nil {
		t.Fatalf("read %v: %v", k, err)
	}
	return res.Item
}

func str(it map[string]types.AttributeValue, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func version(t *testing.T, s *store.Store) migrate.Version {
	t.Helper()
	v, err := migrate.NewRepo(s).Version(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestPrivacyRequestsIndexDryRunRunInterruptResume is migration 0001 on a seeded table: 12 exports,
// 7 without the list's keys. A dry run counts 7 to change and writes nothing; a run whose 4th write
// fails stops with 3 changed and the version unmoved; the next run resumes from the checkpoint
// (walking the failed page again) and changes exactly the other 4; every export then has the keys
// Create writes, all 12 are listed, and a run after that changes nothing.
func TestPrivacyRequestsIndexDryRunRunInterruptResume(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(day)
	s := newTestStore(t, clk)
	const n, old = 12, 7
	exps := seedExports(t, s, n, old)
	if got := listed(t, s); got != n-old {
		t.Fatalf("before: %d exports listed, want %d", got, n-old)
	}

	d := deps(s, clk, migrations.All(), 5, 0)
	dry, err := migrate.Run(ctx, d, migrate.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !dry.Done || dry.Version != 0 || len(dry.Results) != 1 || dry.Results[0].Changed != old || dry.Results[0].Unchanged != n-old || dry.Results[0].Examined != n {
		t.Fatalf("dry run: %+v", dry)
	}
	if got := listed(t, s); got != n-old || version(t, s).Number != 0 {
		t.Fatalf("the dry run wrote: %d listed, version %+v", got, version(t, s))
	}

	// A write fails midway: 3 items changed, then the error; the checkpoint is at the last page
	// finished and the version is still 0.
	broken := d
	broken.Items = &failingItems{inner: migrate.NewRepo(s), left: 3}
	rep, err := migrate.Run(ctx, broken, migrate.Options{})
	if !errors.Is(err, errInjected) {
		t.Fatalf("interrupted run: %v", err)
	}
	if rep.ThisRun.Changed != 3 || version(t, s).Number != 0 || listed(t, s) != n-old+3 {
		t.Fatalf("interrupted run: %+v, version %+v, %d listed", rep, version(t, s), listed(t, s))
	}
	cp, err := migrate.NewRepo(s).Load(ctx, false)
	if err != nil || cp.Migration != 1 || len(cp.Results) != 1 || cp.Results[0].Changed != 3 {
		t.Fatalf("checkpoint after the failure: %+v %v", cp, err)
	}

	// Resumed, one page a run until done: the remaining 4 are changed, none twice.
	total := 3
	for runs := 0; ; runs++ {
		if runs > 10 {
			t.Fatal("the migration never finished")
		}
		d.MaxPages = 1
		rep, err = migrate.Run(ctx, d, migrate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		total += rep.ThisRun.Changed
		if rep.Done {
			break
		}
	}
	if total != old || rep.Version != 1 || rep.Results[0].Changed != old || !rep.Results[0].Done {
		t.Fatalf("resumed: %d changed in all, report %+v", total, rep)
	}
	if v := version(t, s); v.Number != 1 || v.Name != "privacy-requests-index" || !v.AppliedAt.Equal(day) {
		t.Fatalf("version %+v", v)
	}
	for i, e := range exps {
		it := rawItem(t, s, store.ExportKey(e.user, e.id))
		pk, sk := store.PrivacyRequestsGSI1(day.Add(-time.Duration(n-i)*time.Hour), e.id)
		if str(it, "GSI1PK") != pk || str(it, "GSI1SK") != sk || str(it, "status") != "building" {
			t.Fatalf("export %s after the migration: %v", e.id, it)
		}
	}
	if got := listed(t, s); got != n {
		t.Fatalf("after: %d exports listed, want %d", got, n)
	}

	// Re-run: nothing pending, nothing changed; the step itself leaves a migrated item alone.
	again, err := migrate.Run(ctx, deps(s, clk, migrations.All(), 5, 0), migrate.Options{})
	if err != nil || !again.Done || again.ThisRun.Changed != 0 || again.ThisRun.Pages != 0 || again.Version != 1 {
		t.Fatalf("re-run: %+v %v", again, err)
	}
	set, err := migrations.All()[0].Step(rawItem(t, s, store.ExportKey(exps[0].user, exps[0].id)))
	if err != nil || set != nil {
		t.Fatalf("step on a migrated export: %v %v", set, err)
	}
	dry, err = migrate.Run(ctx, d, migrate.Options{DryRun: true})
	if err != nil || !dry.Done || dry.ThisRun.Pages != 0 {
		t.Fatalf("dry run with nothing pending: %+v %v", dry, err)
	}
}

// Two test migrations on "mt" items: the first sets a = "x", the second b = a + "y" and fails on
// an item without a — so it can only succeed after the first, in order.
func testMigrations() []migrate.Migration {
	return []migrate.Migration{
		{Number: 1, Name: "set-a", Types: []string{"mt"}, Step: func(it map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
			if str(it, "a") != "" {
				return nil, nil
			}
			return map[string]types.AttributeValue{"a": store.S("x")}, nil
		}},
		{Number: 2, Name: "set-b", Types: []string{"mt"}, Step: func(it map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
			if str(it, "a") == "" {
				return nil, fmt.Errorf("no a on %s", str(it, "PK"))
			}
			if str(it, "b") != "" {
				return nil, nil
			}
			return map[string]types.AttributeValue{"b": store.S(str(it, "a") + "y")}, nil
		}},
	}
}

func seedMT(t *testing.T, s *store.Store, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := s.Put(context.Background(), map[string]string{"PK": fmt.Sprintf("MT#%02d", i), "SK": "X", "type": "mt"}, "", nil, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(context.Background(), map[string]string{"PK": fmt.Sprintf("MT#%02d", i), "SK": "Y", "type": "other"}, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMigrationsRunInOrderAcrossRuns: two pending migrations walked a page per run apply one after
// the other (the second needs the first's attribute on every item); the version goes 0 → 1 → 2,
// each finish recorded with its name; items of other types are never touched.
func TestMigrationsRunInOrderAcrossRuns(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(day)
	s := newTestStore(t, clk)
	seedMT(t, s, 9)
	d := deps(s, clk, testMigrations(), 4, 1)
	dry, err := migrate.Run(ctx, deps(s, clk, testMigrations(), 4, 0), migrate.Options{DryRun: true})
	// The dry run counts the second migration on the table as it is: its step fails without a.
	if err == nil || !strings.Contains(err.Error(), "no a on MT#") || dry.Version != 0 {
		t.Fatalf("dry run of a dependent migration: %+v %v", dry, err)
	}
	seen := []int{}
	var rep migrate.Report
	for runs := 0; !rep.Done; runs++ {
		if runs > 20 {
			t.Fatal("never done")
		}
		if rep, err = migrate.Run(ctx, d, migrate.Options{}); err != nil {
			t.Fatal(err)
		}
		if len(seen) == 0 || seen[len(seen)-1] != rep.Version {
			seen = append(seen, rep.Version)
		}
	}
	if fmt.Sprint(seen) != "[0 1 2]" || len(rep.Results) != 2 || rep.Results[0].Changed != 9 || rep.Results[1].Changed != 9 {
		t.Fatalf("versions seen %v, report %+v", seen, rep)
	}
	for i := 0; i < 9; i++ {
		it := rawItem(t, s, store.Key{PK: fmt.Sprintf("MT#%02d", i), SK: "X"})
		other := rawItem(t, s, store.Key{PK: fmt.Sprintf("MT#%02d", i), SK: "Y"})
		if str(it, "a") != "x" || str(it, "b") != "xy" || str(other, "a") != "" || str(other, "b") != "" {
			t.Fatalf("item %d: %v / %v", i, it, other)
		}
	}
	if v := version(t, s); v.Number != 2 || v.Name != "set-b" {
		t.Fatalf("version %+v", v)
	}
}

// TestRefusals: a list out of order (or with a gap), a table whose recorded migration is named
// otherwise than the code's of that number, a table ahead of the code, and a checkpoint for
// another migration than the next are all refused with a Conflict that says so, and nothing is
// written: no item changes, the version and the checkpoint stay.
func TestRefusals(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(day)
	s := newTestStore(t, clk)
	seedMT(t, s, 3)
	ms := testMigrations()
	untouched := func(when string, wantVersion int) {
		t.Helper()
		for i := 0; i < 3; i++ {
			it := rawItem(t, s, store.Key{PK: fmt.Sprintf("MT#%02d", i), SK: "X"})
			if (str(it, "a") != "") != (wantVersion >= 1) || (str(it, "b") != "") != (wantVersion >= 2) {
				t.Fatalf("%s: item %d changed: %v", when, i, it)
			}
		}
		if v := version(t, s); v.Number != wantVersion {
			t.Fatalf("%s: version %+v", when, v)
		}
	}
	refused := func(when string, d migrate.Deps, want string) {
		t.Helper()
		_, err := migrate.Run(ctx, d, migrate.Options{})
		if !apperr.Is(err, apperr.Conflict) || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v, want a conflict saying %q", when, err, want)
		}
	}

	refused("reordered list", deps(s, clk, []migrate.Migration{ms[1], ms[0]}, 10, 0), "out of order")
	refused("a gap", deps(s, clk, []migrate.Migration{ms[0], {Number: 3, Name: "c", Types: []string{"mt"}, Step: ms[1].Step}}, 10, 0), "out of order")
	untouched("refused lists", 0)

	// Apply the first migration only (the code of that deploy had one).
	if rep, err := migrate.Run(ctx, deps(s, clk, ms[:1], 10, 0), migrate.Options{}); err != nil || rep.Version != 1 {
		t.Fatalf("first migration: %+v %v", rep, err)
	}
	renamed := []migrate.Migration{ms[0], ms[1]}
	renamed[0].Name = "set-a-renamed"
	refused("recorded name differs", deps(s, clk, renamed, 10, 0), `records migration 1 as "set-a"`)

	// The table ahead of the code: version 2 recorded by a newer deploy, this code has 1.
	if rep, err := migrate.Run(ctx, deps(s, clk, ms, 10, 0), migrate.Options{}); err != nil || rep.Version != 2 {
		t.Fatalf("second migration: %+v %v", rep, err)
	}
	before, err := migrate.NewRepo(s).Load(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	refused("ahead", deps(s, clk, ms[:1], 10, 0), "ahead of this code's 1")
	_, err = migrate.Run(ctx, deps(s, clk, ms[:1], 10, 0), migrate.Options{DryRun: true})
	if !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("dry run on a table ahead: %v", err)
	}
	after, err := migrate.NewRepo(s).Load(ctx, false)
	if err != nil || fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("checkpoint changed by a refused run: %+v → %+v (%v)", before, after, err)
	}
	untouched("after both", 2)

	// A checkpoint for a migration other than the next (written by hand, or a bug): refused.
	bad := after
	bad.Migration = 1
	if err := migrate.NewRepo(s).Save(ctx, bad); err != nil {
		t.Fatal(err)
	}
	refused("stale checkpoint", deps(s, clk, ms, 10, 0), "checkpoint is walking migration 1")
}
