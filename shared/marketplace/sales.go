package marketplace

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/store"
)

// RefundWindow is how long an instructor's share stays pending after the sale (Udemy's 30 days):
// refunds inside it reverse money that was never paid out.
const RefundWindow = 30 * 24 * time.Hour

// Purchase is what a paid Checkout Session says about a course sale.
type Purchase struct {
	SessionID       string
	PaymentIntentID string
	ChargeID        string
	PaymentID       string // payments' record of the same money, when known
	BuyerID         string
	CourseID        string
	AmountCents     int64 // what the buyer paid (amount_total): the sale is split on it
	Currency        string
	PaidAt          time.Time

	// DiscountCents is the discount Stripe applied at checkout (total_details.amount_discount) when
	// it is token-funded: the rewards coupon CouponID the checkout was created with, and nothing
	// else. The sale records both, and its journal entry books the discount as a marketing expense
	// grossing up the commission (docs/books.md, "Token redemption: coupon").
	DiscountCents int64
	CouponID      string
	// OtherDiscountCents is a discount that is not the checkout's rewards coupon (the marketplace
	// applies no other, so it is a misconfiguration at Stripe): not token-funded, so not booked as
	// one; the sale is booked on what was paid, and the discount is logged and audited.
	OtherDiscountCents int64
}

// PurchaseOf reads a Checkout Session event: ok is false unless it is a paid one-off purchase of one
// of our courses (mode payment, payment_status paid, metadata.courseId, a buyer, an amount).
// paidAt is the event's creation time — the moment Stripe reported the payment, the same on every
// delivery.
func PurchaseOf(s *stripe.CheckoutSession, paidAt time.Time) (Purchase, bool) {
	if s == nil || s.ID == "" || s.Mode != stripe.CheckoutSessionModePayment ||
		s.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid || !ValidCourseID(s.Metadata["courseId"]) {
		return Purchase{}, false
	}
	p := Purchase{SessionID: s.ID, BuyerID: s.Metadata["userId"], CourseID: s.Metadata["courseId"],
		AmountCents: s.AmountTotal, Currency: strings.ToLower(string(s.Currency)), PaidAt: paidAt.UTC()}
	if p.BuyerID == "" {
		p.BuyerID = s.ClientReferenceID
	}
	if s.PaymentIntent != nil {
		p.PaymentIntentID = s.PaymentIntent.ID
		if s.PaymentIntent.LatestCharge != nil {
			p.ChargeID = s.PaymentIntent.LatestCharge.ID
		}
	}
	if p.BuyerID == "" || p.AmountCents <= 0 {
		return Purchase{}, false
	}
	p.DiscountCents, p.CouponID, p.OtherDiscountCents = checkoutDiscount(s)
	return p, true
}

// checkoutDiscount splits a paid session's discount (total_details.amount_discount) into the
// token-funded part — the rewards coupon the checkout was created with — and any other. It is
// token-funded only when the session's metadata.couponId (written by CourseCheckout with the
// session's discounts, from a coupon buyersCoupon checked; metadata is ours, and the event is
// signed) is a rewards coupon code and, when Stripe sent the breakdown of the discounts (only when
// expanded), every discount is that coupon, without a promotion code, and they add up to the
// total. Anything else is all "other": a discount we cannot tie to a token redemption is never
// booked as one.
func checkoutDiscount(s *stripe.CheckoutSession) (funded int64, couponID string, other int64) {
	if s.TotalDetails == nil || s.TotalDetails.AmountDiscount <= 0 {
		return 0, "", 0
	}
	total := s.TotalDetails.AmountDiscount
	coupon := s.Metadata["couponId"]
	if !couponCode(coupon) {
		return 0, "", total
	}
	if b := s.TotalDetails.Breakdown; b != nil && len(b.Discounts) > 0 {
		var sum int64
		for _, d := range b.Discounts {
			if d == nil || d.Discount == nil || d.Discount.Coupon == nil || d.Discount.Coupon.ID != coupon || d.Discount.PromotionCode != nil {
				return 0, "", total
			}
			sum += d.Amount
		}
		if sum != total {
			return 0, "", total
		}
	}
	return total, coupon, 0
}

// withDiscountOf is p with the discount q's session reported (payments' record of the payment
// carries none).
func (p Purchase) withDiscountOf(q Purchase) Purchase {
	p.DiscountCents, p.CouponID, p.OtherDiscountCents = q.DiscountCents, q.CouponID, q.OtherDiscountCents
	return p
}

