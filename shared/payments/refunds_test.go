package payments

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/store"
)

// world is one payment of 3000 cents with the fakes around it.
type world struct {
	t      *testing.T
	clock  *clock.Fake
	ledger *fakeLedger
	stripe *fakeStripe
	queue  *fakeQueue
	f      *Refunder
	p      Payment
	emits  map[string][]int64
}

const admin = "admin-1"

func newWorld(t *testing.T) *world {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	w := &world{t: t, clock: clk, ledger: newFakeLedger(), stripe: newFakeStripe(clk), queue: &fakeQueue{}, emits: map[string][]int64{}}
	w.f = &Refunder{Ledger: w.ledger, Stripe: w.stripe, Queue: w.queue, Clock: clk,
		Emit: func(_ context.Context, name string, v int64) { w.emits[name] = append(w.emits[name], v) }}
	w.p = w.ledger.put(Payment{ID: newPaymentID(clk.Now()), UserID: "u1", Kind: PaymentKindSubscription,
		Status: PaymentSucceeded, AmountCents: 3000, Currency: "usd", ChargeID: "ch_1", PaymentIntentID: "pi_1",
		PaidAt: clk.Now(), CreatedAt: clk.Now()})
	return w
}

func amount(n int64) *int64 { return &n }

func (w *world) create(key string, amt int64) (CreateRefundResponse, error) {
	req := CreateRefundRequest{PaymentID: w.p.ID, AmountCents: amount(amt), Reason: "requested_by_customer"}
	return w.f.Create(context.Background(), req, operationID("create-refund", admin, key), admin, "req-"+key)
}

// books checks the payment, its refunds, its reservations and the day's refunded counter.
func (w *world) books(refunded, pending int64, refunds int) Payment {
	w.t.Helper()
	p, _ := w.ledger.GetPayment(context.Background(), w.p.UserID, w.p.ID)
	rs, _ := w.ledger.Refunds(context.Background(), w.p.UserID, w.p.ID)
	if p.RefundedCents != refunded || p.PendingRefundCents != pending || len(rs) != refunds {
		w.t.Fatalf("payment refunded=%d pending=%d %v, %d refund items; want refunded=%d pending=%d, %d items",
			p.RefundedCents, p.PendingRefundCents, p.PendingRefunds, len(rs), refunded, pending, refunds)
	}
	var sum int64
	for _, r := range rs {
		sum += countedCents(r.Status, r.AmountCents)
	}
	if sum != refunded {
		w.t.Fatalf("refund items sum to %d, payment says %d", sum, refunded)
	}
	if got := w.ledger.total(store.CtrRefundedCents); got != refunded {
		w.t.Fatalf("refundedCents counters sum to %d, want %d", got, refunded)
	}
	return p
}

func (w *world) op(key string) RefundOp {
	w.t.Helper()
	o, err := w.ledger.RefundOp(context.Background(), operationID("create-refund", admin, key))
	if err != nil {
		w.t.Fatal(err)
	}
	return o
}

func TestRefundBooksOnce(t *testing.T) {
	w := newWorld(t)
	res, err := w.create("k1", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if res.Refund.ID != "re_1" || res.Refund.AmountCents != 1000 || res.Payment.RefundedCents != 1000 ||
		res.Payment.Status != PaymentPartiallyRefunded {
		t.Fatalf("response %+v", res)
	}
	w.books(1000, 0, 1)
	if o := w.op("k1"); o.Status != RefundOpBooked || o.RefundID != "re_1" || o.GSI2PK != "" {
		t.Fatalf("operation %+v, want booked re_1 and out of the pending index", o)
	}
	// Stripe got our operation: its key and metadata.
	c := w.stripe.creates[0]
	if c.IdempotencyKey != "refund-"+w.op("k1").ID || c.Metadata["operationId"] != w.op("k1").ID || c.ChargeID != "ch_1" {
		t.Fatalf("Stripe request %+v", c)
	}
	if got := w.queue.dedupeIDs(); !reflect.DeepEqual(got, []string{"refund#re_1"}) {
		t.Fatalf("notices %v", got)
	}
	if got := w.ledger.actions(); !reflect.DeepEqual(got, []string{"refund.reserve", "refund.create"}) {
		t.Fatalf("audit %v", got)
	}
}

func TestRefundDefiniteRefusalReleases(t *testing.T) {
	w := newWorld(t)
	w.stripe.fail("create", stripeFault{err: errRefused})
	_, err := w.create("k1", 1000)
	if apperr.CodeOf(err) != apperr.Unprocessable {
		t.Fatalf("err %v, want 422", err)
	}
	w.books(0, 0, 0)
	if o := w.op("k1"); o.Status != RefundOpReleased || o.Outcome != "refused by Stripe: charge_already_refunded" {
		t.Fatalf("operation %+v", o)
	}
}

// The case: Stripe refunded, the answer was lost. Before, the reservation was freed and a
// retry booked the same Stripe refund a second time (refunded 3000, booked 6000, two e-mails).
func TestAmbiguousRefundRetryBooksOnce(t *testing.T) {
	w := newWorld(t)
	w.stripe.fail("create", stripeFault{err: errAmbiguous, after: true})
	w.stripe.fail("list", stripeFault{err: errServer}) // and the immediate look-up fails too
	_, err := w.create("k1", 3000)
	if apperr.CodeOf(err) != apperr.Unavailable || !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err %v, want 503 outcome unknown", err)
	}
	w.books(0, 3000, 0) // kept: Stripe may have refunded (it did)
	if o := w.op("k1"); o.Status != RefundOpPending {
		t.Fatalf("operation %+v, want pending", o)
	}

	res, err := w.create("k1", 3000) // the admin retries with the same key
	if err != nil {
		t.Fatal(err)
	}
	if res.Refund.ID != "re_1" || res.Payment.RefundedCents != 3000 {
		t.Fatalf("retry %+v", res)
	}
	w.books(3000, 0, 1)
	if n := w.stripe.createCount(); n != 1 {
		t.Fatalf("%d create calls at Stripe; the retry must resolve from the list, not ask again", n)
	}
	if got := w.queue.dedupeIDs(); !reflect.DeepEqual(got, []string{"refund#re_1"}) {
		t.Fatalf("notices %v, want one refund's", got)
	}
}

