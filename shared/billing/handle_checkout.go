package billing

import (
	"context"
	"net/http"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/stripeapi"
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
	if err := platform.ValidRedirectURL("successUrl", c.SuccessURL); err != nil {
		return err
	}
	return platform.ValidRedirectURL("cancelUrl", c.CancelURL)
}

// CheckoutResponse is the answer of POST /subscription/checkout.
type CheckoutResponse struct {
	URL       string `json:"url"`
	SessionID string `json:"sessionId"`
}

// checkoutDeps is what POST /subscription/checkout uses.
type checkoutDeps struct {
	subs      subscriptionReader
	customers customers
	audit     auditor
	idem      idempotency.Store
	stripe    stripeAPI
	settings  Settings
}

func wireCreateCheckout(w wiring) (httpapi.Lambda, error) {
	return HandleCreateCheckout(w.rt.Fn, checkoutDeps{subs: w.repo, customers: w.repo, audit: w.repo, idem: w.repo,
		stripe: w.stripe, settings: w.set}), nil
}

// HandleCreateCheckout serves POST /subscription/checkout: a Stripe Checkout Session (mode
// subscription) for the caller's Stripe customer. It is refused (409) while the caller has a Stripe
// subscription that has not ended — one live subscription per user; changes go through
// PUT /subscription or the billing portal.
func HandleCreateCheckout(fn manifest.Function, d checkoutDeps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.Idempotent(d.idem, fn.Name, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req checkoutRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		if err := d.settings.onAppOrigin(platform.RedirectField{Name: "successUrl", URL: req.SuccessURL},
			platform.RedirectField{Name: "cancelUrl", URL: req.CancelURL}); err != nil {
			return httpapi.Response{}, err
		}
		tier, _ := TierByID(req.Tier)
		price := tier.PriceID(d.settings.Prices)
		if price == "" {
			return httpapi.Response{}, apperr.New(apperr.Internal, "no Stripe price configured for %s", tier.ID)
		}
		userID := r.Principal.UserID
		sub, err := loadSubscription(ctx, d.subs, userID)
		if err != nil {
			return httpapi.Response{}, err
		}
		if openAtStripe(sub) {
			return httpapi.Response{}, apperr.New(apperr.Conflict,
				"you already have a subscription (status %s); manage it in the billing portal (POST /subscription/portal) "+
					"or change its tier with PUT /subscription", sub.Status)
		}
		customerID, err := ensureCustomer(ctx, d.customers, d.stripe, r.Principal)
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
		sess, err := d.stripe.CreateCheckoutSession(ctx, params, stripeapi.Key("checkout", operationID(r, fn.Name)))
		if err != nil {
			return httpapi.Response{}, err
		}
		if err := d.audit.WriteAudit(ctx, audit.Entry{Actor: userID, Action: "subscription.checkout",
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

func (p portalRequest) Validate() error { return platform.ValidRedirectURL("returnUrl", p.ReturnURL) }

// portalDeps is what POST /subscription/portal uses.
type portalDeps struct {
	customers customers
	stripe    stripeAPI
	settings  Settings
}

func wireCreatePortalSession(w wiring) (httpapi.Lambda, error) {
	return HandleCreatePortalSession(w.rt.Fn, portalDeps{customers: w.repo, stripe: w.stripe, settings: w.set}), nil
}

// HandleCreatePortalSession serves POST /subscription/portal: a Stripe Customer Portal session.
func HandleCreatePortalSession(fn manifest.Function, d portalDeps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req portalRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		if err := d.settings.onAppOrigin(platform.RedirectField{Name: "returnUrl", URL: req.ReturnURL}); err != nil {
			return httpapi.Response{}, err
		}
		u, err := d.customers.GetUser(ctx, r.Principal.UserID)
		if (err == nil && u.StripeCustomerID == "") || apperr.Is(err, apperr.NotFound) {
			return httpapi.Response{}, apperr.New(apperr.Unprocessable, "there is no billing account yet; subscribe first")
		}
		if err != nil {
			return httpapi.Response{}, err
		}
		params := &stripe.BillingPortalSessionParams{Customer: stripe.String(u.StripeCustomerID), ReturnURL: stripe.String(req.ReturnURL)}
		ps, err := d.stripe.CreatePortalSession(ctx, params, stripeapi.Key("portal", operationID(r, fn.Name)))
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(map[string]string{"url": ps.URL}), nil
	})
}
