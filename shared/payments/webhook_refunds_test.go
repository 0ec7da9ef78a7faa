package payments

import (
	"context"
	"reflect"
	"testing"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/store"
)

func (w *world) event(id string) error {
	return w.f.ChargeRefunded(context.Background(), ChargeRef{ChargeID: "ch_1", PaymentIntentID: "pi_1"}, Source{EventID: id})
}

// charge.refunded carries no refunds on API 2023-10-16: the webhook lists them and converges.
func TestChargeRefundedConverges(t *testing.T) {
	t.Run("FinishesAStuckReservation", func(t *testing.T) {
		w := newWorld(t)
		w.stripe.fail("create", stripeFault{err: errAmbiguous, after: true})
		w.stripe.fail("list", stripeFault{err: errServer})
		if _, err := w.create("k1", 3000); err == nil {
			t.Fatal("want 503")
		}
		// Stripe's charge.refunded, twice, and then the admin's retry: one refund, under its real id.
		for _, id := range []string{"evt_1", "evt_1b"} {
			if err := w.event(id); err != nil {
				t.Fatal(err)
			}
		}
		w.books(3000, 0, 1)
		res, err := w.create("k1", 3000)
		if err != nil || res.Refund.ID != "re_1" {
			t.Fatalf("%+v %v", res, err)
		}
		w.books(3000, 0, 1)
		if w.stripe.createCount() != 1 {
			t.Fatal("the retry called Stripe again")
		}
		if got := w.queue.dedupeIDs(); !reflect.DeepEqual(got, []string{"refund#re_1"}) {
			t.Fatalf("notices %v", got)
		}
	})
	t.Run("DashboardRefundsAndDuplicates", func(t *testing.T) {
		w := newWorld(t)
		if _, err := w.create("k1", 1000); err != nil {
			t.Fatal(err)
		}
		w.stripe.dashboardRefund("ch_1", 500)
		for _, id := range []string{"evt_1", "evt_2", "evt_1"} {
			if err := w.event(id); err != nil {
				t.Fatal(err)
			}
		}
		w.books(1500, 0, 2)
		rs, _ := w.ledger.Refunds(context.Background(), "u1", w.p.ID)
		if rs[0].Source != RefundSourceAdmin || rs[1].ID != "re_dash_2" || rs[1].Source != RefundSourceStripe {
			t.Fatalf("refunds %+v", rs)
		}
	})
	t.Run("AYoungReservationStays", func(t *testing.T) {
		w := newWorld(t)
		w.stripe.fail("create", stripeFault{err: errAmbiguous}) // not (yet) at Stripe
		w.stripe.fail("list", stripeFault{err: errServer})
		if _, err := w.create("k1", 1000); err == nil {
			t.Fatal("want 503")
		}
		w.stripe.dashboardRefund("ch_1", 200)
		if err := w.event("evt_1"); err != nil {
			t.Fatal(err)
		}
		w.books(200, 1000, 1) // the Dashboard refund is booked; ours may still be on its way
		w.clock.Advance(ResolutionWindow)
		if err := w.event("evt_2"); err != nil {
			t.Fatal(err)
		}
		w.books(200, 0, 1) // a window later Stripe still has no refund of it: released
	})
	t.Run("RefundThatLaterFailsIsReversed", func(t *testing.T) {
		w := newWorld(t)
		res, err := w.create("k1", 1200)
		if err != nil {
			t.Fatal(err)
		}
		w.stripe.setStatus(res.Refund.ID, RefundFailed)
		for _, id := range []string{"evt_updated", "evt_updated"} { // charge.refund.updated, redelivered
			if err := w.event(id); err != nil {
				t.Fatal(err)
			}
		}
		p := w.books(0, 0, 1)
		if p.Status != PaymentSucceeded {
			t.Fatalf("status %s", p.Status)
		}
		// A failed refund is final: Stripe cannot bring it back and neither can a stale listing.
		w.stripe.setStatus(res.Refund.ID, RefundSucceeded)
		if err := w.event("evt_stale"); err != nil {
			t.Fatal(err)
		}
		w.books(0, 0, 1)
		if got := w.ledger.counter(w.clock.Now(), store.CtrRefundedCents); got != 0 {
			t.Fatalf("counter %d: +1200 then -1200", got)
		}
	})
	t.Run("LegacyPlaceholderSuperseded", func(t *testing.T) {
		w := newWorld(t)
		// The old code booked an unexplained increase as "sync_ch_1_700".
		p := w.p
		p.RefundedCents = 700
		w.ledger.put(p)
		w.ledger.mu.Lock()
		w.ledger.refunds["u1/"+p.ID+"/sync_ch_1_700"] = Refund{ID: "sync_ch_1_700", PaymentID: p.ID, UserID: "u1",
			AmountCents: 700, Status: RefundSucceeded, Source: RefundSourceSync}
		w.ledger.counters[w.clock.Now().Format("2006-01-02")] = map[string]int64{store.CtrRefundedCents: 700}
		w.ledger.mu.Unlock()
		w.stripe.dashboardRefund("ch_1", 700)
		if err := w.event("evt_1"); err != nil {
			t.Fatal(err)
		}
		w.books(700, 0, 2) // the real refund counts; the placeholder no longer does
		r, _ := w.ledger.Refund(context.Background(), "u1", p.ID, "sync_ch_1_700")
		if r.Status != RefundSuperseded {
			t.Fatalf("placeholder %+v", r)
		}
	})
	t.Run("StripeDownIsRetried", func(t *testing.T) {
		w := newWorld(t)
		w.stripe.fail("list", stripeFault{err: errServer})
		if err := w.event("evt_1"); apperr.CodeOf(err) != apperr.Unavailable {
			t.Fatalf("err %v, want 503 so Stripe redelivers", err)
		}
	})
}

func TestChargeRefundedForAChargeWeNeverRecorded(t *testing.T) {
	w := newWorld(t)
	for _, id := range []string{"evt_1", "evt_2", "evt_1"} {
		err := w.f.ChargeRefunded(context.Background(), ChargeRef{ChargeID: "ch_unknown", AmountRefundedCents: 999, Currency: "USD"},
			Source{EventID: id})
		if err != nil {
			t.Fatalf("%s: %v, want nil (200)", id, err)
		}
	}
	if got := w.ledger.counter(w.clock.Now(), store.CtrUnmatchedRefunds); got != 1 {
		t.Fatalf("unmatchedRefunds = %d, want 1", got)
	}
	if got := w.emits[metric.UnmatchedRefunds]; !reflect.DeepEqual(got, []int64{1}) {
		t.Fatalf("metric %v", got)
	}
	if got := w.ledger.actions(); !reflect.DeepEqual(got, []string{"refund.unmatched"}) {
		t.Fatalf("audit %v", got)
	}
	// Its payment recorded later (invoice.paid redelivered after our outage): the refund is booked then.
	w.stripe.dashboardRefund("ch_unknown", 999)
	rec := &Recorder{Repo: w.ledger, Queue: w.queue, Clock: w.clock, Reconcile: w.f.ReconcileUnmatched}
	inv := invoiceFixture("in_late", "ch_unknown", 999, w.clock.Now())
	if err := rec.InvoicePaid(context.Background(), "u2", inv, Source{EventID: "evt_paid"}); err != nil {
		t.Fatal(err)
	}
	p, err := w.ledger.PaymentByStripe(context.Background(), "ch_unknown", "")
	if err != nil || p.RefundedCents != 999 || p.Status != PaymentRefunded {
		t.Fatalf("payment %+v %v", p, err)
	}
}
