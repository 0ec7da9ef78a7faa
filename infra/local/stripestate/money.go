package stripestate

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// availableAfter is how long a charge's funds stay pending (Stripe US standard: 2 days).
const availableAfter = 2 * 86400

// balanceTx is one movement of the platform's Stripe balance.
type balanceTx struct {
	s                                          *Server
	ID, Currency, Type, Category, Source, Desc string
	Amount, Fee, Created, AvailableOn          int64
	FeeDetails                                 []feeDetail
}

type feeDetail struct {
	Amount            int64
	Currency          string
	Description, Type string
	Application       string
}

func (b *balanceTx) json() map[string]any {
	fees := []map[string]any{}
	for _, f := range b.FeeDetails {
		fees = append(fees, map[string]any{"amount": f.Amount, "currency": f.Currency, "description": f.Description,
			"type": f.Type, "application": nilIfEmpty(f.Application)})
	}
	status := "available"
	if b.AvailableOn > b.s.now() {
		status = "pending"
	}
	return map[string]any{"id": b.ID, "object": "balance_transaction", "amount": b.Amount, "available_on": b.AvailableOn,
		"created": b.Created, "currency": b.Currency, "description": nilIfEmpty(b.Desc), "exchange_rate": nil,
		"fee": b.Fee, "fee_details": fees, "net": b.Amount - b.Fee, "reporting_category": b.Category,
		"source": nilIfEmpty(b.Source), "status": status, "type": b.Type}
}

// expanded is b's JSON with its source expanded to the object, as Stripe answers expand[]=source
// (expand[]=data.source on a list): a charge's PaymentIntent and invoice, a transfer's group and
// metadata, a reversal's transfer come with it. Callers hold s.mu.
func (b *balanceTx) expanded() map[string]any {
	out := b.json()
	if b.Source != "" {
		out["source"] = b.s.sourceObject(b.Source)
	}
	return out
}

// sourceObject is the object a balance transaction's source names, as the API answers it; an
// object the stand-in keeps no body of (an application fee) stays an id. Callers hold s.mu.
func (s *Server) sourceObject(id string) any {
	switch {
	case s.charges[id] != nil:
		return s.chargeJSON(s.charges[id])
	case s.refunds[id] != nil:
		return s.refundJSON(s.refunds[id])
	case s.disputes[id] != nil:
		return s.disputeJSON(s.disputes[id])
	case s.transfers[id] != nil:
		return s.transferJSON(s.transfers[id])
	case s.payouts[id] != nil:
		return s.payoutJSON(s.payouts[id])
	}
	for _, trID := range s.trOrder {
		for _, rv := range s.transfers[trID].Reversals {
			if rv.ID == id {
				return reversalJSON(rv)
			}
		}
	}
	return id
}

// expands reports whether a request asks to expand field: expand[]=field or stripe-go's
// expand[0]=field.
func expands(form url.Values, field string) bool {
	for k, vs := range form {
		if k != "expand" && !(strings.HasPrefix(k, "expand[") && strings.HasSuffix(k, "]")) {
			continue
		}
		for _, v := range vs {
			if v == field {
				return true
			}
		}
	}
	return false
}

// StripeFee records a fee Stripe charges on its own (a balance transaction of type stripe_fee,
// reporting category fee, no source: Radar, Billing, Connect account fees…) of amount cents, and
// returns its id. No event is sent: Stripe sends none for its fees.
func (s *Server) StripeFee(currency string, amount int64, description string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stripeFee(currency, amount, description)
}

func (s *Server) stripeFee(currency string, amount int64, description string) (string, error) {
	currency = strings.ToLower(currency)
	if amount <= 0 || len(currency) != 3 {
		return "", fmt.Errorf("a Stripe fee needs a positive amount and a currency (got %d %q)", amount, currency)
	}
	if description == "" {
		description = "Stripe fee"
	}
	return s.addBT("stripe_fee", "fee", "", currency, description, -amount, s.now()).ID, nil
}

