// Package stripestate is a local Stripe that remembers: an http.Handler in front of stripe-mock
// (which is stateless and answers fixed fixtures) that keeps the money objects the project creates
// and answers them back as Stripe would —
//
//   - charges (POST /v1/charges, and the ones behind the checkout completions and paid invoices the
//     local tools send, reported to POST /_stripestate/events),
//   - refunds with their real amounts and statuses (a charge cannot be refunded beyond its amount),
//   - disputes (opened and closed through test helpers, with Stripe's 15 USD dispute fee),
//   - coupons and customer balance transactions,
//   - transfers and transfer reversals, application fees and payouts,
//   - the balance transactions all of them move, with Stripe's US card fee (2.9 % + 30 ¢) on
//     charges, listed by GET /v1/balance_transactions with created[gte|gt|lt|lte], type, source and
//     limit/starting_after/ending_before pagination, newest first, each one's source expanded on
//     expand[]=data.source (a reversal then names its transfer, as the reconciliation needs),
//   - fees Stripe charges on its own (StripeFee), and answers lost after the request was done
//     (LoseAnswers), for tests of what the books must notice.
//
// After answering, it sends the matching signed webhook events (charge.refunded, refund.created,
// refund.updated, charge.dispute.*, transfer.created, transfer.reversed, payout.*…) to
// Config.WebhookURL, one at a time in order, as Stripe does. Everything it does not know — other
// endpoints, or a refund of a charge it never saw — is proxied to stripe-mock unchanged, so the
// wire format of everything else stays stripe-mock's. See docs/decisions/0082.
package stripestate

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
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

	"github.com/liberation/monetization/shared/clock"
)

// Pricing is what Stripe takes. The zero value is Stripe's US card pricing.
type Pricing struct {
	// PercentBasisPoints of each charge (290 = 2.9 %), rounded half up to the cent.
	PercentBasisPoints int64
	// FixedCents added to each charge's fee (30).
	FixedCents int64
	// DisputeFeeCents withdrawn with a dispute (1500).
	DisputeFeeCents int64
	// DisputeFeeReturnedOnWin gives the dispute fee back when the dispute is won. Stripe's US
	// pricing keeps it; set it to model accounts where it is returned.
	DisputeFeeReturnedOnWin bool
}

func (p Pricing) withDefaults() Pricing {
	if p.PercentBasisPoints == 0 && p.FixedCents == 0 {
		p.PercentBasisPoints, p.FixedCents = 290, 30
	}
	if p.DisputeFeeCents == 0 {
		p.DisputeFeeCents = 1500
	}
	return p
}

// ChargeFee is Stripe's processing fee on a charge of amount cents.
func (p Pricing) ChargeFee(amount int64) int64 {
	p = p.withDefaults()
	return (amount*p.PercentBasisPoints+5000)/10000 + p.FixedCents
}

// Config configures a stand-in.
type Config struct {
	// StripeMock is stripe-mock's base URL; every request the stand-in does not answer goes there.
	StripeMock string
	// WebhookURL receives the events (the local webhook function's URL); empty: none are sent.
	WebhookURL string
	// WebhookSecret signs them (Stripe-Signature, as webhook.ConstructEvent checks).
	WebhookSecret string
	// Clock stamps objects and events (created); default the system clock. Signatures always use
	// the real time: webhook.ConstructEvent compares them with time.Now within 5 minutes.
	Clock clock.Clock
	// Pricing: the fees; zero value Stripe's US card pricing.
	Pricing Pricing
	// HTTPClient delivers the events; default a client with a 10 s timeout.
	HTTPClient *http.Client
}

// Server is the stand-in; it is an http.Handler.
type Server struct {
	cfg     Config
	proxy   *httputil.ReverseProxy
	prefix  string // random per server, so ids of two servers never collide
	hooks   *deliverer
	pricing Pricing

	mu          sync.Mutex
	seq         int
	charges     map[string]*charge
	chargeOrder []string
	byIntent    map[string]string // payment_intent → charge
	refunds     map[string]*refund
	refundOrder []string
	disputes    map[string]*dispute
	transfers   map[string]*transfer
	trOrder     []string
	payouts     map[string]*payout
	coupons     map[string]map[string]any
	custTxs     []*customerTx
	bts         []*balanceTx // oldest first
	btByID      map[string]*balanceTx
	replies     map[string]reply // Idempotency-Key (with method and path) → first answer
	checkouts   []url.Values
	lose        map[string]int // "METHOD /path" → how many of its next answers to lose (LoseAnswers)
	lost        []string       // the answers lost so far: "METHOD /path id"
}

