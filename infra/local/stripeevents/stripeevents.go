// Package stripeevents builds realistic Stripe webhook events (the JSON Stripe sends, API version
// 2023-10-16) and signs them the way Stripe does. `make trigger`, the end-to-end tests and the webhook
// tests use it, because stripe-mock is stateless and never sends events itself.
//
// Every builder fills the ids our webhook needs to tie the event to a user: metadata.userId on the
// Stripe objects we create (and client_reference_id on Checkout Sessions), the customer id and the
// subscription/invoice/charge ids. Defaults are derived from the user id, so events built for one
// user without explicit ids all refer to the same customer and subscription.
package stripeevents

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

// Event types Build knows how to shape.
const (
	CheckoutSessionCompleted    = "checkout.session.completed"
	CheckoutAsyncPaymentPaid    = "checkout.session.async_payment_succeeded"
	CustomerSubscriptionCreated = "customer.subscription.created"
	CustomerSubscriptionUpdated = "customer.subscription.updated"
	CustomerSubscriptionDeleted = "customer.subscription.deleted"
	InvoicePaid                 = "invoice.paid"
	InvoicePaymentFailed        = "invoice.payment_failed"
	ChargeRefunded              = "charge.refunded"
	ChargeRefundUpdated         = "charge.refund.updated"
	ChargeDisputeCreated        = "charge.dispute.created"
	ChargeDisputeUpdated        = "charge.dispute.updated"
	ChargeDisputeFundsWithdrawn = "charge.dispute.funds_withdrawn"
	ChargeDisputeFundsReinstate = "charge.dispute.funds_reinstated"
	ChargeDisputeClosed         = "charge.dispute.closed"
)

// Types lists the event types Build shapes without Options.Object.
var Types = []string{
	CheckoutSessionCompleted, CheckoutAsyncPaymentPaid, CustomerSubscriptionCreated, CustomerSubscriptionUpdated,
	CustomerSubscriptionDeleted, InvoicePaid, InvoicePaymentFailed, ChargeRefunded, ChargeRefundUpdated,
	ChargeDisputeCreated, ChargeDisputeUpdated, ChargeDisputeFundsWithdrawn, ChargeDisputeFundsReinstate, ChargeDisputeClosed,
}

// isDispute reports the dispute event types (their object is a dispute).
func isDispute(eventType string) bool {
	switch eventType {
	case ChargeDisputeCreated, ChargeDisputeUpdated, ChargeDisputeFundsWithdrawn, ChargeDisputeFundsReinstate, ChargeDisputeClosed:
		return true
	}
	return false
}

// builders shapes further event types, registered by the files that add them (marketplace.go).
var builders = map[string]func(Options) map[string]any{}

// Price ids of the paid tiers used by default; they match the local stack's configuration
// (localtest.PricePro / PriceEnterprise and `make dev`).
const (
	DefaultPricePro        = "price_pro_monthly"
	DefaultPriceEnterprise = "price_enterprise_monthly"
)

// APIVersion is the version every built event carries (stripe-go v76's pinned version).
const APIVersion = stripe.APIVersion

