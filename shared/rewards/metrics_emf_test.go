package rewards

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/metric"
)

// oneAccountLedger is a Ledger port that keeps the accounts it committed (no races).
type oneAccountLedger struct{ accounts map[string]Account }

func (l *oneAccountLedger) Account(_ context.Context, userID string) (Account, error) {
	a := l.accounts[userID]
	a.UserID = userID
	return a, nil
}

func (l *oneAccountLedger) Commit(_ context.Context, m Movement) error {
	l.accounts[m.To.UserID] = m.To
	return nil
}

// The dashboard's token panels read TokensIssued / TokensRedeemed / TokensClawedBack: each
// committed movement emits what it credited, spent or took back (the issued / redeemed counters'
// amounts), and a plan that changes nothing emits nothing.
func TestTokenMovementsEmitTheirMetrics(t *testing.T) {
	var buf bytes.Buffer
	ctx := logging.With(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)))
	p := poster{clk: clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), l: &oneAccountLedger{accounts: map[string]Account{}}}
	for i, c := range []Change{
		{Kind: KindEarn, Delta: 100, Earned: 100},
		{Kind: KindHold, HeldDelta: 30},
		{Kind: KindRedeem, Delta: -30, HeldDelta: -30},
		{Kind: KindClawback, Delta: -20, Earned: -20},
	} {
		if _, _, err := p.Post(ctx, "u1", func(context.Context, Account) (Plan, error) { return Plan{Change: c}, nil }); err != nil {
			t.Fatalf("movement %d (%s): %v", i, c.Kind, err)
		}
	}
	if _, _, err := p.Post(ctx, "u1", func(context.Context, Account) (Plan, error) { return Plan{}, ErrNoop }); err != ErrNoop {
		t.Fatalf("no-op: %v", err)
	}
	obs, err := metric.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{metric.TokensIssued: 100, metric.TokensRedeemed: 30, metric.TokensClawedBack: 20} {
		if got := metric.Sum(obs, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if len(obs) != 3 {
		t.Errorf("want exactly three points (the hold emits none), got %+v", obs)
	}
}
