// Package stripefake stands in front of stripe-mock for the few Stripe answers that depend on state
// stripe-mock does not keep (it is stateless): a charge's refunds (GET /v1/refunds?charge=…),
// transfers (POST /v1/transfers with idempotency-key replay, GET /v1/transfers?transfer_group=…),
// coupons (POST /v1/coupons, GET and DELETE /v1/coupons/{id}) and customer balance transactions
// (POST and GET /v1/customers/{id}/balance_transactions). It records the Checkout Sessions created (their
// form) before passing them on to stripe-mock.
// It can also fail transfers the two ways that matter for money: a definite refusal (4xx, nothing
// created) and an ambiguous failure (5xx after the transfer was created). Everything else is proxied
// to stripe-mock. Tests point the process's Stripe client at it with API.
package stripefake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/client"
)

// Refund is one refund of a charge as the fake lists it.
type Refund struct {
	ID     string
	Amount int64
	Status string // default succeeded
}

// Dispute is one dispute of a charge as the fake lists it.
type Dispute struct {
	ID     string
	Amount int64
	Status string // default needs_response
}

// Transfer is a transfer the fake created.
type Transfer struct {
	ID, Destination, Group, Currency, IdempotencyKey string
	Amount                                           int64
	Metadata                                         map[string]string
}

// Failure modes of the next transfers.
const (
	FailNone = iota
	// FailRefuse answers 400 without creating anything (a definite refusal).
	FailRefuse
	// FailAfterCreate creates the transfer, then answers 500 (the outcome looks unknown to the caller).
	FailAfterCreate
)

// Fake is a running stand-in.
type Fake struct {
	URL string

	mu        sync.Mutex
	refunds   map[string][]Refund
	transfers []Transfer
	byKey     map[string]int // idempotency key → index in transfers
	failMode  int
	failCount int
	posts     int // transfer creation requests received
	coupons   map[string]map[string]any
	checkouts []url.Values
	// byIntent lists a PaymentIntent's refunds and disputes (GET …?payment_intent=) by its charge.
	byIntent   map[string]string
	disputes   map[string][]Dispute // by charge
	refundAsks []url.Values         // POST /v1/refunds forms, passed on to stripe-mock
	accounts   map[string]bool      // Connect account id → payouts_enabled (GET /v1/accounts/{id})
	balanceTxs []BalanceTransaction // customer balance transactions, oldest first
}

// BalanceTransaction is a customer balance transaction the fake created (negative: a credit).
type BalanceTransaction struct {
	ID, Customer, Currency, IdempotencyKey string
	Amount                                 int64
	Metadata                               map[string]string
}

