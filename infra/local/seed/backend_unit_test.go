//go:build !integration

package seed

import (
	"context"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/tabletest"
)

// The history goes through billing's conditional write: a day that already has a snapshot — the
// job's real one, or an earlier seed's — is kept as it is, and a second run writes nothing.
func TestWriteHistoryNeverOverwritesASnapshot(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	st := tabletest.New(t, clock.NewFake(now))
	ctx := context.Background()
	snaps := DemoHistory(now, 10, testToday)
	jobDay := billing.SnapshotForDay(now.AddDate(0, 0, -3))
	jobDay.MRRCents, jobDay.PayingCustomers, jobDay.CreatedAt = 123, 1, now.AddDate(0, 0, -3).Add(15*time.Minute)
	if ok, err := billing.WriteSnapshot(ctx, st, jobDay); err != nil || !ok {
		t.Fatalf("the job's snapshot: %v %v", ok, err)
	}

	written, kept, err := writeHistory(ctx, st, snaps)
	if err != nil || written != 8 || kept != 1 {
		t.Fatalf("first run: written %d kept %d err %v; want 8 and the job's day kept", written, kept, err)
	}
	var got billing.Snapshot
	if err := st.Get(ctx, store.SnapshotKey(now.AddDate(0, 0, -3)), &got); err != nil {
		t.Fatal(err)
	}
	if got.MRRCents != 123 || got.PayingCustomers != 1 || IsDemo(got) {
		t.Fatalf("the job's snapshot was overwritten: %+v", got)
	}
	if err := st.Get(ctx, store.SnapshotKey(now.AddDate(0, 0, -1)), &got); err != nil {
		t.Fatal(err)
	}
	if want := snaps[len(snaps)-1]; got.MRRCents != want.MRRCents || !IsDemo(got) || got.Marketplace == nil ||
		*got.Marketplace != *want.Marketplace || got.Support == nil || *got.Support.SLAMetPercent != *want.Support.SLAMetPercent {
		t.Fatalf("yesterday read back %+v, want %+v", got, want)
	}
	if err := st.Get(ctx, store.SnapshotKey(now), &got); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("today has a snapshot after the history (err %v): today's is the job's", err)
	}

	if written, kept, err = writeHistory(ctx, st, snaps); err != nil || written != 0 || kept != 9 {
		t.Fatalf("second run: written %d kept %d err %v; want nothing written", written, kept, err)
	}
}
