// Package catalog is the rewards catalogue — what tokens can be spent on and how each reward is
// fulfilled — and the public GET /rewards route. It links no DynamoDB client: the catalogue is code.
package rewardcatalog

import (
	"context"
	"net/http"

	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/platform"
)

// Fulfilment says how an approved redemption is delivered.
type Fulfilment string

const (
	// StripeCoupon: a single-use Stripe coupon whose id is the code, marked with the user's id; the
	// marketplace checkout applies it (discounts[0][coupon]) to that user's purchase only
	// (docs/decisions/0043).
	StripeCoupon Fulfilment = "stripe_coupon"
	// StripeCredit: a credit on the user's Stripe customer balance, used by their next invoices.
	StripeCredit Fulfilment = "stripe_credit"
	// Manual: an operator ships it and marks it fulfilled (POST /admin/redemptions/{id}/fulfil).
	Manual Fulfilment = "manual"
)

// Reward is one item of the catalogue.
type Reward struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Cost        int64      `json:"cost"` // tokens
	Fulfilment  Fulfilment `json:"fulfilment"`
	// NeedsShipping: the redemption request must carry a shipping address.
	NeedsShipping bool `json:"needsShipping"`
	// PercentOff (coupons) and CreditCents/Currency (credits) describe the Stripe object created.
	PercentOff  int64  `json:"percentOff,omitempty"`
	CreditCents int64  `json:"creditCents,omitempty"`
	Currency    string `json:"currency,omitempty"`
}

// Reward ids.
const (
	CourseCoupon       = "course-coupon-20"
	SubscriptionCredit = "subscription-credit-5"
	Merchandise        = "merchandise-pack"
)

// CouponValidDays is how long a coupon can be redeemed after it is issued.
const CouponValidDays = 90

var rewards = []Reward{
	{ID: CourseCoupon, Name: "20% off a course", Cost: 500, Fulfilment: StripeCoupon, PercentOff: 20,
		Description: "A single-use code for 20% off one course in the marketplace, valid for 90 days."},
	{ID: SubscriptionCredit, Name: "$5 subscription credit", Cost: 1000, Fulfilment: StripeCredit,
		CreditCents: 500, Currency: "usd",
		Description: "$5.00 credited to your account balance, taken off your next subscription invoices."},
	{ID: Merchandise, Name: "Liberation merchandise pack", Cost: 2000, Fulfilment: Manual, NeedsShipping: true,
		Description: "A t-shirt, stickers and a notebook, shipped to you. Needs a shipping address."},
}

// All returns the catalogue in display order.
func All() []Reward { return append([]Reward(nil), rewards...) }

// ByID returns a reward.
func ByID(id string) (Reward, bool) {
	for _, r := range rewards {
		if r.ID == id {
			return r, true
		}
	}
	return Reward{}, false
}

// wireListRewards builds GET /rewards.
func wireListRewards(rt *platform.Runtime) (httpapi.Lambda, error) {
	return httpapi.Route(rt.Fn, func(context.Context, *httpapi.Request) (httpapi.Response, error) {
		return httpapi.Response{Status: http.StatusOK, Body: map[string]any{"rewards": All()},
			Headers: map[string]string{"cache-control": "public, max-age=300"}}, nil
	}), nil
}

// newWiring: the package's functions need nothing but their runtime (decision 0074).
func newWiring(rt *platform.Runtime) (*platform.Runtime, error) { return rt, nil }