// Start serves the fake in front of stripe-mock at upstream until the test ends.
func Start(t testing.TB, upstream string) *Fake {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatalf("stripefake: upstream %q: %v", upstream, err)
	}
	f := &Fake{refunds: map[string][]Refund{}, byKey: map[string]int{}, coupons: map[string]map[string]any{},
		byIntent: map[string]string{}, disputes: map[string][]Dispute{}, accounts: map[string]bool{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v1/refunds":
			f.listRefunds(w, r)
		case r.Method == http.MethodGet && r.URL.Path == "/v1/disputes":
			f.listDisputes(w, r)
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/accounts/") && f.knowsAccount(r.URL.Path):
			f.getAccount(w, strings.TrimPrefix(r.URL.Path, "/v1/accounts/"))
		case r.Method == http.MethodPost && r.URL.Path == "/v1/refunds":
			body, _ := io.ReadAll(r.Body)
			form, _ := url.ParseQuery(string(body))
			f.mu.Lock()
			f.refundAsks = append(f.refundAsks, form)
			f.mu.Unlock()
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			proxy.ServeHTTP(w, r)
		case r.Method == http.MethodPost && r.URL.Path == "/v1/transfers":
			f.createTransfer(w, r)
		case r.Method == http.MethodGet && r.URL.Path == "/v1/transfers":
			f.listTransfers(w, r)
		case r.Method == http.MethodPost && r.URL.Path == "/v1/coupons":
			f.createCoupon(w, r)
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/coupons/"):
			f.getCoupon(w, strings.TrimPrefix(r.URL.Path, "/v1/coupons/"))
		case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/v1/coupons/"):
			f.deleteCoupon(w, strings.TrimPrefix(r.URL.Path, "/v1/coupons/"))
		case strings.HasPrefix(r.URL.Path, "/v1/customers/") && strings.HasSuffix(r.URL.Path, "/balance_transactions"):
			f.balanceTransactions(w, r, strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/customers/"), "/balance_transactions"))
		case r.Method == http.MethodPost && r.URL.Path == "/v1/checkout/sessions":
			body, _ := io.ReadAll(r.Body)
			form, _ := url.ParseQuery(string(body))
			f.mu.Lock()
			f.checkouts = append(f.checkouts, form)
			f.mu.Unlock()
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			proxy.ServeHTTP(w, r)
		default:
			proxy.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// API is a stripe-go client on the fake (no network retries, so each failure reaches the caller).
func (f *Fake) API(key string) *client.API { return Client(key, f.URL, nil) }

// SetIntent ties a PaymentIntent to its charge: lists asked for by payment_intent answer the
// charge's refunds and disputes.
func (f *Fake) SetIntent(paymentIntentID, chargeID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byIntent[paymentIntentID] = chargeID
}

// SetAccount makes GET /v1/accounts/{id} answer the account with payouts_enabled as given (other
// accounts are stripe-mock's fixture).
func (f *Fake) SetAccount(accountID string, payoutsEnabled bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accounts[accountID] = payoutsEnabled
}

func (f *Fake) knowsAccount(path string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.accounts[strings.TrimPrefix(path, "/v1/accounts/")]
	return ok
}

func (f *Fake) getAccount(w http.ResponseWriter, id string) {
	f.mu.Lock()
	enabled := f.accounts[id]
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "account", "type": "express",
		"payouts_enabled": enabled, "charges_enabled": enabled, "details_submitted": enabled, "metadata": map[string]string{}})
}

// SetDisputes makes the charge's disputes list exactly disputes.
func (f *Fake) SetDisputes(chargeID string, disputes ...Dispute) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.disputes[chargeID] = append([]Dispute(nil), disputes...)
}

// RefundRequests returns the forms of the refunds asked for (POST /v1/refunds) so far.
func (f *Fake) RefundRequests() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.refundAsks...)
}

// SetRefunds makes the charge's refunds list exactly refunds.
func (f *Fake) SetRefunds(chargeID string, refunds ...Refund) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refunds[chargeID] = append([]Refund(nil), refunds...)
}

// FailTransfers makes the next n transfer creations fail in mode.
func (f *Fake) FailTransfers(mode, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failMode, f.failCount = mode, n
}

// Transfers returns the transfers created so far.
func (f *Fake) Transfers() []Transfer {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Transfer(nil), f.transfers...)
}

// TransferRequests is how many creation requests arrived (replays included).
func (f *Fake) TransferRequests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.posts
}

func (f *Fake) listRefunds(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	charge, pi := f.chargeOf(r)
	var data []map[string]any
	for _, rf := range f.refunds[charge] {
		status := rf.Status
		if status == "" {
			status = "succeeded"
		}
		data = append(data, map[string]any{"id": rf.ID, "object": "refund", "amount": rf.Amount, "charge": charge,
			"payment_intent": nilIfEmpty(pi), "currency": "usd", "status": status, "created": time.Now().Unix(),
			"metadata": map[string]string{}})
	}
	f.mu.Unlock()
	writeList(w, "/v1/refunds", data)
}

func (f *Fake) listDisputes(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	charge, pi := f.chargeOf(r)
	var data []map[string]any
	for _, dp := range f.disputes[charge] {
		status := dp.Status
		if status == "" {
			status = "needs_response"
		}
		data = append(data, map[string]any{"id": dp.ID, "object": "dispute", "amount": dp.Amount, "charge": charge,
			"payment_intent": nilIfEmpty(pi), "currency": "usd", "status": status, "created": time.Now().Unix(),
			"reason": "fraudulent", "metadata": map[string]string{}, "balance_transactions": []any{}})
	}
	f.mu.Unlock()
	writeList(w, "/v1/disputes", data)
}

