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

// PurchaseOfPayment is the purchase behind payments' record of a course Checkout Session (for the
// single-transaction API payments will offer: see SaleItemsForPayment).
func PurchaseOfPayment(p store.Payment) Purchase {
	return Purchase{SessionID: p.CheckoutSessionID, PaymentIntentID: p.PaymentIntentID, ChargeID: p.ChargeID,
		PaymentID: p.ID, BuyerID: p.UserID, CourseID: p.CourseID, AmountCents: p.AmountCents,
		Currency: p.Currency, PaidAt: p.PaidAt}
}

// SaleItems returns the transaction items that book a paid course purchase, given the course and
// the buyer's enrolment as read (cur, nil for none):
//
//	[0] the guard SALESRC#<session> (attribute_not_exists: one sale per Checkout Session)
//	    the sale (its split from ledger.Split, pending until ReleaseAt)
//	    the PaymentIntent pointer (refunds and disputes find the sale by it)
//	    the enrolment and the listing's enrolment count (unless access is already active)
//	    the instructor's balance (pending += share), its ledger entry, the marketplace counters and
//	    the audit record
//
// Redelivered or reordered events fail on the guard and book nothing more. This is what the
// payments area's single-transaction API will call with the recorded payment (docs/decisions/0062).
func SaleItems(p Purchase, c Course, cur *Enrollment, eventID string) ([]types.TransactWriteItem, Sale, error) {
	if p.Currency != "" && p.Currency != Currency {
		return nil, Sale{}, apperr.New(apperr.Invalid, "course sales are in %s, not %s", Currency, p.Currency)
	}
	money, m, err := ledger.NewSale(p.AmountCents, ledger.InstructorRule(c.InstructorID))
	if err != nil {
		return nil, Sale{}, apperr.Wrap(err, apperr.Invalid, "cannot split the sale")
	}
	s := Sale{ID: newID(prefixSale, p.PaidAt), InstructorID: c.InstructorID, CourseID: c.ID, CourseTitle: c.Title,
		BuyerID: p.BuyerID, SessionID: p.SessionID, PaymentIntentID: p.PaymentIntentID, ChargeID: p.ChargeID,
		PaymentID: p.PaymentID, Currency: Currency, SoldAt: p.PaidAt, ReleaseAt: p.PaidAt.Add(RefundWindow),
		EventID: eventID, Sale: money}
	ptr := func(k store.Key) SalePointer {
		return SalePointer{PK: k.PK, SK: k.SK, Type: "sale-pointer", InstructorID: s.InstructorID, SaleID: s.ID}
	}
	guard, err := store.PutNewItem(ptr(store.SaleSourceKey(p.SessionID)))
	if err != nil {
		return nil, Sale{}, err
	}
	saleItem, err := putSaleItem(&s)
	if err != nil {
		return nil, Sale{}, err
	}
	items := []types.TransactWriteItem{guard, saleItem}
	if p.PaymentIntentID != "" {
		it, err := store.PutItem(ptr(store.SalePaymentIntentKey(p.PaymentIntentID)))
		if err != nil {
			return nil, Sale{}, err
		}
		items = append(items, it)
	}
	if p.BuyerID != c.InstructorID {
		enrol, err := enrolItems(cur, Enrollment{UserID: p.BuyerID, CourseID: c.ID, CourseTitle: c.Title,
			InstructorID: c.InstructorID, Source: SourcePurchase, SaleID: s.ID, EnrolledAt: p.PaidAt})
		if err != nil {
			return nil, Sale{}, err
		}
		items = append(items, enrol...)
	}
	money2, err := movementItems(m, booking{At: p.PaidAt, Actor: audit.ActorStripe, RequestID: eventID, SaleID: s.ID,
		CourseID: c.ID, Memo: c.Title, Counters: map[string]int64{mktmetrics.CtrSales: 1},
		Details: map[string]string{"buyerId": p.BuyerID, "sessionId": p.SessionID, "amountCents": itoa(p.AmountCents),
			"instructorShareCents": itoa(s.InstructorCents()), "platformShareCents": itoa(s.Platform)}})
	if err != nil {
		return nil, Sale{}, err
	}
	return append(items, money2...), s, nil
}