// tokenDiscount is the purchase's token-funded discount and its coupon, and the discount that is
// not token-funded: a Purchase built by hand (tests, tools) gets the same rule as PurchaseOf — no
// rewards coupon code, no token-funded discount.
func (p Purchase) tokenDiscount() (funded int64, couponID string, other int64) {
	other = max(p.OtherDiscountCents, 0)
	switch {
	case p.DiscountCents <= 0:
		return 0, "", other
	case !couponCode(p.CouponID):
		return 0, "", other + p.DiscountCents
	}
	return p.DiscountCents, p.CouponID, other
}

// PurchaseOfPayment is the purchase behind payments' record of a course Checkout Session.
func PurchaseOfPayment(p payments.Payment) Purchase {
	return Purchase{SessionID: p.CheckoutSessionID, PaymentIntentID: p.PaymentIntentID, ChargeID: p.ChargeID,
		PaymentID: p.ID, BuyerID: p.UserID, CourseID: p.CourseID, AmountCents: p.AmountCents,
		Currency: p.Currency, PaidAt: p.PaidAt}
}

// planSale is the change that books a paid course purchase, given the course:
//
//   - a Checkout Session in a currency we do not sell in (Adaptive Pricing, a misconfigured
//     account) becomes a rejected guard and no sale: recorded once, refunded after the commit,
//     counted and alarmed — never an error Stripe would retry for three days;
//   - otherwise the guard SALESRC#<session> (one sale per Checkout Session), the sale (split by
//     ledger.Split, pending until ReleaseAt), its PaymentIntent pointer, the buyer's access
//     (followSale), the instructor's balance and ledger entry, counters and the audit record. A
//     buyer who already holds the course (a second Checkout Session paid) gets a sale marked
//     DuplicateOf, refunded after the commit; their access stands on either sale meanwhile.
func planSale(ctx context.Context, d *Deps, p Purchase, c Course, eventID string) (*Change, error) {
	guard := SalePointer{PK: store.SaleSourceKey(p.SessionID).PK, SK: store.SaleSourceKey(p.SessionID).SK}
	book := booking{At: p.PaidAt, Actor: audit.ActorStripe, RequestID: eventID, CourseID: c.ID, Memo: c.Title}
	if p.Currency != "" && p.Currency != Currency {
		guard.Rejected, guard.BuyerID, guard.CourseID = RejectedCurrency, p.BuyerID, c.ID
		guard.PaymentIntentID, guard.AmountCents, guard.Currency = p.PaymentIntentID, p.AmountCents, p.Currency
		book.Counters = map[string]int64{mktmetrics.CtrRejectedSales: 1}
		return &Change{Book: book, NewPointers: []SalePointer{guard}, Audit: &audit.Entry{Actor: audit.ActorStripe,
			Action: "marketplace.sale_rejected", Target: "checkout:" + p.SessionID, RequestID: eventID,
			Details: map[string]string{"reason": RejectedCurrency, "currency": p.Currency, "amountCents": itoa(p.AmountCents),
				"buyerId": p.BuyerID, "courseId": c.ID}}}, nil
	}
	money, m, err := ledger.NewSale(p.AmountCents, ledger.InstructorRule(c.InstructorID))
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Invalid, "cannot split the sale")
	}
	discount, coupon, other := p.tokenDiscount()
	s := Sale{ID: newID(prefixSale, p.PaidAt), InstructorID: c.InstructorID, CourseID: c.ID, CourseTitle: c.Title,
		BuyerID: p.BuyerID, SessionID: p.SessionID, PaymentIntentID: p.PaymentIntentID, ChargeID: p.ChargeID,
		PaymentID: p.PaymentID, Currency: Currency, SoldAt: p.PaidAt, ReleaseAt: p.PaidAt.Add(RefundWindow),
		EventID: eventID, DiscountCents: discount, CouponID: coupon, Sale: money}
	guard.InstructorID, guard.SaleID = s.InstructorID, s.ID
	book.SaleID = s.ID
	book.Counters = map[string]int64{mktmetrics.CtrSales: 1}
	book.Details = map[string]string{"buyerId": p.BuyerID, "sessionId": p.SessionID, "amountCents": itoa(p.AmountCents),
		"instructorShareCents": itoa(s.InstructorCents()), "platformShareCents": itoa(s.Platform)}
	if discount > 0 {
		book.Details["discountCents"], book.Details["couponId"] = itoa(discount), coupon
	}
	if other > 0 {
		// Booked on what was paid, like any price: the books have no account for a discount nobody
		// funded, and marketing_token_redemptions must stay what token redemptions cost. An error
		// line (what alarms on) and the audit record say so.
		book.Details["otherDiscountCents"] = itoa(other)
		logging.From(ctx).Error("course checkout discounted by something other than its rewards coupon: not booked as token-funded",
			"sessionId", p.SessionID, "otherDiscountCents", other)
	}
	ch := &Change{Book: book, Move: m, NewPointers: []SalePointer{guard}}
	if p.PaymentIntentID != "" {
		k := store.SalePaymentIntentKey(p.PaymentIntentID)
		ch.Pointers = []SalePointer{{PK: k.PK, SK: k.SK, InstructorID: s.InstructorID, SaleID: s.ID}}
	}
	if p.BuyerID != c.InstructorID {
		cur, err := d.Books.Enrollment(ctx, p.BuyerID, c.ID)
		if err != nil {
			return nil, err
		}
		if cur != nil && cur.Active() {
			s.DuplicateOf = SourceFree
			if held := cur.standing(); len(held) > 0 {
				s.DuplicateOf = held[0]
			}
			book.Counters[mktmetrics.CtrDuplicateSales] = 1
		}
		if err := followSale(ctx, d, ch, s, p.PaidAt); err != nil {
			return nil, err
		}
	}
	ch.Sale = &s
	return ch, nil
}