type reply struct {
	status int
	body   []byte
}

// New returns a stand-in; Close stops its event deliveries.
func New(cfg Config) (*Server, error) {
	u, err := url.Parse(cfg.StripeMock)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("stripestate: stripe-mock URL %q is not a URL", cfg.StripeMock)
	}
	if cfg.WebhookURL != "" && cfg.WebhookSecret == "" {
		return nil, fmt.Errorf("stripestate: a webhook URL needs a webhook secret")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	s := &Server{cfg: cfg, proxy: httputil.NewSingleHostReverseProxy(u), prefix: hex.EncodeToString(b),
		pricing: cfg.Pricing.withDefaults(),
		charges: map[string]*charge{}, byIntent: map[string]string{}, refunds: map[string]*refund{},
		disputes: map[string]*dispute{}, transfers: map[string]*transfer{}, payouts: map[string]*payout{},
		coupons: map[string]map[string]any{}, btByID: map[string]*balanceTx{}, replies: map[string]reply{},
		lose: map[string]int{}}
	s.hooks = newDeliverer(cfg)
	return s, nil
}

// Close waits for the events already queued to be delivered (or to fail), then stops.
func (s *Server) Close() { s.hooks.close() }

// Flush waits until every event queued so far has been delivered (or has failed).
func (s *Server) Flush() { s.hooks.flush() }

// Deliveries returns what happened to each event sent so far, in order.
func (s *Server) Deliveries() []Delivery { return s.hooks.list() }

// Checkouts returns the forms of the Checkout Sessions created so far (passed on to stripe-mock).
func (s *Server) Checkouts() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.checkouts...)
}

// LoseAnswers makes the stand-in lose its answer to the next n requests of method and path that
// succeed (e.g. POST /v1/transfers): each is done — the object, its balance transactions and its
// events exist, and its Idempotency-Key replays the real answer — but the caller gets a 500
// api_error, as when Stripe's answer is lost on the way back. n ≤ 0 forgets the fault.
func (s *Server) LoseAnswers(method, path string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setLose(method, path, n)
}

// setLose is LoseAnswers. Callers hold s.mu.
func (s *Server) setLose(method, path string, n int) {
	k := strings.ToUpper(method) + " " + path
	if n <= 0 {
		delete(s.lose, k)
		return
	}
	s.lose[k] = n
}

// Lost lists the answers lost so far, in order, as "METHOD /path id" (the id of the object that
// was made all the same): a test's proof that the fault it set up happened, and to what.
func (s *Server) Lost() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lost...)
}

// loseAnswer reports (and counts) an answer LoseAnswers asked to lose: only successful ones (a
// refusal did nothing at Stripe, so there is nothing ambiguous to lose). Callers hold s.mu.
func (s *Server) loseAnswer(method, path string, a answer) bool {
	k := method + " " + path
	if s.lose[k] <= 0 || a.status >= 300 {
		return false
	}
	if s.lose[k]--; s.lose[k] == 0 {
		delete(s.lose, k)
	}
	id := ""
	if m, isMap := a.body.(map[string]any); isMap {
		id, _ = m["id"].(string)
	}
	s.lost = append(s.lost, k+" "+id)
	return true
}

// newID is a fresh id with Stripe's prefix. Callers hold s.mu.
func (s *Server) newID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s_%s%06d", prefix, s.prefix, s.seq)
}

// now is the clock's time in whole seconds (Stripe's created).
func (s *Server) now() int64 { return s.cfg.Clock.Now().Unix() }

// answer is what a handler decided: the HTTP answer, and the events to send after it.
type answer struct {
	status int
	body   any
	events []event
}

func ok(body any, events ...event) answer {
	return answer{status: http.StatusOK, body: body, events: events}
}

func stripeError(status int, typ, code, msg string) answer {
	e := map[string]any{"type": typ, "message": msg}
	if code != "" {
		e["code"] = code
	}
	return answer{status: status, body: map[string]any{"error": e}}
}

func missing(what, id string) answer {
	return stripeError(http.StatusNotFound, "invalid_request_error", "resource_missing", fmt.Sprintf("No such %s: '%s'", what, id))
}

func invalid(msg string) answer {
	return stripeError(http.StatusBadRequest, "invalid_request_error", "parameter_invalid", msg)
}

