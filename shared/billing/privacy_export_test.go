package billing

import (
	"testing"

	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/privacy/privacytest"
	"github.com/liberation/monetization/shared/store"
)

// Billing exports the person's profile, subscription and other live subscriptions — not another
// user's, and not the Stripe ordering watermark.
func TestPersonalDataExporter(t *testing.T) {
	s := newTestStore(t, nil)
	it := privacytest.Item
	privacytest.Seed(t, s,
		it(store.UserKey("u1"), "user", map[string]any{"userId": "u1", "email": "u1@example.com", "stripeCustomerId": "cus_u1"}),
		it(store.SubscriptionKey("u1"), "subscription", map[string]any{"tier": "pro", "lastEventId": "evt_w", "lastEventRank": 3}),
		it(store.OtherSubscriptionKey("u1", "sub_2"), "subscription-other", map[string]any{"stripeSubscriptionId": "sub_2"}),
		it(store.UserKey("u2"), "user", map[string]any{"userId": "u2", "email": "u2@example.com"}),
		it(store.SubscriptionKey("u2"), "subscription", map[string]any{"tier": "enterprise"}),
	)
	items, _ := privacytest.All(t, PersonalDataExporter(privacy.Reader{S: s}), privacy.Subject{UserID: "u1"}, 1)
	if got := privacytest.Count(items); got["user"] != 1 || got["subscription"] != 1 || got["other-subscription"] != 1 || len(items) != 3 {
		t.Fatalf("items %v", got)
	}
	privacytest.Holds(t, items, []string{"u1@example.com", "cus_u1", "sub_2", `"pro"`}, []string{"u2", "enterprise", "evt_w", "lastEventRank"})
}
