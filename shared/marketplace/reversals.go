package marketplace

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/stripeapi"
)

// A course sale converges to what Stripe says about its charge, in both directions and whatever
// the order of the events: every refund or dispute event re-reads Stripe's records of the charge
// (API 2023-10-16 charge events carry no refunds list) and books the difference; booking the sale
// itself does the same, so an event that arrived before the sale (parked) is applied when the sale
// exists. One transaction per change, conditioned on the sale's version; a redelivery finds nothing
// new to book.

// ApplyChargeRefunds brings the sale of a charge in line with the charge's refunds as Stripe lists
// them now. eventAmountRefunded is the charge's amount_refunded in the event (0 when the event
// carries no charge): Stripe's list must explain it — a refund counted then is counted, failed or
// canceled now — or the list is behind the event and the event is retried rather than
// acknowledged. A charge with no sale booked is parked (ParkCharge).
func ApplyChargeRefunds(ctx context.Context, d *Deps, chargeID, paymentIntentID string, eventAmountRefunded int64, eventID string) error {
	sale, err := d.Books.SaleOfCharge(ctx, chargeID, paymentIntentID)
	if err != nil {
		return err
	}
	refunds, err := d.Stripe.ChargeRefunds(ctx, cmp.Or(chargeID, sale.ChargeID), cmp.Or(paymentIntentID, sale.PaymentIntentID))
	if err != nil {
		return err
	}
	var explained int64
	for _, r := range refunds {
		if r.Counts() || r.Status == "failed" || r.Status == "canceled" {
			explained += r.AmountCents
		}
	}
	if eventAmountRefunded > explained {
		return apperr.New(apperr.Unavailable, "Stripe lists %d cents of refunds for charge %s, the event says %d: retrying until the list catches up",
			explained, chargeID, eventAmountRefunded)
	}
	booked, err := convergeRefunds(ctx, d, sale, refunds, chargeID, eventID)
	if err != nil {
		return err
	}
	if err := refundDuplicate(ctx, d, booked); err != nil { // a refund of it failed: what is left is refunded again
		return err
	}
	return tellRefunds(ctx, d, refundFacts(booked, refundTimes(refunds), d.Clock.Now()))
}

// convergeRefunds books the difference between the sale's refunds and listed (Stripe's, complete):
// the refunded total follows the refunds that count (ledger.Sale.Refund, both directions), the ids
// are Stripe's, and access and the buyer's review follow the sale. It returns the sale as booked.
func convergeRefunds(ctx context.Context, d *Deps, sale Sale, listed []StripeRefund, chargeID, eventID string) (Sale, error) {
	counted := map[string]int64{}
	for _, r := range listed {
		if r.Counts() {
			counted[r.ID] = r.AmountCents
		}
	}
	// A change in both directions (one refund failed while another started counting) is booked in
	// two steps, the refunds that stopped counting first: each journal entry then moves money one
	// way and names only the refunds that moved it, as Stripe's balance transactions do (a refund
	// and its refund_failure are two movements), so reconciliation matches them one by one.
	first, err := convergeRefundsTo(ctx, d, sale, chargeID, eventID, func(cur map[string]int64) map[string]int64 {
		kept := map[string]int64{}
		for id, cents := range cur {
			if counted[id] == cents {
				kept[id] = cents
			}
		}
		return kept
	})
	if err != nil {
		return first, err
	}
	return convergeRefundsTo(ctx, d, first, chargeID, eventID, func(map[string]int64) map[string]int64 { return counted })
}