// SaleItemsForPayment is SaleItems for payments' recorded payment of a course Checkout Session:
// the extra items payments' single-transaction API (RecordCheckoutPayment(…, extra)) will add to the
// payment's own transaction, so the payment, the enrolment and the sale are one write.
func SaleItemsForPayment(ctx context.Context, d *Deps, pay store.Payment, eventID string) ([]types.TransactWriteItem, error) {
	p := PurchaseOfPayment(pay)
	c, err := loadCourse(ctx, d, p.CourseID)
	if err != nil {
		return nil, err
	}
	cur, err := readEnrollment(ctx, d, p.BuyerID, p.CourseID)
	if err != nil {
		return nil, err
	}
	items, _, err := SaleItems(p, c, cur, eventID)
	return items, err
}

// RecordSale books a purchase in its own transaction, guarded by the Checkout Session id.
//
// INTERIM (the part the lead switches when payments' single-transaction API lands): payments' own
// hook records the payment and its receipt in a transaction of its own, and this writes the sale
// and the enrolment in a second one; both are idempotent per session, so the end state is the
// same, but the two are not one atomic write yet. Once payments offers RecordCheckoutPayment with
// an extra-items callback and skips sessions whose metadata.recordedBy is "marketplace", the
// checkout hook calls it with SaleItemsForPayment instead of this.
func RecordSale(ctx context.Context, d *Deps, p Purchase, eventID string) error {
	if p.PaymentID == "" {
		// payments may have recorded it already (its hook runs in the same delivery): name it.
		if pay, err := d.Store.PaymentByLookup(ctx, store.PaymentSourceKey(p.SessionID)); err == nil {
			p.PaymentID = pay.ID
			if p.ChargeID == "" {
				p.ChargeID = pay.ChargeID
			}
		}
	}
	return retryConflicts(ctx, "record sale", func() error {
		c, err := loadCourse(ctx, d, p.CourseID)
		if err != nil {
			return apperr.Wrap(err, apperr.Unavailable, "the course %s of session %s is unknown", p.CourseID, p.SessionID)
		}
		cur, err := readEnrollment(ctx, d, p.BuyerID, p.CourseID)
		if err != nil {
			return err
		}
		items, s, err := SaleItems(p, c, cur, eventID)
		if err != nil {
			return err
		}
		err = d.Store.Transact(ctx, items)
		if failed := store.FailedItems(err); len(failed) > 0 && failed[0] == 0 {
			logging.From(ctx).Info("course sale already recorded", "sessionId", p.SessionID)
			return nil
		}
		if err == nil {
			logging.From(ctx).Info("course sale recorded", "saleId", s.ID, "courseId", c.ID, "amountCents", s.Amount,
				"instructorShareCents", s.InstructorCents(), "platformShareCents", s.Platform)
		}
		return err
	})
}

// findSale locates the sale of a charge: by its PaymentIntent pointer, else through payments'
// record of the charge (its Checkout Session). NotFound when the charge is not a course sale.
func findSale(ctx context.Context, d *Deps, chargeID, paymentIntentID string) (Sale, error) {
	var ptr SalePointer
	var err error = apperr.New(apperr.NotFound, "no sale")
	if paymentIntentID != "" {
		err = d.Store.GetConsistent(ctx, store.SalePaymentIntentKey(paymentIntentID), &ptr)
	}
	if apperr.Is(err, apperr.NotFound) && chargeID != "" {
		pay, pErr := d.Store.PaymentByCharge(ctx, chargeID)
		switch {
		case pErr == nil && pay.CheckoutSessionID != "":
			err = d.Store.GetConsistent(ctx, store.SaleSourceKey(pay.CheckoutSessionID), &ptr)
		case pErr != nil && !apperr.Is(pErr, apperr.NotFound):
			return Sale{}, pErr
		}
	}
	if err != nil {
		return Sale{}, err
	}
	return readSale(ctx, d, ptr.InstructorID, ptr.SaleID)
}

func readSale(ctx context.Context, d *Deps, instructorID, saleID string) (Sale, error) {
	var s Sale
	err := d.Store.GetConsistent(ctx, store.SaleKey(instructorID, saleID), &s)
	return s, err
}
