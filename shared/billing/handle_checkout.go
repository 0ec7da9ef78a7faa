package billing

import (
	"context"
	"net/http"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
)

type checkoutRequest struct {
	Tier       string `json:"tier"`
	SuccessURL string `json:"successUrl"`
	CancelURL  string `json:"cancelUrl"`
}

func (c checkoutRequest) Validate() error {
	if _, err := parseTier("tier", c.Tier, false); err != nil {
		return err
	}
	if err := validateRedirectURL("successUrl", c.SuccessURL); err != nil {
		return err
	}
	return validateRedirectURL("cancelUrl", c.CancelURL)
}

// CheckoutResponse is the answer of POST /subscription/checkout.
type CheckoutResponse struct {
	URL       string `json:"url"`
	SessionID string `json:"sessionId"`
}

// HandleCreateCheckout serves POST /subscription/checkout: a Stripe Checkout Session (mode
// subscription) for the caller's Stripe customer.
func HandleCreateCheckout(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.Idempotent(d.Store, fn.Name, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req checkoutRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		if err := checkAppOrigin(d.Config.AppOrigins, "successUrl", req.SuccessURL); err != nil {
			return httpapi.Response{}, err
		}
		if err := checkAppOrigin(d.Config.AppOrigins, "cancelUrl", req.CancelURL); err != nil {
			return httpapi.Response{}, err
		}
		tier, _ := TierByID(req.Tier)
		price := tier.PriceID(pricesOf(d))
		if price == "" {
			return httpapi.Response{}, apperr.New(apperr.Internal, "no Stripe price configured for %s", tier.ID)
		}
		userID := r.Principal.UserID
		sub, err := loadSubscription(ctx, d, userID)
		if err != nil {
			return httpapi.Response{}, err
		}
		if hasLiveSubscription(sub, AccessAt(sub, d.Clock.Now())) {
			return httpapi.Response{}, apperr.New(apperr.Conflict,
				"you already have an active subscription; change it with PUT /subscription")
		}
		sc, err := stripeClient(ctx, d)
		if err != nil {
			return httpapi.Response{}, err
		}
		customerID, err := ensureCustomer(ctx, d, sc, r.Principal)
		if err != nil {
			return httpapi.Response{}, err
		}
		md := map[string]string{"userId": userID, "tier": tier.ID}
		params := &stripe.CheckoutSessionParams{
			Mode:              stripe.String(string(stripe.CheckoutSessionModeSubscription)),
			Customer:          stripe.String(customerID),
			ClientReferenceID: stripe.String(userID),
			LineItems:         []*stripe.CheckoutSessionLineItemParams{{Price: stripe.String(price), Quantity: stripe.Int64(1)}},
			SuccessURL:        stripe.String(req.SuccessURL),
			CancelURL:         stripe.String(req.CancelURL),
			Metadata:          md,
			SubscriptionData:  &stripe.CheckoutSessionSubscriptionDataParams{Metadata: md},
		}
		params.SetIdempotencyKey("checkout-" + operationID(r, fn.Name))
		sess, err := sc.CheckoutSessions.New(params)
		if err != nil {
			return httpapi.Response{}, stripeFailure(err, "starting checkout")
		}
		if err := audit.Write(ctx, d.Store, audit.Entry{Actor: userID, Action: "subscription.checkout",
			Target: "checkout:" + sess.ID, RequestID: r.ID,
			Details: map[string]string{"tier": tier.ID, "customer": customerID}}); err != nil {
			r.Log.Warn("audit record not written", "err", err.Error())
		}
		return httpapi.JSON(http.StatusCreated, CheckoutResponse{URL: sess.URL, SessionID: sess.ID}), nil
	}))
}

type portalRequest struct {
	ReturnURL string `json:"returnUrl"`
}

func (p portalRequest) Validate() error { return validateRedirectURL("returnUrl", p.ReturnURL) }

// HandleCreatePortalSession serves POST /subscription/portal: a Stripe Customer Portal session.
func HandleCreatePortalSession(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req portalRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		if err := checkAppOrigin(d.Config.AppOrigins, "returnUrl", req.ReturnURL); err != nil {
			return httpapi.Response{}, err
		}
		u, err := d.Store.GetUser(ctx, r.Principal.UserID)
		if (err == nil && u.StripeCustomerID == "") || apperr.Is(err, apperr.NotFound) {
			return httpapi.Response{}, apperr.New(apperr.Unprocessable, "there is no billing account yet; subscribe first")
		}
		if err != nil {
			return httpapi.Response{}, err
		}
		sc, err := stripeClient(ctx, d)
		if err != nil {
			return httpapi.Response{}, err
		}
		params := &stripe.BillingPortalSessionParams{Customer: stripe.String(u.StripeCustomerID), ReturnURL: stripe.String(req.ReturnURL)}
		params.SetIdempotencyKey("portal-" + operationID(r, fn.Name))
		ps, err := sc.BillingPortalSessions.New(params)
		if err != nil {
			return httpapi.Response{}, stripeFailure(err, "opening the billing portal")
		}
		return httpapi.OK(map[string]string{"url": ps.URL}), nil
	})
}
