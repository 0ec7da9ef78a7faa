// Helpers shared by the subscription routes: redirect-URL and tier validation, and the ids that make
// Stripe calls idempotent.

package billing

import (
	"context"
	"strconv"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/auth"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/stripeapi"
)

// onAppOrigin is platform.OnAppOrigin with billing's configuration.
func (set Settings) onAppOrigin(fields ...platform.RedirectField) error {
	return platform.OnAppOrigin(platform.Config{AppURL: set.AppURL, AppOrigins: set.AppOrigins}, fields...)
}

// parseTier validates a requested tier id.
func parseTier(field, id string, allowFree bool) (Tier, error) {
	t, ok := TierByID(id)
	if id == "" {
		return Tier{}, apperr.New(apperr.Invalid, "%s is required", field)
	}
	if !ok {
		if allowFree {
			return Tier{}, apperr.New(apperr.Invalid, "%s must be one of free, pro, enterprise", field)
		}
		return Tier{}, apperr.New(apperr.Invalid, "%s must be one of pro, enterprise", field)
	}
	if t.ID == TierFree && !allowFree {
		return Tier{}, apperr.New(apperr.Unprocessable, "the Free tier needs no checkout")
	}
	return t, nil
}

// operationID names the caller's operation for Stripe idempotency keys: derived from the caller's
// Idempotency-Key when given (so a client retry reuses the Stripe key too), else the request id.
func operationID(r *httpapi.Request, function string) string {
	if k := r.Header(httpapi.IdempotencyHeader); k != "" {
		return "k" + idempotency.Hash([]byte(function), []byte(r.Principal.UserID), []byte(k))[:40]
	}
	return "r" + r.ID
}

// stateKey names a change of a stored subscription for Stripe idempotency keys: the same change of the
// same stored version is one Stripe operation however often it is retried.
func stateKey(action string, sub Subscription, target string) string {
	return stripeapi.Key(action, sub.StripeSubscriptionID, target, "v"+strconv.FormatInt(sub.Version, 10))
}

// hasLiveSubscription: the user has a Stripe subscription that grants a paid tier now.
func hasLiveSubscription(sub Subscription, a Access) bool {
	return sub.StripeSubscriptionID != "" && a.Tier != TierFree
}

// openAtStripe: the stored Stripe subscription has not ended at Stripe (incomplete, trialing,
// active, past_due, unpaid, paused), whatever it entitles to now. A user has at most one: checkout
// is refused while one exists (docs/decisions/0036).
func openAtStripe(sub Subscription) bool {
	return sub.StripeSubscriptionID != "" && sub.Status != "" && !terminal(sub.Status)
}

// ensureCustomer returns the user's Stripe customer, creating it once: the creation's idempotency
// key is derived from the user id, and LinkStripeCustomer keeps the first id on file if two
// requests race.
func ensureCustomer(ctx context.Context, cs customers, sc stripeAPI, p auth.Principal) (string, error) {
	u, err := cs.GetUser(ctx, p.UserID)
	if err == nil && u.StripeCustomerID != "" {
		return u.StripeCustomerID, nil
	}
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return "", err
	}
	params := &stripe.CustomerParams{Metadata: map[string]string{"userId": p.UserID}}
	if p.Email != "" {
		params.Email = stripe.String(p.Email)
	}
	cus, err := sc.CreateCustomer(ctx, params, stripeapi.Key("customer", p.UserID))
	if err != nil {
		return "", err
	}
	return cs.LinkStripeCustomer(ctx, p.UserID, p.Email, cus.ID)
}
