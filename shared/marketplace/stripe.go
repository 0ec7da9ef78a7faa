package marketplace

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/stripeapi"
)

// StripePort is everything the marketplace asks of Stripe. The real one goes through stripeapi
// (one client, timeouts sized to the function, idempotency keys from our ids, definite-vs-ambiguous
// errors); tests pass fakes.
type StripePort interface {
	// CourseCheckout starts a Checkout Session (mode payment) for one course.
	CourseCheckout(ctx context.Context, in CheckoutInput) (CheckoutSession, error)
	// ExpressAccount creates the instructor's Express account (one per instructor: the idempotency
	// key is derived from the instructor id).
	ExpressAccount(ctx context.Context, instructorID, email string) (string, error)
	// OnboardingLink returns an account link for Connect onboarding.
	OnboardingLink(ctx context.Context, accountID, refreshURL, returnURL, op string) (string, time.Time, error)
	// Transfer pays amount to the account, as payout payoutID (its idempotency key and transfer
	// group). An error keeps stripeapi's classification (stripeapi.IsAmbiguous).
	Transfer(ctx context.Context, in TransferInput) (string, error)
	// FindTransfer looks for the transfer of a payout in Stripe's records (by transfer group), to
	// resolve an ambiguous failure before trying again.
	FindTransfer(ctx context.Context, payoutID string) (string, bool, error)
	// Coupon reads a coupon by id (a rewards coupon's id is its code); apperr.NotFound when Stripe
	// has none.
	Coupon(ctx context.Context, id string) (Coupon, error)
	// ChargeRefunds lists a charge's refunds as Stripe has them now (API 2023-10-16 charge events
	// carry no refunds list).
	ChargeRefunds(ctx context.Context, chargeID, paymentIntentID string) ([]StripeRefund, error)
	// ChargeDisputes lists a charge's disputes as Stripe has them now.
	ChargeDisputes(ctx context.Context, chargeID, paymentIntentID string) ([]StripeDispute, error)
	// ExpireCheckout expires an open Checkout Session; ErrCheckoutComplete when it was paid.
	ExpireCheckout(ctx context.Context, sessionID string) error
	// RefundPurchase refunds a course purchase in full (a second payment for a course the buyer
	// holds, or a currency we do not sell in). key makes it one Stripe operation.
	RefundPurchase(ctx context.Context, in RefundInput) (string, error)
	// AccountPayoutsEnabled reads whether a Connect account can receive payouts now.
	AccountPayoutsEnabled(ctx context.Context, accountID string) (bool, error)
}

// ErrCheckoutComplete is ExpireCheckout's answer for a session that was already paid.
var ErrCheckoutComplete = apperr.New(apperr.Conflict, "a payment for this course is being processed; it will appear in your courses shortly")

// StripeDispute is one dispute of a charge.
type StripeDispute struct {
	ID          string
	Status      string
	AmountCents int64
}

// RefundInput is a refund the marketplace asks for itself.
type RefundInput struct {
	PaymentIntentID, ChargeID string
	Reason                    string // our reason: duplicate_purchase, unsupported_currency
	SaleID, BuyerID           string
	Key                       string // idempotency key
}

// CheckoutInput is a course purchase's Checkout Session.
type CheckoutInput struct {
	UserID, Email, CourseID, InstructorID, Title string
	PriceCents                                   int64
	SuccessURL, CancelURL                        string
	Operation                                    string // our operation id (idempotency key)
	CouponID                                     string // a coupon checked for this buyer, or ""
	ExpiresAt                                    time.Time
}

// Coupon is a Stripe coupon as the marketplace checks it before applying it to a checkout.
type Coupon struct {
	ID         string
	Valid      bool   // Stripe's verdict: not deleted, not past redeem_by, redemptions left
	UserID     string // metadata.userId: the learner it was issued to (rewards' coupons)
	PercentOff float64
}

// CheckoutSession is what the buyer is sent to.
type CheckoutSession struct {
	ID, URL   string
	ExpiresAt time.Time
}

// checkoutLifetime is how long a course's Checkout Session stays open (Stripe accepts 30 minutes to
// 24 hours): long enough to pay, short enough that an abandoned one does not linger.
const checkoutLifetime = time.Hour

// TransferInput is one payout transfer.
type TransferInput struct {
	PayoutID, InstructorID, Period, AccountID, Currency string
	AmountCents                                         int64
}

