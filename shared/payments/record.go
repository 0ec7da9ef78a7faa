package payments

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/store"
)

// Recorder records successful and failed payments reported by Stripe and queues their e-mails.
type Recorder struct {
	Repo   RecordRepo
	Queue  queue.Sender
	Clock  clock.Clock
	AppURL string // the web app (the dunning e-mail's "update your payment method" link)
	// Reconcile, when set, books refunds Stripe reported for the payment's charge before the
	// payment was recorded (the webhook wires Refunder.ReconcileUnmatched).
	Reconcile func(ctx context.Context, p Payment) error
}

// InvoicePaid records a successful subscription payment for userID (idempotent per invoice), counts
// it in the day's metrics, audits it, and queues the receipt e-mail (every call queues; the receipt
// consumer sends one e-mail per payment). A $0 invoice (a free tier, a trial, a fully discounted
// period) moves no money: nothing is recorded and no receipt is sent.
func (r *Recorder) InvoicePaid(ctx context.Context, userID string, inv *stripe.Invoice, src Source) error {
	if inv == nil || inv.ID == "" || userID == "" {
		return apperr.New(apperr.Invalid, "invoice and user are required")
	}
	if inv.AmountPaid <= 0 {
		logging.From(ctx).Info("zero-amount invoice: nothing to record", "invoiceId", inv.ID)
		return nil
	}
	paidAt := r.Clock.Now()
	switch {
	case inv.StatusTransitions != nil && inv.StatusTransitions.PaidAt > 0:
		paidAt = time.Unix(inv.StatusTransitions.PaidAt, 0).UTC()
	case !src.Created.IsZero():
		paidAt = src.Created
	}
	p := Payment{
		UserID: userID, Kind: PaymentKindSubscription, Status: PaymentSucceeded,
		AmountCents: inv.AmountPaid, Currency: string(inv.Currency),
		Description:   invoiceDescription(inv),
		InvoiceID:     inv.ID,
		InvoiceNumber: inv.Number,
		CustomerEmail: inv.CustomerEmail,
		PaidAt:        paidAt, CreatedAt: paidAt, EventID: src.EventID,
	}
	if inv.Subscription != nil {
		p.SubscriptionID = inv.Subscription.ID
	}
	if inv.Charge != nil {
		p.ChargeID = inv.Charge.ID
		p.PaymentMethod = methodSummary(inv.Charge)
	}
	if inv.PaymentIntent != nil {
		p.PaymentIntentID = inv.PaymentIntent.ID
	}
	p.PeriodStart, p.PeriodEnd = invoicePeriod(inv)
	p.CreditAppliedCents = creditApplied(inv)
	return r.record(ctx, p, inv.ID, src, nil)
}

// creditApplied is the customer-balance credit an invoice used: Stripe applies a credit (a negative
// starting balance) before charging, and what remains of it is the (negative) ending balance. A
// positive balance (a debt) collected by the invoice is not a credit.
func creditApplied(inv *stripe.Invoice) int64 {
	if inv.StartingBalance >= 0 {
		return 0
	}
	used := min(inv.EndingBalance, 0) - inv.StartingBalance
	return max(used, 0)
}

func invoicePeriod(inv *stripe.Invoice) (*time.Time, *time.Time) {
	if inv.Lines != nil {
		for _, l := range inv.Lines.Data {
			if l != nil && l.Period != nil && l.Period.Start > 0 && l.Period.End > 0 {
				s, e := time.Unix(l.Period.Start, 0).UTC(), time.Unix(l.Period.End, 0).UTC()
				return &s, &e
			}
		}
	}
	if inv.PeriodStart > 0 && inv.PeriodEnd > inv.PeriodStart {
		s, e := time.Unix(inv.PeriodStart, 0).UTC(), time.Unix(inv.PeriodEnd, 0).UTC()
		return &s, &e
	}
	return nil, nil
}

// CheckoutPaid records a one-off purchase paid through Checkout (mode "payment", payment_status
// "paid"). Other sessions are ignored: subscription checkouts are recorded from their invoice, and
// an unpaid (async) session is recorded when checkout.session.async_payment_succeeded brings it back
// paid.
//
// paidAt is when the payment succeeded: the charge's time when the event carries it expanded, else
// the time Stripe created the event (completion, or the async payment's success) — never the
// session's creation, which can be a day earlier.
func (r *Recorder) CheckoutPaid(ctx context.Context, userID string, s *stripe.CheckoutSession, src Source) error {
	return r.CheckoutPaidWith(ctx, userID, s, src, nil)
}

