package payments

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/store"
)

// Payments' backfill (docs/books.md "Backfill"): each subscription payment, refund and dispute
// recorded before the journal gets the entries the live path posts for it, built by the same
// functions with the same ids — pay.invoice.<invoice>, pay.refund.<refund>,
// pay.dispute_opened/won.<dispute> — so a record whose events were posted live finds them there.
//
// What the records do not keep is told as it most likely happened: a refund in a final status that
// is no money out (failed, canceled, superseded) counted first — Stripe creates a refund pending,
// and a refund_failure reverses its balance transaction — so it gets both its pay.refund and its
// pay.refund_failed, dated when it was created. The two net to zero, so a refund that never counted
// (first seen canceled; live posting posts nothing for it) leaves every balance as live posting did. A dispute is taken from first sight (before = nil): a won one gets its opening
// (dated when it was opened) and its win (dated at its last update).

func init() {
	journal.RegisterBackfill(journal.Backfiller{Area: Area, Types: []string{"payment", "refund", "dispute"}, Entries: backfillEntries})
}

func backfillEntries(ctx context.Context, s *store.Store, item map[string]types.AttributeValue) (journal.Backfill, error) {
	var kind struct {
		Type string `dynamodbav:"type"`
	}
	if err := store.DecodeItem(item, &kind); err != nil {
		return journal.Backfill{}, err
	}
	switch kind.Type {
	case "payment":
		var p Payment
		if err := store.DecodeItem(item, &p); err != nil {
			return journal.Backfill{}, err
		}
		e, err := invoiceEntry(p, p.InvoiceID)
		if err != nil || e == nil {
			return journal.Backfill{}, err
		}
		return journal.Backfill{Entries: []journal.Entry{*e}}, nil
	case "refund":
		var r Refund
		if err := store.DecodeItem(item, &r); err != nil {
			return journal.Backfill{}, err
		}
		p, err := paymentOf(ctx, s, r.UserID, r.PaymentID)
		if err != nil || p == nil {
			return journal.Backfill{}, err
		}
		return refundBackfill(*p, r)
	case "dispute":
		var d Dispute
		if err := store.DecodeItem(item, &d); err != nil {
			return journal.Backfill{}, err
		}
		p, err := paymentOf(ctx, s, d.UserID, d.PaymentID)
		if err != nil || p == nil {
			return journal.Backfill{}, err
		}
		entries, err := disputeEntries(*p, nil, d, d.UpdatedAt)
		return journal.Backfill{Entries: entries}, err
	}
	return journal.Backfill{}, nil
}

// paymentOf reads a refund's or dispute's payment (nil when it is not one payments posts for).
func paymentOf(ctx context.Context, s *store.Store, userID, paymentID string) (*Payment, error) {
	p, err := Repo{S: s}.GetPayment(ctx, userID, paymentID)
	switch {
	case apperr.Is(err, apperr.NotFound):
		return nil, nil // a refund of a charge we never recorded: nothing was posted for it either
	case err != nil:
		return nil, err
	case !posts(p):
		return nil, nil
	}
	return &p, nil
}

// refundBackfill is a refund's entries from its recorded state (see above).
func refundBackfill(p Payment, r Refund) (journal.Backfill, error) {
	var out []journal.Entry
	counted := r
	if RefundFinal(r.Status) {
		counted.Status = RefundSucceeded // it counted before it failed
	}
	if RefundCounts(counted.Status) {
		e, err := refundEntry(p, nil, counted, r.CreatedAt)
		if err != nil {
			return journal.Backfill{}, err
		}
		if e != nil {
			out = append(out, *e)
		}
	}
	if RefundFinal(r.Status) {
		e, err := refundEntry(p, &counted, r, r.CreatedAt)
		if err != nil {
			return journal.Backfill{}, err
		}
		if e != nil {
			out = append(out, *e)
		}
	}
	return journal.Backfill{Entries: out}, nil
}