// chargeOf is the charge a list asks about (by charge, or by PaymentIntent through SetIntent) and
// its PaymentIntent when known. Callers hold f.mu.
func (f *Fake) chargeOf(r *http.Request) (string, string) {
	q := r.URL.Query()
	if pi := q.Get("payment_intent"); pi != "" {
		return f.byIntent[pi], pi
	}
	charge := q.Get("charge")
	for pi, ch := range f.byIntent {
		if ch == charge {
			return charge, pi
		}
	}
	return charge, ""
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (f *Fake) createTransfer(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts++
	key := r.Header.Get("Idempotency-Key")
	if i, ok := f.byKey[key]; ok && key != "" {
		writeJSON(w, http.StatusOK, transferJSON(f.transfers[i])) // Stripe replays the first answer
		return
	}
	mode := FailNone
	if f.failCount > 0 {
		mode = f.failMode
		f.failCount--
	}
	if mode == FailRefuse {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"type": "invalid_request_error",
			"code": "account_invalid", "message": "The destination account cannot receive transfers."}})
		return
	}
	amount, _ := strconv.ParseInt(r.PostForm.Get("amount"), 10, 64)
	md := metadata(r.PostForm)
	tr := Transfer{ID: fmt.Sprintf("tr_fake_%d", len(f.transfers)+1), Destination: r.PostForm.Get("destination"),
		Group: r.PostForm.Get("transfer_group"), Currency: r.PostForm.Get("currency"), IdempotencyKey: key,
		Amount: amount, Metadata: md}
	f.transfers = append(f.transfers, tr)
	if key != "" {
		f.byKey[key] = len(f.transfers) - 1
	}
	if mode == FailAfterCreate {
		delete(f.byKey, key) // the answer was lost; a replay of the key would only hide the ambiguity
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": map[string]any{"type": "api_error",
			"message": "An unknown error occurred."}})
		return
	}
	writeJSON(w, http.StatusOK, transferJSON(tr))
}

// Checkouts returns the forms of the Checkout Sessions created so far.
func (f *Fake) Checkouts() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.checkouts...)
}

// createCoupon keeps the coupon (id, percent_off, metadata) as Stripe would; a second one with the
// same id is Stripe's resource_already_exists.
func (f *Fake) createCoupon(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.PostForm.Get("id")
	if _, ok := f.coupons[id]; ok {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"type": "invalid_request_error",
			"code": "resource_already_exists", "message": "Coupon already exists."}})
		return
	}
	pct, _ := strconv.ParseFloat(r.PostForm.Get("percent_off"), 64)
	maxRed, _ := strconv.ParseInt(r.PostForm.Get("max_redemptions"), 10, 64)
	md := metadata(r.PostForm)
	c := map[string]any{"id": id, "object": "coupon", "percent_off": pct, "duration": r.PostForm.Get("duration"),
		"max_redemptions": maxRed, "times_redeemed": 0, "valid": true, "metadata": md, "name": r.PostForm.Get("name"),
		"created": time.Now().Unix(), "livemode": false}
	f.coupons[id] = c
	writeJSON(w, http.StatusOK, c)
}

func (f *Fake) getCoupon(w http.ResponseWriter, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.coupons[id]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{"type": "invalid_request_error",
			"code": "resource_missing", "message": "No such coupon: '" + id + "'"}})
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// deleteCoupon deletes a coupon as Stripe does (a deleted coupon can no longer be applied); an
// unknown or already deleted one is Stripe's 404 resource_missing.
func (f *Fake) deleteCoupon(w http.ResponseWriter, id string) {
	f.mu.Lock()
	_, ok := f.coupons[id]
	delete(f.coupons, id)
	f.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{"type": "invalid_request_error",
			"code": "resource_missing", "message": "No such coupon: '" + id + "'"}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "coupon", "deleted": true})
}

