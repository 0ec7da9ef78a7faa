package redeem

import (
	"context"
	"errors"
	"strconv"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/stripeapi"
)

// Revoking a reward at Stripe, so that a rejected redemption leaves nothing live there: the coupon
// deleted (Stripe then refuses it at checkout), the credit reversed by a balance transaction of the
// opposite amount. Both are safe to repeat: a deleted coupon is a 404 the second time, and the
// reversal carries its own idempotency key and is looked up before it is made again.

func (p *stripePayments) RevokeCoupon(ctx context.Context, red rewards.Redemption) error {
	api, err := p.stripe.API(ctx)
	if err != nil {
		return err
	}
	params := &stripe.CouponParams{}
	stripeapi.Bind(ctx, &params.Params, "")
	_, err = api.Coupons.Del(couponID(red), params)
	var se *stripe.Error
	if err == nil || errors.As(err, &se) && se.HTTPStatusCode == 404 {
		return nil // deleted now, before, or never created
	}
	return stripeapi.Error(err, "deleting the coupon")
}

func (p *stripePayments) ReverseCredit(ctx context.Context, red rewards.Redemption) error {
	cus := red.StripeCustomerID
	if cus == "" {
		u, err := records.Records{S: p.store}.GetUser(ctx, red.UserID)
		if apperr.Is(err, apperr.NotFound) {
			return nil // no customer: CreditBalance links one before it credits, so nothing was credited
		}
		if err != nil {
			return err
		}
		if cus = u.StripeCustomerID; cus == "" {
			return nil
		}
	}
	api, err := p.stripe.API(ctx)
	if err != nil {
		return err
	}
	// The credit (and a reversal made before whose key Stripe may have forgotten), by metadata.
	list := &stripe.CustomerBalanceTransactionListParams{Customer: stripe.String(cus)}
	list.Limit = stripe.Int64(100)
	list.Context = ctx
	var credit *stripe.CustomerBalanceTransaction
	it := api.CustomerBalanceTransactions.List(list)
	for it.Next() {
		t := it.CustomerBalanceTransaction()
		switch {
		case t.Metadata["redemptionId"] != red.ID:
		case t.Metadata["reverses"] != "":
			return nil // reversed already
		default:
			credit = t
		}
	}
	if err := it.Err(); err != nil {
		if se := (*stripe.Error)(nil); errors.As(err, &se) && se.HTTPStatusCode == 404 {
			return nil // the customer is gone, and its balance with it
		}
		return stripeapi.Error(err, "reading the customer's balance")
	}
	if credit == nil {
		return nil // never credited
	}
	params := &stripe.CustomerBalanceTransactionParams{
		Customer:    stripe.String(cus),
		Amount:      stripe.Int64(-credit.Amount), // positive: takes the credit back
		Currency:    stripe.String(string(credit.Currency)),
		Description: stripe.String("Liberation rewards: " + red.RewardName + " (request not approved)"),
		Metadata: map[string]string{"userId": red.UserID, "redemptionId": red.ID, "reverses": credit.ID,
			"amount": strconv.FormatInt(credit.Amount, 10)},
	}
	stripeapi.Bind(ctx, &params.Params, stripeapi.Key("redemption", red.ID, "credit-reversal"))
	if _, err := api.CustomerBalanceTransactions.New(params); err != nil {
		return stripeapi.Error(err, "reversing the customer balance credit")
	}
	return nil
}
