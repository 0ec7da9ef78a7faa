package stripestate

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// helperPrefix starts the stand-in's own endpoints (never Stripe's):
//
//	POST /_stripestate/events           an event the local tools sent to the webhook (its JSON body):
//	                                    the stand-in learns the charges, refunds and disputes in it
//	POST /_stripestate/refunds/{id}     status=failed|canceled|succeeded: a refund changes status
//	POST /_stripestate/disputes         charge=… or payment_intent=…, amount=, reason=: a dispute opens
//	POST /_stripestate/disputes/{id}    status=under_review|won|lost
//	POST /_stripestate/fees             amount=, currency=, description=: a fee Stripe charges on its
//	                                    own (a stripe_fee balance transaction; no event)
//	POST /_stripestate/lose-answers     method=, path=, count= (default 1): the next successful
//	                                    answers to method and path are lost after the request is done
//
// refunds/ and disputes send the events Stripe would; /events sends none (the tool already sent it).
const helperPrefix = "/_stripestate/"

func (s *Server) serveHelper(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, helperPrefix)
	form, _ := url.ParseQuery(string(body))
	var (
		out any
		evs []event
		err error
	)
	s.mu.Lock()
	switch {
	case path == "events":
		err = s.observe(body)
		out = map[string]any{"observed": err == nil}
	case strings.HasPrefix(path, "refunds/"):
		id := strings.TrimPrefix(path, "refunds/")
		if evs, err = s.setRefundStatus(id, form.Get("status")); err == nil {
			out = s.refundJSON(s.refunds[id])
		}
	case path == "disputes":
		c := s.chargeOf(form)
		if c == nil {
			err = fmt.Errorf("no such charge: %q", form.Get("charge")+form.Get("payment_intent"))
			break
		}
		amount, _ := strconv.ParseInt(form.Get("amount"), 10, 64)
		var d *dispute
		if d, evs, err = s.openDispute(c, form.Get("id"), amount, form.Get("reason")); err == nil {
			out = s.disputeJSON(d)
		}
	case strings.HasPrefix(path, "disputes/"):
		id := strings.TrimPrefix(path, "disputes/")
		if evs, err = s.closeDispute(id, form.Get("status")); err == nil {
			out = s.disputeJSON(s.disputes[id])
		}
	case path == "fees":
		amount, _ := strconv.ParseInt(form.Get("amount"), 10, 64)
		var id string
		if id, err = s.stripeFee(form.Get("currency"), amount, form.Get("description")); err == nil {
			out = s.btByID[id].json()
		}
	case path == "lose-answers":
		n := 1
		if v := form.Get("count"); v != "" {
			n, err = strconv.Atoi(v)
		}
		method, p := strings.ToUpper(form.Get("method")), form.Get("path")
		switch {
		case err != nil || n < 0:
			err = fmt.Errorf("count must be a whole number ≥ 0")
		case method == "" || !strings.HasPrefix(p, "/v1/"):
			err = fmt.Errorf("method and a path under /v1/ are required")
		default:
			s.setLose(method, p, n)
			out = map[string]any{"method": method, "path": p, "count": n}
		}
	default:
		err = fmt.Errorf("unknown helper %s", r.URL.Path)
	}
	s.stamp(evs)
	s.mu.Unlock()
	if err != nil {
		writeRaw(w, http.StatusBadRequest, mustJSON(map[string]any{"error": map[string]any{"type": "invalid_request_error",
			"message": err.Error()}}), false)
		return
	}
	writeRaw(w, http.StatusOK, mustJSON(out), false)
	s.hooks.enqueue(evs...)
}

