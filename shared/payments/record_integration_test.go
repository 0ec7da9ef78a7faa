//go:build integration

package payments_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/payments"
)

// The recording rules' table half (one payment per source, lookups, counters, audit, the charge id
// back-filled, disputes) runs on Repo over the table in record_table_test.go — in process, and on
// moto with this tag. What stays here needs the other services: the receipts queue (SQS), the
// consumer and mailpit, and Stripe's refund list (stripe-mock behind stripefault).

func TestApplyInvoicePaid(t *testing.T) {
	env := localtest.New(t)
	d := depsFor(t, env)
	ctx := context.Background()
	user, email := newUser()
	inv := invoice(999, email, time.Now().UTC().Truncate(time.Second))
	for i := 0; i < 3; i++ {
		if err := d.invoicePaid(ctx, user, inv, randID("evt_")); err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	page, err := (payments.Repo{S: d.Store}).ListPayments(ctx, user, 10, "")
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("%d payments (%v), want 1", len(page.Items), err)
	}
	p := page.Items[0]
	// Every delivery queues the receipt on the real queue, all with the payment's dedupe id.
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
	if err := d.Rec.CheckoutPaid(ctx, user, s, payments.Source{EventID: randID("evt_"), Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	page, _ := (payments.Repo{S: d.Store}).ListPayments(ctx, user, 10, "")
	if len(page.Items) != 1 || page.Items[0].ChargeID != "" {
		t.Fatalf("payments %+v, want one purchase without a charge id", page.Items)
	}
	p := page.Items[0]
	// A purchase has no charge id yet: charge.refunded finds it through its PaymentIntent, and the
	// refund (a Dashboard refund, listed by Stripe) is booked under its own id.
	ch := &stripe.Charge{ID: randID("ch_"), Amount: 4900, AmountRefunded: 1000, PaymentIntent: &stripe.PaymentIntent{ID: s.PaymentIntent.ID}}
	d.Proxy.AddRefund(map[string]any{"id": "re_dash_1", "object": "refund", "amount": 1000, "currency": "usd",
		"charge": ch.ID, "payment_intent": s.PaymentIntent.ID, "status": "succeeded", "metadata": map[string]string{}})
	if err := d.chargeRefunded(ctx, ch, "evt_r1"); err != nil {
		t.Fatal(err)
	}
	p = mustPayment(t, d, p)
	if p.RefundedCents != 1000 || p.Status != payments.PaymentPartiallyRefunded || p.ChargeID != ch.ID {
		t.Fatalf("after refund: %+v", p)
	}
	if rs, _ := (payments.Repo{S: d.Store}).Refunds(ctx, user, p.ID); len(rs) != 1 || rs[0].ID != "re_dash_1" || rs[0].Source != payments.RefundSourceStripe {
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
	inv.AttemptCount = 2
	if err := d.Rec.InvoicePaymentFailed(ctx, user, inv, payments.Source{EventID: randID("evt_")}); err != nil {
		t.Fatal(err)
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
