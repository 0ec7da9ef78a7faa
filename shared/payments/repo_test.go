package payments

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/tabletest"
)

// Repo's own DynamoDB cases (moved from shared/store with the entities): the versioned write of a
// payment, its indexes and lookups, the listing of payments and refunds, and the resolve-refunds
// job's Query. They run on newTestStore: in process without the integration tag, moto with it.

// putPayment writes p over its version (a create when it is 0), as Apply and CreatePayment do.
func putPayment(t *testing.T, s *store.Store, p *Payment) {
	t.Helper()
	it, err := putPaymentItem(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Transact(context.Background(), []types.TransactWriteItem{it}); err != nil {
		t.Fatal(err)
	}
}

func TestRepoPaymentVersioning(t *testing.T) {
	s := newTestStore(t, nil)
	r := Repo{S: s}
	ctx := context.Background()
	p := Payment{ID: "pay_01ARZ3NDEKTSV4RRFFQ69G5FAV", UserID: "u1", AmountCents: 999, Currency: "usd", ChargeID: "ch_1",
		Status: PaymentSucceeded, PaidAt: time.Now().UTC(), CreatedAt: time.Now().UTC()}
	putPayment(t, s, &p)
	if p.Version != 1 || p.PK != "USER#u1" || p.SK != "PAY#"+p.ID || p.GSI1PK != "PAYMENT#"+p.ID || p.GSI2PK == "" || p.Type != "payment" {
		t.Fatalf("after create %+v", p)
	}
	dup := p
	dup.Version = 0
	it, _ := putPaymentItem(&dup)
	if err := s.Transact(ctx, []types.TransactWriteItem{it}); !store.IsConditionFailed(err) {
		t.Fatalf("second create: want condition failure, got %v", err)
	}
	// Two writers read version 1; the second loses.
	a, _ := r.GetPayment(ctx, "u1", p.ID)
	b := a
	a.RefundedCents = 100
	putPayment(t, s, &a)
	b.RefundedCents = 200
	it, _ = putPaymentItem(&b)
	if err := s.Transact(ctx, []types.TransactWriteItem{it}); !store.IsConditionFailed(err) {
		t.Fatalf("stale write: want condition failure, got %v", err)
	}
	// The receipt key bumps the version too, so a stale versioned Put cannot erase it.
	stale, _ := r.GetPayment(ctx, "u1", p.ID)
	if err := r.SetReceiptKey(ctx, "u1", p.ID, "receipts/u1/x.pdf"); err != nil {
		t.Fatal(err)
	}
	it, _ = putPaymentItem(&stale)
	if err := s.Transact(ctx, []types.TransactWriteItem{it}); !store.IsConditionFailed(err) {
		t.Fatalf("write after SetReceiptKey: want condition failure, got %v", err)
	}
	got, _ := r.GetPayment(ctx, "u1", p.ID)
	if got.RefundedCents != 100 || got.ReceiptKey != "receipts/u1/x.pdf" || got.Version != 3 {
		t.Fatalf("payment = %+v", got)
	}
	if err := r.SetReceiptKey(ctx, "u1", "pay_01ARZ3NDEKTSV4RRFFQ69G5FAW", "k"); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("receipt key on a missing payment: %v", err)
	}
	if byID, err := r.PaymentByID(ctx, p.ID); err != nil || byID.UserID != "u1" {
		t.Fatalf("PaymentByID: %v", err)
	}
	if byCh, err := r.PaymentByStripe(ctx, "ch_1", ""); err != nil || byCh.ID != p.ID || byCh.Version != 3 {
		t.Fatalf("by charge: %+v %v", byCh, err)
	}
	for _, ch := range []string{"ch_none", ""} {
		if _, err := r.PaymentByStripe(ctx, ch, ""); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("charge %q: %v", ch, err)
		}
	}
}

