package billing

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/facts"
)

// A paid renewal invoice tells the other areas once per invoice, after the paid-through write; the
// first invoice, a zero-amount one and a failed send do not produce a fact (the last fails the
// delivery so Stripe retries it).
func TestRenewalSendsSubscriptionRenewedFact(t *testing.T) {
	w := newWorld(t)
	const u = "u-renew"
	start := t0.AddDate(0, -1, 0)
	w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: u, Created: start, PeriodStart: start, PeriodEnd: t0})
	w.mustDeliver(t, stripeevents.InvoicePaid, stripeevents.Options{UserID: u, Created: start, PeriodStart: start, PeriodEnd: t0,
		InvoiceID: "in_first"})
	if len(w.facts.sent) != 0 {
		t.Fatalf("the first invoice is not a renewal: %+v", w.facts.sent)
	}

	renewal := stripeevents.Options{UserID: u, Created: t0.Add(time.Hour), PeriodStart: t0, PeriodEnd: t0.AddDate(0, 1, 0),
		InvoiceID: "in_cycle", BillingReason: "subscription_cycle"}
	w.facts.fail = true
	if status, _ := w.deliver(t, stripeevents.MustBuild(stripeevents.InvoicePaid, renewal)); status < 500 {
		t.Fatalf("a renewal whose fact cannot be sent must fail the delivery, got %d", status)
	}
	w.facts.fail = false
	w.mustDeliver(t, stripeevents.InvoicePaid, renewal) // Stripe's retry: a new attempt of the event
	renewal.EventID = "evt_other_delivery_same_invoice"
	w.mustDeliver(t, stripeevents.InvoicePaid, renewal)

	want := facts.SubscriptionRenewedFact{UserID: u, Tier: "pro", InvoiceID: "in_cycle", SubscriptionID: w.repo.sub(u).StripeSubscriptionID,
		PeriodStart: t0, PeriodEnd: t0.AddDate(0, 1, 0), PaidAt: t0.Add(time.Hour)}
	if len(w.facts.sent) != 2 || w.facts.sent[0] != want || w.facts.sent[1] != want {
		t.Fatalf("facts sent %+v, want twice %+v", w.facts.sent, want)
	}
	if w.facts.ids[0] != "subscription.renewed:in_cycle" || w.facts.ids[1] != w.facts.ids[0] {
		t.Fatalf("dedupe ids %v", w.facts.ids)
	}
	if got := w.repo.sub(u).PaidThrough; !got.Equal(t0.AddDate(0, 1, 0)) {
		t.Fatalf("paid through %s", got)
	}

	var ev stripe.Event
	if err := json.Unmarshal(stripeevents.MustBuild(stripeevents.InvoicePaid, renewal), &ev); err != nil {
		t.Fatal(err)
	}
	var inv stripe.Invoice
	if err := json.Unmarshal(ev.Data.Raw, &inv); err != nil {
		t.Fatal(err)
	}
	if f, ok := RenewalFact(&inv, u, testRules.Prices); !ok || f != want {
		t.Fatalf("RenewalFact = %+v %v", f, ok)
	}
	for name, change := range map[string]func(*stripe.Invoice){
		"nothing paid":       func(i *stripe.Invoice) { i.AmountPaid = 0 },
		"first invoice":      func(i *stripe.Invoice) { i.BillingReason = stripe.InvoiceBillingReasonSubscriptionCreate },
		"plan change":        func(i *stripe.Invoice) { i.BillingReason = stripe.InvoiceBillingReasonSubscriptionUpdate },
		"not a subscription": func(i *stripe.Invoice) { i.Subscription = nil },
		"price of no tier":   func(i *stripe.Invoice) { i.Lines.Data[0].Price.ID = "price_other" },
	} {
		c := inv
		lines := *inv.Lines
		line := *inv.Lines.Data[0]
		price := *line.Price
		line.Price, lines.Data, c.Lines = &price, []*stripe.InvoiceLineItem{&line}, &lines
		change(&c)
		if f, ok := RenewalFact(&c, u, testRules.Prices); ok {
			t.Errorf("%s: a renewal fact %+v", name, f)
		}
	}
}
