// Package payments records charges, refunds and disputes reported by Stripe, serves a user's
// payment history and receipts, refunds payments for admins, and renders and e-mails receipts.
//
// The Stripe webhook's works (Recorder, Refunder, DisputeBook) are idempotent, because Stripe
// delivers events at least once and in any order: a payment is created once per Stripe source (a
// guard item keyed by invoice or Checkout Session id, in the same transaction as the payment, its
// counters and its audit record), refunds once per Stripe refund id, disputes once per dispute id.
// Refunds converge on Stripe's own list of the charge's refunds, which events no longer carry.
// Messages to the receipts queue are sent on every call, because an earlier attempt may have failed
// between writing and sending; the consumer sends one e-mail per dedupe id.
//
// Each part takes only the small interfaces of ports.go, so its rules are unit-tested with
// in-memory fakes; Repo and stripeRefunds are the production implementations.
package payments

import (
	"strconv"
	"time"

	"github.com/liberation/monetization/shared/ids"
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

// PaymentIDPrefix starts our payment ids ("pay_" + a ULID of the time the payment succeeded, so a
// reverse Query of a user's payments lists newest first).
const PaymentIDPrefix = "pay"

// ValidPaymentID reports whether s has the shape of our payment ids.
func ValidPaymentID(s string) bool { return ids.Valid(PaymentIDPrefix, s) }

func newPaymentID(at time.Time) string { return ids.New(PaymentIDPrefix, at) }

// Source is the Stripe event that reported a fact: its id (audit, request id) and when Stripe
// created it.
type Source struct {
	EventID string
	Created time.Time
}

func unixUTC(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
