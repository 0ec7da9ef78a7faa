package stripestate

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// transfer is a transfer to a connected account.
type transfer struct {
	ID, Currency, Destination, Group, Description, SourceTransaction string
	Amount, Reversed, Created                                        int64
	Metadata                                                         map[string]string
	BT                                                               string
	Reversals                                                        []*reversal // oldest first
}

// reversal is a (partial) transfer reversal.
type reversal struct {
	ID, Transfer, Currency string
	Amount, Created        int64
	Metadata               map[string]string
	BT                     string
}

// createTransfer is POST /v1/transfers (Idempotency-Key replays are handled by ServeHTTP).
func (s *Server) createTransfer(_ *http.Request, form url.Values) answer {
	amount, present, bad := amountParam(form, "amount")
	if bad.status != 0 {
		return bad
	}
	currency, dest := strings.ToLower(form.Get("currency")), form.Get("destination")
	if !present || currency == "" || dest == "" {
		return invalid("Missing required param: amount, currency and destination.")
	}
	now := s.now()
	tr := &transfer{ID: s.newID("tr"), Currency: currency, Destination: dest, Group: form.Get("transfer_group"),
		Description: form.Get("description"), SourceTransaction: form.Get("source_transaction"), Amount: amount,
		Created: now, Metadata: metadata(form)}
	tr.BT = s.addBT("transfer", "transfer", tr.ID, currency, tr.Description, -amount, now).ID
	s.transfers[tr.ID] = tr
	s.trOrder = append(s.trOrder, tr.ID)
	obj := s.transferJSON(tr)
	return ok(obj, event{typ: "transfer.created", object: obj})
}

func (s *Server) transferJSON(tr *transfer) map[string]any {
	revs := []map[string]any{}
	for i := len(tr.Reversals) - 1; i >= 0; i-- {
		revs = append(revs, reversalJSON(tr.Reversals[i]))
	}
	return map[string]any{"id": tr.ID, "object": "transfer", "amount": tr.Amount, "amount_reversed": tr.Reversed,
		"balance_transaction": tr.BT, "created": tr.Created, "currency": tr.Currency, "description": nilIfEmpty(tr.Description),
		"destination": tr.Destination, "destination_payment": "py_" + strings.TrimPrefix(tr.ID, "tr_"), "livemode": false,
		"metadata": maps.Clone(tr.Metadata),
		"reversals": map[string]any{"object": "list", "data": revs, "has_more": false, "total_count": len(revs),
			"url": "/v1/transfers/" + tr.ID + "/reversals"},
		"reversed": tr.Reversed >= tr.Amount, "source_transaction": nilIfEmpty(tr.SourceTransaction), "source_type": "card",
		"transfer_group": nilIfEmpty(tr.Group)}
}

func reversalJSON(r *reversal) map[string]any {
	return map[string]any{"id": r.ID, "object": "transfer_reversal", "amount": r.Amount, "balance_transaction": r.BT,
		"created": r.Created, "currency": r.Currency, "destination_payment_refund": nil, "metadata": maps.Clone(r.Metadata),
		"source_refund": nil, "transfer": r.Transfer}
}

func (s *Server) listTransfers(_ *http.Request, form url.Values) answer {
	var items []map[string]any
	for i := len(s.trOrder) - 1; i >= 0; i-- {
		tr := s.transfers[s.trOrder[i]]
		if g := form.Get("transfer_group"); g != "" && tr.Group != g {
			continue
		}
		if d := form.Get("destination"); d != "" && tr.Destination != d {
			continue
		}
		items = append(items, s.transferJSON(tr))
	}
	return listPage("/v1/transfers", items, form)
}

// reverseTransfer is POST /v1/transfers/{id}/reversals: by default what is left of the transfer;
// never more. The platform's balance gets the amount back; transfer.reversed is sent.
func (s *Server) reverseTransfer(_ *http.Request, form url.Values, id string) answer {
	tr := s.transfers[id]
	left := tr.Amount - tr.Reversed
	amount, present, bad := amountParam(form, "amount")
	if bad.status != 0 {
		return bad
	}
	if !present {
		amount = left
	}
	if left <= 0 || amount > left {
		return invalid(fmt.Sprintf("You have already reversed %s of the %s transfer; you cannot reverse %s more.",
			money(tr.Reversed, tr.Currency), money(tr.Amount, tr.Currency), money(amount, tr.Currency)))
	}
	now := s.now()
	rv := &reversal{ID: s.newID("trr"), Transfer: tr.ID, Currency: tr.Currency, Amount: amount, Created: now, Metadata: metadata(form)}
	rv.BT = s.addBT("transfer_refund", "transfer_reversal", rv.ID, tr.Currency, "", amount, now).ID
	tr.Reversals = append(tr.Reversals, rv)
	tr.Reversed += amount
	prev := map[string]any{"amount_reversed": tr.Reversed - amount, "reversed": false}
	return ok(reversalJSON(rv), event{typ: "transfer.reversed", object: s.transferJSON(tr), previous: prev})
}

func (s *Server) listReversals(form url.Values, id string) answer {
	tr := s.transfers[id]
	var items []map[string]any
	for i := len(tr.Reversals) - 1; i >= 0; i-- {
		items = append(items, reversalJSON(tr.Reversals[i]))
	}
	return listPage("/v1/transfers/"+id+"/reversals", items, form)
}