// addBT records a balance transaction. Callers hold s.mu.
func (s *Server) addBT(typ, category, source, currency, desc string, amount int64, created int64, fees ...feeDetail) *balanceTx {
	var fee int64
	for _, f := range fees {
		fee += f.Amount
	}
	avail := created
	if typ == "charge" || typ == "payment" {
		avail = created + availableAfter
	}
	b := &balanceTx{s: s, ID: s.newID("txn"), Currency: currency, Type: typ, Category: category, Source: source, Desc: desc,
		Amount: amount, Fee: fee, Created: created, AvailableOn: avail, FeeDetails: fees}
	s.bts = append(s.bts, b)
	s.btByID[b.ID] = b
	return b
}

// charge is a card payment the stand-in knows.
type charge struct {
	ID, PaymentIntent, Currency, Customer, Description, Invoice string
	Amount, Refunded, Created                                   int64
	Metadata                                                    map[string]string
	BT                                                          string
	Disputed                                                    bool
	Destination, TransferID, AppFeeID                           string
	AppFeeAmount                                                int64
}

// recordCharge keeps a succeeded charge and its balance transaction (with Stripe's fee). Callers
// hold s.mu.
func (s *Server) recordCharge(c *charge) *charge {
	if c.Currency == "" {
		c.Currency = "usd"
	}
	if c.Metadata == nil {
		c.Metadata = map[string]string{}
	}
	fee := s.pricing.ChargeFee(c.Amount)
	c.BT = s.addBT("charge", "charge", c.ID, c.Currency, c.Description, c.Amount, c.Created,
		feeDetail{Amount: fee, Currency: c.Currency, Description: "Stripe processing fees", Type: "stripe_fee"}).ID
	s.charges[c.ID] = c
	s.chargeOrder = append(s.chargeOrder, c.ID)
	if c.PaymentIntent != "" {
		s.byIntent[c.PaymentIntent] = c.ID
	}
	return c
}

// createCharge is POST /v1/charges: a succeeded card charge. With application_fee_amount and
// transfer_data[destination] it is a destination charge: the whole amount is transferred to the
// connected account and the application fee comes back to the platform.
func (s *Server) createCharge(_ *http.Request, form url.Values) answer {
	amount, present, bad := amountParam(form, "amount")
	if bad.status != 0 {
		return bad
	}
	if !present {
		return invalid("Missing required param: amount.")
	}
	currency := strings.ToLower(form.Get("currency"))
	if currency == "" {
		return invalid("Missing required param: currency.")
	}
	appFee, _, bad := amountParam(form, "application_fee_amount")
	if bad.status != 0 {
		return bad
	}
	dest := form.Get("transfer_data[destination]")
	if appFee > 0 && dest == "" {
		return invalid("Can only apply an application_fee_amount when the request is made on behalf of another account (using an OAuth key, the Stripe-Account header, or the destination parameter).")
	}
	if appFee > amount {
		return invalid("The application fee cannot exceed the charge amount.")
	}
	now := s.now()
	c := s.recordCharge(&charge{ID: s.newID("ch"), PaymentIntent: s.newID("pi"), Amount: amount, Currency: currency,
		Customer: form.Get("customer"), Description: form.Get("description"), Created: now, Metadata: metadata(form)})
	events := []event{{typ: "charge.succeeded"}}
	if dest != "" {
		// Stripe moves the charge to the connected account and takes its application fee back.
		tr := &transfer{ID: s.newID("tr"), Amount: amount, Currency: currency, Destination: dest, SourceTransaction: c.ID,
			Created: now, Metadata: map[string]string{}}
		tr.BT = s.addBT("transfer", "transfer", tr.ID, currency, "", -amount, now).ID
		s.transfers[tr.ID], s.trOrder = tr, append(s.trOrder, tr.ID)
		c.Destination, c.TransferID, c.AppFeeAmount = dest, tr.ID, appFee
		if appFee > 0 {
			c.AppFeeID = s.newID("fee")
			s.addBT("application_fee", "platform_earning", c.AppFeeID, currency, "", appFee, now)
		}
	}
	obj := s.chargeJSON(c)
	events[0].object = obj
	return ok(obj, events...)
}

