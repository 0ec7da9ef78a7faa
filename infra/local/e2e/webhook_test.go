//go:build integration

package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/registry"
)

func TestStripeEventsThroughTheFunctionURLAndJob(t *testing.T) {
	for _, name := range []string{"stripe-webhook", "get-subscription", "billing-cycle"} {
		if _, ok := registry.Entries[name]; !ok {
			t.Skipf("%s is not registered yet", name)
		}
	}
	h := Start(t)
	o := stripeevents.Options{UserID: "user-e2e", Tier: "pro"}
	for _, typ := range []string{stripeevents.CheckoutSessionCompleted, stripeevents.CustomerSubscriptionCreated, stripeevents.InvoicePaid} {
		if status := h.PostWebhook(t, stripeevents.MustBuild(typ, o)); status != http.StatusOK {
			t.Fatalf("%s: %d", typ, status)
		}
	}
	payload := stripeevents.MustBuild(stripeevents.InvoicePaid, o)
	if status, body := h.PostWebhookSigned(t, payload, stripeevents.SignatureHeader(payload, "whsec_wrong", time.Now())); status != http.StatusBadRequest {
		t.Errorf("bad signature: %d %s", status, body)
	}
	status, body, _ := h.Do(t, http.MethodGet, "/subscription", h.Token(t, "user-e2e", "user-e2e@example.com"), nil)
	if status != http.StatusOK {
		t.Errorf("GET /subscription: %d %s", status, body)
	}
	if res := h.RunJob(t, "billing-cycle"); res.Function != "billing-cycle" {
		t.Errorf("billing-cycle: %+v", res)
	}
}
