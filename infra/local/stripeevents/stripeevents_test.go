package stripeevents_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/liberation/monetization/infra/local/stripeevents"
)

const secret = "whsec_test_stripeevents"

// Every built event verifies with stripe-go exactly as the webhook verifies it (signature, tolerance,
// pinned API version) and its data.object unmarshals into the typed Stripe object with our ids.
func TestBuiltEventsVerifyAndUnmarshal(t *testing.T) {
	created := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	base := stripeevents.Options{
		EventID: "evt_fixed", Created: created, UserID: "u-42", Email: "u42@example.com",
		CustomerID: "cus_42", SubscriptionID: "sub_42", InvoiceID: "in_42", ChargeID: "ch_42",
		PaymentIntentID: "pi_42", Tier: "enterprise",
	}
	tests := []struct {
		typ   string
		opts  func(o *stripeevents.Options)
		check func(t *testing.T, raw json.RawMessage)
	}{
		{stripeevents.CheckoutSessionCompleted, nil, func(t *testing.T, raw json.RawMessage) {
			var s stripe.CheckoutSession
			mustUnmarshal(t, raw, &s)
			if s.Mode != stripe.CheckoutSessionModeSubscription || s.ClientReferenceID != "u-42" ||
				s.Metadata["userId"] != "u-42" || s.Customer == nil || s.Customer.ID != "cus_42" ||
				s.Subscription == nil || s.Subscription.ID != "sub_42" || s.AmountTotal != 9900 {
				t.Fatalf("session = %+v", s)
			}
		}},
		{stripeevents.CheckoutSessionCompleted, func(o *stripeevents.Options) {
			o.Mode = "payment"
			o.Metadata = map[string]string{"courseId": "c-1"}
		}, func(t *testing.T, raw json.RawMessage) {
			var s stripe.CheckoutSession
			mustUnmarshal(t, raw, &s)
			if s.Mode != stripe.CheckoutSessionModePayment || s.Subscription != nil || s.PaymentIntent == nil ||
				s.PaymentIntent.ID != "pi_42" || s.Metadata["courseId"] != "c-1" || s.AmountTotal != 1999 {
				t.Fatalf("session = %+v", s)
			}
		}},
		{stripeevents.CustomerSubscriptionCreated, nil, func(t *testing.T, raw json.RawMessage) {
			s := mustSub(t, raw)
			if s.Status != stripe.SubscriptionStatusActive || s.Items.Data[0].Price.ID != stripeevents.DefaultPriceEnterprise ||
				s.CurrentPeriodEnd != created.AddDate(0, 1, 0).Unix() || s.CancelAtPeriodEnd {
				t.Fatalf("subscription = %+v", s)
			}
		}},
		{stripeevents.CustomerSubscriptionUpdated, func(o *stripeevents.Options) {
			o.CancelAtPeriodEnd = true
			o.Status = "past_due"
			o.PreviousAttributes = map[string]any{"cancel_at_period_end": false}
		}, func(t *testing.T, raw json.RawMessage) {
			s := mustSub(t, raw)
			if s.Status != stripe.SubscriptionStatusPastDue || !s.CancelAtPeriodEnd || s.CancelAt != s.CurrentPeriodEnd {
				t.Fatalf("subscription = %+v", s)
			}
		}},
		{stripeevents.CustomerSubscriptionDeleted, nil, func(t *testing.T, raw json.RawMessage) {
			s := mustSub(t, raw)
			if s.Status != stripe.SubscriptionStatusCanceled || s.EndedAt == 0 {
				t.Fatalf("subscription = %+v", s)
			}
		}},
		{stripeevents.InvoicePaid, nil, func(t *testing.T, raw json.RawMessage) {
			var in stripe.Invoice
			mustUnmarshal(t, raw, &in)
			if !in.Paid || in.AmountPaid != 9900 || in.Subscription.ID != "sub_42" || in.Customer.ID != "cus_42" ||
				in.Charge.ID != "ch_42" || in.PaymentIntent.ID != "pi_42" || in.Lines.Data[0].Period.End != created.AddDate(0, 1, 0).Unix() ||
				in.SubscriptionDetails.Metadata["userId"] != "u-42" {
				t.Fatalf("invoice = %+v", in)
			}
		}},
		{stripeevents.InvoicePaymentFailed, nil, func(t *testing.T, raw json.RawMessage) {
			var in stripe.Invoice
			mustUnmarshal(t, raw, &in)
			if in.Paid || in.AmountPaid != 0 || in.AmountDue != 9900 || in.Status != stripe.InvoiceStatusOpen || in.NextPaymentAttempt == 0 {
				t.Fatalf("invoice = %+v", in)
			}
		}},
		{stripeevents.ChargeRefunded, func(o *stripeevents.Options) {
			o.AmountCents = 5000
			o.AmountRefundedCents = 1500
			o.RefundID = "re_1"
		}, func(t *testing.T, raw json.RawMessage) {
			var c stripe.Charge
			mustUnmarshal(t, raw, &c)
			if c.Refunded || c.AmountRefunded != 1500 || c.Amount != 5000 || c.Metadata["userId"] != "u-42" {
				t.Fatalf("charge = %+v", c)
			}
			// API 2023-10-16 does not include the charge's refunds: consumers must list them.
			var fields map[string]any
			mustUnmarshal(t, raw, &fields)
			if _, ok := fields["refunds"]; ok || c.Refunds != nil {
				t.Fatalf("charge carries a refunds list: %v", fields["refunds"])
			}
		}},
		{stripeevents.ChargeRefundUpdated, func(o *stripeevents.Options) {
			o.RefundID, o.AmountRefundedCents = "re_1", 700
			o.Metadata = map[string]string{"operationId": "rop_1"}
		}, func(t *testing.T, raw json.RawMessage) {
			var r stripe.Refund
			mustUnmarshal(t, raw, &r)
			if r.ID != "re_1" || r.Status != stripe.RefundStatusFailed || r.Amount != 700 || r.Charge.ID != "ch_42" ||
				r.Metadata["operationId"] != "rop_1" || r.FailureReason == "" {
				t.Fatalf("refund = %+v", r)
			}
		}},
		{stripeevents.ChargeDisputeCreated, nil, func(t *testing.T, raw json.RawMessage) {
			var d stripe.Dispute
			mustUnmarshal(t, raw, &d)
			if d.Status != stripe.DisputeStatusNeedsResponse || d.Charge.ID != "ch_42" || d.Amount != 9900 {
				t.Fatalf("dispute = %+v", d)
			}
		}},
		{stripeevents.ChargeDisputeFundsWithdrawn, nil, func(t *testing.T, raw json.RawMessage) {
			var d stripe.Dispute
			mustUnmarshal(t, raw, &d)
			if d.Status != stripe.DisputeStatusNeedsResponse || d.Charge.ID != "ch_42" {
				t.Fatalf("dispute = %+v", d)
			}
		}},
		{stripeevents.ChargeDisputeUpdated, nil, func(t *testing.T, raw json.RawMessage) {
			var d stripe.Dispute
			mustUnmarshal(t, raw, &d)
			if d.Status != stripe.DisputeStatusUnderReview {
				t.Fatalf("dispute = %+v", d)
			}
		}},
		{stripeevents.ChargeDisputeFundsReinstate, nil, func(t *testing.T, raw json.RawMessage) {
			var d stripe.Dispute
			mustUnmarshal(t, raw, &d)
			if d.Status != stripe.DisputeStatusWon {
				t.Fatalf("dispute = %+v", d)
			}
		}},
		{stripeevents.ChargeDisputeClosed, func(o *stripeevents.Options) { o.Status = "won" }, func(t *testing.T, raw json.RawMessage) {
			var d stripe.Dispute
			mustUnmarshal(t, raw, &d)
			if d.Status != stripe.DisputeStatusWon {
				t.Fatalf("dispute = %+v", d)
			}
		}},
	}
	for _, tc := range tests {
		name := tc.typ
		t.Run(name, func(t *testing.T) {
			o := base
			if tc.opts != nil {
				tc.opts(&o)
			}
			payload, err := stripeevents.Build(tc.typ, o)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := webhook.ConstructEvent(payload, stripeevents.SignatureHeader(payload, secret, time.Now()), secret)
			if err != nil {
				t.Fatalf("ConstructEvent: %v", err)
			}
			if ev.ID != "evt_fixed" || string(ev.Type) != tc.typ || ev.Created != created.Unix() || ev.Livemode ||
				ev.APIVersion != stripe.APIVersion || ev.Object != "event" {
				t.Fatalf("event envelope = %+v", ev)
			}
			tc.check(t, ev.Data.Raw)
		})
	}
}

