package seed

import (
	"fmt"
	"slices"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
)

// Paying subscribers: learners on the paid tiers, subscribed through the signed events Stripe sends
// for a Checkout subscription (customer.subscription.created, then invoice.paid) and, for those who
// started more than a month ago, each monthly renewal (customer.subscription.updated moving the
// period, invoice.paid of the cycle), read from the period the API has. Every event has a fixed id
// (a renewal's names the day its period starts), so the webhook drops a second run's.

// Subscribers is how many paying subscribers the seed makes (seed-subscriber-01..24): every sixth on
// Enterprise, the others on Pro.
const Subscribers = 24

// subscriberID is the n-th (1-based) seeded subscriber.
func subscriberID(n int) string { return fmt.Sprintf("seed-subscriber-%02d", n) }

// subscriberTier is the n-th subscriber's paid tier.
func subscriberTier(n int) string {
	if n%6 == 0 {
		return "enterprise"
	}
	return "pro"
}

// subscriberStart is when the n-th subscriber subscribed: 4 to 50 days before today (09:00 UTC), so
// some were paying before the metrics' 30-day window (the churn rate has a denominator) and some
// joined inside it.
func subscriberStart(today time.Time, n int) time.Time {
	return today.UTC().Truncate(24*time.Hour).AddDate(0, 0, -(2*n + 2)).Add(9 * time.Hour)
}

// subscribeEvents are the n-th subscriber's first events, as Stripe sends them for a Checkout
// subscription: the subscription created with its first month's period, and that invoice paid.
func subscribeEvents(now time.Time, n int) ([][]byte, error) {
	id := subscriberID(n)
	start := subscriberStart(now, n)
	o := stripeevents.Options{UserID: id, Email: id + "@example.com", Tier: subscriberTier(n), Created: start,
		PeriodStart: start, PeriodEnd: start.AddDate(0, 1, 0), InvoiceID: "in_seed_" + id + "_first",
		ChargeID: "ch_seed_" + id + "_first", PaymentIntentID: "pi_seed_" + id + "_first"}
	created := o
	created.EventID = "evt_seed_subscribed_" + id
	paid := o
	paid.EventID = "evt_seed_invoice_" + id + "_first"
	return buildAll([]string{stripeevents.CustomerSubscriptionCreated, stripeevents.InvoicePaid}, created, paid)
}

// renewalEvents are the n-th subscriber's events of a renewal at periodEnd (the end of the period
// the API has): Stripe moves the period a month on, then the cycle's invoice is paid. Their ids are
// those of that renewal, so a later run sends the renewals due since and never one twice.
func renewalEvents(n int, periodEnd time.Time) ([][]byte, error) {
	id := subscriberID(n)
	at := periodEnd.UTC().Truncate(time.Second)
	tag := id + "_" + at.Format("20060102")
	o := stripeevents.Options{UserID: id, Email: id + "@example.com", Tier: subscriberTier(n), Created: at,
		PeriodStart: at, PeriodEnd: at.AddDate(0, 1, 0), InvoiceID: "in_seed_" + tag, ChargeID: "ch_seed_" + tag,
		PaymentIntentID: "pi_seed_" + tag, BillingReason: "subscription_cycle"}
	updated := o
	updated.EventID = "evt_seed_renewed_" + tag
	updated.PreviousAttributes = map[string]any{"current_period_start": at.AddDate(0, -1, 0).Unix(), "current_period_end": at.Unix()}
	paid := o
	paid.EventID = "evt_seed_invoice_" + tag
	return buildAll([]string{stripeevents.CustomerSubscriptionUpdated, stripeevents.InvoicePaid}, updated, paid)
}

// buildAll builds the events types[i] with opts[i].
func buildAll(types []string, opts ...stripeevents.Options) ([][]byte, error) {
	var out [][]byte
	for i, typ := range types {
		b, err := stripeevents.Build(typ, opts[i])
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// maxRenewals bounds the renewals one run sends a subscriber (a stack seeded two years ago).
const maxRenewals = 24

// subscriptions sends every subscriber's events, then finds a subscription payment to refund (the
// console's refund of a renewal, besides the course purchase of Report.RefundablePaymentID).
func (s *seeder) subscriptions() error {
	events := 0
	send := func(payloads [][]byte, n int) error {
		for _, p := range payloads {
			if err := s.webhook(p); err != nil {
				return fmt.Errorf("%s: %w", subscriberID(n), err)
			}
		}
		events += len(payloads)
		return nil
	}
	for n := 1; n <= Subscribers; n++ {
		payloads, err := subscribeEvents(s.now, n)
		if err != nil {
			return err
		}
		if err := send(payloads, n); err != nil {
			return err
		}
		// Renewals due: from the period the API has (a second run finds it renewed already).
		var sub struct {
			CurrentPeriodEnd *time.Time `json:"currentPeriodEnd"`
		}
		if _, err := s.do("GET", "/subscription", s.token(subscriberID(n)), nil, &sub); err != nil {
			return err
		}
		if sub.CurrentPeriodEnd == nil {
			return fmt.Errorf("%s: no current period after subscribing", subscriberID(n))
		}
		for end, i := *sub.CurrentPeriodEnd, 0; !end.After(s.now) && i < maxRenewals; end, i = end.AddDate(0, 1, 0), i+1 {
			payloads, err := renewalEvents(n, end)
			if err != nil {
				return err
			}
			if err := send(payloads, n); err != nil {
				return err
			}
		}
	}
	s.rep.Subscribers = Subscribers
	for n := 1; n <= Subscribers; n++ {
		var page struct {
			Payments []payment `json:"payments"`
		}
		if _, err := s.do("GET", "/payments?limit=100", s.token(subscriberID(n)), nil, &page); err != nil {
			return err
		}
		i := slices.IndexFunc(page.Payments, func(p payment) bool {
			return p.Kind == "subscription" && p.Status == "succeeded" && p.RefundedCents == 0 && !p.Disputed
		})
		if i >= 0 {
			p := page.Payments[i]
			s.rep.SubscriptionRefundUserID, s.rep.RefundableSubscriptionPaymentID = subscriberID(n), p.ID
			s.rep.RefundableSubscriptionAmountCents = p.AmountCents
			break
		}
	}
	if s.rep.RefundableSubscriptionPaymentID == "" {
		return fmt.Errorf("no seeded subscriber has a refundable subscription payment")
	}
	fmt.Fprintf(s.cfg.Out, "subscriptions: %d subscribers (%d events sent); refundable subscription payment %s of %s\n",
		Subscribers, events, s.rep.RefundableSubscriptionPaymentID, s.rep.SubscriptionRefundUserID)
	return nil
}
