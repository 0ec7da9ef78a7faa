package payments

import (
	"context"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/stripeapi"
)

// maxListedRefunds bounds one charge's refund list. Convergence needs the complete list (it
// retires placeholders and releases reservations Stripe has no refund for), so a longer list is an
// error rather than a silently truncated one.
const maxListedRefunds = 1000

// stripeRefunds is the RefundGateway over the platform's Stripe port: every call carries the
// request's context (its deadline) and, for a POST, our idempotency key.
type stripeRefunds struct{ c *stripeapi.Client }

// CreateRefund implements RefundGateway.
func (g stripeRefunds) CreateRefund(ctx context.Context, o RefundOrder) (StripeRefund, error) {
	api, err := g.c.API(ctx)
	if err != nil {
		return StripeRefund{}, err
	}
	params := &stripe.RefundParams{Amount: stripe.Int64(o.AmountCents), Reason: stripe.String(o.Reason), Metadata: o.Metadata}
	if o.ChargeID != "" {
		params.Charge = stripe.String(o.ChargeID)
	} else {
		params.PaymentIntent = stripe.String(o.PaymentIntentID)
	}
	stripeapi.Bind(ctx, &params.Params, o.IdempotencyKey)
	rf, err := api.Refunds.New(params)
	if err != nil {
		return StripeRefund{}, err
	}
	if rf == nil || rf.ID == "" {
		return StripeRefund{}, &stripeapi.Failure{Kind: stripeapi.Ambiguous, Code: "empty_answer",
			Err: apperr.New(apperr.Unavailable, "Stripe returned no refund")}
	}
	return fromStripeRefund(rf), nil
}

// ListRefunds implements RefundGateway.
func (g stripeRefunds) ListRefunds(ctx context.Context, chargeID, paymentIntentID string) ([]StripeRefund, error) {
	api, err := g.c.API(ctx)
	if err != nil {
		return nil, err
	}
	params := &stripe.RefundListParams{}
	if chargeID != "" {
		params.Charge = stripe.String(chargeID)
	} else {
		params.PaymentIntent = stripe.String(paymentIntentID)
	}
	params.Limit = stripe.Int64(100)
	params.Context = ctx // list params carry their own context (stripeapi.Bind takes a POST's Params)
	var out []StripeRefund
	it := api.Refunds.List(params)
	for it.Next() {
		if len(out) == maxListedRefunds {
			return nil, apperr.New(apperr.Unavailable, "charge %s has more than %d refunds", chargeID, maxListedRefunds)
		}
		out = append(out, fromStripeRefund(it.Refund()))
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func fromStripeRefund(rf *stripe.Refund) StripeRefund {
	out := StripeRefund{ID: rf.ID, AmountCents: rf.Amount, Currency: strings.ToLower(string(rf.Currency)),
		Status: string(rf.Status), Reason: string(rf.Reason), OperationID: rf.Metadata["operationId"],
		RequestedBy: rf.Metadata["requestedBy"]}
	if rf.Charge != nil {
		out.ChargeID = rf.Charge.ID
	}
	if rf.PaymentIntent != nil {
		out.PaymentIntentID = rf.PaymentIntent.ID
	}
	if rf.Created > 0 {
		out.Created = time.Unix(rf.Created, 0).UTC()
	}
	return out
}

// StripeGateway is the RefundGateway over a Stripe client (functions build theirs from the
// runtime; tests point one at a fault-injecting proxy).
func StripeGateway(c *stripeapi.Client) RefundGateway { return stripeRefunds{c: c} }