// Options shape an event. Zero fields get sensible defaults.
type Options struct {
	EventID string    // default evt_<random>
	Created time.Time // event and object creation time; default now

	UserID string // metadata.userId / client_reference_id; default "user_test"
	Email  string // default "<userId>@example.com"

	CustomerID      string // default cus_<hash of user>
	SubscriptionID  string // default sub_<hash of user>
	InvoiceID       string // default in_<random>
	ChargeID        string // default ch_<random>
	PaymentIntentID string // default pi_<random>
	SessionID       string // checkout session; default cs_test_<random>
	RefundID        string // charge.refund.updated's refund; default re_<random>
	DisputeID       string // default dp_<random>

	Tier    string // "pro" (default) or "enterprise"
	PriceID string // default from Tier
	// Status: subscription status (default active; canceled for .deleted), dispute status (default
	// needs_response for .created and .funds_withdrawn, under_review for .updated, won for
	// .funds_reinstated, lost for .closed), or refund status (charge.refund.updated: default failed).
	Status   string
	Currency string // default usd

	AmountCents int64 // invoice/charge/session amount; default the tier's price (1999 for mode payment)
	// DiscountCents: a checkout session's discount (total_details.amount_discount; the subtotal
	// before it is AmountCents + DiscountCents), e.g. a rewards coupon applied to a course.
	DiscountCents       int64
	AmountRefundedCents int64 // charge.refunded: default the full amount; charge.refund.updated: the refund's amount
	CancelAtPeriodEnd   bool
	PeriodStart         time.Time // default Created
	PeriodEnd           time.Time // default PeriodStart + 1 month

	Mode          string // checkout.session.completed: "subscription" (default) or "payment"
	BillingReason string // invoices: default subscription_create

	// Metadata is merged into the object's metadata (e.g. courseId for a one-off purchase).
	Metadata map[string]string
	// PreviousAttributes is sent as data.previous_attributes (for *.updated events).
	PreviousAttributes map[string]any
	// Object replaces data.object entirely; with it Build accepts any event type (e.g. to send a
	// type our webhook does not handle).
	Object map[string]any

	// Connect (account.updated): the account id (default acct_<hash of user>), and whether it can
	// receive payouts (default yes).
	AccountID       string
	PayoutsDisabled bool
	// ConnectAccount sends the event as the Connect endpoint does, from that connected account
	// (the envelope's `account`). account.updated always carries its account's id there.
	ConnectAccount string
}

// Build returns the JSON of a Stripe event of eventType.
func Build(eventType string, o Options) ([]byte, error) {
	o = o.withDefaults(eventType)
	obj := o.Object
	if obj == nil {
		switch eventType {
		case CheckoutSessionCompleted, CheckoutAsyncPaymentPaid:
			obj = checkoutSession(o)
		case CustomerSubscriptionCreated, CustomerSubscriptionUpdated, CustomerSubscriptionDeleted:
			obj = subscription(o, eventType == CustomerSubscriptionDeleted)
		case InvoicePaid:
			obj = invoice(o, true)
		case InvoicePaymentFailed:
			obj = invoice(o, false)
		case ChargeRefunded:
			obj = charge(o)
		case ChargeRefundUpdated:
			obj = refund(o)
		default:
			if isDispute(eventType) {
				obj = dispute(o, eventType == ChargeDisputeClosed)
				break
			}
			b, ok := builders[eventType]
			if !ok {
				return nil, fmt.Errorf("stripeevents: no builder for %q (set Options.Object to send it anyway)", eventType)
			}
			obj = b(o)
		}
	}
	data := map[string]any{"object": obj}
	if o.PreviousAttributes != nil {
		data["previous_attributes"] = o.PreviousAttributes
	}
	ev := map[string]any{
		"id":               o.EventID,
		"object":           "event",
		"api_version":      APIVersion,
		"created":          o.Created.Unix(),
		"data":             data,
		"livemode":         false,
		"pending_webhooks": 1,
		"request":          map[string]any{"id": nil, "idempotency_key": nil},
		"type":             eventType,
	}
	acct := o.ConnectAccount
	if id, _ := obj["id"].(string); acct == "" && eventType == AccountUpdated {
		acct = id
	}
	if acct != "" {
		ev["account"] = acct
	}
	return json.MarshalIndent(ev, "", "  ")
}

// MustBuild is Build for tests and tools; it panics on an unknown type.
func MustBuild(eventType string, o Options) []byte {
	b, err := Build(eventType, o)
	if err != nil {
		panic(err)
	}
	return b
}

// SignatureHeader returns the Stripe-Signature header value for payload signed with secret at time at
// (zero at: now), exactly as Stripe computes it.
func SignatureHeader(payload []byte, secret string, at time.Time) string {
	if at.IsZero() {
		at = time.Now()
	}
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at}).Header
}

// CustomerIDFor is the default Stripe customer id of a user in built events.
func CustomerIDFor(userID string) string { return "cus_" + digest(userID) }

// SubscriptionIDFor is the default Stripe subscription id of a user in built events.
func SubscriptionIDFor(userID string) string { return "sub_" + digest(userID) }

