package billing

import (
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/facts"
)

// RenewalFact is the subscription.renewed fact of a paid invoice when the invoice is a renewal: a
// new billing cycle (billing_reason subscription_cycle, so not the first invoice, a proration or a
// manual one) that took money, for a price of our tiers. Rewards credits renewals from it.
func RenewalFact(inv *stripe.Invoice, userID string, p Prices) (facts.SubscriptionRenewedFact, bool) {
	if inv == nil || inv.BillingReason != stripe.InvoiceBillingReasonSubscriptionCycle || inv.AmountPaid <= 0 ||
		inv.Subscription == nil || inv.Lines == nil || userID == "" {
		return facts.SubscriptionRenewedFact{}, false
	}
	f := facts.SubscriptionRenewedFact{UserID: userID, InvoiceID: inv.ID, SubscriptionID: inv.Subscription.ID,
		PaidAt: unix(inv.Created)}
	if inv.StatusTransitions != nil && inv.StatusTransitions.PaidAt > 0 {
		f.PaidAt = unix(inv.StatusTransitions.PaidAt)
	}
	for _, l := range inv.Lines.Data {
		if l == nil || l.Price == nil || l.Period == nil {
			continue
		}
		if t, ok := TierByPrice(p, l.Price.ID); ok && !l.Proration {
			f.Tier, f.PeriodStart, f.PeriodEnd = t.ID, unix(l.Period.Start), unix(l.Period.End)
			break
		}
	}
	if f.Tier == "" || f.PeriodEnd.IsZero() || f.PaidAt.IsZero() {
		return facts.SubscriptionRenewedFact{}, false
	}
	return f, true
}