// StripeRefund is one refund of a charge.
type StripeRefund struct {
	ID          string
	AmountCents int64
	Status      string
	Created     time.Time
}

// Counts reports whether the refund is money out (succeeded, or on its way): payments' rule
// (payments.RefundCounts), so the two ledgers agree about the same charge.
func (r StripeRefund) Counts() bool { return payments.RefundCounts(r.Status) }

// Metadata every course Checkout Session carries. RecordedBy tells payments' own webhook hook that
// the marketplace records this payment (with the sale, in one transaction) once the payments API
// for it exists; see docs/decisions/0062.
const (
	MetaRecordedBy = "recordedBy"
	RecordedBy     = "marketplace"
)

type stripePort struct{ c *stripeapi.Client }

// NewStripePort is the StripePort on the process's Stripe client.
func NewStripePort(c *stripeapi.Client) StripePort { return &stripePort{c: c} }

func (s *stripePort) CourseCheckout(ctx context.Context, in CheckoutInput) (CheckoutSession, error) {
	api, err := s.c.API(ctx)
	if err != nil {
		return CheckoutSession{}, err
	}
	md := map[string]string{"userId": in.UserID, "courseId": in.CourseID, "instructorId": in.InstructorID,
		"priceCents": strconv.FormatInt(in.PriceCents, 10), MetaRecordedBy: RecordedBy, "courseTitle": in.Title}
	p := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		ClientReferenceID: stripe.String(in.UserID),
		SuccessURL:        stripe.String(in.SuccessURL),
		CancelURL:         stripe.String(in.CancelURL),
		Metadata:          md,
		PaymentIntentData: &stripe.CheckoutSessionPaymentIntentDataParams{Metadata: md},
		LineItems: []*stripe.CheckoutSessionLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:    stripe.String("usd"),
				UnitAmount:  stripe.Int64(in.PriceCents),
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(in.Title)},
			},
		}},
	}
	if in.Email != "" {
		p.CustomerEmail = stripe.String(in.Email)
	}
	if !in.ExpiresAt.IsZero() {
		p.ExpiresAt = stripe.Int64(in.ExpiresAt.Unix())
	}
	if in.CouponID != "" {
		md["couponId"] = in.CouponID
		p.Discounts = []*stripe.CheckoutSessionDiscountParams{{Coupon: stripe.String(in.CouponID)}}
	}
	stripeapi.Bind(ctx, &p.Params, stripeapi.Key("course-checkout", in.UserID, in.CourseID, in.Operation))
	sess, err := api.CheckoutSessions.New(p)
	if err != nil {
		return CheckoutSession{}, stripeapi.Error(err, "starting checkout")
	}
	return CheckoutSession{ID: sess.ID, URL: sess.URL, ExpiresAt: time.Unix(sess.ExpiresAt, 0).UTC()}, nil
}

func (s *stripePort) ExpireCheckout(ctx context.Context, sessionID string) error {
	api, err := s.c.API(ctx)
	if err != nil {
		return err
	}
	p := &stripe.CheckoutSessionExpireParams{}
	stripeapi.Bind(ctx, &p.Params, stripeapi.Key("expire-checkout", sessionID))
	sess, err := api.CheckoutSessions.Expire(sessionID, p)
	var se *stripe.Error
	if errors.As(err, &se) && se.HTTPStatusCode == http.StatusBadRequest {
		// Only open sessions can be expired: a complete one was paid; an expired one is done.
		cur, gErr := api.CheckoutSessions.Get(sessionID, &stripe.CheckoutSessionParams{Params: stripe.Params{Context: ctx}})
		if gErr != nil {
			return stripeapi.Error(gErr, "reading the checkout session")
		}
		if cur.Status == stripe.CheckoutSessionStatusComplete {
			return ErrCheckoutComplete
		}
		return nil
	}
	if err != nil {
		return stripeapi.Error(err, "expiring the checkout session")
	}
	if sess.Status == stripe.CheckoutSessionStatusComplete {
		return ErrCheckoutComplete
	}
	return nil
}