// Coupon reports whether a coupon exists (created and not deleted).
func (f *Fake) Coupon(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.coupons[id]
	return ok
}

// CouponIDs lists the coupons that exist (created and not deleted).
func (f *Fake) CouponIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.coupons))
	for id := range f.coupons {
		out = append(out, id)
	}
	return out
}

// balanceTransactions creates (POST, replaying an Idempotency-Key's first answer) or lists (GET) a
// customer's balance transactions, which stripe-mock answers with a fixed fixture.
func (f *Fake) balanceTransactions(w http.ResponseWriter, r *http.Request, customer string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method == http.MethodGet {
		var data []map[string]any
		for i := len(f.balanceTxs) - 1; i >= 0; i-- { // newest first, as Stripe lists them
			if t := f.balanceTxs[i]; t.Customer == customer {
				data = append(data, f.balanceTxJSON(t))
			}
		}
		writeList(w, r.URL.Path, data)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	for _, t := range f.balanceTxs {
		if key != "" && t.IdempotencyKey == key {
			writeJSON(w, http.StatusOK, f.balanceTxJSON(t))
			return
		}
	}
	amount, _ := strconv.ParseInt(r.PostForm.Get("amount"), 10, 64)
	t := BalanceTransaction{ID: fmt.Sprintf("cbtxn_fake_%d", len(f.balanceTxs)+1), Customer: customer,
		Currency: r.PostForm.Get("currency"), IdempotencyKey: key, Amount: amount, Metadata: metadata(r.PostForm)}
	f.balanceTxs = append(f.balanceTxs, t)
	writeJSON(w, http.StatusOK, f.balanceTxJSON(t))
}

// CustomerBalance is the sum of a customer's balance transactions (negative: credit they hold).
func (f *Fake) CustomerBalance(customer string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var sum int64
	for _, t := range f.balanceTxs {
		if t.Customer == customer {
			sum += t.Amount
		}
	}
	return sum
}

func (f *Fake) balanceTxJSON(t BalanceTransaction) map[string]any {
	var ending int64
	for _, o := range f.balanceTxs {
		if o.Customer == t.Customer {
			ending += o.Amount
		}
		if o.ID == t.ID {
			break
		}
	}
	return map[string]any{"id": t.ID, "object": "customer_balance_transaction", "amount": t.Amount, "currency": t.Currency,
		"customer": t.Customer, "type": "adjustment", "ending_balance": ending, "metadata": t.Metadata,
		"created": time.Now().Unix(), "livemode": false}
}

func (f *Fake) listTransfers(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	group := r.URL.Query().Get("transfer_group")
	var data []map[string]any
	for _, tr := range f.transfers {
		if group == "" || tr.Group == group {
			data = append(data, transferJSON(tr))
		}
	}
	f.mu.Unlock()
	writeList(w, "/v1/transfers", data)
}

func transferJSON(tr Transfer) map[string]any {
	return map[string]any{"id": tr.ID, "object": "transfer", "amount": tr.Amount, "currency": tr.Currency,
		"destination": tr.Destination, "transfer_group": tr.Group, "metadata": tr.Metadata, "reversed": false,
		"amount_reversed": 0, "created": time.Now().Unix(), "livemode": false,
		"reversals": map[string]any{"object": "list", "data": []any{}, "has_more": false, "url": "/v1/transfers/" + tr.ID + "/reversals"}}
}

// metadata is the metadata[key]=value fields of a Stripe form.
func metadata(form url.Values) map[string]string {
	md := map[string]string{}
	for k, v := range form {
		if len(k) > 10 && k[:9] == "metadata[" && k[len(k)-1] == ']' {
			md[k[9:len(k)-1]] = v[0]
		}
	}
	return md
}

func writeList(w http.ResponseWriter, url string, data []map[string]any) {
	if data == nil {
		data = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data, "has_more": false, "url": url})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("content-type", "application/json")
	w.Header().Set("request-id", "req_fake")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
