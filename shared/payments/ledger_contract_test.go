package payments

import (
	"context"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/store"
)

// contractLedger is what the contract exercises: the fake and Repo must behave alike.
type contractLedger interface {
	RefundLedger
	RecordRepo
}

// testLedgerContract checks the semantics the refund rules rely on. It runs on fakeLedger here and on
// Repo over moto in ledger_integration_test.go, so the fake the unit tests use cannot drift from
// the real repository.
func testLedgerContract(t *testing.T, l contractLedger, counter func(at time.Time, name string) int64) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	user := "u-" + ids.ULID(now)
	p := store.Payment{ID: newPaymentID(now), UserID: user, Kind: store.PaymentKindSubscription, Status: store.PaymentSucceeded,
		AmountCents: 1000, Currency: "usd", ChargeID: "ch_" + ids.ULID(now), PaymentIntentID: "pi_" + ids.ULID(now),
		PaidAt: now, CreatedAt: now}
	src := "in_" + ids.ULID(now)
	au := audit.Entry{Actor: audit.ActorStripe, Action: "payment.record", Target: "payment:" + p.ID}
	lk, created, err := l.CreatePayment(ctx, p, src, au)
	if err != nil || !created || lk.PaymentID != p.ID {
		t.Fatalf("create: %+v %v %v", lk, created, err)
	}
	other := p
	other.ID = newPaymentID(now.Add(time.Second))
	if lk, created, err := l.CreatePayment(ctx, other, src, au); err != nil || created || lk.PaymentID != p.ID {
		t.Fatalf("second create of one source: %+v %v %v, want the first payment", lk, created, err)
	}
	if counter(now, store.CtrPaymentsSucceeded) != 1 || counter(now, store.CtrRevenueCents) != 1000 {
		t.Fatal("payment counted more than once")
	}
	for _, find := range [][2]string{{p.ChargeID, ""}, {"", p.PaymentIntentID}, {"ch_other", p.PaymentIntentID}} {
		if got, err := l.PaymentByStripe(ctx, find[0], find[1]); err != nil || got.ID != p.ID {
			t.Fatalf("PaymentByStripe%v: %v %v", find, got.ID, err)
		}
	}

	// A change over the version read wins once; the second writer from the same read loses.
	read, err := l.GetPayment(ctx, user, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	op := store.RefundOp{ID: "rop_" + ids.ULID(now), UserID: user, PaymentID: p.ID, AmountCents: 300, Reason: "duplicate",
		RequestedBy: "admin", Status: store.RefundOpPending, Attempt: 1, ReservedAt: now.Add(-time.Hour)}
	reserve := read
	reserve.PendingRefunds, reserve.PendingRefundCents = map[string]int64{op.ID: 300}, 300
	c := Change{Payment: reserve, NewOps: []store.RefundOp{op}, At: now,
		Audit: audit.Entry{Actor: "admin", Action: "refund.reserve", Target: "payment:" + p.ID}}
	if err := l.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := l.Apply(ctx, c); !store.IsConditionFailed(err) {
		t.Fatalf("a change over a stale version: %v, want a failed condition", err)
	}
	young := op
	young.ID, young.ReservedAt = "rop_young_"+ids.ULID(now), now
	cur, _ := l.GetPayment(ctx, user, p.ID)
	if err := l.Apply(ctx, Change{Payment: cur, NewOps: []store.RefundOp{op}, At: now}); !store.IsConditionFailed(err) {
		t.Fatalf("creating an existing operation: %v, want a failed condition", err)
	}
	if err := l.Apply(ctx, Change{Payment: cur, NewOps: []store.RefundOp{young}, At: now}); err != nil {
		t.Fatal(err)
	}
	pending, more, err := l.PendingRefundOps(ctx, now.Add(-time.Minute), 10)
	if err != nil || more || !hasOp(pending, op.ID) || hasOp(pending, young.ID) {
		t.Fatalf("pending before the cutoff: %+v %v %v", pending, more, err)
	}

	// Booking: the refund is created once, the operation leaves the pending index, counters move.
	cur, _ = l.GetPayment(ctx, user, p.ID)
	booked := cur
	booked.PendingRefunds = map[string]int64{}
	booked.PendingRefundCents, booked.RefundedCents = 0, 300
	op.Status, op.RefundID = store.RefundOpBooked, "re_"+ids.ULID(now)
	ref := store.Refund{ID: op.RefundID, PaymentID: p.ID, UserID: user, AmountCents: 300, Currency: "usd",
		Status: store.RefundSucceeded, Source: store.RefundSourceAdmin, OperationID: op.ID, CreatedAt: now}
	book := Change{Payment: booked, NewRefunds: []store.Refund{ref}, Ops: []store.RefundOp{op}, At: now,
		Counters: map[string]int64{store.CtrRefundedCents: 300}}
	if err := l.Apply(ctx, book); err != nil {
		t.Fatal(err)
	}
	again, _ := l.GetPayment(ctx, user, p.ID)
	book.Payment = again
	if err := l.Apply(ctx, book); !store.IsConditionFailed(err) {
		t.Fatalf("booking one refund id twice: %v, want a failed condition", err)
	}
	if counter(now, store.CtrRefundedCents) != 300 {
		t.Fatalf("refunded counter %d", counter(now, store.CtrRefundedCents))
	}
	if rs, err := l.Refunds(ctx, user, p.ID); err != nil || len(rs) != 1 || rs[0].ID != ref.ID {
		t.Fatalf("refunds %+v %v", rs, err)
	}
	if got, err := l.RefundOp(ctx, op.ID); err != nil || got.Status != store.RefundOpBooked || got.GSI2PK != "" {
		t.Fatalf("op %+v %v", got, err)
	}
	pending, _, _ = l.PendingRefundOps(ctx, now.Add(time.Minute), 10)
	if hasOp(pending, op.ID) || !hasOp(pending, young.ID) {
		t.Fatalf("pending after booking: %+v", pending)
	}

	// An unmatched charge is counted once.
	u := store.UnmatchedRefund{ChargeID: "ch_unmatched_" + ids.ULID(now), AmountRefundedCents: 5, EventID: "evt_1", At: now}
	ua := audit.Entry{Actor: audit.ActorStripe, Action: "refund.unmatched", Target: "charge:" + u.ChargeID}
	for i, want := range []bool{true, false} {
		if first, err := l.RecordUnmatchedRefund(ctx, u, ua); err != nil || first != want {
			t.Fatalf("unmatched #%d: %v %v", i, first, err)
		}
	}
	if got, err := l.UnmatchedRefund(ctx, u.ChargeID); err != nil || got.AmountRefundedCents != 5 {
		t.Fatalf("unmatched record %+v %v", got, err)
	}
	if counter(now, store.CtrUnmatchedRefunds) < 1 {
		t.Fatal("unmatched refund not counted")
	}
}

func hasOp(ops []store.RefundOp, id string) bool {
	for _, o := range ops {
		if o.ID == id {
			return true
		}
	}
	return false
}

func TestFakeLedgerContract(t *testing.T) {
	l := newFakeLedger()
	testLedgerContract(t, l, l.counter)
}
