//go:build integration

package payments_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/store"
)

func TestApplyInvoicePaid(t *testing.T) {
	t.Run("OnceForThreeDeliveries", func(t *testing.T) {
		env := localtest.New(t)
		d := depsFor(t, env)
		ctx := context.Background()
		user, email := newUser()
		paidAt := time.Now().UTC().Truncate(time.Second)
		inv := invoice(999, email, paidAt)
		for i := 0; i < 3; i++ {
			if err := payments.ApplyInvoicePaid(ctx, d, user, inv, randID("evt_")); err != nil {
				t.Fatalf("delivery %d: %v", i, err)
			}
		}
		page, err := d.Store.ListPayments(ctx, user, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 {
			t.Fatalf("%d payments, want 1", len(page.Items))
		}
		p := page.Items[0]
		if p.AmountCents != 999 || p.Currency != "usd" || p.Kind != store.PaymentKindSubscription || p.Status != store.PaymentSucceeded ||
			p.InvoiceID != inv.ID || p.ChargeID != inv.Charge.ID || p.PaymentIntentID != inv.PaymentIntent.ID ||
			p.SubscriptionID != inv.Subscription.ID || p.CustomerEmail != email || p.Description != "1 × Pro (at $9.99 / month)" ||
			!p.PaidAt.Equal(paidAt) || p.PeriodStart == nil || !payments.ValidPaymentID(p.ID) {
			t.Fatalf("payment = %+v", p)
		}
		c := counters(t, d, paidAt)
		if c.PaymentsSucceeded != 1 || c.RevenueCents != 999 {
			t.Fatalf("counters = %+v, want one payment of 999", c)
		}
		// Found by our id (GSI1) and by charge id (GSI2).
		if got, err := d.Store.PaymentByID(ctx, p.ID); err != nil || got.ID != p.ID {
			t.Fatalf("PaymentByID: %v %v", got.ID, err)
		}
		if got, err := d.Store.PaymentByCharge(ctx, inv.Charge.ID); err != nil || got.ID != p.ID {
			t.Fatalf("PaymentByCharge: %v %v", got.ID, err)
		}
		// Every delivery queues the receipt, all with the payment's dedupe id.
		msgs := envelopes(t, drain(t, env))
		if len(msgs) != 3 {
			t.Fatalf("%d messages, want 3", len(msgs))
		}
		for _, m := range msgs {
			var job payments.ReceiptJob
			_ = json.Unmarshal(m.Payload, &job)
			if m.Type != payments.MsgReceipt || m.DedupeID != "receipt#"+p.ID || job.PaymentID != p.ID || job.UserID != user {
				t.Fatalf("message %+v %+v", m, job)
			}
		}
	})
	t.Run("ZeroAmountRecordsNothing", func(t *testing.T) {
		env := localtest.New(t)
		user, email := newUser()
		inv := invoice(0, email, time.Now())
		if err := payments.ApplyInvoicePaid(context.Background(), depsFor(t, env), user, inv, "evt_zero"); err != nil {
			t.Fatal(err)
		}
		page, _ := depsFor(t, env).Store.ListPayments(context.Background(), user, 10, "")
		if len(page.Items) != 0 || len(drain(t, env)) != 0 {
			t.Fatal("a $0 invoice must record and send nothing")
		}
	})
}

func TestApplyCheckoutPayment(t *testing.T) {
	env := localtest.New(t)
	d := depsFor(t, env)
	ctx := context.Background()
	user, email := newUser()
	s := &stripe.CheckoutSession{
		ID: randID("cs_"), Mode: stripe.CheckoutSessionModePayment, PaymentStatus: stripe.CheckoutSessionPaymentStatusPaid,
		AmountTotal: 4900, Currency: "usd", Created: time.Now().Unix(),
		CustomerDetails: &stripe.CheckoutSessionCustomerDetails{Email: email},
		PaymentIntent:   &stripe.PaymentIntent{ID: randID("pi_")},
		Metadata:        map[string]string{"courseId": "course-1", "courseTitle": "Go for <Beginners>"},
	}
	unpaid := *s
	unpaid.ID, unpaid.PaymentStatus = randID("cs_"), stripe.CheckoutSessionPaymentStatusUnpaid
	sub := *s
	sub.ID, sub.Mode = randID("cs_"), stripe.CheckoutSessionModeSubscription
	for _, x := range []*stripe.CheckoutSession{s, &unpaid, &sub, s} {
		if err := payments.ApplyCheckoutPayment(ctx, d, user, x, randID("evt_")); err != nil {
			t.Fatal(err)
		}
	}
	page, _ := d.Store.ListPayments(ctx, user, 10, "")
	if len(page.Items) != 1 {
		t.Fatalf("%d payments, want 1 (unpaid and subscription sessions are not purchases)", len(page.Items))
	}
	p := page.Items[0]
	if p.Kind != store.PaymentKindPurchase || p.AmountCents != 4900 || p.Description != "Go for <Beginners>" ||
		p.CourseID != "course-1" || p.CustomerEmail != email || p.ChargeID != "" {
		t.Fatalf("payment = %+v", p)
	}
	// A purchase has no charge id yet: charge.refunded finds it through its PaymentIntent.
	ch := &stripe.Charge{ID: randID("ch_"), Amount: 4900, AmountRefunded: 1000, PaymentIntent: &stripe.PaymentIntent{ID: s.PaymentIntent.ID}}
	if err := payments.ApplyChargeRefunded(ctx, d, ch, "evt_r1"); err != nil {
		t.Fatal(err)
	}
	p = mustPayment(t, d, p)
	if p.RefundedCents != 1000 || p.Status != store.PaymentPartiallyRefunded || p.ChargeID != ch.ID {
		t.Fatalf("after refund: %+v", p)
	}
	if got, err := d.Store.PaymentByCharge(ctx, ch.ID); err != nil || got.ID != p.ID {
		t.Fatalf("charge id not back-filled: %v", err)
	}
}

func TestApplyInvoicePaymentFailed(t *testing.T) {
	env := localtest.New(t)
	d := depsFor(t, env)
	ctx := context.Background()
	user, email := newUser()
	inv := invoice(999, email, time.Now())
	inv.AttemptCount = 1
	inv.NextPaymentAttempt = time.Now().Add(72 * time.Hour).Unix()
	inv.HostedInvoiceURL = "https://invoice.stripe.com/i/acct_test/" + inv.ID
	for i := 0; i < 2; i++ {
		if err := payments.ApplyInvoicePaymentFailed(ctx, d, user, inv, randID("evt_")); err != nil {
			t.Fatal(err)
		}
	}
	if c := counters(t, d, d.Clock.Now()); c.PaymentsFailed != 1 {
		t.Fatalf("paymentsFailed = %d, want 1 for one attempt", c.PaymentsFailed)
	}
	inv.AttemptCount = 2
	if err := payments.ApplyInvoicePaymentFailed(ctx, d, user, inv, randID("evt_")); err != nil {
		t.Fatal(err)
	}
	if c := counters(t, d, d.Clock.Now()); c.PaymentsFailed != 2 {
		t.Fatalf("paymentsFailed = %d, want 2 after a second attempt", c.PaymentsFailed)
	}
	msgs := drain(t, env)
	if len(msgs) != 3 {
		t.Fatalf("%d dunning messages, want 3", len(msgs))
	}
	if resp := consume(t, d, msgs...); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures: %+v", resp.BatchItemFailures)
	}
	got := env.Mailpit.WaitFor(t, "to:"+email, 2)
	time.Sleep(300 * time.Millisecond)
	if got = env.Mailpit.Search(t, "to:"+email); len(got) != 2 {
		t.Fatalf("%d dunning e-mails, want one per attempt (2)", len(got))
	}
	m := env.Mailpit.Get(t, got[0].ID)
	if m.Attachments != nil && len(m.Attachments) != 0 {
		t.Fatal("dunning e-mails carry no PDF")
	}
	for _, want := range []string{"$9.99", inv.HostedInvoiceURL, "http://app.liberation.local" + payments.BillingPath} {
		if !contains(m.Text, want) || !contains(m.HTML, want) {
			t.Errorf("dunning e-mail lacks %q", want)
		}
	}
}

