// Helpers shared by the subscription routes: redirect-URL and tier validation, and the ids that make
// Stripe calls idempotent.

package billing

import (
	"context"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/auth"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

// maxURLLength bounds redirect URLs passed to Stripe.
const maxURLLength = 2048

// validateRedirectURL accepts an absolute https URL, or http for a loopback host (local
// development), without credentials, at most maxURLLength long.
func validateRedirectURL(field, raw string) error {
	if raw == "" {
		return apperr.New(apperr.Invalid, "%s is required", field)
	}
	if len(raw) > maxURLLength {
		return apperr.New(apperr.Invalid, "%s must be at most %d characters", field, maxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return apperr.New(apperr.Invalid, "%s must be an absolute URL", field)
	}
	if u.User != nil {
		return apperr.New(apperr.Invalid, "%s must not contain credentials", field)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
	}
	return apperr.New(apperr.Invalid, "%s must use https (http is allowed only for localhost)", field)
}

// checkAppOrigin refuses a redirect URL outside the web app's origins, so Checkout and the portal
// can only send a user back to us (no open redirect through a Stripe-hosted page). Without APP_URL
// the function is misconfigured: a 500 whose log names the variable, never a guess such as localhost.
func checkAppOrigin(set Settings, field, raw string) error {
	if set.AppURL == "" || len(set.AppOrigins) == 0 {
		return apperr.New(apperr.Internal, "configuration: %s is not set, so no redirect URL can be accepted; set it to the web app's URL",
			manifest.EnvAppURL)
	}
	origins := set.AppOrigins
	o := platform.Origin(raw)
	if slices.Contains(origins, o) {
		return nil
	}
	return apperr.New(apperr.Invalid, "%s must be on the web app's origin (%s)", field, strings.Join(origins, ", "))
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
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
func stateKey(action string, sub store.Subscription, target string) string {
	return stripeapi.Key(action, sub.StripeSubscriptionID, target, "v"+strconv.FormatInt(sub.Version, 10))
}

// hasLiveSubscription: the user has a Stripe subscription that grants a paid tier now.
func hasLiveSubscription(sub store.Subscription, a Access) bool {
	return sub.StripeSubscriptionID != "" && a.Tier != TierFree
}

// openAtStripe: the stored Stripe subscription has not ended at Stripe (incomplete, trialing,
// active, past_due, unpaid, paused), whatever it entitles to now. A user has at most one: checkout
// is refused while one exists (docs/decisions/0036).
func openAtStripe(sub store.Subscription) bool {
	return sub.StripeSubscriptionID != "" && sub.Status != "" && !terminal(sub.Status)
}

// ensureCustomer returns the user's Stripe customer, creating it once: the creation's idempotency
// key is derived from the user id, and store.LinkStripeCustomer keeps the first id on file if two
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
