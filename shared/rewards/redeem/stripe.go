package redeem

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

// stripePayments is Payments (ports.go) on the Stripe API: this file and revoke.go.
type stripePayments struct {
	stripe *stripeapi.Client
	store  *store.Store
}

// NewCouponCode draws a coupon code: "LIB20-" and 10 random Crockford characters (50 bits from
// crypto/rand), the shape the marketplace accepts ("LIB20-2M9QXA4D0Z"). It is also the Stripe
// coupon's id, so the marketplace can look it up. Drawn once, when the redemption is approved, and
// stored on it, so every retry creates (or deletes) the same coupon. Never derived from anything
// the learner sees: the redemption id is in every answer and e-mail.
func NewCouponCode() string {
	const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand: " + err.Error()) // never fails on Linux; a guessable code is worse than a crash
	}
	for i := range b {
		b[i] = crockford[b[i]&31]
	}
	return "LIB20-" + string(b[:])
}

// legacyCouponCode is the code of a coupon approved before codes were drawn at random (it was the
// redemption id's last 10 characters): the only id such a coupon can have at Stripe.
func legacyCouponCode(red rewards.Redemption) string {
	return "LIB20-" + strings.ToUpper(red.ID[len(red.ID)-10:])
}

// couponID is the Stripe id of the redemption's coupon.
func couponID(red rewards.Redemption) string {
	if red.CouponCode != "" {
		return red.CouponCode
	}
	return legacyCouponCode(red)
}

func (p *stripePayments) IssueCoupon(ctx context.Context, red rewards.Redemption, rw rewardcatalog.Reward) (string, error) {
	api, err := p.stripe.API(ctx)
	if err != nil {
		return "", err
	}
	code := couponID(red)
	// Fixed by the approval time, so a retry sends the same parameters under the same key.
	redeemBy := red.ApprovedAt.Add(rewardcatalog.CouponValidDays * 24 * time.Hour).Unix()
	params := &stripe.CouponParams{
		ID:             stripe.String(code),
		Name:           stripe.String(rw.Name + " (Liberation rewards)"),
		PercentOff:     stripe.Float64(float64(rw.PercentOff)),
		Duration:       stripe.String(string(stripe.CouponDurationOnce)),
		MaxRedemptions: stripe.Int64(1),
		RedeemBy:       stripe.Int64(redeemBy),
		Metadata:       map[string]string{"userId": red.UserID, "redemptionId": red.ID, "rewardId": rw.ID},
	}
	stripeapi.Bind(ctx, &params.Params, stripeapi.Key("redemption", red.ID, "coupon"))
	c, err := api.Coupons.New(params)
	if err == nil {
		return c.ID, nil
	}
	// After Stripe forgot the idempotency key (24 h), a retry finds its own coupon: that is success.
	var se *stripe.Error
	if errors.As(err, &se) && se.Code == stripe.ErrorCodeResourceAlreadyExists {
		get := &stripe.CouponParams{}
		stripeapi.Bind(ctx, &get.Params, "")
		if c, gErr := api.Coupons.Get(code, get); gErr == nil && c.Metadata["redemptionId"] == red.ID {
			return c.ID, nil
		}
	}
	return "", stripeapi.Error(err, "creating the coupon")
}

func (p *stripePayments) CreditBalance(ctx context.Context, red rewards.Redemption, rw rewardcatalog.Reward) (string, string, error) {
	api, err := p.stripe.API(ctx)
	if err != nil {
		return "", "", err
	}
	cus, err := p.customer(ctx, red)
	if err != nil {
		return "", "", err
	}
	// A previous attempt that got no answer may have credited already; its key may be forgotten.
	if red.FulfilmentAttempts > 0 {
		list := &stripe.CustomerBalanceTransactionListParams{Customer: stripe.String(cus)}
		list.Limit = stripe.Int64(100)
		list.Context = ctx
		it := api.CustomerBalanceTransactions.List(list)
		for it.Next() {
			if t := it.CustomerBalanceTransaction(); t.Metadata["redemptionId"] == red.ID && t.Metadata["reverses"] == "" {
				return cus, t.ID, nil
			}
		}
		if err := it.Err(); err != nil {
			return "", "", stripeapi.Error(err, "reading the customer's balance")
		}
	}
	params := &stripe.CustomerBalanceTransactionParams{
		Customer:    stripe.String(cus),
		Amount:      stripe.Int64(-rw.CreditCents), // negative: a credit the customer's invoices use up
		Currency:    stripe.String(rw.Currency),
		Description: stripe.String("Liberation rewards: " + rw.Name),
		Metadata:    map[string]string{"userId": red.UserID, "redemptionId": red.ID, "rewardId": rw.ID},
	}
	stripeapi.Bind(ctx, &params.Params, stripeapi.Key("redemption", red.ID, "credit"))
	t, err := api.CustomerBalanceTransactions.New(params)
	if err != nil {
		return cus, "", stripeapi.Error(err, "crediting the customer balance")
	}
	return cus, t.ID, nil
}

// customer returns the user's Stripe customer, creating it as billing does (same idempotency key
// "customer-<userId>", same parameters), so that whichever area creates it first, both end up with
// one customer linked to the user (records.Records.LinkStripeCustomer keeps the first id).
func (p *stripePayments) customer(ctx context.Context, red rewards.Redemption) (string, error) {
	u, err := records.Records{S: p.store}.GetUser(ctx, red.UserID)
	if err == nil && u.StripeCustomerID != "" {
		return u.StripeCustomerID, nil
	}
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return "", err
	}
	api, err := p.stripe.API(ctx)
	if err != nil {
		return "", err
	}
	params := &stripe.CustomerParams{Metadata: map[string]string{"userId": red.UserID}}
	if red.Email != "" {
		params.Email = stripe.String(red.Email)
	}
	stripeapi.Bind(ctx, &params.Params, stripeapi.Key("customer", red.UserID))
	cus, err := api.Customers.New(params)
	if err != nil {
		return "", stripeapi.Error(err, "creating the customer")
	}
	return records.Records{S: p.store}.LinkStripeCustomer(ctx, red.UserID, red.Email, cus.ID)
}
