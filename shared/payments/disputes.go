package payments

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

// ErrPaymentNotRecorded: the charge's payment is not in the table (yet) — its invoice.paid or
// checkout.session.completed has not been applied. Wrapped in apperr.Unavailable, so the webhook
// answers 5xx and Stripe delivers the event again later.
var ErrPaymentNotRecorded = errors.New("payment not recorded")

// DisputeBook records disputes (chargebacks) on payments.
type DisputeBook struct {
	Ledger DisputeLedger
	Clock  clock.Clock
}

// disputeClosed reports a terminal dispute status: once there, no later event moves it.
func disputeClosed(status string) bool {
	switch stripe.DisputeStatus(status) {
	case stripe.DisputeStatusWon, stripe.DisputeStatusLost, stripe.DisputeStatusWarningClosed:
		return true
	}
	return false
}

// disputeStage orders a dispute's statuses as Stripe moves them: an inquiry (warning_*) may
// escalate to a chargeback, a chargeback goes from needs_response to under_review to won or lost,
// and nothing goes back. An event carrying an earlier stage than the one recorded is stale (events
// arrive out of order) and moves nothing. Unknown statuses rank with the chargeback's first stage.
func disputeStage(status string) int {
	switch stripe.DisputeStatus(status) {
	case stripe.DisputeStatusWarningNeedsResponse:
		return 0
	case stripe.DisputeStatusWarningUnderReview:
		return 1
	case stripe.DisputeStatusWarningClosed:
		return 2
	case stripe.DisputeStatusUnderReview:
		return 4
	case stripe.DisputeStatusWon, stripe.DisputeStatusLost:
		return 5
	}
	return 3 // needs_response
}

// Apply records what a dispute event says: charge.dispute.created, .updated, .closed,
// .funds_withdrawn and .funds_reinstated. Events arrive in any order and more than once; each
// outcome is counted exactly once, because it is counted only by the write that moves the stored
// dispute into it and a closed dispute never moves again:
//
//   - first sight (any event): the Dispute item is created, the payment flagged, and the disputed
//     amount added to the day's disputedCents;
//   - into lost: disputeLostCents (the money is gone: the payment's refundable remainder shrinks by
//     it and admin metrics report it); into won: disputeWonCents (the money came back);
//   - funds withdrawn / reinstated are remembered on the dispute (audit), without counters.
func (b *DisputeBook) Apply(ctx context.Context, dp *stripe.Dispute, ev stripe.EventType, src Source) error {
	if dp == nil || dp.ID == "" {
		return apperr.New(apperr.Invalid, "dispute is required")
	}
	facts := disputeFacts{ID: dp.ID, Amount: dp.Amount, Currency: strings.ToLower(string(dp.Currency)),
		Status: string(dp.Status), Reason: string(dp.Reason)}
	if dp.Charge != nil {
		facts.ChargeID = dp.Charge.ID
	}
	piID := ""
	if dp.PaymentIntent != nil {
		piID = dp.PaymentIntent.ID
	}
	if dp.Created > 0 {
		facts.Created = time.Unix(dp.Created, 0).UTC()
	}
	found, err := b.Ledger.PaymentByStripe(ctx, facts.ChargeID, piID)
	if apperr.Is(err, apperr.NotFound) {
		return apperr.Wrap(ErrPaymentNotRecorded, apperr.Unavailable, "the payment of charge %s is not recorded yet", facts.ChargeID)
	}
	if err != nil {
		return err
	}
	return store.RetryOnConflict(ctx, "record dispute", func() error {
		p, err := b.Ledger.GetPayment(ctx, found.UserID, found.ID)
		if err != nil {
			return err
		}
		var cur *Dispute
		d, err := b.Ledger.Dispute(ctx, p.UserID, dp.ID)
		switch {
		case err == nil:
			cur = &d
		case !apperr.Is(err, apperr.NotFound):
			return err
		}
		c, err := disputeChange(p, cur, facts, ev, b.Clock.Now(), src.EventID)
		if err != nil {
			return err
		}
		if c == nil {
			return nil // nothing new, or a stale event
		}
		return b.Ledger.Apply(ctx, *c)
	})
}

// disputeFacts is what one event says about a dispute.
type disputeFacts struct {
	ID, ChargeID, Currency, Status, Reason string
	Amount                                 int64
	Created                                time.Time
}

// disputeChange returns the change an event makes to a payment and its dispute (cur nil: not seen
// yet), or nil when it changes nothing. Pure, so the order-independence is unit-tested. The change
// carries the journal entries of the funds Stripe withdrew or reinstated (disputeEntries).
func disputeChange(p Payment, cur *Dispute, f disputeFacts, ev stripe.EventType, now time.Time, eventID string) (*Change, error) {
	counters := map[string]int64{}
	var d Dispute
	action := ""
	if cur == nil {
		d = Dispute{ID: f.ID, PaymentID: p.ID, UserID: p.UserID, ChargeID: f.ChargeID, AmountCents: f.Amount,
			Currency: f.Currency, Status: f.Status, Reason: f.Reason, OpenedAt: now}
		if !f.Created.IsZero() {
			d.OpenedAt = f.Created
		}
		if d.Currency == "" {
			d.Currency = p.Currency
		}
		counters[store.CtrDisputedCents] += d.AmountCents
		p.DisputedCents += d.AmountCents
		action = "dispute.open"
	} else {
		d = *cur
	}
	moved := cur == nil
	if cur != nil && f.Status != "" && f.Status != d.Status && !disputeClosed(d.Status) &&
		disputeStage(f.Status) > disputeStage(d.Status) {
		d.Status, moved, action = f.Status, true, "dispute.update"
	}
	if moved {
		switch stripe.DisputeStatus(d.Status) {
		case stripe.DisputeStatusLost:
			counters[store.CtrDisputeLostCents] += d.AmountCents
			p.DisputeLostCents += d.AmountCents
			action = "dispute.lost"
		case stripe.DisputeStatusWon:
			counters[store.CtrDisputeWonCents] += d.AmountCents
			action = "dispute.won"
		case stripe.DisputeStatusWarningClosed:
			action = "dispute.close"
		}
	}
	flagged := false
	if ev == stripe.EventTypeChargeDisputeFundsWithdrawn && !d.FundsWithdrawn {
		d.FundsWithdrawn, flagged = true, true
	}
	if ev == stripe.EventTypeChargeDisputeFundsReinstated && !d.FundsReinstated {
		d.FundsReinstated, flagged = true, true
	}
	if !moved && !flagged {
		return nil, nil
	}
	if action == "" {
		action = "dispute." + strings.TrimPrefix(string(ev), "charge.dispute.")
	}
	if f.Reason != "" {
		d.Reason = f.Reason
	}
	d.UpdatedAt, d.EventID = now, eventID
	p.Disputed, p.DisputeStatus = true, d.Status
	c := &Change{Payment: p, Counters: counters, At: now,
		Audit: audit.Entry{Actor: audit.ActorStripe, Action: action, Target: "payment:" + p.ID, RequestID: eventID,
			Details: map[string]string{"userId": p.UserID, "disputeId": d.ID, "status": d.Status, "event": string(ev),
				"amountCents": itoa(d.AmountCents), "reason": d.Reason}}}
	if cur == nil {
		c.NewDispute = &d
	} else {
		c.Dispute = &d
	}
	d.Chargeback = d.Chargeback || disputeWithdrawn(d.Status)
	entries, err := disputeEntries(p, cur, d, now)
	if err != nil {
		return nil, err
	}
	c.Entries = entries
	return c, nil
}
