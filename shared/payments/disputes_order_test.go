package payments

import (
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
)

// TestStaleDisputeEventsMoveNothing: Stripe moves a dispute forward only (inquiry → chargeback →
// under review → won/lost); an event delivered late with an earlier status changes nothing — not
// the stored status, not the payment — while events in order still move it.
func TestStaleDisputeEventsMoveNothing(t *testing.T) {
	p := subPayment()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	dispute := func(status string) *Dispute {
		return &Dispute{ID: "dp_1", PaymentID: p.ID, AmountCents: 2000, Currency: "usd", Status: status, Chargeback: status[0] != 'w'}
	}
	facts := func(status string) disputeFacts {
		return disputeFacts{ID: "dp_1", ChargeID: "ch_1", Currency: "usd", Status: status, Amount: 2000}
	}
	for _, tt := range []struct{ cur, event string }{
		{"needs_response", "warning_needs_response"},
		{"under_review", "warning_under_review"},
		{"under_review", "needs_response"},
		{"warning_under_review", "warning_needs_response"},
	} {
		c, err := disputeChange(p, dispute(tt.cur), facts(tt.event), stripe.EventTypeChargeDisputeUpdated, now, "evt_late")
		if err != nil || c != nil {
			t.Errorf("%s then a late %s: change %+v (%v), want none", tt.cur, tt.event, c, err)
		}
	}
	for _, tt := range []struct{ cur, event string }{
		{"warning_needs_response", "warning_under_review"},
		{"warning_under_review", "needs_response"},
		{"needs_response", "under_review"},
		{"under_review", "won"},
		{"needs_response", "lost"},
	} {
		c, err := disputeChange(p, dispute(tt.cur), facts(tt.event), stripe.EventTypeChargeDisputeUpdated, now, "evt_next")
		if err != nil || c == nil || c.Dispute == nil || c.Dispute.Status != tt.event || c.Payment.DisputeStatus != tt.event {
			t.Errorf("%s then %s: change %+v (%v), want the dispute moved", tt.cur, tt.event, c, err)
		}
	}
}
