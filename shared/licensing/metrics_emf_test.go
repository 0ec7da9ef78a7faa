package licensing

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/metric"
)

// The dashboard's seats panel reads LicenseSeatsSold / LicenseSeatsUsed from the daily
// license-expiry run: the seats of the licenses the enterprise gauges count (active, not
// suspended), leaving out a license this very run expires and one that is not counted.
func TestExpiryJobEmitsSeatsUsedAndSold(t *testing.T) {
	now := time.Date(2026, 11, 20, 0, 30, 0, 0, time.UTC)
	repo := newMemRepo()
	far := now.AddDate(1, 0, 0)
	for _, l := range []License{
		{ID: ids.New("lic", now), Seats: 10, SeatsUsed: 4, Status: StatusActive, Counted: true, StartsAt: now.AddDate(0, -1, 0), ExpiresAt: far},
		{ID: ids.New("lic", now), Seats: 5, SeatsUsed: 5, Status: StatusActive, Counted: true, StartsAt: now.AddDate(0, -1, 0), ExpiresAt: far},
		{ID: ids.New("lic", now), Seats: 50, SeatsUsed: 1, Status: StatusActive, Suspended: true, StartsAt: now.AddDate(0, -1, 0), ExpiresAt: far},
		{ID: ids.New("lic", now), Seats: 100, SeatsUsed: 100, Status: StatusActive, Counted: true, StartsAt: now.AddDate(-1, 0, 0), ExpiresAt: now.Add(-time.Hour)},
	} {
		repo.licenses[l.ID] = l
	}
	d := withRepo(&Deps{Clock: clock.NewFake(now)}, repo)
	var buf bytes.Buffer
	ctx := logging.With(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)))
	if _, err := RunExpiry(ctx, d); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	obs, err := metric.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if sold, used := metric.Sum(obs, metric.LicenseSeatsSold), metric.Sum(obs, metric.LicenseSeatsUsed); sold != 15 || used != 9 {
		t.Fatalf("seats sold %v used %v, want 15 and 9", sold, used)
	}
}
