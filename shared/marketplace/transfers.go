package marketplace

import (
	"context"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/marketplace/ledger"
)

// TransferReversal is what transfer.reversed says about one of our payout transfers.
type TransferReversal struct {
	TransferID     string
	InstructorID   string
	Period         string
	AmountReversed int64 // in total, over every reversal of the transfer
}

// TransferReversalOf reads a transfer.reversed event's transfer: ok is false unless it is one of
// our payouts (its metadata names the payout, instructor and period we set).
func TransferReversalOf(tr *stripe.Transfer) (TransferReversal, bool) {
	if tr == nil || tr.ID == "" || tr.Metadata["userId"] == "" || !ValidPeriod(tr.Metadata["period"]) ||
		tr.Metadata["payoutId"] != PayoutID(tr.Metadata["userId"], tr.Metadata["period"]) {
		return TransferReversal{}, false
	}
	return TransferReversal{TransferID: tr.ID, InstructorID: tr.Metadata["userId"], Period: tr.Metadata["period"],
		AmountReversed: tr.AmountReversed}, true
}

// ApplyTransferReversed books money a payout transfer gave back (a reversal made in the Dashboard
// or by support): the instructor's paid bucket goes down and their available balance up by what was
// reversed since the last event — in the payout's transaction, so a redelivery books nothing more —
// and the balance becomes payable again. A payout still transferring is marked paid first: the
// event proves the transfer exists, and its retry then finds it rather than paying again.
func ApplyTransferReversed(ctx context.Context, d *Deps, tr TransferReversal, eventID string) error {
	po, err := d.Books.Payout(ctx, tr.InstructorID, tr.Period)
	if err != nil {
		return err
	}
	if po == nil {
		logging.From(ctx).Error("transfer.reversed for a payout we have no record of", "transferId", tr.TransferID,
			"instructorId", tr.InstructorID, "period", tr.Period)
		return nil
	}
	if po.Status == PayoutTransferring {
		if err := markPaid(ctx, d, *po, tr.TransferID); err != nil {
			return err
		}
	}
	return retryConflicts(ctx, "book transfer reversal", func() error {
		cur, err := d.Books.Payout(ctx, tr.InstructorID, tr.Period)
		if err != nil {
			return err
		}
		if cur == nil || cur.Status != PayoutPaid {
			logging.From(ctx).Error("transfer.reversed for a payout that is not paid", "transferId", tr.TransferID,
				"payoutStatus", payoutStatus(cur))
			return nil
		}
		delta := min(tr.AmountReversed, cur.AmountCents) - cur.ReversedCents
		if delta <= 0 {
			return nil // booked before, or an older event
		}
		now := d.Clock.Now().UTC()
		p := *cur
		read := p.Version
		p.ReversedCents, p.UpdatedAt, p.Version = p.ReversedCents+delta, now, read+1
		return d.Books.Commit(ctx, &Change{Book: booking{At: now, Actor: audit.ActorStripe, RequestID: eventID, PayoutID: p.ID,
			Ref: tr.TransferID, Details: map[string]string{"transferId": tr.TransferID, "reversedCents": itoa(p.ReversedCents)}},
			Move: ledger.PayoutReversal(p.InstructorID, delta), Payout: &Versioned[Payout]{Item: p, Read: read}})
	})
}

func payoutStatus(p *Payout) string {
	if p == nil {
		return "none"
	}
	return p.Status
}