// Extra returns another area's items for the transaction that records payment p (p.ID set). It is
// called again on every attempt, so it must read what it needs afresh; its items must not touch the
// payment's own items (its guard, the payment, its PaymentIntent pointer, the day counters).
type Extra func(ctx context.Context, p Payment) ([]types.TransactWriteItem, error)

// CheckoutPaidWith records a paid session like CheckoutPaid, and writes extra's items in the same
// transaction: an area that sells through Checkout (the marketplace's course sales: the sale, the
// enrolment, the instructor's ledger) books its side atomically with the payment and its receipt.
// The session's metadata.recordedBy names that area, so payments' own hook leaves the session to it.
func (r *Recorder) CheckoutPaidWith(ctx context.Context, userID string, s *stripe.CheckoutSession, src Source, extra Extra) error {
	if s == nil || s.ID == "" || userID == "" {
		return apperr.New(apperr.Invalid, "session and user are required")
	}
	if s.Mode != stripe.CheckoutSessionModePayment || s.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid {
		return nil
	}
	if s.AmountTotal <= 0 {
		logging.From(ctx).Info("zero-amount checkout: nothing to record", "sessionId", s.ID)
		return nil
	}
	paidAt := r.Clock.Now()
	if !src.Created.IsZero() {
		paidAt = src.Created
	}
	p := Payment{
		UserID: userID, Kind: PaymentKindPurchase, Status: PaymentSucceeded,
		AmountCents: s.AmountTotal, Currency: string(s.Currency),
		Description:       checkoutDescription(s),
		CheckoutSessionID: s.ID,
		CourseID:          s.Metadata["courseId"],
		CustomerEmail:     s.CustomerEmail,
		EventID:           src.EventID,
	}
	if s.CustomerDetails != nil && s.CustomerDetails.Email != "" {
		p.CustomerEmail = s.CustomerDetails.Email
	}
	if pi := s.PaymentIntent; pi != nil {
		p.PaymentIntentID = pi.ID
		if ch := pi.LatestCharge; ch != nil {
			p.ChargeID = ch.ID
			p.PaymentMethod = methodSummary(ch)
			if ch.Created > 0 {
				paidAt = time.Unix(ch.Created, 0).UTC()
			}
		}
	}
	p.PaidAt, p.CreatedAt = paidAt, paidAt
	if s.Invoice != nil && s.Invoice.ID != "" {
		p.InvoiceID = s.Invoice.ID
		p.InvoiceNumber = s.Invoice.Number
	}
	return r.record(ctx, p, s.ID, src, extra)
}

// record writes p once per sourceID (with extra's items, when given) and always queues its receipt.
func (r *Recorder) record(ctx context.Context, p Payment, sourceID string, src Source, extra Extra) error {
	p.ID = newPaymentID(p.PaidAt)
	p.Currency = strings.ToLower(p.Currency)
	if p.Description == "" {
		p.Description = "Payment"
	}
	au := audit.Entry{
		Actor: audit.ActorStripe, Action: "payment.record", Target: "payment:" + p.ID, RequestID: src.EventID,
		Details: map[string]string{"userId": p.UserID, "kind": p.Kind, "source": sourceID,
			"amountCents": itoa(p.AmountCents), "currency": p.Currency},
	}
	var l PaymentLookup
	var created bool
	err := store.RetryOnConflict(ctx, "record payment", func() error {
		var items []types.TransactWriteItem
		if extra != nil {
			var err error
			if items, err = extra(ctx, p); err != nil {
				return err
			}
		}
		var err error
		l, created, err = r.Repo.CreatePayment(ctx, p, sourceID, au, items)
		return err
	})
	if err != nil {
		return err
	}
	if created {
		log := logging.From(ctx)
		log.Info("payment recorded", "paymentId", l.PaymentID, "source", sourceID, "amountCents", p.AmountCents)
		// Counted once, when recorded (a redelivery is not a second attempt): the success-rate alarm.
		metric.Count1(ctx, log, metric.PaymentAttempts)
		metric.Count1(ctx, log, metric.PaymentSuccesses)
	} else {
		logging.From(ctx).Info("payment already recorded", "paymentId", l.PaymentID, "source", sourceID)
	}
	if r.Reconcile != nil {
		p.ID, p.UserID = l.PaymentID, l.UserID
		if err := r.Reconcile(ctx, p); err != nil {
			return err
		}
	}
	return enqueueReceipt(ctx, r.Queue, ReceiptJob{UserID: l.UserID, PaymentID: l.PaymentID})
}