// Reasons a Checkout Session is not booked as a sale.
const RejectedCurrency = "unsupported_currency"

// SaleItemsForPayment is the sale of payments' record of a course Checkout Session as transaction
// items: payments.CheckoutPaidWith adds them to the payment's own transaction, so the payment, the
// enrolment and the sale are one write.
func SaleItemsForPayment(ctx context.Context, d *Deps, pay payments.Payment, eventID string) ([]types.TransactWriteItem, error) {
	return saleItems(ctx, d, PurchaseOfPayment(pay), eventID)
}

// saleItems is the sale of purchase p as transaction items (SaleItemsForPayment; the webhook adds
// the session's discount, which payments' record does not carry).
func saleItems(ctx context.Context, d *Deps, p Purchase, eventID string) ([]types.TransactWriteItem, error) {
	c, err := d.Books.Course(ctx, p.CourseID)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "the course %s of session %s is unknown", p.CourseID, p.SessionID)
	}
	ch, err := planSale(ctx, d, p, c, eventID)
	if err != nil {
		return nil, err
	}
	items, ok := d.Books.(interface {
		JoinItems(context.Context, *Change) ([]types.TransactWriteItem, error)
	})
	if !ok {
		return nil, apperr.New(apperr.Internal, "the books cannot join payments' transaction")
	}
	return items.JoinItems(ctx, ch)
}

// RecordSale books a purchase in a transaction of its own guarded by the Checkout Session id
// (tests, and a sale whose payment payments recorded before the marketplace existed). Production
// books a sale with its payment in one transaction: the webhook's checkout hook passes
// SaleItemsForPayment to payments' CheckoutPaidWith (docs/decisions/0062). Booking twice books once.
func RecordSale(ctx context.Context, d *Deps, p Purchase, eventID string) error {
	return retryConflicts(ctx, "record sale", func() error {
		if _, err := d.Books.SaleOfSession(ctx, p.SessionID); err == nil {
			logging.From(ctx).Info("course sale already recorded", "sessionId", p.SessionID)
			return nil
		} else if !apperr.Is(err, apperr.NotFound) {
			return err
		}
		c, err := d.Books.Course(ctx, p.CourseID)
		if err != nil {
			return apperr.Wrap(err, apperr.Unavailable, "the course %s of session %s is unknown", p.CourseID, p.SessionID)
		}
		ch, err := planSale(ctx, d, p, c, eventID)
		if err != nil {
			return err
		}
		if err := d.Books.Commit(ctx, ch); err != nil {
			return err
		}
		if s := ch.Sale; s != nil {
			logging.From(ctx).Info("course sale recorded", "saleId", s.ID, "courseId", c.ID, "amountCents", s.Amount,
				"instructorShareCents", s.InstructorCents(), "platformShareCents", s.Platform, "duplicateOf", s.DuplicateOf)
		}
		return nil
	})
}