// convergeRefundsTo books one step: the sale's counted refunds become target(the sale's current).
func convergeRefundsTo(ctx context.Context, d *Deps, sale Sale, chargeID, eventID string, target func(map[string]int64) map[string]int64) (Sale, error) {
	var booked Sale
	err := retryConflicts(ctx, "converge course sale refunds", func() error {
		s, err := d.Books.Sale(ctx, sale.InstructorID, sale.ID)
		if err != nil {
			return err
		}
		booked = s
		counted := target(s.RefundIDs)
		var total int64
		for _, cents := range counted {
			total += cents
		}
		stood := s.Stands()
		m := s.Refund(total)
		idsChanged := !sameAmounts(s.RefundIDs, counted)
		chargeChanged := s.ChargeID == "" && chargeID != ""
		if !m.MovesMoney() && !idsChanged && !chargeChanged {
			return nil
		}
		source := changedRefunds(s.RefundIDs, counted)
		for id, cents := range s.RefundIDs {
			if _, still := counted[id]; !still {
				if s.ReversedRefundIDs == nil {
					s.ReversedRefundIDs = map[string]int64{}
				}
				s.ReversedRefundIDs[id] = cents // it failed or was canceled: told as reversed
			}
		}
		s.RefundIDs = counted
		if chargeChanged {
			s.ChargeID = chargeID
		}
		now := d.Clock.Now().UTC()
		c := &Change{Book: booking{At: now, Actor: audit.ActorStripe, RequestID: eventID, SaleID: s.ID, CourseID: s.CourseID,
			Memo: s.CourseTitle, Ref: strings.Join(slices.Sorted(maps.Keys(counted)), ","), Source: source}, Move: m,
			Audit: &audit.Entry{Actor: audit.ActorStripe, Action: "marketplace.refunds_seen", Target: "sale:" + s.ID,
				RequestID: eventID, Details: map[string]string{"refunds": strings.Join(slices.Sorted(maps.Keys(counted)), ",")}}}
		if stood != s.Stands() {
			if err := followSale(ctx, d, c, s, now); err != nil {
				return err
			}
		}
		c.Sale = &s
		if err := d.Books.Commit(ctx, c); err != nil {
			return err
		}
		booked = s
		if m.MovesMoney() {
			logging.From(ctx).Info("course sale refunds converged", "saleId", s.ID, "refundedCents", s.Refunded,
				"instructorDeltaCents", m.Sum().Balance(), "platformDeltaCents", m.Platform, "stands", s.Stands())
		}
		return nil
	})
	return booked, err
}

// ApplyDispute moves a course sale's shares with its charge's disputes as Stripe has them now
// (ledger.Sale.Dispute): held while open, back when won, reversed when lost — and the buyer's
// access and review follow. The event's own dispute is a snapshot that may be older than another
// event already applied, so Stripe's list decides; the snapshot stands in only for a dispute the
// list does not show yet. Idempotent per dispute id and status; a closed dispute never moves again.
func ApplyDispute(ctx context.Context, d *Deps, dp StripeDispute, chargeID, paymentIntentID, eventID string) error {
	if dp.ID == "" {
		return apperr.New(apperr.Invalid, "dispute is required")
	}
	sale, err := d.Books.SaleOfCharge(ctx, chargeID, paymentIntentID)
	if err != nil {
		return err
	}
	listed, err := d.Stripe.ChargeDisputes(ctx, cmp.Or(chargeID, sale.ChargeID), cmp.Or(paymentIntentID, sale.PaymentIntentID))
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(listed, func(l StripeDispute) bool { return l.ID == dp.ID }) {
		listed = append(listed, dp)
	}
	for _, l := range listed {
		if err := applyDispute(ctx, d, sale, l, eventID); err != nil {
			return err
		}
	}
	s, err := d.Books.Sale(ctx, sale.InstructorID, sale.ID)
	if err != nil {
		return err
	}
	if err := refundDuplicate(ctx, d, s); err != nil {
		return err
	}
	return tellRefunds(ctx, d, refundFacts(s, nil, d.Clock.Now())) // a lost dispute is told like a refund
}