// handler answers one request the stand-in knows. Callers hold s.mu.
type handler func(r *http.Request, form url.Values) answer

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	form := r.URL.Query()
	if r.Method == http.MethodPost {
		if f, err := url.ParseQuery(string(body)); err == nil {
			form = f
		}
	}
	if strings.HasPrefix(r.URL.Path, helperPrefix) {
		s.serveHelper(w, r, body)
		return
	}
	s.mu.Lock()
	if r.Method == http.MethodPost && r.URL.Path == "/v1/checkout/sessions" {
		s.checkouts = append(s.checkouts, form)
	}
	h := s.route(r, form)
	if h == nil {
		s.mu.Unlock()
		r.ContentLength = int64(len(body))
		s.proxy.ServeHTTP(w, r)
		return
	}
	key := ""
	if k := r.Header.Get("Idempotency-Key"); k != "" && r.Method == http.MethodPost {
		key = r.Method + " " + r.URL.Path + " " + k
		if prior, seen := s.replies[key]; seen { // Stripe replays the first answer of a key
			s.mu.Unlock()
			writeRaw(w, prior.status, prior.body, true)
			return
		}
	}
	a := h(r, form)
	b, _ := json.Marshal(a.body)
	if key != "" && a.status < 500 {
		s.replies[key] = reply{a.status, b}
	}
	s.stamp(a.events)
	lost := s.loseAnswer(r.Method, r.URL.Path, a)
	s.mu.Unlock()
	if lost {
		// Done at Stripe (the object, its balance transaction and its events exist; a replay of the
		// key answers what was done), but the caller never hears it: a 500 that stripe-go does not
		// retry on a POST, which our code must treat as "it may have happened".
		writeRaw(w, http.StatusInternalServerError, mustJSON(map[string]any{"error": map[string]any{"type": "api_error",
			"message": "An unknown error occurred (the stand-in lost this answer after doing the request)."}}), false)
	} else {
		writeRaw(w, a.status, b, false)
	}
	// Stripe sends events after the API answered; the deliverer sends them one at a time, in order.
	s.hooks.enqueue(a.events...)
}

func writeRaw(w http.ResponseWriter, status int, body []byte, replayed bool) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_stripestate")
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	_, _ = w.Write([]byte("\n"))
}

// route returns the handler of the request, or nil for stripe-mock. Callers hold s.mu.
func (s *Server) route(r *http.Request, form url.Values) handler {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 || parts[0] != "v1" {
		return nil
	}
	get, post, del := r.Method == http.MethodGet, r.Method == http.MethodPost, r.Method == http.MethodDelete
	res, id, sub := parts[1], "", ""
	if len(parts) > 2 {
		id = parts[2]
	}
	if len(parts) > 3 {
		sub = parts[3]
	}
	if len(parts) > 4 {
		return nil
	}
	switch {
	case res == "charges" && post && id == "":
		return s.createCharge
	case res == "charges" && get && id == "":
		return s.listCharges
	case res == "charges" && get && sub == "" && s.charges[id] != nil:
		return func(*http.Request, url.Values) answer { return ok(s.chargeJSON(s.charges[id])) }

	case res == "refunds" && post && id == "" && s.knownCharge(form):
		return s.createRefund
	case res == "refunds" && get && id == "" && (s.knownCharge(form) || form.Get("charge") == "" && form.Get("payment_intent") == ""):
		return s.listRefunds
	case res == "refunds" && (get || post) && sub == "" && s.refunds[id] != nil:
		return func(r *http.Request, form url.Values) answer { return s.refundByID(r, form, id) }

	case res == "disputes" && get && id == "" && s.knownCharge(form):
		return s.listDisputes
	case res == "disputes" && get && sub == "" && s.disputes[id] != nil:
		return func(*http.Request, url.Values) answer { return ok(s.disputeJSON(s.disputes[id])) }

	case res == "transfers" && post && id == "":
		return s.createTransfer
	case res == "transfers" && get && id == "":
		return s.listTransfers
	case res == "transfers" && sub == "" && get && s.transfers[id] != nil:
		return func(*http.Request, url.Values) answer { return ok(s.transferJSON(s.transfers[id])) }
	case res == "transfers" && sub == "reversals" && post && s.transfers[id] != nil:
		return func(r *http.Request, form url.Values) answer { return s.reverseTransfer(r, form, id) }
	case res == "transfers" && sub == "reversals" && get && s.transfers[id] != nil:
		return func(r *http.Request, form url.Values) answer { return s.listReversals(form, id) }

	case res == "payouts" && post && id == "":
		return s.createPayout
	case res == "payouts" && get && sub == "" && s.payouts[id] != nil:
		return func(*http.Request, url.Values) answer { return ok(s.payoutJSON(s.payouts[id])) }

	case res == "coupons" && post && id == "":
		return s.createCoupon
	case res == "coupons" && get && id != "" && sub == "":
		return func(*http.Request, url.Values) answer { return s.getCoupon(id) }
	case res == "coupons" && del && id != "" && sub == "":
		return func(*http.Request, url.Values) answer { return s.deleteCoupon(id) }

	case res == "customers" && sub == "balance_transactions" && (get || post):
		return func(r *http.Request, form url.Values) answer { return s.customerBalance(r, form, id) }

	case res == "balance_transactions" && get && id == "":
		return s.listBalanceTransactions
	case res == "balance_transactions" && get && sub == "":
		return func(_ *http.Request, form url.Values) answer {
			if bt := s.btByID[id]; bt != nil && expands(form, "source") {
				return ok(bt.expanded())
			} else if bt != nil {
				return ok(bt.json())
			}
			return missing("balance transaction", id)
		}
	case res == "balance" && get && id == "":
		return s.balance
	}
	return nil
}