func TestApplyDispute(t *testing.T) {
	env := localtest.New(t)
	d := depsFor(t, env)
	ctx := context.Background()
	user, email := newUser()
	inv := invoice(999, email, time.Now())
	p := recordInvoice(t, d, user, inv)
	dp := &stripe.Dispute{ID: randID("dp_"), Amount: 999, Currency: "usd", Charge: &stripe.Charge{ID: inv.Charge.ID},
		Reason: stripe.DisputeReasonFraudulent, Status: stripe.DisputeStatusNeedsResponse, Created: time.Now().Unix()}
	for i := 0; i < 2; i++ {
		if err := payments.ApplyDispute(ctx, d, dp, randID("evt_")); err != nil {
			t.Fatal(err)
		}
	}
	if c := counters(t, d, d.Clock.Now()); c.DisputedCents != 999 {
		t.Fatalf("disputedCents = %d, want 999 once", c.DisputedCents)
	}
	got := mustPayment(t, d, p)
	if !got.Disputed || got.DisputeStatus != "needs_response" {
		t.Fatalf("payment not flagged: %+v", got)
	}
	won := *dp
	won.Status = stripe.DisputeStatusWon
	if err := payments.ApplyDispute(ctx, d, &won, "evt_won"); err != nil {
		t.Fatal(err)
	}
	// A stale event after the close does not reopen it.
	if err := payments.ApplyDispute(ctx, d, dp, "evt_stale"); err != nil {
		t.Fatal(err)
	}
	var rec store.Dispute
	if err := d.Store.GetConsistent(ctx, store.DisputeKey(user, dp.ID), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Status != "won" || mustPayment(t, d, p).DisputeStatus != "won" {
		t.Fatalf("dispute = %+v", rec)
	}
	if c := counters(t, d, d.Clock.Now()); c.DisputedCents != 999 {
		t.Fatalf("disputedCents = %d after close, want 999", c.DisputedCents)
	}
	// A dispute on an unknown charge is retried later, not dropped.
	unknown := *dp
	unknown.ID, unknown.Charge = randID("dp_"), &stripe.Charge{ID: "ch_unknown"}
	if err := payments.ApplyDispute(ctx, d, &unknown, "evt_x"); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("unknown charge: %v", err)
	}
}
