package reconcile

import (
	"context"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/stripeapi"
)

// stripePort lists balance transactions through the system's one Stripe client (shared/stripeapi:
// timeouts sized to the function, errors classified).
type stripePort struct{ c *stripeapi.Client }

// NewStripePort is the StripeBalance of a Stripe client.
func NewStripePort(c *stripeapi.Client) StripeBalance { return &stripePort{c: c} }

// pageSize is Stripe's largest list page.
const pageSize = 100

// BalanceTransactions lists every balance transaction created in [from, to), newest first as
// Stripe pages them, with each one's source expanded so that a charge's PaymentIntent and invoice
// and a transfer's group (our payout id) come with it. A source Stripe did not expand (a stand-in
// that ignores expand) is read on its own, once per object.
func (s *stripePort) BalanceTransactions(ctx context.Context, from, to time.Time) ([]Txn, error) {
	api, err := s.c.API(ctx)
	if err != nil {
		return nil, err
	}
	p := &stripe.BalanceTransactionListParams{CreatedRange: &stripe.RangeQueryParams{
		GreaterThanOrEqual: from.Unix(), LesserThan: to.Unix()}}
	p.Limit = stripe.Int64(pageSize)
	p.AddExpand("data.source")
	p.Context = ctx // a read: no idempotency key
	var out []Txn
	it := api.BalanceTransactions.List(p)
	for it.Next() {
		bt := it.BalanceTransaction()
		t := Txn{ID: bt.ID, Type: string(bt.Type), Category: string(bt.ReportingCategory), Currency: strings.ToLower(string(bt.Currency)),
			Amount: bt.Amount, Fee: bt.Fee, Created: time.Unix(bt.Created, 0).UTC()}
		if src := bt.Source; src != nil {
			t.Source = src.ID
			var expanded bool
			if t.Refs, expanded = refsOf(src); !expanded {
				if t.Refs, err = s.readRefs(ctx, t); err != nil {
					return nil, err
				}
			}
		}
		out = append(out, t)
	}
	if err := it.Err(); err != nil {
		return nil, stripeapi.Error(err, "listing balance transactions")
	}
	return out, nil
}

// refsOf are the ids an expanded source carries besides its own; expanded is false when the
// source came as a bare id of a kind that may carry some (a charge, a transfer, a reversal).
func refsOf(src *stripe.BalanceTransactionSource) (refs []string, expanded bool) {
	add := func(ids ...string) {
		for _, id := range ids {
			if id != "" {
				refs = append(refs, id)
			}
		}
	}
	switch {
	case src.Charge != nil:
		if src.Charge.PaymentIntent != nil {
			add(src.Charge.PaymentIntent.ID)
		}
		if src.Charge.Invoice != nil {
			add(src.Charge.Invoice.ID)
		}
		add(src.Charge.TransferGroup)
	case src.Transfer != nil:
		add(src.Transfer.TransferGroup, src.Transfer.Metadata["payoutId"])
	case src.TransferReversal != nil:
		if src.TransferReversal.Transfer != nil {
			add(src.TransferReversal.Transfer.ID)
		}
	default:
		// A bare id: charges and transfers are read on their own (readRefs); any other source's
		// entries name the source itself (a refund, a dispute, a payout).
		k := src.ID
		return nil, !(strings.HasPrefix(k, "ch_") || strings.HasPrefix(k, "py_") || strings.HasPrefix(k, "tr_"))
	}
	return refs, true
}

// readRefs reads a charge or transfer whose source came unexpanded.
func (s *stripePort) readRefs(ctx context.Context, t Txn) ([]string, error) {
	api, err := s.c.API(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.HasPrefix(t.Source, "ch_") || strings.HasPrefix(t.Source, "py_"):
		p := &stripe.ChargeParams{}
		p.Context = ctx
		ch, err := api.Charges.Get(t.Source, p)
		if err != nil {
			return nil, stripeapi.Error(err, "reading a charge")
		}
		refs, _ := refsOf(&stripe.BalanceTransactionSource{ID: ch.ID, Charge: ch})
		return refs, nil
	case strings.HasPrefix(t.Source, "tr_"):
		p := &stripe.TransferParams{}
		p.Context = ctx
		tr, err := api.Transfers.Get(t.Source, p)
		if err != nil {
			return nil, stripeapi.Error(err, "reading a transfer")
		}
		refs, _ := refsOf(&stripe.BalanceTransactionSource{ID: tr.ID, Transfer: tr})
		return refs, nil
	}
	return nil, nil
}
