package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/store"
)

func putPayment(t *testing.T, s *store.Store, p *store.Payment) {
	t.Helper()
	it, err := store.PutPaymentItem(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Transact(context.Background(), []types.TransactWriteItem{it}); err != nil {
		t.Fatal(err)
	}
}

func TestPaymentVersioning(t *testing.T) {
	s := newStore(t, nil)
	ctx := context.Background()
	p := store.Payment{ID: "pay_01ARZ3NDEKTSV4RRFFQ69G5FAV", UserID: "u1", AmountCents: 999, Currency: "usd", ChargeID: "ch_1",
		Status: store.PaymentSucceeded, PaidAt: time.Now().UTC(), CreatedAt: time.Now().UTC()}
	putPayment(t, s, &p)
	if p.Version != 1 {
		t.Fatalf("version after create = %d", p.Version)
	}
	dup := p
	dup.Version = 0
	it, _ := store.PutPaymentItem(&dup)
	if err := s.Transact(ctx, []types.TransactWriteItem{it}); !store.IsConditionFailed(err) {
		t.Fatalf("second create: want condition failure, got %v", err)
	}
	// Two writers read version 1; the second loses.
	a, _ := s.GetPayment(ctx, "u1", p.ID)
	b := a
	a.RefundedCents = 100
	putPayment(t, s, &a)
	b.RefundedCents = 200
	it, _ = store.PutPaymentItem(&b)
	if err := s.Transact(ctx, []types.TransactWriteItem{it}); !store.IsConditionFailed(err) {
		t.Fatalf("stale write: want condition failure, got %v", err)
	}
	// The receipt key bumps the version too, so a stale versioned Put cannot erase it.
	stale, _ := s.GetPayment(ctx, "u1", p.ID)
	if err := s.SetReceiptKey(ctx, "u1", p.ID, "receipts/u1/x.pdf"); err != nil {
		t.Fatal(err)
	}
	it, _ = store.PutPaymentItem(&stale)
	if err := s.Transact(ctx, []types.TransactWriteItem{it}); !store.IsConditionFailed(err) {
		t.Fatalf("write after SetReceiptKey: want condition failure, got %v", err)
	}
	got, _ := s.GetPayment(ctx, "u1", p.ID)
	if got.RefundedCents != 100 || got.ReceiptKey != "receipts/u1/x.pdf" || got.Version != 3 {
		t.Fatalf("payment = %+v", got)
	}
	if err := s.SetReceiptKey(ctx, "u1", "pay_01ARZ3NDEKTSV4RRFFQ69G5FAW", "k"); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("receipt key on a missing payment: %v", err)
	}
	if byID, err := s.PaymentByID(ctx, p.ID); err != nil || byID.UserID != "u1" {
		t.Fatalf("PaymentByID: %v", err)
	}
	if byCh, err := s.PaymentByCharge(ctx, "ch_1"); err != nil || byCh.ID != p.ID {
		t.Fatalf("PaymentByCharge: %v", err)
	}
	if _, err := s.PaymentByCharge(ctx, "ch_none"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown charge: %v", err)
	}
}

func TestListPaymentsSkipsOtherItems(t *testing.T) {
	s := newStore(t, nil)
	ctx := context.Background()
	ids := []string{"pay_01ARZ3NDEKTSV4RRFFQ69G5FA1", "pay_01ARZ3NDEKTSV4RRFFQ69G5FA2", "pay_01ARZ3NDEKTSV4RRFFQ69G5FA3"}
	for _, id := range ids {
		putPayment(t, s, &store.Payment{ID: id, UserID: "u2", AmountCents: 1, Currency: "usd"})
	}
	r := store.Refund{ID: "re_1", PaymentID: ids[0], UserID: "u2", AmountCents: 1}
	r.SetKeys()
	if err := s.Put(ctx, r, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	page, err := s.ListPayments(ctx, "u2", 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 || page.Items[0].ID != ids[2] || page.Items[2].ID != ids[0] {
		t.Fatalf("page = %+v", page.Items)
	}
	refunds, err := s.ListRefunds(ctx, "u2", ids[0])
	if err != nil || len(refunds) != 1 || refunds[0].ID != "re_1" {
		t.Fatalf("refunds = %+v %v", refunds, err)
	}
}