func (s *Server) chargeJSON(c *charge) map[string]any {
	var transferData, appFee, appFeeAmount any
	if c.Destination != "" {
		transferData = map[string]any{"amount": nil, "destination": c.Destination}
		appFeeAmount = c.AppFeeAmount
		appFee = nilIfEmpty(c.AppFeeID)
	}
	out := map[string]any{
		"id": c.ID, "object": "charge", "amount": c.Amount, "amount_captured": c.Amount, "amount_refunded": c.Refunded,
		"application": nil, "application_fee": appFee, "application_fee_amount": appFeeAmount,
		"balance_transaction":             c.BT,
		"billing_details":                 map[string]any{"address": nil, "email": nil, "name": nil, "phone": nil},
		"calculated_statement_descriptor": "LIBERATION", "captured": true, "created": c.Created, "currency": c.Currency,
		"customer": nilIfEmpty(c.Customer), "description": nilIfEmpty(c.Description), "disputed": c.Disputed,
		"failure_balance_transaction": nil, "failure_code": nil, "failure_message": nil, "fraud_details": map[string]any{},
		"invoice": nilIfEmpty(c.Invoice), "livemode": false, "metadata": maps.Clone(c.Metadata), "on_behalf_of": nil,
		"outcome": map[string]any{"network_status": "approved_by_network", "reason": nil, "risk_level": "normal",
			"seller_message": "Payment complete.", "type": "authorized"},
		"paid": true, "payment_intent": nilIfEmpty(c.PaymentIntent), "payment_method": "pm_card_visa",
		"payment_method_details": map[string]any{"type": "card", "card": map[string]any{"brand": "visa", "last4": "4242",
			"exp_month": 12, "exp_year": 2034, "country": "US", "funding": "credit"}},
		"receipt_email": nil, "receipt_number": nil, "receipt_url": "https://pay.stripe.com/receipts/" + c.ID,
		"refunded": c.Refunded >= c.Amount, "review": nil, "shipping": nil, "source_transfer": nil,
		"statement_descriptor": nil, "statement_descriptor_suffix": nil, "status": "succeeded",
		"transfer_data": transferData, "transfer_group": nil,
	}
	if c.TransferID != "" { // present on destination charges only
		out["transfer"] = c.TransferID
	}
	return out
}

func (s *Server) listCharges(_ *http.Request, form url.Values) answer {
	var items []map[string]any
	for i := len(s.chargeOrder) - 1; i >= 0; i-- {
		c := s.charges[s.chargeOrder[i]]
		if cus := form.Get("customer"); cus != "" && c.Customer != cus {
			continue
		}
		if pi := form.Get("payment_intent"); pi != "" && c.PaymentIntent != pi {
			continue
		}
		items = append(items, s.chargeJSON(c))
	}
	return listPage("/v1/charges", items, form)
}

// refund is a refund of a known charge.
type refund struct {
	ID, Charge, Currency, Reason, Status, FailureReason string
	Amount, Created                                     int64
	Metadata                                            map[string]string
	BT, FailureBT                                       string
}

// createRefund is POST /v1/refunds of a known charge: by default what is left of it; never more.
func (s *Server) createRefund(_ *http.Request, form url.Values) answer {
	c := s.chargeOf(form)
	left := c.Amount - c.Refunded
	if left <= 0 {
		return stripeError(http.StatusBadRequest, "invalid_request_error", "charge_already_refunded",
			fmt.Sprintf("Charge %s has already been refunded.", c.ID))
	}
	amount, present, bad := amountParam(form, "amount")
	if bad.status != 0 {
		return bad
	}
	if !present {
		amount = left
	}
	if amount > left {
		return stripeError(http.StatusBadRequest, "invalid_request_error", "amount_too_large",
			fmt.Sprintf("Refund amount (%s) is greater than unrefunded amount on charge (%s)", money(amount, c.Currency), money(left, c.Currency)))
	}
	switch reason := form.Get("reason"); reason {
	case "", "duplicate", "fraudulent", "requested_by_customer":
	default:
		return invalid("Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer")
	}
	now := s.now()
	rf := &refund{ID: s.newID("re"), Charge: c.ID, Currency: c.Currency, Reason: form.Get("reason"), Status: "succeeded",
		Amount: amount, Created: now, Metadata: metadata(form)}
	rf.BT = s.addBT("refund", "refund", rf.ID, c.Currency, "REFUND FOR CHARGE", -amount, now).ID
	s.refunds[rf.ID] = rf
	s.refundOrder = append(s.refundOrder, rf.ID)
	c.Refunded += amount
	obj := s.refundJSON(rf)
	return ok(obj, event{typ: "charge.refunded", object: s.chargeJSON(c),
		previous: map[string]any{"amount_refunded": c.Refunded - amount, "refunded": c.Refunded-amount >= c.Amount}},
		event{typ: "refund.created", object: obj})
}