// stamp dates events now. Callers hold s.mu.
func (s *Server) stamp(evs []event) {
	for i := range evs {
		evs[i].created = s.now()
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// Observe learns from an event the local tools sent to the webhook (its JSON): the charge of a
// paid one-off Checkout Session (mode payment; its id is the PaymentIntent's with ch_) or of a paid
// invoice (and the customer credit the invoice used, taken off the customer's balance), a
// Dashboard refund (charge.refunded beyond the refunds the stand-in made), and a dispute opened or
// closed. Events it does not use are ignored. It sends no events.
func (s *Server) Observe(payload []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.observe(payload)
}

// observed is the part of an event the stand-in reads.
type observed struct {
	Type    string `json:"type"`
	Created int64  `json:"created"`
	Data    struct {
		Object map[string]any `json:"object"`
	} `json:"data"`
}

func (s *Server) observe(payload []byte) error {
	var ev observed
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("not an event: %w", err)
	}
	o := ev.Data.Object
	if ev.Created == 0 {
		ev.Created = s.now()
	}
	str := func(k string) string {
		switch v := o[k].(type) {
		case string:
			return v
		case map[string]any: // expanded
			id, _ := v["id"].(string)
			return id
		}
		return ""
	}
	num := func(k string) int64 { f, _ := o[k].(float64); return int64(f) }
	md := map[string]string{}
	if m, isMap := o["metadata"].(map[string]any); isMap {
		for k, v := range m {
			if sv, isStr := v.(string); isStr {
				md[k] = sv
			}
		}
	}
	switch ev.Type {
	case "checkout.session.completed", "checkout.session.async_payment_succeeded":
		pi := str("payment_intent")
		if str("mode") != "payment" || str("payment_status") != "paid" || pi == "" || s.byIntent[pi] != "" {
			return nil // subscriptions are charged by their invoices; a redelivery changes nothing
		}
		s.recordCharge(&charge{ID: "ch_" + strings.TrimPrefix(pi, "pi_"), PaymentIntent: pi, Amount: num("amount_total"),
			Currency: str("currency"), Customer: str("customer"), Created: ev.Created, Metadata: md})
	case "invoice.paid", "invoice.payment_succeeded":
		s.applyInvoiceBalance(str("id"), str("customer"), str("currency"), num("starting_balance"), num("ending_balance"), ev.Created)
		id, pi := str("charge"), str("payment_intent")
		if id == "" || num("amount_paid") <= 0 || s.charges[id] != nil {
			return nil
		}
		s.recordCharge(&charge{ID: id, PaymentIntent: pi, Amount: num("amount_paid"), Currency: str("currency"),
			Customer: str("customer"), Invoice: str("id"), Created: ev.Created, Metadata: map[string]string{}})
	case "charge.refunded":
		c := s.charges[str("id")]
		if c == nil {
			return nil
		}
		if extra := num("amount_refunded") - c.Refunded; extra > 0 { // refunded elsewhere (the Dashboard)
			rf := &refund{ID: s.newID("re"), Charge: c.ID, Currency: c.Currency, Status: "succeeded", Amount: extra,
				Created: ev.Created, Metadata: map[string]string{}}
			rf.BT = s.addBT("refund", "refund", rf.ID, c.Currency, "REFUND FOR CHARGE", -extra, ev.Created).ID
			s.refunds[rf.ID], s.refundOrder = rf, append(s.refundOrder, rf.ID)
			c.Refunded += extra
		}
	case "charge.refund.updated":
		if rf := s.refunds[str("id")]; rf != nil && str("status") != "" {
			_, err := s.setRefundStatus(rf.ID, str("status"))
			return err
		}
	case "charge.dispute.created", "charge.dispute.funds_withdrawn":
		c := s.charges[str("charge")]
		if c == nil {
			return nil
		}
		_, _, err := s.openDispute(c, str("id"), num("amount"), str("reason"))
		return err
	case "charge.dispute.updated", "charge.dispute.funds_reinstated", "charge.dispute.closed":
		id, status := str("id"), str("status")
		if s.disputes[id] == nil {
			return nil
		}
		if ev.Type == "charge.dispute.funds_reinstated" {
			status = "won"
		}
		_, err := s.closeDispute(id, status)
		return err
	}
	return nil
}

// SetRefundStatus changes a refund's status (a refund that fails later) and sends
// refund.updated and charge.refund.updated.
func (s *Server) SetRefundStatus(id, status string) error {
	s.mu.Lock()
	evs, err := s.setRefundStatus(id, status)
	s.stamp(evs)
	s.mu.Unlock()
	s.hooks.enqueue(evs...)
	return err
}

// OpenDispute opens a dispute of a known charge (amount 0: the whole charge), withdrawing the
// amount and the dispute fee, and sends charge.dispute.created and charge.dispute.funds_withdrawn.
func (s *Server) OpenDispute(chargeID string, amount int64) (string, error) {
	s.mu.Lock()
	c := s.charges[chargeID]
	if c == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("no such charge: %s", chargeID)
	}
	d, evs, err := s.openDispute(c, "", amount, "")
	s.stamp(evs)
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	s.hooks.enqueue(evs...)
	return d.ID, nil
}

// CloseDispute moves a dispute to under_review, won (the amount comes back) or lost, and sends
// the events Stripe would.
func (s *Server) CloseDispute(id, status string) error {
	s.mu.Lock()
	evs, err := s.closeDispute(id, status)
	s.stamp(evs)
	s.mu.Unlock()
	s.hooks.enqueue(evs...)
	return err
}