func enqueueReceipt(ctx context.Context, q queue.Sender, job ReceiptJob) error {
	if job.RefundID != "" {
		return q.Send(ctx, manifest.ReceiptsQueue, MsgRefundReceipt, RefundDedupeID(job.RefundID), job)
	}
	return q.Send(ctx, manifest.ReceiptsQueue, MsgReceipt, ReceiptDedupeID(job.PaymentID), job)
}

// InvoicePaymentFailed counts a failed payment once per (invoice, attempt) and queues a dunning
// e-mail for that attempt (queued on every call; the consumer sends one per attempt).
func (r *Recorder) InvoicePaymentFailed(ctx context.Context, userID string, inv *stripe.Invoice, src Source) error {
	if inv == nil || inv.ID == "" || userID == "" {
		return apperr.New(apperr.Invalid, "invoice and user are required")
	}
	if inv.AmountDue <= 0 {
		return nil
	}
	now := r.Clock.Now()
	attempt := inv.AttemptCount
	au := audit.Entry{Actor: audit.ActorStripe, Action: "payment.failed", Target: "invoice:" + inv.ID, RequestID: src.EventID,
		Details: map[string]string{"userId": userID, "attempt": itoa(attempt), "amountCents": itoa(inv.AmountDue)}}
	counted, err := r.Repo.CountPaymentFailure(ctx, userID, inv.ID, attempt, now, au)
	if err != nil {
		return err
	}
	if counted { // once per (invoice, attempt), like the day counter: the success-rate alarm's denominator
		log := logging.From(ctx)
		metric.Count1(ctx, log, metric.PaymentAttempts)
		metric.Count1(ctx, log, metric.PaymentFailures)
	}
	job := DunningJob{
		UserID: userID, Email: inv.CustomerEmail, InvoiceID: inv.ID, InvoiceNumber: inv.Number, Attempt: attempt,
		AmountCents: inv.AmountDue, Currency: strings.ToLower(string(inv.Currency)),
		HostedInvoiceURL: inv.HostedInvoiceURL,
		UpdatePaymentURL: strings.TrimRight(r.AppURL, "/") + BillingPath,
	}
	if inv.NextPaymentAttempt > 0 {
		t := time.Unix(inv.NextPaymentAttempt, 0).UTC()
		job.NextAttemptAt = &t
	}
	return r.Queue.Send(ctx, manifest.ReceiptsQueue, MsgDunning, DunningDedupeID(inv.ID, attempt), job)
}

// ----- descriptions -----

// joinDescriptions joins the non-blank line descriptions ("" when there are none), clipped.
func joinDescriptions(descs []string) string {
	var parts []string
	for _, d := range descs {
		if d = strings.TrimSpace(d); d != "" {
			parts = append(parts, d)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return clip(strings.Join(parts, "; "), 300)
}

func invoiceDescription(inv *stripe.Invoice) string {
	if inv.Lines != nil {
		var descs []string
		for _, l := range inv.Lines.Data {
			if l != nil {
				descs = append(descs, l.Description)
			}
		}
		if d := joinDescriptions(descs); d != "" {
			return d
		}
	}
	if inv.Description != "" {
		return clip(inv.Description, 300)
	}
	return "Subscription"
}

func checkoutDescription(s *stripe.CheckoutSession) string {
	for _, k := range []string{"description", "courseTitle", "productName"} {
		if v := strings.TrimSpace(s.Metadata[k]); v != "" {
			return clip(v, 300)
		}
	}
	if s.LineItems != nil {
		var descs []string
		for _, li := range s.LineItems.Data {
			if li != nil {
				descs = append(descs, li.Description)
			}
		}
		if d := joinDescriptions(descs); d != "" {
			return d
		}
	}
	return "Purchase"
}

func methodSummary(ch *stripe.Charge) string {
	if ch == nil || ch.PaymentMethodDetails == nil || ch.PaymentMethodDetails.Card == nil {
		return ""
	}
	c := ch.PaymentMethodDetails.Card
	if c.Last4 == "" {
		return ""
	}
	brand := string(c.Brand)
	if brand == "" || brand == "unknown" {
		brand = "Card"
	} else {
		brand = strings.ToUpper(brand[:1]) + brand[1:]
	}
	return brand + " •••• " + c.Last4
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