func (o Options) withDefaults(eventType string) Options {
	if o.EventID == "" {
		o.EventID = "evt_" + randID()
	}
	if o.Created.IsZero() {
		o.Created = time.Now()
	}
	o.Created = o.Created.UTC().Truncate(time.Second)
	if o.UserID == "" {
		o.UserID = "user_test"
	}
	if o.Email == "" {
		o.Email = o.UserID + "@example.com"
	}
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&o.CustomerID, CustomerIDFor(o.UserID))
	def(&o.SubscriptionID, SubscriptionIDFor(o.UserID))
	def(&o.InvoiceID, "in_"+randID())
	def(&o.ChargeID, "ch_"+randID())
	def(&o.PaymentIntentID, "pi_"+randID())
	def(&o.SessionID, "cs_test_"+randID())
	def(&o.RefundID, "re_"+randID())
	def(&o.DisputeID, "dp_"+randID())
	def(&o.Tier, "pro")
	def(&o.Currency, "usd")
	def(&o.BillingReason, "subscription_create")
	if o.PriceID == "" {
		o.PriceID = DefaultPricePro
		if o.Tier == "enterprise" {
			o.PriceID = DefaultPriceEnterprise
		}
	}
	if eventType == CheckoutAsyncPaymentPaid && o.Mode == "" {
		o.Mode = "payment" // delayed payment methods complete one-off purchases later
	}
	if eventType == CheckoutSessionCompleted && o.Mode == "" {
		o.Mode = "subscription"
	}
	if o.AmountCents == 0 {
		switch {
		case (eventType == CheckoutSessionCompleted || eventType == CheckoutAsyncPaymentPaid) && o.Mode == "payment":
			o.AmountCents = 1999
		case eventType == ChargeRefunded || eventType == ChargeRefundUpdated || isDispute(eventType):
			o.AmountCents = 1999
			if o.Tier == "enterprise" {
				o.AmountCents = 9900
			}
		default:
			o.AmountCents = tierAmount(o.Tier)
		}
	}
	if (eventType == ChargeRefunded || eventType == ChargeRefundUpdated) && o.AmountRefundedCents == 0 {
		o.AmountRefundedCents = o.AmountCents
	}
	if o.Status == "" {
		switch eventType {
		case CustomerSubscriptionDeleted:
			o.Status = "canceled"
		case ChargeDisputeCreated, ChargeDisputeFundsWithdrawn:
			o.Status = "needs_response"
		case ChargeDisputeUpdated:
			o.Status = "under_review"
		case ChargeDisputeFundsReinstate:
			o.Status = "won"
		case ChargeDisputeClosed:
			o.Status = "lost"
		case ChargeRefundUpdated:
			o.Status = "failed"
		default:
			o.Status = "active"
		}
	}
	if o.PeriodStart.IsZero() {
		o.PeriodStart = o.Created
	}
	o.PeriodStart = o.PeriodStart.UTC().Truncate(time.Second)
	if o.PeriodEnd.IsZero() {
		o.PeriodEnd = o.PeriodStart.AddDate(0, 1, 0)
	}
	o.PeriodEnd = o.PeriodEnd.UTC().Truncate(time.Second)
	return o
}

func tierAmount(tier string) int64 {
	if tier == "enterprise" {
		return 9900
	}
	return 999
}

func (o Options) metadata(withTier bool) map[string]string {
	md := map[string]string{"userId": o.UserID}
	if withTier {
		md["tier"] = o.Tier
	}
	maps.Copy(md, o.Metadata)
	return md
}

func list(url string, data ...map[string]any) map[string]any {
	if data == nil {
		data = []map[string]any{}
	}
	return map[string]any{"object": "list", "data": data, "has_more": false, "total_count": len(data), "url": url}
}

func price(o Options) map[string]any {
	return map[string]any{
		"id": o.PriceID, "object": "price", "active": true, "billing_scheme": "per_unit",
		"created": o.Created.Unix() - 86400*30, "currency": o.Currency, "livemode": false,
		"lookup_key": nil, "metadata": map[string]string{"tier": o.Tier}, "nickname": nil,
		"product":      "prod_" + digest(o.Tier),
		"recurring":    map[string]any{"aggregate_usage": nil, "interval": "month", "interval_count": 1, "usage_type": "licensed"},
		"tax_behavior": "unspecified", "type": "recurring", "unit_amount": tierAmount(o.Tier),
		"unit_amount_decimal": fmt.Sprint(tierAmount(o.Tier)),
	}
}

