package redeem

import (
	"context"

	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
)

// What the admin side of the redemption workflow needs beyond rewards' ports (the ledger and the
// redemptions, reached through rewards.Deps): Stripe, as Payments below — stripePayments
// (stripe.go, revoke.go) in production, an in-memory fake in the unit tests — and a mail.Sender.
// The package builds no DynamoDB input: beside rewards' repository it only hands the store to the
// shared frames (the Idempotency-Key records, the e-mail dedupe, licensing's branding, the user
// record of the Stripe customer).

// Payments is what fulfilment and rejection need from Stripe. Each call is idempotent on the
// redemption: the same redemption never yields two coupons or two credits, nor two reversals
// (docs/decisions/0044).
type Payments interface {
	// IssueCoupon creates the redemption's single-use coupon (id red.CouponCode) and returns its code.
	IssueCoupon(ctx context.Context, red rewards.Redemption, rw rewardcatalog.Reward) (code string, err error)
	// CreditBalance credits the reward to the user's Stripe customer balance, creating the customer
	// when the user has none yet, and returns the customer and the balance transaction.
	CreditBalance(ctx context.Context, red rewards.Redemption, rw rewardcatalog.Reward) (customerID, txn string, err error)
	// RevokeCoupon deletes the redemption's coupon; one that does not exist (never created, or
	// already deleted) is revoked.
	RevokeCoupon(ctx context.Context, red rewards.Redemption) error
	// ReverseCredit reverses the redemption's credit, if Stripe has one, with a balance transaction
	// of the opposite amount (Stripe's balance transactions cannot be deleted).
	ReverseCredit(ctx context.Context, red rewards.Redemption) error
}
