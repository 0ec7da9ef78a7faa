package billing

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/webhook"
)

// edited is a built event with its object changed by f (fields Stripe leaves out or sets to null).
func edited(t *testing.T, typ string, o stripeevents.Options, f func(obj map[string]any)) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(stripeevents.MustBuild(typ, o), &ev); err != nil {
		t.Fatal(err)
	}
	f(ev["data"].(map[string]any)["object"].(map[string]any))
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkout.session.completed links the session's customer to the user (the first one linked stays)
// and audits a subscription checkout; a one-off purchase is linked, not audited; a session of
// nobody we know changes nothing.
func TestCheckoutCompletedLinksTheCustomer(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.mustDeliver(t, stripeevents.CheckoutSessionCompleted, stripeevents.Options{UserID: "u-co", CustomerID: "cus_first",
		SessionID: "cs_test_1", Email: "co@example.com", Created: t0})
	u, err := w.repo.GetUser(ctx, "u-co")
	if err != nil || u.StripeCustomerID != "cus_first" || u.Email != "co@example.com" {
		t.Fatalf("user %+v %v", u, err)
	}
	if n := countActions(w.repo.auditActions(), "subscription.checkout_completed"); n != 1 {
		t.Fatalf("audits %v", w.repo.auditActions())
	}
	w.repo.mu.Lock()
	last := w.repo.audits[len(w.repo.audits)-1]
	w.repo.mu.Unlock()
	if last.Target != "user:u-co" || last.Details["session"] != "cs_test_1" || last.Details["customer"] != "cus_first" ||
		last.Details["subscription"] != stripeevents.SubscriptionIDFor("u-co") {
		t.Fatalf("audit record %+v", last)
	}

	// Another customer for the same user: the first one stays on file.
	w.mustDeliver(t, stripeevents.CheckoutSessionCompleted, stripeevents.Options{UserID: "u-co", CustomerID: "cus_second", Created: t0})
	if u, _ := w.repo.GetUser(ctx, "u-co"); u.StripeCustomerID != "cus_first" {
		t.Fatalf("customer replaced: %+v", u)
	}
	if n := countActions(w.repo.auditActions(), "subscription.checkout_completed"); n != 2 {
		t.Fatalf("audits %v", w.repo.auditActions())
	}

	// A one-off purchase: the customer is linked; payments records the purchase, billing audits nothing.
	w.mustDeliver(t, stripeevents.CheckoutSessionCompleted, stripeevents.Options{UserID: "u-buyer", CustomerID: "cus_buyer",
		Mode: "payment", Created: t0})
	if u, err := w.repo.GetUser(ctx, "u-buyer"); err != nil || u.StripeCustomerID != "cus_buyer" {
		t.Fatalf("buyer %+v %v", u, err)
	}
	// A guest purchase (no customer) has nothing for billing to do.
	payload := edited(t, stripeevents.CheckoutSessionCompleted, stripeevents.Options{UserID: "u-guest", Mode: "payment", Created: t0},
		func(obj map[string]any) { obj["customer"] = nil })
	if status, outcome := w.deliver(t, payload); status != 200 || outcome != webhook.OutcomeIgnored {
		t.Fatalf("guest purchase: %d %s", status, outcome)
	}
	if _, err := w.repo.GetUser(ctx, "u-guest"); err == nil {
		t.Fatal("a guest got a user record")
	}
	if n := countActions(w.repo.auditActions(), "subscription.checkout_completed"); n != 2 {
		t.Fatalf("purchases audited as subscriptions: %v", w.repo.auditActions())
	}

	// Nobody we know: no metadata, no client reference, a customer never linked.
	payload = edited(t, stripeevents.CheckoutSessionCompleted, stripeevents.Options{UserID: "u-nobody", CustomerID: "cus_nobody", Created: t0},
		func(obj map[string]any) {
			obj["metadata"], obj["client_reference_id"] = map[string]any{}, nil
		})
	if status, outcome := w.deliver(t, payload); status != 200 || outcome != outcomeUnknownUser {
		t.Fatalf("unknown user: %d %s", status, outcome)
	}
	if id, _ := w.repo.ResolveStripeUser(ctx, "cus_nobody", ""); id != "" {
		t.Fatalf("customer linked to %q", id)
	}
}

// invoice.paid of an invoice that is not for a subscription (no subscription, or no period on its
// lines) records nothing and sends no renewal.
func TestInvoicePaidWithoutASubscription(t *testing.T) {
	w := newWorld(t)
	subscribed(t, w, "u-inv", TierPro, t0.AddDate(0, 1, 0))
	before := w.repo.sub("u-inv")
	for name, f := range map[string]func(obj map[string]any){
		"NoSubscription": func(obj map[string]any) { obj["subscription"] = nil },
		"NoPeriods": func(obj map[string]any) {
			for _, l := range obj["lines"].(map[string]any)["data"].([]any) {
				delete(l.(map[string]any), "period")
			}
		},
	} {
		payload := edited(t, stripeevents.InvoicePaid, stripeevents.Options{UserID: "u-inv", Created: t0,
			BillingReason: "subscription_cycle", PeriodStart: t0.AddDate(0, 1, 0), PeriodEnd: t0.AddDate(0, 2, 0)}, f)
		if status, outcome := w.deliver(t, payload); status != 200 || outcome != webhook.OutcomeIgnored {
			t.Fatalf("%s: %d %s", name, status, outcome)
		}
	}
	if after := w.repo.sub("u-inv"); after != before || len(w.facts.sent) != 0 {
		t.Fatalf("stored %+v → %+v, facts %v", before, after, w.facts.sent)
	}
}