func TestRepoListPaymentsSkipsOtherItems(t *testing.T) {
	s := newTestStore(t, nil)
	r := Repo{S: s}
	ctx := context.Background()
	ids := []string{"pay_01ARZ3NDEKTSV4RRFFQ69G5FA1", "pay_01ARZ3NDEKTSV4RRFFQ69G5FA2", "pay_01ARZ3NDEKTSV4RRFFQ69G5FA3"}
	for _, id := range ids {
		putPayment(t, s, &Payment{ID: id, UserID: "u2", AmountCents: 1, Currency: "usd"})
	}
	ref := Refund{ID: "re_1", PaymentID: ids[0], UserID: "u2", AmountCents: 1}
	ref.SetKeys()
	if err := s.Put(ctx, ref, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	page, err := r.ListPayments(ctx, "u2", 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 || page.Items[0].ID != ids[2] || page.Items[2].ID != ids[0] {
		t.Fatalf("page = %+v", page.Items)
	}
	refunds, err := r.Refunds(ctx, "u2", ids[0])
	if err != nil || len(refunds) != 1 || refunds[0].ID != "re_1" || refunds[0].Type != "refund" {
		t.Fatalf("refunds = %+v %v", refunds, err)
	}
	if got, err := r.Refund(ctx, "u2", ids[0], "re_1"); err != nil || got.AmountCents != 1 {
		t.Fatalf("refund = %+v %v", got, err)
	}
	if none, err := r.Refunds(ctx, "u2", ids[1]); err != nil || len(none) != 0 {
		t.Fatalf("refunds of a payment without any = %+v %v", none, err)
	}
}

func putOp(t *testing.T, s *store.Store, o RefundOp) {
	t.Helper()
	o.SetKeys()
	it, err := store.PutItem(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Transact(context.Background(), []types.TransactWriteItem{it}); err != nil {
		t.Fatal(err)
	}
}

// The resolve-refunds job's Query: pending operations reserved before the cutoff, oldest first,
// over as many index pages as it takes, at most max of them; resolved ones are out of the index.
func TestRepoPendingRefundOps(t *testing.T) {
	s := newTestStore(t, nil)
	r := Repo{S: s}
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	const n = 130 // more than one index page (100)
	for i := 0; i < n; i++ {
		putOp(t, s, RefundOp{ID: fmt.Sprintf("rop_%03d", i), UserID: "u1", PaymentID: "pay_1", AmountCents: 1,
			Status: RefundOpPending, Attempt: 1, ReservedAt: base.Add(time.Duration(n-i) * time.Minute)})
	}
	for _, st := range []string{RefundOpBooked, RefundOpReleased} {
		putOp(t, s, RefundOp{ID: "rop_" + st, UserID: "u1", PaymentID: "pay_1", Status: st, ReservedAt: base})
	}
	young := RefundOp{ID: "rop_young", UserID: "u1", PaymentID: "pay_1", Status: RefundOpPending, ReservedAt: base.Add(time.Duration(n+10) * time.Minute)}
	putOp(t, s, young)
	cutoff := base.Add(time.Duration(n+5) * time.Minute)

	all, more, err := r.PendingRefundOps(ctx, cutoff, 500)
	if err != nil || more || len(all) != n {
		t.Fatalf("%d pending (more %v, %v), want %d", len(all), more, err, n)
	}
	for i, o := range all {
		if o.ID != fmt.Sprintf("rop_%03d", n-1-i) || o.GSI2PK == "" {
			t.Fatalf("#%d is %s, want oldest first", i, o.ID)
		}
	}
	some, more, err := r.PendingRefundOps(ctx, cutoff, 120)
	if err != nil || !more || len(some) != 120 || some[119].ID != all[119].ID {
		t.Fatalf("at most 120: %d (more %v, %v)", len(some), more, err)
	}
	if exactly, more, _ := r.PendingRefundOps(ctx, cutoff, n); len(exactly) != n || more {
		t.Fatalf("max = count: %d, more %v", len(exactly), more)
	}
	if none, more, err := r.PendingRefundOps(ctx, base, 10); err != nil || len(none) != 0 || more {
		t.Fatalf("before the oldest: %v %v %v", none, more, err)
	}
	got, err := r.RefundOp(ctx, "rop_booked")
	if err != nil || got.Status != RefundOpBooked || got.GSI2PK != "" || got.Type != "refund-op" {
		t.Fatalf("a booked operation: %+v %v", got, err)
	}
	if _, err := r.RefundOp(ctx, "rop_never"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("an operation never reserved: %v", err)
	}
}

// A payment's refundable remainder and status follow from its amounts.
func TestPaymentArithmetic(t *testing.T) {
	tests := []struct {
		amount, refunded, pending, lost int64
		refundable                      int64
		status                          string
	}{
		{1000, 0, 0, 0, 1000, PaymentSucceeded},
		{1000, 300, 200, 0, 500, PaymentPartiallyRefunded},
		{1000, 1000, 0, 0, 0, PaymentRefunded},
		{1000, 0, 0, 1000, 0, PaymentSucceeded},
		{1000, 400, 0, 600, 0, PaymentPartiallyRefunded},
		{0, 0, 0, 0, 0, PaymentSucceeded},
	}
	for _, tt := range tests {
		p := Payment{AmountCents: tt.amount, RefundedCents: tt.refunded, PendingRefundCents: tt.pending, DisputeLostCents: tt.lost}
		p.SettleStatus()
		if p.RefundableCents() != tt.refundable || p.Status != tt.status {
			t.Errorf("%+v: refundable %d status %s, want %d %s", tt, p.RefundableCents(), p.Status, tt.refundable, tt.status)
		}
	}
	for st, want := range map[string][2]bool{ // counts, final
		RefundSucceeded: {true, false}, RefundPending: {true, false}, RefundRequiresAction: {true, false},
		RefundFailed: {false, true}, RefundCanceled: {false, true}, RefundSuperseded: {false, true},
	} {
		if RefundCounts(st) != want[0] || RefundFinal(st) != want[1] {
			t.Errorf("%s: counts %v final %v, want %v", st, RefundCounts(st), RefundFinal(st), want)
		}
	}
}

// A lookup item (a Stripe source, a PaymentIntent) leads to its payment.
func TestRepoPaymentByLookup(t *testing.T) {
	s := newTestStore(t, nil)
	r := Repo{S: s}
	ctx := context.Background()
	p := Payment{ID: "pay_01ARZ3NDEKTSV4RRFFQ69G5FAV", UserID: "u1", AmountCents: 999, Currency: "usd", PaymentIntentID: "pi_1"}
	putPayment(t, s, &p)
	for _, k := range []store.Key{store.PaymentSourceKey("in_1"), store.PaymentIntentKey("pi_1")} {
		lk, err := store.PutNewItem(NewPaymentLookup(k, &p))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Transact(ctx, []types.TransactWriteItem{lk}); err != nil {
			t.Fatal(err)
		}
		if got, err := r.paymentByLookup(ctx, k); err != nil || got.ID != p.ID || got.AmountCents != 999 {
			t.Fatalf("by %v: %+v %v", k, got, err)
		}
		if err := s.Transact(ctx, []types.TransactWriteItem{lk}); !store.IsConditionFailed(err) {
			t.Fatalf("a second lookup item at %v: %v", k, err)
		}
	}
	// Without a charge id, PaymentByStripe follows the PaymentIntent's pointer.
	if got, err := r.PaymentByStripe(ctx, "", "pi_1"); err != nil || got.ID != p.ID {
		t.Fatalf("by PaymentIntent: %+v %v", got, err)
	}
	if _, err := r.PaymentByStripe(ctx, "ch_unknown", "pi_unknown"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("neither known: %v", err)
	}
	if _, err := r.paymentByLookup(ctx, store.PaymentSourceKey("in_unknown")); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("no lookup: %v", err)
	}
	dangling, _ := store.PutItem(NewPaymentLookup(store.PaymentSourceKey("in_2"), &Payment{ID: "pay_gone", UserID: "u1"}))
	if err := s.Transact(ctx, []types.TransactWriteItem{dangling}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.paymentByLookup(ctx, store.PaymentSourceKey("in_2")); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a lookup of a missing payment: %v", err)
	}
	var u UnmatchedRefund
	u.ChargeID = "ch_9"
	u.SetKeys()
	var d Dispute
	d.UserID, d.ID = "u1", "dp_1"
	d.SetKeys()
	if (store.Key{PK: u.PK, SK: u.SK}) != store.UnmatchedRefundKey("ch_9") || u.Type != "unmatched-refund" ||
		(store.Key{PK: d.PK, SK: d.SK}) != store.DisputeKey("u1", "dp_1") || d.Type != "dispute" {
		t.Fatalf("keys %+v %+v", u, d)
	}
}

// Reads fail as Unavailable when DynamoDB does.
func TestRepoReadsWhenTheTableIsDown(t *testing.T) {
	ctx := context.Background()
	r := Repo{S: tabletest.Down(errors.New("timeout"))}
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, _, err := r.PendingRefundOps(ctx, at, 10); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("PendingRefundOps: %v", err)
	}
	if _, err := r.PaymentByStripe(ctx, "ch_1", "pi_1"); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("PaymentByStripe: %v", err)
	}
	if _, err := r.ListPayments(ctx, "u1", 10, ""); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("ListPayments: %v", err)
	}
	if _, err := r.Refunds(ctx, "u1", "pay_1"); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("Refunds: %v", err)
	}
}
