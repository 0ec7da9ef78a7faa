//go:build integration

package billing

import (
	"context"
	"net/http"
	"reflect"
	"testing"

	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/privacy/privacytest"
	"github.com/liberation/monetization/shared/store"
)

// Billing's eraser with its real Stripe port against stripe-mock (through the recording transport)
// and its repository on moto: the subscription cancelled and the customer deleted with DELETEs
// carrying keys derived from the request id, then the profile erased; run again, nothing is asked
// of Stripe and nothing changes.
func TestBillingEraserAgainstStripeMock(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if _, err := e.repo.LinkStripeCustomer(ctx, "u1", subjectEmail, "cus_mock1"); err != nil {
		t.Fatal(err)
	}
	now := e.Runtime.Clock.Now()
	next := Subscription{Tier: TierPro, PlanTier: TierPro, Status: "active", StripeSubscriptionID: "sub_mock1", StripeCustomerID: "cus_mock1",
		CurrentPeriodStart: now, CurrentPeriodEnd: now.AddDate(0, 1, 0), UpdatedAt: now}
	if err := e.repo.WriteSubscription(ctx, subscriptionWrite{UserID: "u1", Next: &next, At: now}); err != nil {
		t.Fatal(err)
	}
	subj := privacy.ErasureSubject{UserID: "u1", Emails: []string{subjectEmail}, Pseudonym: "anon_01JMOCK0000000000000000000", RequestID: "era_mock1"}
	er := PersonalDataEraser(privacy.Reader{S: e.repo.Store}, e.repo, e.port, e.Runtime.Clock)
	if changed, _ := privacytest.RunToEnd(t, er, subj, ""); changed != 1 {
		t.Fatalf("changed %d", changed)
	}
	var deletes []string
	for _, r := range e.stripe.All() {
		if r.Method != http.MethodDelete {
			t.Fatalf("unexpected %s %s", r.Method, r.Path)
		}
		deletes = append(deletes, r.Path+" "+r.Key)
	}
	want := []string{"/v1/subscriptions/sub_mock1 erase-subscription-era_mock1-sub_mock1", "/v1/customers/cus_mock1 erase-customer-era_mock1-cus_mock1"}
	if len(deletes) != 2 || deletes[0] != want[0] || deletes[1] != want[1] {
		t.Fatalf("stripe requests %v, want %v", deletes, want)
	}
	var u User
	if err := e.repo.GetConsistent(ctx, store.UserKey("u1"), &u); err != nil || u.Email != subj.PseudonymEmail() {
		t.Fatalf("profile %+v %v", u, err)
	}
	// The local subscription is left to the webhook (customer.subscription.deleted).
	if s := mustSub(t, e, "u1"); s.Status != "active" {
		t.Fatalf("subscription status %q: the eraser must not flip it", s.Status)
	}
	before := privacytest.Table(t, e.repo.Store)
	if changed, _ := privacytest.RunToEnd(t, er, subj, ""); changed != 0 || len(e.stripe.All()) != 2 {
		t.Fatalf("second run: changed %d, %d requests", changed, len(e.stripe.All()))
	}
	if after := privacytest.Table(t, e.repo.Store); !reflect.DeepEqual(after, before) {
		t.Fatal("the second run changed the table")
	}
}