func plan(o Options) map[string]any {
	return map[string]any{
		"id": o.PriceID, "object": "plan", "active": true, "amount": tierAmount(o.Tier),
		"amount_decimal": fmt.Sprint(tierAmount(o.Tier)), "billing_scheme": "per_unit",
		"created": o.Created.Unix() - 86400*30, "currency": o.Currency, "interval": "month",
		"interval_count": 1, "livemode": false, "metadata": map[string]string{"tier": o.Tier},
		"product": "prod_" + digest(o.Tier), "usage_type": "licensed",
	}
}

func subscription(o Options, deleted bool) map[string]any {
	var cancelAt, canceledAt, endedAt any
	if o.CancelAtPeriodEnd {
		cancelAt = o.PeriodEnd.Unix()
		canceledAt = o.Created.Unix()
	}
	if deleted {
		canceledAt = o.Created.Unix()
		endedAt = o.Created.Unix()
	}
	item := map[string]any{
		"id": "si_" + digest(o.SubscriptionID), "object": "subscription_item", "billing_thresholds": nil,
		"created": o.PeriodStart.Unix(), "metadata": map[string]string{}, "price": price(o), "plan": plan(o),
		"quantity": 1, "subscription": o.SubscriptionID, "tax_rates": []any{},
	}
	return map[string]any{
		"id": o.SubscriptionID, "object": "subscription", "application": nil,
		"application_fee_percent": nil,
		"automatic_tax":           map[string]any{"enabled": false},
		"billing_cycle_anchor":    o.PeriodStart.Unix(), "billing_thresholds": nil,
		"cancel_at": cancelAt, "cancel_at_period_end": o.CancelAtPeriodEnd, "canceled_at": canceledAt,
		"cancellation_details": map[string]any{"comment": nil, "feedback": nil, "reason": cancelReason(o, deleted)},
		"collection_method":    "charge_automatically", "created": o.PeriodStart.Unix(), "currency": o.Currency,
		"current_period_end": o.PeriodEnd.Unix(), "current_period_start": o.PeriodStart.Unix(),
		"customer": o.CustomerID, "days_until_due": nil, "default_payment_method": "pm_" + digest(o.CustomerID),
		"default_source": nil, "default_tax_rates": []any{}, "description": nil, "discount": nil,
		"ended_at": endedAt, "items": list("/v1/subscription_items?subscription="+o.SubscriptionID, item),
		"latest_invoice": o.InvoiceID, "livemode": false, "metadata": o.metadata(true),
		"next_pending_invoice_item_invoice": nil, "on_behalf_of": nil, "pause_collection": nil,
		"payment_settings": map[string]any{"payment_method_options": nil, "payment_method_types": nil,
			"save_default_payment_method": "off"},
		"pending_invoice_item_interval": nil, "pending_setup_intent": nil, "pending_update": nil,
		"plan": plan(o), "quantity": 1, "schedule": nil, "start_date": o.PeriodStart.Unix(),
		"status": o.Status, "test_clock": nil, "transfer_data": nil, "trial_end": nil,
		"trial_settings": map[string]any{"end_behavior": map[string]any{"missing_payment_method": "create_invoice"}},
		"trial_start":    nil,
	}
}

func cancelReason(o Options, deleted bool) any {
	switch {
	case deleted && o.CancelAtPeriodEnd:
		return "cancellation_requested"
	case deleted:
		return "payment_failed"
	case o.CancelAtPeriodEnd:
		return "cancellation_requested"
	}
	return nil
}