func money(cents int64, currency string) string {
	if currency == "usd" {
		return fmt.Sprintf("$%d.%02d", cents/100, cents%100)
	}
	return fmt.Sprintf("%d %s", cents, currency)
}

func (s *Server) refundJSON(rf *refund) map[string]any {
	out := map[string]any{"id": rf.ID, "object": "refund", "amount": rf.Amount, "balance_transaction": rf.BT,
		"charge": rf.Charge, "created": rf.Created, "currency": rf.Currency, "destination_details": nil,
		"metadata": maps.Clone(rf.Metadata), "payment_intent": nilIfEmpty(s.charges[rf.Charge].PaymentIntent),
		"reason": nilIfEmpty(rf.Reason), "receipt_number": nil, "source_transfer_reversal": nil, "status": rf.Status,
		"transfer_reversal": nil}
	if rf.FailureBT != "" { // present once the refund failed or was canceled
		out["failure_balance_transaction"] = rf.FailureBT
		out["failure_reason"] = nilIfEmpty(rf.FailureReason)
	}
	return out
}

func (s *Server) listRefunds(_ *http.Request, form url.Values) answer {
	only := s.chargeOf(form)
	var items []map[string]any
	for i := len(s.refundOrder) - 1; i >= 0; i-- {
		rf := s.refunds[s.refundOrder[i]]
		if only == nil || rf.Charge == only.ID {
			items = append(items, s.refundJSON(rf))
		}
	}
	return listPage("/v1/refunds", items, form)
}

// refundByID reads (GET) or updates the metadata (POST) of a refund.
func (s *Server) refundByID(r *http.Request, form url.Values, id string) answer {
	rf := s.refunds[id]
	if r.Method == http.MethodPost {
		for k := range form {
			if !strings.HasPrefix(k, "metadata[") && k != "expand[]" {
				return invalid("Received unknown parameter: " + k)
			}
		}
		mergeMetadata(rf.Metadata, form)
	}
	return ok(s.refundJSON(rf))
}

// setRefundStatus moves a refund to a later status as Stripe does: a refund that fails (or is
// canceled) gives the money back to the balance (refund_failure) and to the charge. Callers hold s.mu.
func (s *Server) setRefundStatus(id, status string) ([]event, error) {
	rf := s.refunds[id]
	if rf == nil {
		return nil, fmt.Errorf("no such refund: %s", id)
	}
	switch {
	case status == rf.Status:
		return nil, nil
	case status == "failed" || status == "canceled":
		if rf.Status == "failed" || rf.Status == "canceled" {
			return nil, fmt.Errorf("refund %s is already %s", id, rf.Status)
		}
	case status == "succeeded" && rf.Status == "pending":
	default:
		return nil, fmt.Errorf("refund %s cannot go from %s to %s", id, rf.Status, status)
	}
	prev := rf.Status
	rf.Status = status
	if status == "failed" || status == "canceled" {
		c := s.charges[rf.Charge]
		c.Refunded -= rf.Amount
		if status == "failed" {
			rf.FailureReason = "expired_or_canceled_card"
		}
		rf.FailureBT = s.addBT("refund_failure", "refund_failure", rf.ID, rf.Currency, "REFUND FAILURE", rf.Amount, s.now()).ID
	}
	obj := s.refundJSON(rf)
	prevAttrs := map[string]any{"status": prev}
	return []event{{typ: "refund.updated", object: obj, previous: prevAttrs},
		{typ: "charge.refund.updated", object: obj, previous: prevAttrs}}, nil
}

// dispute is a chargeback of a known charge.
type dispute struct {
	ID, Charge, Currency, Status, Reason string
	Amount, Created                      int64
	BTs                                  []string
}

