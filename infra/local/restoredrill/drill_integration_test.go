//go:build integration

package restoredrill_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/restoredrill"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/marketplace"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/store"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// world writes a small consistent table: an instructor with two sales (70/30 splits), their ledger
// entries and a balance equal to their sum; a listing whose rating counters match its two
// published reviews (and a hidden one that does not count); a license with two seats taken; a
// token account whose entries run to its balance. Items go in through the store (Put), as the
// areas' repositories write them.
func world(t *testing.T, s *store.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	put := func(v any) {
		t.Helper()
		if err := s.Put(ctx, v, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	var bal ledger.Buckets
	for i, amount := range []int64{4999, 1999} {
		ls, mv, err := ledger.NewSale(amount, []ledger.Payee{{ID: "i1", BasisPoints: 7000}})
		if err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("sale%d", i)
		k := store.SaleKey("i1", id)
		put(marketplace.Sale{PK: k.PK, SK: k.SK, Type: "sale", ID: id, InstructorID: "i1", CourseID: "c1", Currency: "usd",
			Status: marketplace.SalePending, SoldAt: now, ReleaseAt: now.Add(30 * 24 * time.Hour), Sale: ls, Version: 1})
		b := mv.Payees["i1"]
		lk := store.LedgerKey("i1", now, "le"+id)
		put(marketplace.LedgerEntry{PK: lk.PK, SK: lk.SK, Type: "ledger", ID: "le" + id, InstructorID: "i1", Kind: "sale",
			SaleID: id, Currency: "usd", At: now, Buckets: b})
		bal = bal.Plus(b)
	}
	bk := store.InstructorBalanceKey("i1")
	put(marketplace.Balance{PK: bk.PK, SK: bk.SK, Type: "balance", InstructorID: "i1", Currency: "usd", Buckets: bal})
	for _, r := range []struct {
		user, status string
		rating       int
	}{{"u1", marketplace.ReviewPublished, 5}, {"u2", "", 3}, {"u3", marketplace.ReviewWithheld, 1}} {
		k := store.CourseReviewKey("c1", r.user)
		put(marketplace.Review{PK: k.PK, SK: k.SK, Type: "review", CourseID: "c1", UserID: r.user, Rating: r.rating,
			Status: r.status, CreatedAt: now, UpdatedAt: now, Version: 1})
	}
	lk := store.ListingKey("c1")
	put(map[string]any{"PK": lk.PK, "SK": lk.SK, "type": "listing", "ratingCount": 2, "ratingSum": 8, "r3": 1, "r5": 1})
	lic := store.LicenseKey("lic1")
	put(licensing.License{PK: lic.PK, SK: lic.SK, GSI1PK: store.LicensesPK, GSI1SK: "lic1", Type: "license", ID: "lic1", Seats: 5, SeatsUsed: 2, Version: 3})
	for _, u := range []string{"u1", "u2"} {
		sk := store.LicenseSeatKey("lic1", u)
		put(licensing.Seat{PK: sk.PK, SK: sk.SK, Type: "license-seat", LicenseID: "lic1", UserID: u, SeatID: "s" + u, JoinedAt: now})
		mk := store.SeatHolderKey(u)
		put(licensing.Membership{PK: mk.PK, SK: mk.SK, Type: "license-membership", LicenseID: "lic1", UserID: u, SeatID: "s" + u, JoinedAt: now})
	}
	ak := store.TokenAccountKey("u1")
	put(map[string]any{"PK": ak.PK, "SK": ak.SK, "type": "token-account", "userId": "u1", "balance": 15, "held": 0,
		"available": 15, "pending": 0, "seq": 2, "version": 2})
	for seq, delta := range []int64{10, 5} {
		ek := store.TokenEntryKey("u1", int64(seq+1))
		after := []int64{10, 15}[seq]
		put(map[string]any{"PK": ek.PK, "SK": ek.SK, "type": "token-entry", "id": fmt.Sprintf("e%d", seq+1), "userId": "u1",
			"seq": seq + 1, "kind": "earn", "delta": delta, "heldDelta": 0, "pendingDelta": 0, "earned": delta,
			"balanceAfter": after, "heldAfter": 0, "pendingAfter": 0, "availableAfter": after, "at": now})
	}
}

func check(rep restoredrill.Report, name string) restoredrill.Check {
	for _, c := range rep.Checks {
		if strings.HasPrefix(c.Name, name) {
			return c
		}
	}
	return restoredrill.Check{Name: "missing " + name}
}

// The drill on a consistent table: every item exported and restored into a new table, every type's
// count equal, every check run on something (so "ok" is not vacuous) and passing; the report says
// so. A second drill into the same target is refused (a restore never writes over a table).
func TestDrillRestoresAndVerifies(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC))
	s := localtest.Store(t, clk)
	world(t, s, clk.Now())
	db := s.DB.(restoredrill.DB)
	ctx := context.Background()
	rep, err := restoredrill.Run(ctx, db, restoredrill.Options{Source: s.Table, Target: s.Table + "-r", Dir: t.TempDir(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.Write(&out)
	t.Log("\n" + out.String())
	if !rep.OK() || !strings.Contains(out.String(), "RESTORE OK") {
		t.Fatalf("the drill failed on a consistent table:\n%s", out.String())
	}
	// 2 sales + 2 ledger + balance + 3 reviews + listing + license + 2 seats + 2 memberships + account + 2 entries
	if rep.Exported != 17 || rep.Restored != 17 {
		t.Errorf("exported %d, restored %d; want 17 and 17", rep.Exported, rep.Restored)
	}
	want := map[string]int{"sale": 2, "ledger": 2, "balance": 1, "review": 3, "listing": 1, "license": 1,
		"license-seat": 2, "license-membership": 2, "token-account": 1, "token-entry": 2}
	for _, c := range rep.Counts {
		if c.Original != want[c.Type] || c.Restored != want[c.Type] {
			t.Errorf("%s: original %d, restored %d; want %d", c.Type, c.Original, c.Restored, want[c.Type])
		}
		delete(want, c.Type)
	}
	if len(want) > 0 {
		t.Errorf("types missing from the report: %v", want)
	}
	for name, n := range map[string]int{"marketplace: balance": 1, "marketplace: sale": 2, "marketplace: review": 1,
		"licensing": 1, "rewards": 1} {
		if c := check(rep, name); c.Checked != n || len(c.Problems) > 0 {
			t.Errorf("%s: %+v, want %d checked and no problem", name, c, n)
		}
	}
	// The restored table is a working table for the code: a store on it reads the balance.
	var b marketplace.Balance
	if err := store.New(db, rep.Target, clk, nil).Get(ctx, store.InstructorBalanceKey("i1"), &b); err != nil || b.Pending == 0 {
		t.Errorf("balance read from the restore: %+v, %v", b, err)
	}
	if _, err := restoredrill.Restore(ctx, db, rep.ExportFile, rep.Target); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("restore over an existing table: %v, want a refusal", err)
	}
}

// A restore that lost or changed items fails the drill, naming what differs: here the restored
// copy loses a ledger entry (the instructor's balance no longer equals its ledger, and the ledger
// count differs), a seat (the license's count), a token entry (the account's sum), and a review
// changes its rating (the listing's aggregates).
func TestDrillFailsOnATamperedRestore(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC))
	s := localtest.Store(t, clk)
	world(t, s, clk.Now())
	db := s.DB.(restoredrill.DB)
	ctx := context.Background()
	path := t.TempDir() + "/export.json"
	target := s.Table + "-tampered"
	exported, err := restoredrill.Export(ctx, db, s.Table, path)
	if err != nil {
		t.Fatal(err)
	}
	n := len(exported)
	if m, err := restoredrill.Restore(ctx, db, path, target); err != nil || m != n {
		t.Fatalf("restore: %d of %d, %v", m, n, err)
	}
	r := store.New(db, target, clk, nil)
	restored, err := restoredrill.ScanAll(ctx, db, target)
	if err != nil {
		t.Fatal(err)
	}
	deleted := map[string]bool{}
	for _, it := range restored {
		typ := restoredrill.EntityType(it)
		if (typ == "ledger" || typ == "license-seat" || typ == "token-entry") && !deleted[typ] {
			deleted[typ] = true
			deleteItem(t, r, it)
		}
	}
	rk := store.CourseReviewKey("c1", "u1")
	put := marketplace.Review{PK: rk.PK, SK: rk.SK, Type: "review", CourseID: "c1", UserID: "u1", Rating: 4,
		Status: marketplace.ReviewPublished, CreatedAt: clk.Now(), UpdatedAt: clk.Now(), Version: 2}
	if err := r.Put(ctx, put, "", nil, nil); err != nil {
		t.Fatal(err)
	}

	rep, err := restoredrill.Verify(ctx, db, restoredrill.Report{Source: s.Table, Target: target, Exported: n, Restored: n}, nil, clk)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.Write(&out)
	t.Log("\n" + out.String())
	if rep.OK() || !strings.Contains(out.String(), "RESTORE FAILED") {
		t.Fatalf("the drill passed a tampered restore:\n%s", out.String())
	}
	for _, c := range rep.Counts {
		wantDiff := deleted[c.Type]
		if (c.Original != c.Restored) != wantDiff {
			t.Errorf("%s: original %d, restored %d (deleted one: %v)", c.Type, c.Original, c.Restored, wantDiff)
		}
	}
	for name, want := range map[string]string{
		"marketplace: balance": "instructor i1: balance",
		"marketplace: review":  "course c1: listing counts",
		"licensing":            "license lic1: seatsUsed 2, 1 seat items",
		"rewards":              "token account u1:",
	} {
		c := check(rep, name)
		if len(c.Problems) != 1 || !strings.HasPrefix(c.Problems[0], want) {
			t.Errorf("%s: problems %q, want one starting %q", name, c.Problems, want)
		}
	}
	if c := check(rep, "marketplace: sale"); len(c.Problems) != 0 {
		t.Errorf("the splits were not touched, yet: %q", c.Problems)
	}
}

func deleteItem(t *testing.T, s *store.Store, it map[string]types.AttributeValue) {
	t.Helper()
	pk := it["PK"].(*types.AttributeValueMemberS).Value
	sk := it["SK"].(*types.AttributeValueMemberS).Value
	del := types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Table, Key: store.Key{PK: pk, SK: sk}.Item()}}
	if err := s.Transact(context.Background(), []types.TransactWriteItem{del}); err != nil {
		t.Fatal(err)
	}
}
