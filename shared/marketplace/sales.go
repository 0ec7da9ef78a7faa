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
	AmountCents     int64
	Currency        string
	PaidAt          time.Time
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
	return p, true
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
	s := Sale{ID: newID(prefixSale, p.PaidAt), InstructorID: c.InstructorID, CourseID: c.ID, CourseTitle: c.Title,
		BuyerID: p.BuyerID, SessionID: p.SessionID, PaymentIntentID: p.PaymentIntentID, ChargeID: p.ChargeID,
		PaymentID: p.PaymentID, Currency: Currency, SoldAt: p.PaidAt, ReleaseAt: p.PaidAt.Add(RefundWindow),
		EventID: eventID, Sale: money}
	guard.InstructorID, guard.SaleID = s.InstructorID, s.ID
	book.SaleID = s.ID
	book.Counters = map[string]int64{mktmetrics.CtrSales: 1}
	book.Details = map[string]string{"buyerId": p.BuyerID, "sessionId": p.SessionID, "amountCents": itoa(p.AmountCents),
		"instructorShareCents": itoa(s.InstructorCents()), "platformShareCents": itoa(s.Platform)}
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
	p := PurchaseOfPayment(pay)
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