func TestAmbiguousRefundResolvedAtOnceFromTheList(t *testing.T) {
	w := newWorld(t)
	w.stripe.fail("create", stripeFault{err: errServer, after: true})
	res, err := w.create("k1", 500)
	if err != nil || res.Refund.ID != "re_1" {
		t.Fatalf("%+v %v: the list shows the refund, so the route books it", res, err)
	}
	w.books(500, 0, 1)
}

// Stripe never got the request: a young reservation is asked again with the same key.
func TestAmbiguousRefundNotMadeIsRetriedWithTheSameKey(t *testing.T) {
	w := newWorld(t)
	w.stripe.fail("create", stripeFault{err: errAmbiguous})
	if _, err := w.create("k1", 500); apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("err %v", err)
	}
	w.books(0, 500, 0)
	w.clock.Advance(time.Minute)
	res, err := w.create("k1", 500)
	if err != nil || res.Refund.ID != "re_1" {
		t.Fatalf("%+v %v", res, err)
	}
	w.books(500, 0, 1)
	if len(w.stripe.creates) != 2 || w.stripe.creates[0].IdempotencyKey != w.stripe.creates[1].IdempotencyKey {
		t.Fatalf("Stripe calls %+v, want two with one key", w.stripe.creates)
	}
}

// Stripe forgets idempotency keys after 24 h; our operation record does not.
func TestRetryAfterStripeForgotTheKey(t *testing.T) {
	t.Run("Booked", func(t *testing.T) {
		w := newWorld(t)
		first, err := w.create("k1", 1000)
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(25 * time.Hour)
		w.stripe.forgetKeys()
		again, err := w.create("k1", 1000)
		if err != nil || !reflect.DeepEqual(again, first) {
			t.Fatalf("late retry %+v %v, want the first answer", again, err)
		}
		if n := w.stripe.createCount(); n != 1 {
			t.Fatalf("%d refunds requested from Stripe, want 1", n)
		}
		w.books(1000, 0, 1)
	})
	t.Run("PendingButMade", func(t *testing.T) {
		w := newWorld(t)
		w.stripe.fail("create", stripeFault{err: errAmbiguous, after: true})
		w.stripe.fail("list", stripeFault{err: errServer})
		if _, err := w.create("k1", 1000); err == nil {
			t.Fatal("want 503")
		}
		w.clock.Advance(25 * time.Hour)
		w.stripe.forgetKeys()
		res, err := w.create("k1", 1000)
		if err != nil || res.Refund.ID != "re_1" {
			t.Fatalf("%+v %v", res, err)
		}
		if n := w.stripe.createCount(); n != 1 {
			t.Fatalf("%d refunds requested from Stripe, want 1: a pending operation resolves from the list first", n)
		}
		w.books(1000, 0, 1)
	})
	t.Run("ReleasedIsTriedAgainUnderANewKey", func(t *testing.T) {
		w := newWorld(t)
		w.stripe.fail("create", stripeFault{err: errAmbiguous}) // never reached Stripe
		w.stripe.fail("list", stripeFault{err: errServer})
		if _, err := w.create("k1", 1000); err == nil {
			t.Fatal("want 503")
		}
		w.clock.Advance(20 * time.Minute) // older than the window, and Stripe has nothing: released, retried
		res, err := w.create("k1", 1000)
		if err != nil || res.Refund.ID != "re_1" {
			t.Fatalf("%+v %v", res, err)
		}
		w.books(1000, 0, 1)
		keys := []string{w.stripe.creates[0].IdempotencyKey, w.stripe.creates[1].IdempotencyKey}
		op := w.op("k1")
		if keys[0] != "refund-"+op.ID || keys[1] != "refund-"+op.ID+"-attempt2" || op.Attempt != 2 {
			t.Fatalf("keys %v, attempt %d", keys, op.Attempt)
		}
	})
}