// openDispute withdraws the disputed amount and the dispute fee. Callers hold s.mu.
func (s *Server) openDispute(c *charge, id string, amount int64, reason string) (*dispute, []event, error) {
	if amount <= 0 {
		amount = c.Amount
	}
	if amount > c.Amount {
		return nil, nil, fmt.Errorf("dispute amount %d exceeds charge %s (%d)", amount, c.ID, c.Amount)
	}
	if reason == "" {
		reason = "fraudulent"
	}
	if id == "" {
		id = s.newID("dp")
	}
	if s.disputes[id] != nil {
		return s.disputes[id], nil, nil
	}
	now := s.now()
	d := &dispute{ID: id, Charge: c.ID, Currency: c.Currency, Status: "needs_response", Reason: reason, Amount: amount, Created: now}
	bt := s.addBT("adjustment", "dispute", d.ID, c.Currency, "Chargeback withdrawal for "+c.ID, -amount, now,
		feeDetail{Amount: s.pricing.DisputeFeeCents, Currency: c.Currency, Description: "Dispute fee", Type: "stripe_fee"})
	d.BTs = append(d.BTs, bt.ID)
	s.disputes[id] = d
	c.Disputed = true
	obj := s.disputeJSON(d)
	return d, []event{{typ: "charge.dispute.created", object: obj}, {typ: "charge.dispute.funds_withdrawn", object: obj}}, nil
}

// closeDispute moves a dispute on: under_review, or closed won (the amount is reinstated) or lost.
// Callers hold s.mu.
func (s *Server) closeDispute(id, status string) ([]event, error) {
	d := s.disputes[id]
	if d == nil {
		return nil, fmt.Errorf("no such dispute: %s", id)
	}
	if d.Status == "won" || d.Status == "lost" {
		if d.Status == status {
			return nil, nil
		}
		return nil, fmt.Errorf("dispute %s is already closed (%s)", id, d.Status)
	}
	prev := map[string]any{"status": d.Status}
	switch status {
	case "under_review", "warning_under_review":
		d.Status = status
		return []event{{typ: "charge.dispute.updated", object: s.disputeJSON(d), previous: prev}}, nil
	case "won":
		d.Status = status
		var fees []feeDetail
		if s.pricing.DisputeFeeReturnedOnWin {
			fees = append(fees, feeDetail{Amount: -s.pricing.DisputeFeeCents, Currency: d.Currency, Description: "Dispute fee", Type: "stripe_fee"})
		}
		bt := s.addBT("adjustment", "dispute_reversal", d.ID, d.Currency, "Chargeback reversal for "+d.Charge, d.Amount, s.now(), fees...)
		d.BTs = append(d.BTs, bt.ID)
		obj := s.disputeJSON(d)
		return []event{{typ: "charge.dispute.funds_reinstated", object: obj}, {typ: "charge.dispute.closed", object: obj, previous: prev}}, nil
	case "lost":
		d.Status = status
		return []event{{typ: "charge.dispute.closed", object: s.disputeJSON(d), previous: prev}}, nil
	}
	return nil, fmt.Errorf("dispute status %q: want under_review, won or lost", status)
}

func (s *Server) disputeJSON(d *dispute) map[string]any {
	bts := []map[string]any{}
	for _, id := range d.BTs {
		bts = append(bts, s.btByID[id].json())
	}
	closed := d.Status == "won" || d.Status == "lost"
	return map[string]any{"id": d.ID, "object": "dispute", "amount": d.Amount, "balance_transactions": bts,
		"charge": d.Charge, "created": d.Created, "currency": d.Currency,
		"evidence": map[string]any{"customer_email_address": nil, "uncategorized_text": nil},
		"evidence_details": map[string]any{"due_by": d.Created + 7*86400, "has_evidence": closed, "past_due": false,
			"submission_count": 0},
		"is_charge_refundable": false, "livemode": false, "metadata": map[string]string{},
		"payment_intent": nilIfEmpty(s.charges[d.Charge].PaymentIntent), "reason": d.Reason, "status": d.Status}
}

func (s *Server) listDisputes(_ *http.Request, form url.Values) answer {
	c := s.chargeOf(form)
	var ds []*dispute
	for _, d := range s.disputes {
		if d.Charge == c.ID {
			ds = append(ds, d)
		}
	}
	sort.Slice(ds, func(i, j int) bool {
		return ds[i].Created > ds[j].Created || ds[i].Created == ds[j].Created && ds[i].ID > ds[j].ID
	})
	var items []map[string]any
	for _, d := range ds {
		items = append(items, s.disputeJSON(d))
	}
	return listPage("/v1/disputes", items, form)
}

// payout is a payout of the platform's balance to its bank account.
type payout struct {
	ID, Currency, Description string
	Amount, Created           int64
	Metadata                  map[string]string
	BT                        string
}