func TestSignatureRejectedWithWrongSecretOrStale(t *testing.T) {
	payload := stripeevents.MustBuild(stripeevents.InvoicePaid, stripeevents.Options{})
	if _, err := webhook.ConstructEvent(payload, stripeevents.SignatureHeader(payload, "whsec_other", time.Now()), secret); err == nil {
		t.Fatal("wrong secret accepted")
	}
	if _, err := webhook.ConstructEvent(payload, stripeevents.SignatureHeader(payload, secret, time.Now().Add(-301*time.Second)), secret); err == nil {
		t.Fatal("stale signature accepted")
	}
}

func TestDefaultsAreStablePerUserAndUnique(t *testing.T) {
	a := decode(t, stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u1"}))
	b := decode(t, stripeevents.MustBuild(stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u1"}))
	c := decode(t, stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u2"}))
	sa, sb, sc := mustSub(t, a.Data.Raw), mustSub(t, b.Data.Raw), mustSub(t, c.Data.Raw)
	if sa.ID != sb.ID || sa.Customer.ID != sb.Customer.ID || sa.ID == sc.ID || sa.Customer.ID == sc.Customer.ID {
		t.Fatalf("ids: %s/%s %s/%s %s/%s", sa.ID, sa.Customer.ID, sb.ID, sb.Customer.ID, sc.ID, sc.Customer.ID)
	}
	if a.ID == b.ID || !strings.HasPrefix(a.ID, "evt_") {
		t.Fatalf("event ids %q %q", a.ID, b.ID)
	}
	if sa.ID != stripeevents.SubscriptionIDFor("u1") || sa.Customer.ID != stripeevents.CustomerIDFor("u1") {
		t.Fatal("IDFor helpers disagree with defaults")
	}
}

func TestUnknownTypeNeedsObject(t *testing.T) {
	if _, err := stripeevents.Build("customer.created", stripeevents.Options{}); err == nil {
		t.Fatal("unknown type without Object must fail")
	}
	payload, err := stripeevents.Build("customer.created", stripeevents.Options{Object: map[string]any{"id": "cus_1", "object": "customer"}})
	if err != nil {
		t.Fatal(err)
	}
	if ev := decode(t, payload); ev.Type != "customer.created" || ev.GetObjectValue("id") != "cus_1" {
		t.Fatalf("event = %+v", ev)
	}
}

func decode(t *testing.T, b []byte) stripe.Event {
	t.Helper()
	var ev stripe.Event
	mustUnmarshal(t, b, &ev)
	return ev
}

func mustSub(t *testing.T, raw json.RawMessage) stripe.Subscription {
	t.Helper()
	var s stripe.Subscription
	mustUnmarshal(t, raw, &s)
	if s.Customer == nil || s.Items == nil || len(s.Items.Data) != 1 || s.Items.Data[0].Price == nil || s.Metadata["userId"] == "" {
		t.Fatalf("subscription shape = %+v", s)
	}
	return s
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("unmarshal %T: %v", v, err)
	}
}