func applyDispute(ctx context.Context, d *Deps, sale Sale, dp StripeDispute, eventID string) error {
	return retryConflicts(ctx, "move course sale with its dispute", func() error {
		s, err := d.Books.Sale(ctx, sale.InstructorID, sale.ID)
		if err != nil {
			return err
		}
		stood := s.Stands()
		m, changed := s.Dispute(dp.ID, dp.Status, dp.AmountCents)
		if !changed {
			return nil
		}
		now := d.Clock.Now().UTC()
		c := &Change{Book: booking{At: now, Actor: audit.ActorStripe, RequestID: eventID, SaleID: s.ID, CourseID: s.CourseID,
			Memo: s.CourseTitle, Ref: dp.ID, Details: map[string]string{"disputeStatus": dp.Status}}, Move: m,
			Audit: &audit.Entry{Actor: audit.ActorStripe, Action: "marketplace." + ledger.KindDisputeUpdate, Target: "sale:" + s.ID,
				RequestID: eventID, Details: map[string]string{"ref": dp.ID, "status": dp.Status}}}
		if stood != s.Stands() {
			if err := followSale(ctx, d, c, s, now); err != nil {
				return err
			}
		}
		c.Sale = &s
		return d.Books.Commit(ctx, c)
	})
}

// ParkCharge remembers an event about a charge whose sale is not booked: unless payments knows the
// charge as something else (a subscription invoice), it may be a course sale whose
// checkout.session.completed has not been applied yet (its first delivery failed; Stripe retries
// for days). Booking the sale reads Stripe's refunds and disputes of the charge, so the event's
// effect is never lost; the parked record says it happened (counted, audited by its id).
func ParkCharge(ctx context.Context, d *Deps, evType, chargeID, paymentIntentID, eventID string) error {
	other, err := d.Books.NotACourseCharge(ctx, chargeID, paymentIntentID)
	if err != nil || other {
		return err
	}
	ref := cmp.Or(paymentIntentID, chargeID)
	if ref == "" {
		return nil
	}
	logging.From(ctx).Warn("event about a charge with no course sale booked yet: parked until the sale is booked",
		"eventType", evType, "chargeId", chargeID, "paymentIntentId", paymentIntentID)
	return d.Books.Park(ctx, ParkedEvent{Ref: ref, EventID: eventID, EventType: evType, ChargeID: chargeID, At: d.Clock.Now().UTC()})
}

// SyncSale brings a booked sale in line with everything Stripe has about its charge — refunds and
// disputes — and clears the events parked for it. Booking runs it, so a refund or dispute that
// arrived before the sale takes effect; it changes nothing when the books already agree.
func SyncSale(ctx context.Context, d *Deps, sale Sale, eventID string) (Sale, error) {
	refunds, err := d.Stripe.ChargeRefunds(ctx, sale.ChargeID, sale.PaymentIntentID)
	if err != nil {
		return sale, err
	}
	if sale, err = convergeRefunds(ctx, d, sale, refunds, "", eventID); err != nil {
		return sale, err
	}
	disputes, err := d.Stripe.ChargeDisputes(ctx, sale.ChargeID, sale.PaymentIntentID)
	if err != nil {
		return sale, err
	}
	for _, dp := range disputes {
		if err := applyDispute(ctx, d, sale, dp, eventID); err != nil {
			return sale, err
		}
	}
	for _, ref := range []string{sale.PaymentIntentID, sale.ChargeID} {
		if ref == "" {
			continue
		}
		parked, err := d.Books.ParkedEvents(ctx, ref)
		if err != nil {
			return sale, err
		}
		if len(parked) > 0 {
			now := d.Clock.Now().UTC()
			if err := d.Books.Commit(ctx, &Change{Book: booking{At: now}, Unpark: parked, Audit: &audit.Entry{
				Actor: audit.ActorStripe, Action: "marketplace.parked_applied", Target: "sale:" + sale.ID, RequestID: eventID,
				Details: map[string]string{"events": itoa(int64(len(parked)))}}}); err != nil {
				return sale, err
			}
		}
	}
	s, err := d.Books.Sale(ctx, sale.InstructorID, sale.ID)
	if err == nil {
		tellRefundsQuietly(ctx, d, s, refunds)
	}
	return s, err
}