func (s *stripePort) RefundPurchase(ctx context.Context, in RefundInput) (string, error) {
	api, err := s.c.API(ctx)
	if err != nil {
		return "", err
	}
	p := &stripe.RefundParams{Reason: stripe.String(string(stripe.RefundReasonDuplicate)),
		Metadata: map[string]string{"reason": in.Reason, "saleId": in.SaleID, "userId": in.BuyerID, "requestedBy": "marketplace"}}
	if in.Reason != "duplicate_purchase" {
		p.Reason = stripe.String(string(stripe.RefundReasonRequestedByCustomer))
	}
	if in.ChargeID != "" {
		p.Charge = stripe.String(in.ChargeID)
	} else {
		p.PaymentIntent = stripe.String(in.PaymentIntentID)
	}
	stripeapi.Bind(ctx, &p.Params, in.Key)
	r, err := api.Refunds.New(p)
	if err != nil {
		return "", stripeapi.Error(err, "refunding the purchase")
	}
	return r.ID, nil
}

func (s *stripePort) AccountPayoutsEnabled(ctx context.Context, accountID string) (bool, error) {
	api, err := s.c.API(ctx)
	if err != nil {
		return false, err
	}
	a, err := api.Accounts.GetByID(accountID, &stripe.AccountParams{Params: stripe.Params{Context: ctx}})
	if err != nil {
		return false, stripeapi.Error(err, "reading the Connect account")
	}
	return a.PayoutsEnabled, nil
}

func (s *stripePort) ChargeDisputes(ctx context.Context, chargeID, paymentIntentID string) ([]StripeDispute, error) {
	api, err := s.c.API(ctx)
	if err != nil {
		return nil, err
	}
	p := &stripe.DisputeListParams{}
	if p.Charge, p.PaymentIntent, err = ofCharge(chargeID, paymentIntentID); err != nil {
		return nil, err
	}
	p.Limit = stripe.Int64(maxRefundsListed)
	p.Context = ctx // a read: no idempotency key
	var out []StripeDispute
	it := api.Disputes.List(p)
	for it.Next() && len(out) < maxRefundsListed {
		dp := it.Dispute()
		if chargesDiffer(chargeID, paymentIntentID, dp.Charge, dp.PaymentIntent) {
			continue
		}
		out = append(out, StripeDispute{ID: dp.ID, Status: string(dp.Status), AmountCents: dp.Amount})
	}
	if err := it.Err(); err != nil {
		return nil, stripeapi.Error(err, "listing the charge's disputes")
	}
	return out, nil
}

// ofCharge is a list's filter: by charge when it is known, else by PaymentIntent.
func ofCharge(chargeID, paymentIntentID string) (charge, intent *string, err error) {
	switch {
	case chargeID != "":
		return stripe.String(chargeID), nil, nil
	case paymentIntentID != "":
		return nil, stripe.String(paymentIntentID), nil
	}
	return nil, nil, apperr.New(apperr.Invalid, "a charge or payment intent id is needed to list its refunds or disputes")
}

// chargesDiffer reports an object listed for another charge than the one asked about: a list that
// ignored its filter (stripe-mock answers fixtures) must not count it.
func chargesDiffer(chargeID, paymentIntentID string, ch *stripe.Charge, pi *stripe.PaymentIntent) bool {
	if chargeID != "" {
		return ch == nil || ch.ID != chargeID
	}
	return pi == nil || pi.ID != paymentIntentID
}

func (s *stripePort) Coupon(ctx context.Context, id string) (Coupon, error) {
	api, err := s.c.API(ctx)
	if err != nil {
		return Coupon{}, err
	}
	p := &stripe.CouponParams{}
	stripeapi.Bind(ctx, &p.Params, "")
	c, err := api.Coupons.Get(id, p)
	var se *stripe.Error
	if errors.As(err, &se) && se.HTTPStatusCode == http.StatusNotFound {
		return Coupon{}, apperr.New(apperr.NotFound, "no coupon %s", id)
	}
	if err != nil {
		return Coupon{}, stripeapi.Error(err, "reading the coupon")
	}
	return Coupon{ID: c.ID, Valid: c.Valid && !c.Deleted, UserID: c.Metadata["userId"], PercentOff: c.PercentOff}, nil
}

