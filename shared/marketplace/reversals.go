package marketplace

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/marketplace/ledger"
)

// ApplyChargeRefunds brings a course sale in line with its charge's refunds as Stripe has them now
// (listed through the Stripe port: API 2023-10-16 charge events carry no refunds list; the event's
// amount_refunded, when it carries a charge, is a lower bound). The instructor's share is reversed
// proportionally (ledger.Sale.Refund), the platform's by the rest; the buyer's access ends when the
// whole amount has been returned. One transaction per application, idempotent per refund id: a
// redelivery or a reordered event finds nothing new to book. Not a course sale: nothing happens.
func ApplyChargeRefunds(ctx context.Context, d *Deps, chargeID, paymentIntentID string, eventAmountRefunded int64, eventID string) error {
	sale, err := findSale(ctx, d, chargeID, paymentIntentID)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if chargeID == "" {
		chargeID = sale.ChargeID
	}
	refunds, err := d.Stripe.ChargeRefunds(ctx, chargeID, firstNonEmpty(paymentIntentID, sale.PaymentIntentID))
	if err != nil {
		return err
	}
	counted, created := map[string]int64{}, map[string]time.Time{}
	var total int64
	for _, r := range refunds {
		if r.Counts() {
			counted[r.ID], created[r.ID] = r.AmountCents, r.Created
			total += r.AmountCents
		}
	}
	if eventAmountRefunded > total {
		total = eventAmountRefunded
	}
	var booked Sale // the sale as it stands after this application, booked now or before
	err = retryConflicts(ctx, "reverse course sale", func() error {
		s, err := readSale(ctx, d, sale.InstructorID, sale.ID)
		if err != nil {
			return err
		}
		booked = s
		m := s.Refund(total)
		idsChanged := false
		for id, amt := range counted {
			if s.RefundIDs[id] != amt {
				if s.RefundIDs == nil {
					s.RefundIDs = map[string]int64{}
				}
				s.RefundIDs[id], idsChanged = amt, true
			}
		}
		chargeChanged := s.ChargeID == "" && chargeID != ""
		if chargeChanged {
			s.ChargeID = chargeID
		}
		if !m.MovesMoney() && !idsChanged && !chargeChanged {
			return nil
		}
		booked = s
		now := d.Clock.Now().UTC()
		items, err := reversalItems(ctx, d, &s, m, booking{At: now, Actor: audit.ActorStripe, RequestID: eventID,
			SaleID: s.ID, CourseID: s.CourseID, Memo: s.CourseTitle, Ref: strings.Join(sortedKeys(counted), ",")})
		if err != nil {
			return err
		}
		if err := d.Store.Transact(ctx, items); err != nil {
			return err
		}
		if m.MovesMoney() {
			logging.From(ctx).Info("course sale refund booked", "saleId", s.ID, "refundedCents", s.Refunded,
				"instructorReversedCents", -m.Sum().Balance(), "platformReversedCents", -m.Platform, "revoked", s.FullyReversed())
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tellRefunds(ctx, d, refundFacts(booked, created, d.Clock.Now()))
}

// ApplyDispute moves a course sale's shares with its dispute (ledger.Sale.Dispute): held while
// open, back when won, reversed when lost (and the buyer's access ends once everything is
// returned). Idempotent per dispute id and status; a closed dispute never moves again.
func ApplyDispute(ctx context.Context, d *Deps, dp *stripe.Dispute, eventID string) error {
	if dp == nil || dp.ID == "" {
		return apperr.New(apperr.Invalid, "dispute is required")
	}
	chargeID, piID := "", ""
	if dp.Charge != nil {
		chargeID = dp.Charge.ID
	}
	if dp.PaymentIntent != nil {
		piID = dp.PaymentIntent.ID
	}
	sale, err := findSale(ctx, d, chargeID, piID)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return retryConflicts(ctx, "move course sale with its dispute", func() error {
		s, err := readSale(ctx, d, sale.InstructorID, sale.ID)
		if err != nil {
			return err
		}
		m, changed := s.Dispute(dp.ID, string(dp.Status), dp.Amount)
		if !changed {
			return nil
		}
		now := d.Clock.Now().UTC()
		items, err := reversalItems(ctx, d, &s, m, booking{At: now, Actor: audit.ActorStripe, RequestID: eventID,
			SaleID: s.ID, CourseID: s.CourseID, Memo: s.CourseTitle, Ref: dp.ID, Details: map[string]string{"disputeStatus": string(dp.Status)}})
		if err != nil {
			return err
		}
		return d.Store.Transact(ctx, items)
	})
}

// reversalItems writes a changed sale (conditioned on the version read), its movement, and the
// revocation of the buyer's access when the sale is fully reversed.
func reversalItems(ctx context.Context, d *Deps, s *Sale, m ledger.Movement, b booking) ([]types.TransactWriteItem, error) {
	saleItem, err := putSaleItem(s)
	if err != nil {
		return nil, err
	}
	items := []types.TransactWriteItem{saleItem}
	if s.FullyReversed() {
		cur, err := readEnrollment(ctx, d, s.BuyerID, s.CourseID)
		if err != nil {
			return nil, err
		}
		rev, err := revokeItems(cur, s.ID, b.At)
		if err != nil {
			return nil, err
		}
		items = append(items, rev...)
	}
	if m.MovesMoney() {
		money, err := movementItems(m, b)
		if err != nil {
			return nil, err
		}
		return append(items, money...), nil
	}
	// A dispute status that moves no money is still an audited change of the sale.
	au, err := audit.Item(audit.Entry{Actor: b.Actor, Action: "marketplace." + m.Kind, Target: "sale:" + s.ID,
		RequestID: b.RequestID, Details: map[string]string{"ref": b.Ref, "status": s.Status}}, b.At)
	if err != nil {
		return nil, err
	}
	return append(items, au), nil
}

func sortedKeys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}