// settleBooking finishes a booked Checkout Session after its transaction: the sale agrees with
// Stripe (SyncSale), a second payment for a course the buyer held and a purchase in a currency we
// do not sell in are refunded at Stripe, and the other areas are told of the purchase. Every step is
// idempotent, so the retry of a delivery that failed half-way finishes it.
func settleBooking(ctx context.Context, d *Deps, sessionID, eventID string) error {
	ptr, err := d.Books.SaleOfSession(ctx, sessionID)
	if apperr.Is(err, apperr.NotFound) {
		return nil // payments recorded the session without a sale (not a course sale)
	}
	if err != nil {
		return err
	}
	if ptr.Rejected != "" {
		logging.From(ctx).Error("course purchase in a currency we do not sell in: refunding it", "sessionId", sessionID,
			"currency", ptr.Currency, "amountCents", ptr.AmountCents)
		d.Emit(ctx, metric.CourseSalesRejected, 1)
		_, err := refundOnce(ctx, d, RefundInput{PaymentIntentID: ptr.PaymentIntentID, Reason: ptr.Rejected,
			BuyerID: ptr.BuyerID, Key: stripeapi.Key("course-rejected-refund", sessionID)})
		return err
	}
	s, err := d.Books.Sale(ctx, ptr.InstructorID, ptr.SaleID)
	if err != nil {
		return err
	}
	if s, err = SyncSale(ctx, d, s, eventID); err != nil {
		return err
	}
	if err := refundDuplicate(ctx, d, s); err != nil {
		return err
	}
	return tellPurchase(ctx, d, s)
}

// refundDuplicate refunds what is left of a second payment for a course the buyer already held,
// while the sale stands. Stripe refuses to refund a charge under dispute: then the dispute decides
// (lost, the money is back; won, the dispute's event calls this again), and the refusal is logged
// for the runbook, never retried in a loop.
func refundDuplicate(ctx context.Context, d *Deps, s Sale) error {
	if s.DuplicateOf == "" || !s.Stands() {
		return nil
	}
	log := logging.From(ctx).With("saleId", s.ID, "duplicateOf", s.DuplicateOf)
	log.Warn("second payment for a course the buyer holds: refunding it")
	_, err := refundOnce(ctx, d, RefundInput{PaymentIntentID: s.PaymentIntentID, ChargeID: s.ChargeID,
		Reason: "duplicate_purchase", SaleID: s.ID, BuyerID: s.BuyerID, Key: stripeapi.Key("course-duplicate-refund", s.ID, itoa(s.Refunded))})
	if k := stripeapi.KindOf(err); err != nil && (k == stripeapi.Definite || k == stripeapi.Declined) {
		log.Error("Stripe refused the refund of a second payment; see docs/runbooks/marketplace-money.md", "err", err.Error())
		d.Emit(ctx, metric.DuplicateRefundsRefused, 1)
		return nil
	}
	return err
}

// refundOnce asks Stripe for a full refund; a charge Stripe says is already refunded is done.
func refundOnce(ctx context.Context, d *Deps, in RefundInput) (string, error) {
	id, err := d.Stripe.RefundPurchase(ctx, in)
	if f := stripeapi.Classify(err); err != nil && f != nil && f.Code == "charge_already_refunded" {
		return "", nil
	}
	return id, err
}

func refundTimes(refunds []StripeRefund) map[string]time.Time {
	out := map[string]time.Time{}
	for _, r := range refunds {
		out[r.ID] = r.Created
	}
	return out
}

// tellRefundsQuietly sends the refund facts of a sale synced at booking; a failure is logged (the
// next refund event of the charge sends them again).
func tellRefundsQuietly(ctx context.Context, d *Deps, s Sale, refunds []StripeRefund) {
	fs := refundFacts(s, refundTimes(refunds), d.Clock.Now())
	if len(fs) == 0 || d.Queue == nil {
		return
	}
	if err := tellRefunds(ctx, d, fs); err != nil {
		logging.From(ctx).Warn("course.refunded facts not sent", "saleId", s.ID, "err", err.Error())
	}
}

func sameAmounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// changedRefunds names the refunds that started or stopped counting (or changed amount) between
// the sale's record and Stripe's list, sorted and comma-separated: the journal entry's source.
func changedRefunds(was, now map[string]int64) string {
	var ids []string
	for id, cents := range now {
		if w, ok := was[id]; !ok || w != cents {
			ids = append(ids, id)
		}
	}
	for id := range was {
		if _, ok := now[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return strings.Join(ids, ",")
}
