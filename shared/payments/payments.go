// Package payments records charges, refunds and disputes reported by Stripe, serves a user's
// payment history and receipts, refunds payments for admins, and renders and e-mails receipts.
//
// Recording functions (Apply*) are called by the Stripe webhook. Stripe delivers events at least
// once and in any order, so each is idempotent: a payment is created once per Stripe source (a
// guard item keyed by invoice or Checkout Session id, in the same transaction as the payment, its
// counters and its audit record), refunds once per Stripe refund id, disputes once per dispute id.
// Messages to the receipts queue are sent on every call, because an earlier attempt may have failed
// between writing and sending; the consumer sends one e-mail per dedupe id.
package payments

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// Message types on the receipts queue.
const (
	MsgReceipt       = "receipt"
	MsgRefundReceipt = "refund-receipt"
	MsgDunning       = "dunning"
)

// ReceiptJob asks the consumer to send the receipt of a payment (RefundID empty) or the notice of
// one of its refunds.
type ReceiptJob struct {
	UserID    string `json:"userId"`
	PaymentID string `json:"paymentId"`
	RefundID  string `json:"refundId,omitempty"`
}

// DunningJob asks the consumer to e-mail a failed-payment notice.
type DunningJob struct {
	UserID           string     `json:"userId"`
	Email            string     `json:"email,omitempty"`
	InvoiceID        string     `json:"invoiceId"`
	InvoiceNumber    string     `json:"invoiceNumber,omitempty"`
	Attempt          int64      `json:"attempt"`
	AmountCents      int64      `json:"amountCents"`
	Currency         string     `json:"currency"`
	NextAttemptAt    *time.Time `json:"nextAttemptAt,omitempty"`
	HostedInvoiceURL string     `json:"hostedInvoiceUrl,omitempty"`
	UpdatePaymentURL string     `json:"updatePaymentUrl"`
}

// ReceiptDedupeID, RefundDedupeID and DunningDedupeID name the one e-mail each logical message may
// produce.
func ReceiptDedupeID(paymentID string) string { return "receipt#" + paymentID }

// RefundDedupeID is the dedupe id of a refund notice.
func RefundDedupeID(refundID string) string { return "refund#" + refundID }

// DunningDedupeID is the dedupe id of a dunning e-mail for one attempt of an invoice.
func DunningDedupeID(invoiceID string, attempt int64) string {
	return "dunning#" + invoiceID + "#" + strconv.FormatInt(attempt, 10)
}

// BillingPath is the web app page where a customer updates the payment method.
const BillingPath = "/account/billing"

// ----- ids -----

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var paymentIDPattern = regexp.MustCompile(`^pay_[0-9A-HJKMNP-TV-Z]{26}$`)

// ValidPaymentID reports whether s has the shape of our payment ids.
func ValidPaymentID(s string) bool { return paymentIDPattern.MatchString(s) }

// newPaymentID returns "pay_" + a ULID (48-bit millisecond time, 80 random bits, Crockford base32),
// so ids sort by payment time and a reverse Query lists newest first.
func newPaymentID(at time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at.UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	// 128 bits → 26 base32 characters (the first carries 3 bits).
	var out [26]byte
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return "pay_" + string(out[:])
}

// ----- recording payments -----