func invoice(o Options, paid bool) map[string]any {
	status, amountPaid, remaining := "paid", o.AmountCents, int64(0)
	var charge, paidAt, nextAttempt any = o.ChargeID, o.Created.Unix(), nil
	attempts := 1
	if !paid {
		status, amountPaid, remaining = "open", 0, o.AmountCents
		paidAt = nil
		nextAttempt = o.Created.Add(72 * time.Hour).Unix()
	}
	line := map[string]any{
		"id": "il_" + digest(o.InvoiceID), "object": "line_item", "amount": o.AmountCents,
		"amount_excluding_tax": o.AmountCents, "currency": o.Currency,
		"description":  "1 × " + titleTier(o.Tier) + " (at $" + dollars(tierAmount(o.Tier)) + " / month)",
		"discountable": true, "livemode": false, "metadata": o.metadata(true),
		"period": map[string]any{"start": o.PeriodStart.Unix(), "end": o.PeriodEnd.Unix()},
		"plan":   plan(o), "price": price(o), "proration": false, "quantity": 1,
		"subscription": o.SubscriptionID, "subscription_item": "si_" + digest(o.SubscriptionID),
		"type": "subscription",
	}
	return map[string]any{
		"id": o.InvoiceID, "object": "invoice", "account_country": "US", "account_name": "Liberation",
		"amount_due": o.AmountCents, "amount_paid": amountPaid, "amount_remaining": remaining,
		"amount_shipping": 0, "attempt_count": attempts, "attempted": true,
		"auto_advance": !paid, "billing_reason": o.BillingReason, "charge": charge,
		"collection_method": "charge_automatically", "created": o.Created.Unix(), "currency": o.Currency,
		"customer": o.CustomerID, "customer_email": o.Email, "customer_name": nil,
		"description": nil, "discount": nil, "due_date": nil, "ending_balance": 0,
		"hosted_invoice_url": "https://invoice.stripe.com/i/acct_test/" + o.InvoiceID,
		"invoice_pdf":        "https://pay.stripe.com/invoice/acct_test/" + o.InvoiceID + "/pdf",
		"lines":              list("/v1/invoices/"+o.InvoiceID+"/lines", line),
		"livemode":           false, "metadata": maps.Clone(o.Metadata), "next_payment_attempt": nextAttempt,
		"number": "LIB-" + digest(o.InvoiceID)[:6], "paid": paid, "paid_out_of_band": false,
		"payment_intent": o.PaymentIntentID,
		"period_end":     o.PeriodStart.Unix(), "period_start": o.PeriodStart.AddDate(0, -1, 0).Unix(),
		"starting_balance": 0, "status": status,
		"status_transitions": map[string]any{"finalized_at": o.Created.Unix(), "marked_uncollectible_at": nil,
			"paid_at": paidAt, "voided_at": nil},
		"subscription":         o.SubscriptionID,
		"subscription_details": map[string]any{"metadata": o.metadata(true)},
		"subtotal":             o.AmountCents, "subtotal_excluding_tax": o.AmountCents, "tax": nil,
		"total": o.AmountCents, "total_excluding_tax": o.AmountCents,
	}
}

func checkoutSession(o Options) map[string]any {
	var sub, invoiceID, pi any
	md := o.metadata(o.Mode == "subscription")
	if o.Mode == "subscription" {
		sub, invoiceID = o.SubscriptionID, o.InvoiceID
	} else {
		pi = o.PaymentIntentID
	}
	return map[string]any{
		"id": o.SessionID, "object": "checkout.session", "after_expiration": nil,
		"allow_promotion_codes": nil, "amount_subtotal": o.AmountCents + o.DiscountCents, "amount_total": o.AmountCents,
		"automatic_tax": map[string]any{"enabled": false, "status": nil}, "billing_address_collection": nil,
		"cancel_url": "https://app.liberation.local/billing/cancel", "client_reference_id": o.UserID,
		"created": o.Created.Add(-2 * time.Minute).Unix(), "currency": o.Currency, "customer": o.CustomerID,
		"customer_creation": nil,
		"customer_details": map[string]any{"address": nil, "email": o.Email, "name": nil, "phone": nil,
			"tax_exempt": "none", "tax_ids": []any{}},
		"customer_email": nil, "expires_at": o.Created.Add(24 * time.Hour).Unix(), "invoice": invoiceID,
		"livemode": false, "locale": nil, "metadata": md, "mode": o.Mode,
		"payment_intent": pi, "payment_link": nil, "payment_method_collection": "always",
		"payment_method_types": []string{"card"}, "payment_status": "paid", "setup_intent": nil,
		"status": "complete", "submit_type": nil, "subscription": sub,
		"success_url":   "https://app.liberation.local/billing/success?session_id={CHECKOUT_SESSION_ID}",
		"total_details": map[string]any{"amount_discount": o.DiscountCents, "amount_shipping": 0, "amount_tax": 0},
		"ui_mode":       "hosted", "url": nil,
	}
}

