// Helpers shared by the subscription routes: redirect-URL and tier validation, Stripe client and
// error mapping, and the ids that make Stripe calls idempotent.

package billing

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/auth"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
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
// can only send a user back to us (no open redirect through a Stripe-hosted page).
func checkAppOrigin(origins []string, field, raw string) error {
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
	return action + "-" + sub.StripeSubscriptionID + "-" + target + "-v" + strconv.FormatInt(sub.Version, 10)
}

// stripeFailure turns a Stripe API error into a caller-safe error.
func stripeFailure(err error, what string) error {
	var se *stripe.Error
	if errors.As(err, &se) {
		switch {
		case se.Type == stripe.ErrorTypeCard:
			return apperr.Wrap(err, apperr.Unprocessable, "%s: the payment was declined", what)
		case se.Type == stripe.ErrorTypeIdempotency:
			return apperr.Wrap(err, apperr.Conflict, "%s: a different request is using this operation; retry", what)
		case se.HTTPStatusCode == http.StatusTooManyRequests || se.HTTPStatusCode >= 500:
			return apperr.Wrap(err, apperr.Unavailable, "%s failed", what)
		case se.HTTPStatusCode >= 400:
			return apperr.Wrap(err, apperr.Unprocessable, "%s was refused by the payment provider", what)
		}
	}
	return apperr.Wrap(err, apperr.Unavailable, "%s failed", what)
}

func stripeClient(ctx context.Context, d *Deps) (*client.API, error) {
	if d.Stripe == nil {
		return nil, apperr.New(apperr.Internal, "this function has no Stripe client: declare Stripe in its manifest entry")
	}
	return d.Stripe.API(ctx)
}

// hasLiveSubscription: the user has a Stripe subscription that grants a paid tier now.
func hasLiveSubscription(sub store.Subscription, a Access) bool {
	return sub.StripeSubscriptionID != "" && a.Tier != TierFree
}

// ensureCustomer returns the user's Stripe customer, creating it once: the creation's idempotency
// key is derived from the user id, and store.LinkStripeCustomer keeps the first id on file if two
// requests race.
func ensureCustomer(ctx context.Context, d *Deps, sc *client.API, p auth.Principal) (string, error) {
	u, err := d.Store.GetUser(ctx, p.UserID)
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
	params.SetIdempotencyKey("customer-" + p.UserID)
	cus, err := sc.Customers.New(params)
	if err != nil {
		return "", stripeFailure(err, "creating the customer")
	}
	return d.Store.LinkStripeCustomer(ctx, p.UserID, p.Email, cus.ID)
}