// createCoupon keeps the coupon as Stripe would; a second one with the same id is Stripe's
// resource_already_exists.
func (s *Server) createCoupon(_ *http.Request, form url.Values) answer {
	id := form.Get("id")
	if id == "" {
		id = s.newID("co")
	}
	if _, dup := s.coupons[id]; dup {
		return stripeError(http.StatusBadRequest, "invalid_request_error", "resource_already_exists", "Coupon already exists.")
	}
	var pct, amountOff, maxRed any
	if v := form.Get("percent_off"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 100 {
			return invalid("Invalid percent_off")
		}
		pct = f
	}
	if v := form.Get("amount_off"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return invalid("Invalid amount_off")
		}
		amountOff = n
	}
	if (pct == nil) == (amountOff == nil) {
		return invalid("You must pass exactly one of percent_off and amount_off.")
	}
	if v := form.Get("max_redemptions"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return invalid("Invalid max_redemptions")
		}
		maxRed = n
	}
	duration := form.Get("duration")
	if duration == "" {
		duration = "once"
	}
	c := map[string]any{"id": id, "object": "coupon", "amount_off": amountOff, "created": s.now(),
		"currency": nilIfEmpty(strings.ToLower(form.Get("currency"))), "duration": duration, "duration_in_months": nil,
		"livemode": false, "max_redemptions": maxRed, "metadata": metadata(form), "name": nilIfEmpty(form.Get("name")),
		"percent_off": pct, "redeem_by": nil, "times_redeemed": 0, "valid": true}
	s.coupons[id] = c
	return ok(c)
}

func (s *Server) getCoupon(id string) answer {
	c, found := s.coupons[id]
	if !found {
		return missing("coupon", id)
	}
	return ok(c)
}

// deleteCoupon deletes a coupon as Stripe does; an unknown or deleted one is resource_missing.
func (s *Server) deleteCoupon(id string) answer {
	if _, found := s.coupons[id]; !found {
		return missing("coupon", id)
	}
	delete(s.coupons, id)
	return ok(map[string]any{"id": id, "object": "coupon", "deleted": true})
}

// customerTx is a customer balance transaction (negative: a credit the customer holds).
type customerTx struct {
	ID, Customer, Currency, Description string
	Type, Invoice                       string // adjustment (created by a call), applied_to_invoice
	Amount, Created, Ending             int64
	Metadata                            map[string]string
}

// customerBalance creates (POST) or lists (GET, newest first) a customer's balance transactions.
func (s *Server) customerBalance(r *http.Request, form url.Values, customer string) answer {
	if r.Method == http.MethodGet {
		var items []map[string]any
		for i := len(s.custTxs) - 1; i >= 0; i-- {
			if t := s.custTxs[i]; t.Customer == customer {
				items = append(items, customerTxJSON(t))
			}
		}
		return listPage(r.URL.Path, items, form)
	}
	v := form.Get("amount")
	amount, err := strconv.ParseInt(v, 10, 64)
	if err != nil || amount == 0 {
		return invalid("Invalid integer: amount")
	}
	currency := strings.ToLower(form.Get("currency"))
	if currency == "" {
		return invalid("Missing required param: currency.")
	}
	t := s.addCustomerTx(&customerTx{Customer: customer, Currency: currency, Description: form.Get("description"),
		Type: "adjustment", Amount: amount, Created: s.now(), Metadata: metadata(form)})
	return ok(customerTxJSON(t))
}

// addCustomerTx records a customer balance transaction with its ending balance. Callers hold s.mu.
func (s *Server) addCustomerTx(t *customerTx) *customerTx {
	for _, o := range s.custTxs {
		if o.Customer == t.Customer {
			t.Ending += o.Amount
		}
	}
	t.ID, t.Ending = s.newID("cbtxn"), t.Ending+t.Amount
	if t.Metadata == nil {
		t.Metadata = map[string]string{}
	}
	s.custTxs = append(s.custTxs, t)
	return t
}

// applyInvoiceBalance is what Stripe does to a customer's balance when an invoice that started with
// a credit (a negative starting balance) is paid: the credit used (up to what is left of it at the
// invoice's end) goes back to zero with an applied_to_invoice transaction — once per invoice.
// Callers hold s.mu.
func (s *Server) applyInvoiceBalance(invoice, customer, currency string, starting, ending, created int64) {
	used := min(ending, 0) - starting
	if starting >= 0 || used <= 0 || invoice == "" || customer == "" {
		return
	}
	for _, t := range s.custTxs {
		if t.Invoice == invoice {
			return // a redelivery
		}
	}
	if currency == "" {
		currency = "usd"
	}
	s.addCustomerTx(&customerTx{Customer: customer, Currency: currency, Type: "applied_to_invoice", Invoice: invoice,
		Amount: used, Created: created})
}

func customerTxJSON(t *customerTx) map[string]any {
	return map[string]any{"id": t.ID, "object": "customer_balance_transaction", "amount": t.Amount, "created": t.Created,
		"credit_note": nil, "currency": t.Currency, "customer": t.Customer, "description": nilIfEmpty(t.Description),
		"ending_balance": t.Ending, "invoice": nilIfEmpty(t.Invoice), "livemode": false, "metadata": maps.Clone(t.Metadata), "type": t.Type}
}

// CustomerBalance is the sum of a customer's balance transactions (negative: credit they hold).
func (s *Server) CustomerBalance(customer string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum int64
	for _, t := range s.custTxs {
		if t.Customer == customer {
			sum += t.Amount
		}
	}
	return sum
}