func (s *stripePort) ExpressAccount(ctx context.Context, instructorID, email string) (string, error) {
	api, err := s.c.API(ctx)
	if err != nil {
		return "", err
	}
	p := &stripe.AccountParams{
		Type:     stripe.String(string(stripe.AccountTypeExpress)),
		Metadata: map[string]string{"userId": instructorID},
		Capabilities: &stripe.AccountCapabilitiesParams{
			Transfers: &stripe.AccountCapabilitiesTransfersParams{Requested: stripe.Bool(true)},
		},
	}
	if email != "" {
		p.Email = stripe.String(email)
	}
	stripeapi.Bind(ctx, &p.Params, stripeapi.Key("connect-account", instructorID))
	a, err := api.Accounts.New(p)
	if err != nil {
		return "", stripeapi.Error(err, "creating the Connect account")
	}
	return a.ID, nil
}

func (s *stripePort) OnboardingLink(ctx context.Context, accountID, refreshURL, returnURL, op string) (string, time.Time, error) {
	api, err := s.c.API(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	p := &stripe.AccountLinkParams{Account: stripe.String(accountID), RefreshURL: stripe.String(refreshURL),
		ReturnURL: stripe.String(returnURL), Type: stripe.String("account_onboarding")}
	stripeapi.Bind(ctx, &p.Params, stripeapi.Key("account-link", accountID, op))
	l, err := api.AccountLinks.New(p)
	if err != nil {
		return "", time.Time{}, stripeapi.Error(err, "creating the onboarding link")
	}
	return l.URL, time.Unix(l.ExpiresAt, 0).UTC(), nil
}

func (s *stripePort) Transfer(ctx context.Context, in TransferInput) (string, error) {
	api, err := s.c.API(ctx)
	if err != nil {
		return "", err
	}
	p := &stripe.TransferParams{
		Amount: stripe.Int64(in.AmountCents), Currency: stripe.String(in.Currency),
		Destination: stripe.String(in.AccountID), TransferGroup: stripe.String(in.PayoutID),
		Description: stripe.String("Liberation instructor payout " + in.Period),
		Metadata:    map[string]string{"payoutId": in.PayoutID, "userId": in.InstructorID, "period": in.Period},
	}
	stripeapi.Bind(ctx, &p.Params, stripeapi.Key("payout", in.PayoutID))
	tr, err := api.Transfers.New(p)
	if err != nil {
		return "", stripeapi.Error(err, "the payout transfer")
	}
	return tr.ID, nil
}

func (s *stripePort) FindTransfer(ctx context.Context, payoutID string) (string, bool, error) {
	api, err := s.c.API(ctx)
	if err != nil {
		return "", false, err
	}
	p := &stripe.TransferListParams{TransferGroup: stripe.String(payoutID)}
	p.Limit = stripe.Int64(10)
	p.Context = ctx // a read: no idempotency key
	it := api.Transfers.List(p)
	for it.Next() {
		tr := it.Transfer()
		// The group is ours and unique per payout; the metadata check guards against a list that
		// ignores the filter.
		// A reversed transfer was made all the same: the payout happened, and transfer.reversed
		// books the money back. Treating it as missing would pay the instructor a second time.
		if tr.TransferGroup == payoutID && tr.Metadata["payoutId"] == payoutID {
			return tr.ID, true, nil
		}
	}
	if err := it.Err(); err != nil {
		return "", false, stripeapi.Error(err, "listing transfers")
	}
	return "", false, nil
}

// maxRefundsListed bounds the refunds read per charge (a charge has a handful in practice).
const maxRefundsListed = 100

func (s *stripePort) ChargeRefunds(ctx context.Context, chargeID, paymentIntentID string) ([]StripeRefund, error) {
	api, err := s.c.API(ctx)
	if err != nil {
		return nil, err
	}
	p := &stripe.RefundListParams{}
	if p.Charge, p.PaymentIntent, err = ofCharge(chargeID, paymentIntentID); err != nil {
		return nil, err
	}
	p.Limit = stripe.Int64(maxRefundsListed)
	p.Context = ctx // a read: no idempotency key
	var out []StripeRefund
	it := api.Refunds.List(p)
	for it.Next() && len(out) < maxRefundsListed {
		r := it.Refund()
		if chargesDiffer(chargeID, paymentIntentID, r.Charge, r.PaymentIntent) {
			continue
		}
		out = append(out, StripeRefund{ID: r.ID, AmountCents: r.Amount, Status: string(r.Status),
			Created: time.Unix(r.Created, 0).UTC()})
	}
	if err := it.Err(); err != nil {
		return nil, stripeapi.Error(err, "listing the charge's refunds")
	}
	return out, nil
}