func TestRefundKeyReusedForAnotherRefund(t *testing.T) {
	w := newWorld(t)
	if _, err := w.create("k1", 1000); err != nil {
		t.Fatal(err)
	}
	_, err := w.create("k1", 1200)
	if apperr.CodeOf(err) != apperr.Unprocessable {
		t.Fatalf("err %v, want 422", err)
	}
	w.books(1000, 0, 1)
}

func TestRefundRules(t *testing.T) {
	tests := []struct {
		name  string
		setup func(w *world)
		amt   int64
		want  string
	}{
		{"BeyondRemainder", nil, 3001, "exceeds the refundable remainder of 3000"},
		{"ReservedCountsAgainstRemainder", func(w *world) {
			p := w.p
			p.PendingRefunds, p.PendingRefundCents = map[string]int64{"rop_other": 2800}, 2800
			w.ledger.put(p)
		}, 300, "remainder of 200"},
		{"LostDisputeCountsAgainstRemainder", func(w *world) {
			p := w.p
			p.Disputed, p.DisputeStatus, p.DisputeLostCents = true, "lost", 3000
			w.ledger.put(p)
		}, 1, "nothing is left"},
		{"OpenDispute", func(w *world) {
			p := w.p
			p.Disputed, p.DisputeStatus = true, "needs_response"
			w.ledger.put(p)
		}, 1, "disputed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			if tt.setup != nil {
				tt.setup(w)
			}
			_, err := w.create("k", tt.amt)
			if apperr.CodeOf(err) != apperr.Unprocessable || !contains(apperr.PublicMessage(err), tt.want) {
				t.Fatalf("err %v, want 422 %q", err, tt.want)
			}
			if w.stripe.createCount() != 0 {
				t.Fatal("Stripe must not be called")
			}
		})
	}
}

// A concurrent writer changes the payment between our read and our write: the change is recomputed.
func TestReservationRetriesOnALostRace(t *testing.T) {
	w := newWorld(t)
	raced := false
	w.ledger.beforeApply = func(c Change) error {
		if raced {
			return nil
		}
		raced = true
		p, _ := w.ledger.GetPayment(context.Background(), w.p.UserID, w.p.ID)
		p.PendingRefunds, p.PendingRefundCents = map[string]int64{"rop_racer": 2500}, 2500
		p.Version++ // the racer's write
		w.ledger.mu.Lock()
		w.ledger.payments[p.UserID+"/"+p.ID] = p
		w.ledger.mu.Unlock()
		return nil
	}
	_, err := w.create("k1", 1000)
	if apperr.CodeOf(err) != apperr.Unprocessable || !contains(apperr.PublicMessage(err), "remainder of 500") {
		t.Fatalf("err %v: the retry must see the racer's reservation", err)
	}
}

func TestResolveStaleJob(t *testing.T) {
	w := newWorld(t)
	// k1: Stripe made it, the answer was lost. k2: never reached Stripe. k3: reserved just now.
	w.stripe.fail("create", stripeFault{err: errAmbiguous, after: true}, stripeFault{err: errAmbiguous}, stripeFault{err: errAmbiguous})
	w.stripe.fail("list", stripeFault{err: errServer}, stripeFault{err: errServer})
	for _, k := range []string{"k1", "k2"} {
		if _, err := w.create(k, 1000); err == nil {
			t.Fatalf("%s: want 503", k)
		}
	}
	w.clock.Advance(16 * time.Minute)
	w.stripe.fail("list", stripeFault{err: errServer})
	if _, err := w.create("k3", 500); err == nil {
		t.Fatal("k3: want 503")
	}
	w.books(0, 2500, 0)

	rep, err := w.f.ResolveStale(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (ResolveReport{Checked: 2, Payments: 1, Booked: 1, Released: 1}); rep != want {
		t.Fatalf("report %+v, want %+v", rep, want)
	}
	w.books(1000, 500, 1) // k1 booked under its real id, k2 released, k3 still in flight
	if o := w.op("k1"); o.Status != RefundOpBooked || o.RefundID != "re_1" {
		t.Fatalf("k1 %+v", o)
	}
	if o := w.op("k2"); o.Status != RefundOpReleased {
		t.Fatalf("k2 %+v", o)
	}
	if got := w.emits[metric.StuckRefundReservations]; !reflect.DeepEqual(got, []int64{0}) {
		t.Fatalf("stuck metric %v", got)
	}
	// Running it again changes nothing.
	before := w.ledger.actions()
	if rep, err := w.f.ResolveStale(context.Background()); err != nil || rep != (ResolveReport{}) {
		t.Fatalf("second run %+v %v", rep, err)
	}
	if len(w.ledger.actions()) != len(before) {
		t.Fatal("a second run wrote again")
	}
	// Stripe down: the job says so and reports what stays stuck.
	w.clock.Advance(16 * time.Minute)
	w.stripe.fail("list", stripeFault{err: errServer})
	rep, err = w.f.ResolveStale(context.Background())
	if apperr.CodeOf(err) != apperr.Unavailable || rep.StillPending != 1 || rep.Errors != 1 {
		t.Fatalf("report %+v err %v", rep, err)
	}
	if got := w.emits[metric.StuckRefundReservations]; got[len(got)-1] != 1 {
		t.Fatalf("stuck metric %v", got)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
