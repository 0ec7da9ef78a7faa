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
			if err := d.invoicePaid(ctx, user, inv, randID("evt_")); err != nil {
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
		d := depsFor(t, env)
		if err := d.invoicePaid(context.Background(), user, inv, "evt_zero"); err != nil {
			t.Fatal(err)
		}
		page, _ := d.Store.ListPayments(context.Background(), user, 10, "")
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
		if err := d.Rec.CheckoutPaid(ctx, user, x, payments.Source{EventID: randID("evt_"), Created: time.Now()}); err != nil {
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
	// A purchase has no charge id yet: charge.refunded finds it through its PaymentIntent, and the
	// refund (a Dashboard refund, listed by Stripe) is booked under its own id.
	ch := &stripe.Charge{ID: randID("ch_"), Amount: 4900, AmountRefunded: 1000, PaymentIntent: &stripe.PaymentIntent{ID: s.PaymentIntent.ID}}
	d.Proxy.AddRefund(map[string]any{"id": "re_dash_1", "object": "refund", "amount": 1000, "currency": "usd",
		"charge": ch.ID, "payment_intent": s.PaymentIntent.ID, "status": "succeeded", "metadata": map[string]string{}})
	if err := d.chargeRefunded(ctx, ch, "evt_r1"); err != nil {
		t.Fatal(err)
	}
	p = mustPayment(t, d, p)
	if p.RefundedCents != 1000 || p.Status != store.PaymentPartiallyRefunded || p.ChargeID != ch.ID {
		t.Fatalf("after refund: %+v", p)
	}
	if got, err := d.Store.PaymentByCharge(ctx, ch.ID); err != nil || got.ID != p.ID {
		t.Fatalf("charge id not back-filled: %v", err)
	}
	if rs, _ := d.Store.ListRefunds(ctx, user, p.ID); len(rs) != 1 || rs[0].ID != "re_dash_1" || rs[0].Source != store.RefundSourceStripe {
		t.Fatalf("refunds %+v", rs)
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
		if err := d.Rec.InvoicePaymentFailed(ctx, user, inv, payments.Source{EventID: randID("evt_")}); err != nil {
			t.Fatal(err)
		}
	}
	if c := counters(t, d, d.Clock.Now()); c.PaymentsFailed != 1 {
		t.Fatalf("paymentsFailed = %d, want 1 for one attempt", c.PaymentsFailed)
	}
	inv.AttemptCount = 2
	if err := d.Rec.InvoicePaymentFailed(ctx, user, inv, payments.Source{EventID: randID("evt_")}); err != nil {
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
	if n := d.Sent.Load(); n != 2 {
		t.Fatalf("%d dunning e-mails sent, want one per attempt (2)", n)
	}
	got := env.Mailpit.WaitFor(t, "to:"+email, 2)
	m := env.Mailpit.Get(t, got[0].ID)
	if len(m.Attachments) != 0 {
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
	apply := func(dp *stripe.Dispute, typ stripe.EventType) {
		t.Helper()
		if err := d.Disputes.Apply(ctx, dp, typ, payments.Source{EventID: randID("evt_")}); err != nil {
			t.Fatal(err)
		}
	}
	dp := &stripe.Dispute{ID: randID("dp_"), Amount: 999, Currency: "usd", Charge: &stripe.Charge{ID: inv.Charge.ID},
		Reason: stripe.DisputeReasonFraudulent, Status: stripe.DisputeStatusNeedsResponse, Created: time.Now().Unix()}
	apply(dp, stripe.EventTypeChargeDisputeCreated)
	apply(dp, stripe.EventTypeChargeDisputeCreated)
	apply(dp, stripe.EventTypeChargeDisputeFundsWithdrawn)
	if c := counters(t, d, d.Clock.Now()); c.DisputedCents != 999 || c.DisputeLostCents != 0 {
		t.Fatalf("counters %+v, want 999 disputed once", c)
	}
	got := mustPayment(t, d, p)
	if !got.Disputed || got.DisputeStatus != "needs_response" || got.DisputedCents != 999 {
		t.Fatalf("payment not flagged: %+v", got)
	}
	lost := *dp
	lost.Status = stripe.DisputeStatusLost
	apply(&lost, stripe.EventTypeChargeDisputeClosed)
	apply(&lost, stripe.EventTypeChargeDisputeClosed)
	apply(dp, stripe.EventTypeChargeDisputeUpdated) // stale: a closed dispute never reopens
	var rec store.Dispute
	if err := d.Store.GetConsistent(ctx, store.DisputeKey(user, dp.ID), &rec); err != nil {
		t.Fatal(err)
	}
	got = mustPayment(t, d, p)
	if rec.Status != "lost" || !rec.FundsWithdrawn || got.DisputeStatus != "lost" || got.DisputeLostCents != 999 || got.RefundableCents() != 0 {
		t.Fatalf("dispute %+v, payment %+v", rec, got)
	}
	if c := counters(t, d, d.Clock.Now()); c.DisputedCents != 999 || c.DisputeLostCents != 999 || c.DisputeWonCents != 0 {
		t.Fatalf("counters %+v after the loss", c)
	}
	if n := localtest.AuditCount(t, d.Store, d.Clock.Now(), "dispute.lost"); n != 1 {
		t.Fatalf("%d dispute.lost audit records", n)
	}
	// A dispute on an unknown charge is retried later, not dropped.
	unknown := *dp
	unknown.ID, unknown.Charge = randID("dp_"), &stripe.Charge{ID: "ch_unknown"}
	if err := d.Disputes.Apply(ctx, &unknown, stripe.EventTypeChargeDisputeCreated, payments.Source{EventID: "evt_x"}); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("unknown charge: %v", err)
	}
}
