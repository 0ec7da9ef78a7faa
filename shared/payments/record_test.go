package payments

import (
	"context"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

func invoiceFixture(id, chargeID string, amount int64, paidAt time.Time) *stripe.Invoice {
	return &stripe.Invoice{ID: id, AmountPaid: amount, AmountDue: amount, Currency: "usd", CustomerEmail: "a@example.com",
		Charge: &stripe.Charge{ID: chargeID}, StatusTransitions: &stripe.InvoiceStatusTransitions{PaidAt: paidAt.Unix()}}
}

func TestRecordPaymentOncePerSource(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	l, q := newFakeLedger(), &fakeQueue{}
	rec := &Recorder{Repo: l, Queue: q, Clock: clk}
	inv := invoiceFixture("in_1", "ch_1", 999, clk.Now().Add(-time.Minute))
	for _, ev := range []string{"evt_1", "evt_2", "evt_1"} {
		if err := rec.InvoicePaid(context.Background(), "u1", inv, Source{EventID: ev}); err != nil {
			t.Fatal(err)
		}
	}
	page, _ := l.ListPayments(context.Background(), "u1", 10, "")
	if len(page.Items) != 1 || !page.Items[0].PaidAt.Equal(clk.Now().Add(-time.Minute).Truncate(time.Second)) {
		t.Fatalf("payments %+v", page.Items)
	}
	if l.counter(clk.Now(), store.CtrRevenueCents) != 999 || l.counter(clk.Now(), store.CtrPaymentsSucceeded) != 1 {
		t.Fatal("counted more than once")
	}
	if ids := q.dedupeIDs(); len(ids) != 1 || len(q.sent) != 3 {
		t.Fatalf("receipts queued %v (%d messages): every delivery queues, one dedupe id", ids, len(q.sent))
	}
}

// paidAt is when the payment succeeded — the event's time — not when the session was created.
func TestCheckoutPaidAtIsWhenThePaymentSucceeded(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	l := newFakeLedger()
	rec := &Recorder{Repo: l, Queue: &fakeQueue{}, Clock: clk}
	created := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)    // session opened
	succeeded := time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC) // async payment succeeded
	s := &stripe.CheckoutSession{ID: "cs_1", Mode: stripe.CheckoutSessionModePayment,
		PaymentStatus: stripe.CheckoutSessionPaymentStatusPaid, AmountTotal: 4900, Currency: "usd",
		Created: created.Unix(), PaymentIntent: &stripe.PaymentIntent{ID: "pi_9"}}
	if err := rec.CheckoutPaid(context.Background(), "u1", s, Source{EventID: "evt_1", Created: succeeded}); err != nil {
		t.Fatal(err)
	}
	page, _ := l.ListPayments(context.Background(), "u1", 10, "")
	if len(page.Items) != 1 || !page.Items[0].PaidAt.Equal(succeeded) {
		t.Fatalf("paidAt %v, want %v", page.Items[0].PaidAt, succeeded)
	}
	if l.counter(succeeded, store.CtrRevenueCents) != 4900 || l.counter(created, store.CtrRevenueCents) != 0 {
		t.Fatal("revenue counted on the session's creation day")
	}
	// The charge's own time wins when the event carries it.
	s2 := *s
	s2.ID = "cs_2"
	charged := succeeded.Add(-time.Minute)
	s2.PaymentIntent = &stripe.PaymentIntent{ID: "pi_10", LatestCharge: &stripe.Charge{ID: "ch_10", Created: charged.Unix()}}
	if err := rec.CheckoutPaid(context.Background(), "u1", &s2, Source{EventID: "evt_2", Created: succeeded}); err != nil {
		t.Fatal(err)
	}
	p, _ := l.PaymentByStripe(context.Background(), "ch_10", "")
	if !p.PaidAt.Equal(charged) {
		t.Fatalf("paidAt %v, want the charge's %v", p.PaidAt, charged)
	}
}