// charge is a Charge as API 2023-10-16 sends it: without its refunds (Stripe stopped including
// Charge.refunds in 2022-11-15; list them with GET /v1/refunds?charge=).
func charge(o Options) map[string]any {
	return map[string]any{
		"id": o.ChargeID, "object": "charge", "amount": o.AmountCents, "amount_captured": o.AmountCents,
		"amount_refunded": o.AmountRefundedCents, "application_fee": nil, "application_fee_amount": nil,
		"balance_transaction":             "txn_" + digest(o.ChargeID),
		"billing_details":                 map[string]any{"address": nil, "email": o.Email, "name": nil, "phone": nil},
		"calculated_statement_descriptor": "LIBERATION", "captured": true,
		"created": o.Created.Add(-time.Hour).Unix(), "currency": o.Currency, "customer": o.CustomerID,
		"description": nil, "disputed": false, "failure_code": nil, "failure_message": nil,
		"fraud_details": map[string]any{}, "invoice": nil, "livemode": false, "metadata": o.metadata(false),
		"outcome": map[string]any{"network_status": "approved_by_network", "reason": nil, "risk_level": "normal",
			"seller_message": "Payment complete.", "type": "authorized"},
		"paid": true, "payment_intent": o.PaymentIntentID, "payment_method": "pm_" + digest(o.CustomerID),
		"payment_method_details": map[string]any{"type": "card", "card": map[string]any{"brand": "visa", "last4": "4242",
			"exp_month": 12, "exp_year": o.Created.Year() + 3, "country": "US", "funding": "credit"}},
		"receipt_email": o.Email, "receipt_number": nil,
		"receipt_url": "https://pay.stripe.com/receipts/acct_test/" + o.ChargeID,
		"refunded":    o.AmountRefundedCents >= o.AmountCents,
		"review":      nil, "shipping": nil, "source_transfer": nil, "statement_descriptor": nil,
		"statement_descriptor_suffix": nil, "status": "succeeded", "transfer_data": nil, "transfer_group": nil,
	}
}

// refund is a Refund (charge.refund.updated), carrying o.Metadata (e.g. our operationId).
func refund(o Options) map[string]any {
	var failure any
	if o.Status == "failed" {
		failure = "expired_or_canceled_card"
	}
	md := map[string]string{}
	maps.Copy(md, o.Metadata)
	return map[string]any{
		"id": o.RefundID, "object": "refund", "amount": o.AmountRefundedCents, "balance_transaction": "txn_" + digest(o.RefundID),
		"charge": o.ChargeID, "created": o.Created.Unix(), "currency": o.Currency, "failure_reason": failure,
		"metadata": md, "payment_intent": o.PaymentIntentID, "reason": "requested_by_customer",
		"receipt_number": nil, "source_transfer_reversal": nil, "status": o.Status, "transfer_reversal": nil,
	}
}

func dispute(o Options, closed bool) map[string]any {
	return map[string]any{
		"id": o.DisputeID, "object": "dispute", "amount": o.AmountCents, "balance_transactions": []any{},
		"charge": o.ChargeID, "created": o.Created.Unix(), "currency": o.Currency,
		"evidence": map[string]any{"customer_email_address": nil, "uncategorized_text": nil},
		"evidence_details": map[string]any{"due_by": o.Created.Add(7 * 24 * time.Hour).Unix(),
			"has_evidence": closed, "past_due": false, "submission_count": boolInt(closed)},
		"is_charge_refundable": !closed, "livemode": false, "metadata": maps.Clone(o.Metadata),
		"payment_intent": o.PaymentIntentID, "reason": "fraudulent", "status": o.Status,
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func titleTier(t string) string {
	if t == "enterprise" {
		return "Enterprise"
	}
	return "Pro"
}

func dollars(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:14]
}

func randID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