// ApplyInvoicePaid records a successful subscription payment for userID (idempotent per invoice),
// counts it in the day's metrics, audits it, and queues the receipt e-mail (every call queues; the
// receipt consumer sends one e-mail per payment). A $0 invoice (a free tier, a trial, a fully
// discounted period) moves no money: nothing is recorded and no receipt is sent.
func ApplyInvoicePaid(ctx context.Context, d *Deps, userID string, inv *stripe.Invoice, eventID string) error {
	if inv == nil || inv.ID == "" || userID == "" {
		return apperr.New(apperr.Invalid, "invoice and user are required")
	}
	if inv.AmountPaid <= 0 {
		logging.From(ctx).Info("zero-amount invoice: nothing to record", "invoiceId", inv.ID)
		return nil
	}
	now := d.Clock.Now()
	paidAt := now
	if inv.StatusTransitions != nil && inv.StatusTransitions.PaidAt > 0 {
		paidAt = time.Unix(inv.StatusTransitions.PaidAt, 0).UTC()
	}
	p := store.Payment{
		UserID: userID, Kind: store.PaymentKindSubscription, Status: store.PaymentSucceeded,
		AmountCents: inv.AmountPaid, Currency: string(inv.Currency),
		Description:   invoiceDescription(inv),
		InvoiceID:     inv.ID,
		InvoiceNumber: inv.Number,
		CustomerEmail: inv.CustomerEmail,
		PaidAt:        paidAt, CreatedAt: paidAt, EventID: eventID,
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
	if inv.Lines != nil {
		for _, l := range inv.Lines.Data {
			if l != nil && l.Period != nil && l.Period.Start > 0 && l.Period.End > 0 {
				s, e := time.Unix(l.Period.Start, 0).UTC(), time.Unix(l.Period.End, 0).UTC()
				p.PeriodStart, p.PeriodEnd = &s, &e
				break
			}
		}
	}
	if p.PeriodStart == nil && inv.PeriodStart > 0 && inv.PeriodEnd > inv.PeriodStart {
		s, e := time.Unix(inv.PeriodStart, 0).UTC(), time.Unix(inv.PeriodEnd, 0).UTC()
		p.PeriodStart, p.PeriodEnd = &s, &e
	}
	return recordPayment(ctx, d, &p, inv.ID, eventID)
}

// ApplyCheckoutPayment records a one-off purchase paid through Checkout (mode "payment",
// payment_status "paid"). Other sessions are ignored: subscription checkouts are recorded from their
// invoice, and an unpaid (async) session is recorded when checkout.session.async_payment_succeeded
// brings it back paid.
func ApplyCheckoutPayment(ctx context.Context, d *Deps, userID string, s *stripe.CheckoutSession, eventID string) error {
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
	now := d.Clock.Now()
	paidAt := now
	if s.Created > 0 {
		paidAt = time.Unix(s.Created, 0).UTC()
	}
	p := store.Payment{
		UserID: userID, Kind: store.PaymentKindPurchase, Status: store.PaymentSucceeded,
		AmountCents: s.AmountTotal, Currency: string(s.Currency),
		Description:       checkoutDescription(s),
		CheckoutSessionID: s.ID,
		CourseID:          s.Metadata["courseId"],
		CustomerEmail:     s.CustomerEmail,
		PaidAt:            paidAt, CreatedAt: paidAt, EventID: eventID,
	}
	if s.CustomerDetails != nil && s.CustomerDetails.Email != "" {
		p.CustomerEmail = s.CustomerDetails.Email
	}
	if s.PaymentIntent != nil {
		p.PaymentIntentID = s.PaymentIntent.ID
		if s.PaymentIntent.LatestCharge != nil {
			p.ChargeID = s.PaymentIntent.LatestCharge.ID
			p.PaymentMethod = methodSummary(s.PaymentIntent.LatestCharge)
		}
	}
	if s.Invoice != nil && s.Invoice.ID != "" {
		p.InvoiceID = s.Invoice.ID
		p.InvoiceNumber = s.Invoice.Number
	}
	return recordPayment(ctx, d, &p, s.ID, eventID)
}

// recordPayment writes p once per sourceID and always queues its receipt.
func recordPayment(ctx context.Context, d *Deps, p *store.Payment, sourceID, eventID string) error {
	p.ID = newPaymentID(p.PaidAt)
	p.Currency = strings.ToLower(p.Currency)
	if p.Description == "" {
		p.Description = "Payment"
	}
	srcKey := store.PaymentSourceKey(sourceID)
	guard, err := store.PutNewItem(store.NewPaymentLookup(srcKey, p))
	if err != nil {
		return err
	}
	payItem, err := store.PutPaymentItem(p)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{guard, payItem}
	if p.PaymentIntentID != "" {
		pi, err := store.PutItem(store.NewPaymentLookup(store.PaymentIntentKey(p.PaymentIntentID), p))
		if err != nil {
			return err
		}
		items = append(items, pi)
	}
	items = store.Append(items, store.AddDayCounters(p.PaidAt, map[string]int64{
		store.CtrPaymentsSucceeded: 1,
		store.CtrRevenueCents:      p.AmountCents,
	}))
	au, err := audit.Item(audit.Entry{
		Actor: audit.ActorStripe, Action: "payment.record", Target: "payment:" + p.ID, RequestID: eventID,
		Details: map[string]string{
			"userId": p.UserID, "kind": p.Kind, "source": sourceID, "amountCents": strconv.FormatInt(p.AmountCents, 10),
			"currency": p.Currency,
		},
	}, d.Clock.Now())
	if err != nil {
		return err
	}
	items = append(items, au)

	paymentID := p.ID
	err = d.Store.Transact(ctx, items)
	switch {
	case err == nil:
		logging.From(ctx).Info("payment recorded", "paymentId", p.ID, "source", sourceID, "amountCents", p.AmountCents)
	case store.IsConditionFailed(err) && containsInt(store.FailedItems(err), 0):
		// Recorded by an earlier delivery: find which payment, and (re)queue its receipt.
		var l store.PaymentLookup
		if gErr := d.Store.GetConsistent(ctx, srcKey, &l); gErr != nil {
			return gErr
		}
		paymentID = l.PaymentID
		p.UserID = l.UserID
		logging.From(ctx).Info("payment already recorded", "paymentId", paymentID, "source", sourceID)
	default:
		return err
	}
	return enqueueReceipt(ctx, d, ReceiptJob{UserID: p.UserID, PaymentID: paymentID})
}

func enqueueReceipt(ctx context.Context, d *Deps, job ReceiptJob) error {
	if job.RefundID != "" {
		return d.Queue.Send(ctx, manifest.ReceiptsQueue, MsgRefundReceipt, RefundDedupeID(job.RefundID), job)
	}
	return d.Queue.Send(ctx, manifest.ReceiptsQueue, MsgReceipt, ReceiptDedupeID(job.PaymentID), job)
}

// ApplyInvoicePaymentFailed counts a failed payment once per (invoice, attempt) and queues a dunning
// e-mail for that attempt (queued on every call; the consumer sends one per attempt).
func ApplyInvoicePaymentFailed(ctx context.Context, d *Deps, userID string, inv *stripe.Invoice, eventID string) error {
	if inv == nil || inv.ID == "" || userID == "" {
		return apperr.New(apperr.Invalid, "invoice and user are required")
	}
	if inv.AmountDue <= 0 {
		return nil
	}
	now := d.Clock.Now()
	attempt := inv.AttemptCount
	guard := struct {
		PK        string `dynamodbav:"PK"`
		SK        string `dynamodbav:"SK"`
		Type      string `dynamodbav:"type"`
		UserID    string `dynamodbav:"userId"`
		InvoiceID string `dynamodbav:"invoiceId"`
		Attempt   int64  `dynamodbav:"attempt"`
		At        string `dynamodbav:"at"`
	}{Type: "payment-failure", UserID: userID, InvoiceID: inv.ID, Attempt: attempt, At: now.Format(time.RFC3339)}
	k := store.PaymentFailureKey(inv.ID, attempt)
	guard.PK, guard.SK = k.PK, k.SK
	g, err := store.PutNewItem(guard)
	if err != nil {
		return err
	}
	au, err := audit.Item(audit.Entry{
		Actor: audit.ActorStripe, Action: "payment.failed", Target: "invoice:" + inv.ID, RequestID: eventID,
		Details: map[string]string{"userId": userID, "attempt": strconv.FormatInt(attempt, 10),
			"amountCents": strconv.FormatInt(inv.AmountDue, 10)},
	}, now)
	if err != nil {
		return err
	}
	items := store.Append([]types.TransactWriteItem{g, au}, store.AddDayCounters(now, map[string]int64{store.CtrPaymentsFailed: 1}))
	if err := d.Store.Transact(ctx, items); err != nil && !store.IsConditionFailed(err) {
		return err
	}
	job := DunningJob{
		UserID: userID, Email: inv.CustomerEmail, InvoiceID: inv.ID, InvoiceNumber: inv.Number, Attempt: attempt,
		AmountCents: inv.AmountDue, Currency: strings.ToLower(string(inv.Currency)),
		HostedInvoiceURL: inv.HostedInvoiceURL,
		UpdatePaymentURL: strings.TrimRight(d.Config.AppURL, "/") + BillingPath,
	}
	if inv.NextPaymentAttempt > 0 {
		t := time.Unix(inv.NextPaymentAttempt, 0).UTC()
		job.NextAttemptAt = &t
	}
	return d.Queue.Send(ctx, manifest.ReceiptsQueue, MsgDunning, DunningDedupeID(inv.ID, attempt), job)
}

// ----- helpers -----

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

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// retryConflicts runs attempt until it succeeds, fails with something other than a failed
// condition, or has lost the race maxAttempts times (then a Conflict: the caller may retry).
func retryConflicts(ctx context.Context, what string, attempt func() error) error {
	const maxAttempts = 6
	var err error
	for i := 0; i < maxAttempts; i++ {
		if err = attempt(); err == nil || !store.IsConditionFailed(err) && !apperr.Is(err, apperr.Conflict) {
			return err
		}
		select {
		case <-ctx.Done():
			return apperr.Wrap(ctx.Err(), apperr.Unavailable, "%s interrupted", what)
		case <-time.After(time.Duration(10*(i+1)) * time.Millisecond):
		}
	}
	return apperr.Wrap(err, apperr.Conflict, "%s: too many concurrent changes; retry", what)
}
