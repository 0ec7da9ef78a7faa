package payments

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/store"
)

type disputeEvent struct {
	typ    stripe.EventType
	status stripe.DisputeStatus
}

var (
	opened     = disputeEvent{stripe.EventTypeChargeDisputeCreated, stripe.DisputeStatusNeedsResponse}
	withdrawn  = disputeEvent{stripe.EventTypeChargeDisputeFundsWithdrawn, stripe.DisputeStatusNeedsResponse}
	reviewing  = disputeEvent{stripe.EventTypeChargeDisputeUpdated, stripe.DisputeStatusUnderReview}
	closedLost = disputeEvent{stripe.EventTypeChargeDisputeClosed, stripe.DisputeStatusLost}
	closedWon  = disputeEvent{stripe.EventTypeChargeDisputeClosed, stripe.DisputeStatusWon}
	reinstated = disputeEvent{stripe.EventTypeChargeDisputeFundsReinstated, stripe.DisputeStatusWon}
)

// permutations of events, each also delivered twice in a row.
func orders(evs ...disputeEvent) [][]disputeEvent {
	if len(evs) <= 1 {
		return [][]disputeEvent{evs}
	}
	var out [][]disputeEvent
	for i := range evs {
		rest := append(append([]disputeEvent{}, evs[:i]...), evs[i+1:]...)
		for _, o := range orders(rest...) {
			out = append(out, append([]disputeEvent{evs[i]}, o...))
		}
	}
	return out
}

// Every order of a dispute's events, with duplicates, ends in the same books: the disputed amount
// counted once, the outcome counted once, the payment marked.
func TestDisputeAccountingIsOrderIndependent(t *testing.T) {
	tests := []struct {
		name                  string
		events                []disputeEvent
		disputed, lost, won   int64
		status                string
		lostOnPayment         int64
		withdrawn, reinstated bool
	}{
		{"Lost", []disputeEvent{opened, withdrawn, reviewing, closedLost}, 2000, 2000, 0, "lost", 2000, true, false},
		{"Won", []disputeEvent{opened, withdrawn, closedWon, reinstated}, 2000, 0, 2000, "won", 0, true, true},
	}
	for _, tt := range tests {
		for i, order := range orders(tt.events...) {
			t.Run(fmt.Sprintf("%s/%d", tt.name, i), func(t *testing.T) {
				w := newWorld(t)
				b := &DisputeBook{Ledger: w.ledger, Clock: w.clock}
				for j, ev := range order {
					dp := &stripe.Dispute{ID: "dp_1", Amount: 2000, Currency: "usd", Status: ev.status,
						Reason: stripe.DisputeReasonFraudulent, Charge: &stripe.Charge{ID: "ch_1"}}
					for k := 0; k < 2; k++ {
						if err := b.Apply(context.Background(), dp, ev.typ, Source{EventID: fmt.Sprint("evt_", j)}); err != nil {
							t.Fatal(err)
						}
					}
				}
				now := w.clock.Now()
				got := [3]int64{w.ledger.counter(now, store.CtrDisputedCents), w.ledger.counter(now, store.CtrDisputeLostCents),
					w.ledger.counter(now, store.CtrDisputeWonCents)}
				if got != [3]int64{tt.disputed, tt.lost, tt.won} {
					t.Fatalf("order %v: disputed/lost/won = %v, want %d/%d/%d", order, got, tt.disputed, tt.lost, tt.won)
				}
				p, _ := w.ledger.GetPayment(context.Background(), "u1", w.p.ID)
				if !p.Disputed || p.DisputeStatus != tt.status || p.DisputedCents != 2000 || p.DisputeLostCents != tt.lostOnPayment {
					t.Fatalf("order %v: payment %+v", order, p)
				}
				d, _ := w.ledger.Dispute(context.Background(), "u1", "dp_1")
				if d.Status != tt.status || d.FundsWithdrawn != tt.withdrawn || d.FundsReinstated != tt.reinstated {
					t.Fatalf("order %v: dispute %+v", order, d)
				}
			})
		}
	}
}

func TestLostDisputeLeavesNothingToRefund(t *testing.T) {
	w := newWorld(t)
	b := &DisputeBook{Ledger: w.ledger, Clock: w.clock}
	dp := &stripe.Dispute{ID: "dp_1", Amount: 3000, Status: stripe.DisputeStatusLost, Charge: &stripe.Charge{ID: "ch_1"}}
	if err := b.Apply(context.Background(), dp, stripe.EventTypeChargeDisputeClosed, Source{EventID: "evt_1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.create("k1", 1); err == nil || !contains(err.Error(), "nothing is left to refund") {
		t.Fatalf("err %v", err)
	}
	if w.stripe.createCount() != 0 {
		t.Fatal("Stripe was asked to refund a charge lost in dispute")
	}
}

func TestDisputeOnAnUnrecordedChargeIsRetried(t *testing.T) {
	w := newWorld(t)
	b := &DisputeBook{Ledger: w.ledger, Clock: w.clock}
	dp := &stripe.Dispute{ID: "dp_x", Amount: 100, Status: stripe.DisputeStatusNeedsResponse, Charge: &stripe.Charge{ID: "ch_nope"}}
	err := b.Apply(context.Background(), dp, stripe.EventTypeChargeDisputeCreated, Source{EventID: "evt_1", Created: time.Now()})
	if err == nil || !contains(err.Error(), "not recorded") {
		t.Fatalf("err %v", err)
	}
}