// knownCharge reports a request about a charge the stand-in holds (by charge or payment_intent).
// Callers hold s.mu.
func (s *Server) knownCharge(form url.Values) bool {
	return s.chargeOf(form) != nil
}

func (s *Server) chargeOf(form url.Values) *charge {
	if id := form.Get("charge"); id != "" {
		return s.charges[id]
	}
	if pi := form.Get("payment_intent"); pi != "" {
		return s.charges[s.byIntent[pi]]
	}
	return nil
}

// metadata is the metadata[key]=value fields of a Stripe form.
func metadata(form url.Values) map[string]string {
	md := map[string]string{}
	for k, v := range form {
		if strings.HasPrefix(k, "metadata[") && strings.HasSuffix(k, "]") && len(v) > 0 {
			md[k[len("metadata["):len(k)-1]] = v[0]
		}
	}
	return md
}

// mergeMetadata applies an update's metadata as Stripe does (an empty value deletes the key).
func mergeMetadata(md map[string]string, form url.Values) {
	for k, v := range metadata(form) {
		if v == "" {
			delete(md, k)
		} else {
			md[k] = v
		}
	}
}

// amountParam is an optional positive integer amount; present false when absent.
func amountParam(form url.Values, name string) (amount int64, present bool, bad answer) {
	v := form.Get(name)
	if v == "" {
		return 0, false, answer{}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, true, invalid(fmt.Sprintf("Invalid positive integer: %s", name))
	}
	return n, true, answer{}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// listPage is one page of a Stripe list: items are newest first; starting_after/ending_before
// name an object of the list; limit is 1..100 (default 10).
func listPage(path string, items []map[string]any, form url.Values) answer {
	limit := int64(10)
	if v := form.Get("limit"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > 100 {
			return invalid("limit must be an integer between 1 and 100")
		}
		limit = n
	}
	after, before := form.Get("starting_after"), form.Get("ending_before")
	if after != "" && before != "" {
		return invalid("You may only specify one of these parameters: ending_before, starting_after.")
	}
	start, end := 0, len(items)
	find := func(id string) int {
		for i, it := range items {
			if it["id"] == id {
				return i
			}
		}
		return -1
	}
	switch {
	case after != "":
		i := find(after)
		if i < 0 {
			return missing("object", after)
		}
		start = i + 1
		if int64(end-start) > limit {
			end = start + int(limit)
		}
	case before != "":
		i := find(before)
		if i < 0 {
			return missing("object", before)
		}
		end = i
		if int64(end) > limit {
			start = end - int(limit)
		}
	default:
		if int64(end) > limit {
			end = int(limit)
		}
	}
	hasMore := end < len(items)
	if before != "" {
		hasMore = start > 0
	}
	data := items[start:end]
	if data == nil {
		data = []map[string]any{}
	}
	return ok(map[string]any{"object": "list", "data": data, "has_more": hasMore, "url": path})
}

// Start serves a stand-in for a test until it ends and returns it with its base URL (point the
// process's Stripe client there: stripefake.Client(key, url, nil)).
func Start(t testing.TB, cfg Config) (*Server, string) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(func() { srv.Close(); s.Close() })
	return s, srv.URL
}