// createPayout is POST /v1/payouts: paid at once (arrival_date now).
func (s *Server) createPayout(_ *http.Request, form url.Values) answer {
	amount, present, bad := amountParam(form, "amount")
	if bad.status != 0 {
		return bad
	}
	currency := strings.ToLower(form.Get("currency"))
	if !present || currency == "" {
		return invalid("Missing required param: amount and currency.")
	}
	now := s.now()
	p := &payout{ID: s.newID("po"), Currency: currency, Description: form.Get("description"), Amount: amount, Created: now,
		Metadata: metadata(form)}
	p.BT = s.addBT("payout", "payout", p.ID, currency, "STRIPE PAYOUT", -amount, now).ID
	s.payouts[p.ID] = p
	obj := s.payoutJSON(p)
	return ok(obj, event{typ: "payout.created", object: obj}, event{typ: "payout.paid", object: obj})
}

func (s *Server) payoutJSON(p *payout) map[string]any {
	return map[string]any{"id": p.ID, "object": "payout", "amount": p.Amount, "arrival_date": p.Created, "automatic": false,
		"balance_transaction": p.BT, "created": p.Created, "currency": p.Currency, "description": nilIfEmpty(p.Description),
		"destination": "ba_local", "failure_balance_transaction": nil, "failure_code": nil, "failure_message": nil,
		"livemode": false, "metadata": maps.Clone(p.Metadata), "method": "standard", "original_payout": nil,
		"reversed_by": nil, "source_type": "card", "statement_descriptor": nil, "status": "paid", "type": "bank_account"}
}

// listBalanceTransactions is GET /v1/balance_transactions: newest first, filtered by created
// (gt, gte, lt, lte or an exact second), type, source and currency, paginated; expand[]=data.source
// expands each one's source.
func (s *Server) listBalanceTransactions(_ *http.Request, form url.Values) answer {
	var bounds [4]*int64 // gt, gte, lt, lte
	for i, op := range []string{"gt", "gte", "lt", "lte"} {
		if v := form.Get("created[" + op + "]"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return invalid("Invalid integer: created[" + op + "]")
			}
			bounds[i] = &n
		}
	}
	var exact *int64
	if v := form.Get("created"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return invalid("Invalid integer: created")
		}
		exact = &n
	}
	typ, source, currency := form.Get("type"), form.Get("source"), strings.ToLower(form.Get("currency"))
	expandSource := expands(form, "data.source")
	var items []map[string]any
	for i := len(s.bts) - 1; i >= 0; i-- { // newest first: appended in time order
		b := s.bts[i]
		c := b.Created
		if bounds[0] != nil && c <= *bounds[0] || bounds[1] != nil && c < *bounds[1] ||
			bounds[2] != nil && c >= *bounds[2] || bounds[3] != nil && c > *bounds[3] || exact != nil && c != *exact ||
			typ != "" && b.Type != typ || source != "" && b.Source != source || currency != "" && b.Currency != currency {
			continue
		}
		if expandSource {
			items = append(items, b.expanded())
		} else {
			items = append(items, b.json())
		}
	}
	// Appended in the clock's order; a fake clock moved back can break it, so sort by created
	// (stable: the later-recorded first among equals).
	sort.SliceStable(items, func(i, j int) bool { return items[i]["created"].(int64) > items[j]["created"].(int64) })
	return listPage("/v1/balance_transactions", items, form)
}

// balance is GET /v1/balance: the sum of the balance transactions' net, available or pending.
func (s *Server) balance(*http.Request, url.Values) answer {
	avail, pending := map[string]int64{}, map[string]int64{}
	now := s.now()
	for _, b := range s.bts {
		if b.AvailableOn > now {
			pending[b.Currency] += b.Amount - b.Fee
		} else {
			avail[b.Currency] += b.Amount - b.Fee
		}
		avail[b.Currency] += 0
		pending[b.Currency] += 0
	}
	side := func(m map[string]int64) []map[string]any {
		out := []map[string]any{}
		for _, cur := range sortedKeys(m) {
			out = append(out, map[string]any{"amount": m[cur], "currency": cur, "source_types": map[string]any{"card": m[cur]}})
		}
		return out
	}
	return ok(map[string]any{"object": "balance", "available": side(avail), "pending": side(pending), "livemode": false})
}

func sortedKeys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
