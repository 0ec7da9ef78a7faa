package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/liberation/monetization/infra/local/services"
	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/infra/local/stripestate"
	m "github.com/liberation/monetization/shared/manifest"
)

// The Stripe stand-in in `make dev` (docs/decisions/0082): dev points the functions' Stripe at
// it, and trigger and seed tell it about the events they send in Stripe's name.

// TestDevDefaultsSendStripeToTheStandIn: dev's functions call the stand-in, not stripe-mock (which
// is what the services' own environment — and so `make test` — names); a STRIPE_API_BASE set in
// the environment still wins over both.
func TestDevDefaultsSendStripeToTheStandIn(t *testing.T) {
	p := services.Ports{Moto: 1, StripeMock: 2, SMTP: 3, MailpitUI: 4, SES: 5}
	d := devDefaults(p, "http://127.0.0.1:9")
	if got := d[m.EnvStripeAPIBase]; got != "http://127.0.0.1:9" {
		t.Fatalf("dev's STRIPE_API_BASE = %q, want the stand-in http://127.0.0.1:9", got)
	}
	if got := p.Env()[m.EnvStripeAPIBase]; got != p.StripeMockURL() {
		t.Fatalf("the services' STRIPE_API_BASE = %q, want stripe-mock %s (make test's)", got, p.StripeMockURL())
	}
	// The rest of the services' environment is kept.
	if d["AWS_ENDPOINT_URL"] != p.MotoURL() || d["MAILPIT_URL"] != p.MailpitURL() {
		t.Fatalf("dev defaults lost the services' environment: %v", d)
	}
	getenv := layered(env(m.EnvStripeAPIBase, "https://api.stripe.com"), fromMap(d))
	if got := getenv(m.EnvStripeAPIBase); got != "https://api.stripe.com" {
		t.Fatalf("STRIPE_API_BASE from the environment: %q, want it to win", got)
	}
}

// TestDevRefusesABusyStandInPort: a stand-in port already taken (another `make dev`) stops dev
// at once, naming STRIPE_STATE_PORT, before any service starts.
func TestDevRefusesABusyStandInPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, port, _ := net.SplitHostPort(busy.Addr().String())
	state := t.TempDir()
	t0 := time.Now()
	code, stdout, stderr := runCLI(t, env(EnvStateDir, state, "PORT", strconv.Itoa(freePorts(t, 1)[0]), envStripeStatePort, port), "dev")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "the Stripe stand-in's port "+port+" is busy") ||
		!strings.Contains(stderr, "set STRIPE_STATE_PORT") || strings.Contains(stderr, "starting moto") {
		t.Fatalf("dev with a busy stand-in port: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("dev took %s to refuse a busy port", d)
	}
}

// recorder is a fake `make dev`: a stand-in (a real stripestate.Server, or a given handler) and a
// webhook, each logging what it received, in one order.
type recorder struct {
	mu   sync.Mutex
	seen []string // "stand-in <path>" or "webhook"
	body map[string][]byte
	sigs []string
}

func (r *recorder) log(name string, req *http.Request) []byte {
	b, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(b))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, name)
	if r.body == nil {
		r.body = map[string][]byte{}
	}
	r.body[name] = b
	if name == "webhook" {
		r.sigs = append(r.sigs, req.Header.Get("Stripe-Signature"))
	}
	return b
}

func (r *recorder) order() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// fakeDev serves a webhook (the gateway's function URL) and, in front of stand, a stand-in.
func fakeDev(t *testing.T, stand http.Handler) (rec *recorder, gatewayPort, standURL string) {
	t.Helper()
	rec = &recorder{}
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != webhookPath() {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusTeapot)
			return
		}
		rec.log("webhook", r)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"received":true}`))
	}))
	t.Cleanup(gw.Close)
	st := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.log("stand-in "+r.URL.Path, r)
		stand.ServeHTTP(w, r)
	}))
	t.Cleanup(st.Close)
	_, gatewayPort, _ = net.SplitHostPort(gw.Listener.Addr().String())
	return rec, gatewayPort, st.URL
}

// newStand is a real stand-in with an upstream that must not be asked (the test's calls are
// all about kept objects) and no webhook of its own.
func newStand(t *testing.T) *stripestate.Server {
	t.Helper()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("stripe-mock asked %s %s: the stand-in should have answered it", r.Method, r.URL.Path)
		http.Error(w, "unexpected", http.StatusTeapot)
	}))
	t.Cleanup(upstream.Close)
	s, err := stripestate.New(stripestate.Config{StripeMock: upstream.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// stripeGet reads a Stripe object from the stand-in at base, as stripe-go would.
func stripeGet(t *testing.T, base, path string, v any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("sk_test_local", "")
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s on the stand-in: %d %s", path, res.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, b)
	}
}

type stripeCharge struct {
	ID                 string `json:"id"`
	Amount             int64  `json:"amount"`
	AmountRefunded     int64  `json:"amount_refunded"`
	Refunded           bool   `json:"refunded"`
	PaymentIntent      string `json:"payment_intent"`
	BalanceTransaction string `json:"balance_transaction"`
}

// TestTriggerTellsTheStandInFirst: `make trigger` posts the very event it signs to the stand-in's
// /_stripestate/events before the webhook, so the checkout's charge exists at "Stripe" (with its
// amount and PaymentIntent) by the time the webhook's work runs.
func TestTriggerTellsTheStandInFirst(t *testing.T) {
	stand := newStand(t)
	rec, port, standURL := fakeDev(t, stand)
	getenv := env(EnvStateDir, t.TempDir(), "PORT", port, envStripeStateURL, standURL)
	code, stdout, stderr := runCLI(t, getenv, "trigger", "-event", "checkout.session.completed", "-mode", "payment",
		"-user", "u1", "-amount", "4321", "-payment-intent", "pi_unit42")
	if code != 0 || !strings.HasPrefix(stdout, "200 OK\n") {
		t.Fatalf("trigger: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if got := strings.Join(rec.order(), ", "); got != "stand-in /_stripestate/events, webhook" {
		t.Fatalf("requests in order: %s; want the stand-in's events, then the webhook", got)
	}
	if !bytes.Equal(rec.body["stand-in /_stripestate/events"], rec.body["webhook"]) {
		t.Fatalf("the stand-in was told another event than the webhook got:\n%s\n%s", rec.body["stand-in /_stripestate/events"], rec.body["webhook"])
	}
	// The webhook's copy is still signed with the default secret, as before the stand-in.
	if _, err := webhook.ConstructEvent(rec.body["webhook"], rec.sigs[0], defaultWebhookSecret); err != nil {
		t.Fatalf("the webhook's event does not verify: %v", err)
	}
	var ch stripeCharge
	stripeGet(t, standURL, "/v1/charges/ch_unit42", &ch)
	if ch.Amount != 4321 || ch.PaymentIntent != "pi_unit42" || ch.BalanceTransaction == "" {
		t.Fatalf("the stand-in's charge of the checkout: %+v, want 4321 of pi_unit42 with a balance transaction", ch)
	}
}

// TestTriggerStopsWhenTheStandInCannotLearn: a stand-in that refuses the event, or is not there,
// stops trigger before the webhook — a payment the webhook booked without its charge at "Stripe"
// would refund a stripe-mock fixture later.
func TestTriggerStopsWhenTheStandInCannotLearn(t *testing.T) {
	refusing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","message":"not an event: boom"}}`))
	})
	rec, port, standURL := fakeDev(t, refusing)
	args := []string{"trigger", "-event", "invoice.paid", "-user", "u1"}
	code, stdout, stderr := runCLI(t, env(EnvStateDir, t.TempDir(), "PORT", port, envStripeStateURL, standURL), args...)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "the Stripe stand-in at "+standURL+" refused the event: not an event: boom (400 Bad Request)") {
		t.Fatalf("refused: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if got := rec.order(); len(got) != 1 || got[0] != "stand-in /_stripestate/events" {
		t.Fatalf("requests: %v; want the stand-in's only (no webhook)", got)
	}

	gone := "http://127.0.0.1:" + strconv.Itoa(freePorts(t, 1)[0])
	code, _, stderr = runCLI(t, env(EnvStateDir, t.TempDir(), "PORT", port, envStripeStateURL, gone), args...)
	if code != 1 || !strings.Contains(stderr, "telling the Stripe stand-in about the event") || !strings.Contains(stderr, "is `make dev` running?") {
		t.Fatalf("unreachable stand-in: exit %d, stderr %q", code, stderr)
	}
	if got := rec.order(); len(got) != 1 {
		t.Fatalf("the webhook was called although the stand-in was not told: %v", got)
	}
}

// TestStandInListsDeliveries: dev's stand-in answers GET /_stripestate/deliveries with what it
// sent to the webhook and the answers; everything else is the stand-in's (or stripe-mock's).
func TestStandInListsDeliveries(t *testing.T) {
	var mu sync.Mutex
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ev, err := webhook.ConstructEvent(b, r.Header.Get("Stripe-Signature"), "whsec_unit")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, string(ev.Type))
		mu.Unlock()
		if ev.Type == "refund.created" { // a webhook that refuses one: its status must show
			http.Error(w, "no", http.StatusInternalServerError)
		}
	}))
	defer hook.Close()
	s, err := stripestate.New(stripestate.Config{StripeMock: "http://127.0.0.1:1", WebhookURL: hook.URL, WebhookSecret: "whsec_unit"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(standIn(s))
	defer srv.Close()
	o := stripeevents.Options{UserID: "u1", Mode: "payment", AmountCents: 1000, PaymentIntentID: "pi_del"}
	if err := s.Observe(stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, o)); err != nil {
		t.Fatal(err)
	}
	res, err := http.PostForm(srv.URL+"/v1/refunds", url.Values{"charge": {"ch_del"}, "amount": {"400"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("refund through dev's stand-in handler: %d %s", res.StatusCode, b)
	}
	s.Flush()
	var list struct {
		Deliveries []struct {
			EventID, Type, Object, Error string
			Status, Attempts             int
		} `json:"deliveries"`
	}
	stripeGet(t, srv.URL, deliveriesPath, &list)
	if len(list.Deliveries) != 2 {
		t.Fatalf("deliveries %+v, want charge.refunded and refund.created", list.Deliveries)
	}
	first, second := list.Deliveries[0], list.Deliveries[1]
	if first.Type != "charge.refunded" || first.Object != "ch_del" || first.Status != 200 || first.Attempts != 1 || first.EventID == "" {
		t.Errorf("first delivery %+v", first)
	}
	if second.Type != "refund.created" || !strings.HasPrefix(second.Object, "re_") || second.Status != 500 ||
		second.Attempts < 2 || second.Error == "" {
		t.Errorf("second delivery %+v, want the webhook's 500 after retries", second)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) < 2 || got[0] != "charge.refunded" {
		t.Errorf("the webhook received %v", got)
	}
}

// TestDevStripeStandIn is the stand-in proven once end to end in a running `make dev`: a checkout
// completion sent by trigger becomes a charge at the stand-in; POST /admin/refunds through the
// gateway refunds that charge's real amount (stripe-mock alone answers a 1.00 fixture whatever the
// charge); the stand-in lists the refund and its balance transaction; the events it sends back
// are accepted by the webhook, and one of them — the refund failing later — reaches the payment.
func TestDevStripeStandIn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole local stack")
	}
	for _, k := range sdkEnv { // dev exports them; restore the test process's own afterwards
		t.Setenv(k, os.Getenv(k))
	}
	d := startDev(t)
	clientEnv := env(EnvStateDir, d.state)
	stand := d.stripeState
	if got := readDevEnv(devEnvFile(d.state))[envStripeStateURL]; got != stand {
		t.Fatalf("dev.env %s=%q, want %q", envStripeStateURL, got, stand)
	}

	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	user, pi, chargeID := "standin-"+suffix, "pi_standin"+suffix, "ch_standin"+suffix
	const amount = 4321
	tok := mint(t, clientEnv, user)
	admin := mint(t, clientEnv, "admin-"+suffix, "-groups", "admin")

	// trigger: a paid one-off checkout (payments records it) of 43.21.
	code, stdout, stderr := runCLI(t, clientEnv, "trigger", "-event", "checkout.session.completed", "-mode", "payment",
		"-user", user, "-amount", strconv.Itoa(amount), "-payment-intent", pi)
	if code != 0 || !strings.HasPrefix(stdout, "200 OK\n") {
		t.Fatalf("trigger checkout: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	var pays struct {
		Payments []struct {
			ID            string `json:"id"`
			AmountCents   int64  `json:"amountCents"`
			RefundedCents int64  `json:"refundedCents"`
		} `json:"payments"`
	}
	getJSON(t, d.api+"/payments", tok, &pays)
	if len(pays.Payments) != 1 || pays.Payments[0].AmountCents != amount {
		t.Fatalf("payments after the checkout: %+v, want one of %d", pays.Payments, amount)
	}
	payID := pays.Payments[0].ID
	var ch stripeCharge
	stripeGet(t, stand, "/v1/charges/"+chargeID, &ch)
	if ch.Amount != amount || ch.PaymentIntent != pi {
		t.Fatalf("the stand-in's charge: %+v, want %d of %s", ch, amount, pi)
	}

	// POST /admin/refunds, the whole payment: the functions' Stripe is the stand-in.
	var refunded struct {
		Refund struct {
			AmountCents int64  `json:"amountCents"`
			Status      string `json:"status"`
		} `json:"refund"`
		Payment struct {
			RefundedCents int64 `json:"refundedCents"`
		} `json:"payment"`
	}
	status, body := doJSON(t, http.MethodPost, d.api+"/admin/refunds", admin,
		`{"paymentId":"`+payID+`","reason":"requested_by_customer"}`, map[string]string{"Idempotency-Key": "standin-" + suffix})
	if status != http.StatusCreated {
		t.Fatalf("POST /admin/refunds: %d %s", status, body)
	}
	if err := json.Unmarshal(body, &refunded); err != nil {
		t.Fatal(err)
	}
	if refunded.Refund.AmountCents != amount || refunded.Payment.RefundedCents != amount {
		t.Fatalf("refund answer %s: want %d refunded (the charge's amount, not a fixture)", body, amount)
	}

	// The stand-in keeps the refund, with its balance transaction.
	var refunds struct {
		Data []struct {
			ID                 string `json:"id"`
			Amount             int64  `json:"amount"`
			Charge             string `json:"charge"`
			Status             string `json:"status"`
			BalanceTransaction string `json:"balance_transaction"`
		} `json:"data"`
	}
	stripeGet(t, stand, "/v1/refunds?payment_intent="+pi, &refunds)
	if len(refunds.Data) != 1 || refunds.Data[0].Amount != amount || refunds.Data[0].Charge != chargeID ||
		refunds.Data[0].Status != "succeeded" || refunds.Data[0].BalanceTransaction == "" {
		t.Fatalf("the stand-in's refunds of %s: %+v", pi, refunds.Data)
	}
	re := refunds.Data[0]
	var bts struct {
		Data []struct {
			ID, Type, Source string
			Amount, Fee      int64
		} `json:"data"`
	}
	stripeGet(t, stand, "/v1/balance_transactions?type=refund&limit=100", &bts)
	found := false
	for _, bt := range bts.Data {
		if bt.ID == re.BalanceTransaction {
			found = true
			if bt.Amount != -amount || bt.Source != re.ID || bt.Fee != 0 {
				t.Errorf("the refund's balance transaction %+v, want -%d from %s without a fee", bt, amount, re.ID)
			}
		}
	}
	if !found {
		t.Fatalf("balance transactions of type refund %+v do not list the refund's %s", bts.Data, re.BalanceTransaction)
	}
	stripeGet(t, stand, "/v1/charges/"+chargeID, &ch)
	if ch.AmountRefunded != amount || !ch.Refunded {
		t.Fatalf("the stand-in's charge after the refund: %+v", ch)
	}

	// The events the stand-in sent for the refund: accepted by the webhook.
	waitDelivered(t, stand, "charge.refunded", chargeID)
	waitDelivered(t, stand, "refund.created", re.ID)

	// The bank returns the refund: the stand-in sends refund.updated and charge.refund.updated; the
	// webhook's work re-reads the charge's refunds from the stand-in and takes the failed one out —
	// only these events can tell the payment.
	form := url.Values{"status": {"failed"}}
	res, err := http.PostForm(stand+"/_stripestate/refunds/"+re.ID, form)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("failing the refund at the stand-in: %d %s", res.StatusCode, b)
	}
	waitDelivered(t, stand, "charge.refund.updated", re.ID)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var p struct {
			RefundedCents int64 `json:"refundedCents"`
		}
		getJSON(t, d.api+"/payments/"+payID, tok, &p)
		if p.RefundedCents == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /payments/%s still shows %d refunded after the refund failed at the stand-in", payID, p.RefundedCents)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mint is `make token` for sub (with extra flags).
func mint(t *testing.T, getenv func(string) string, sub string, flags ...string) string {
	t.Helper()
	code, stdout, stderr := runCLI(t, getenv, append([]string{"token", "-sub", sub}, flags...)...)
	if code != 0 {
		t.Fatalf("token %s: exit %d: %s", sub, code, stderr)
	}
	return strings.TrimSpace(stdout)
}

// doJSON sends a JSON body with a bearer token and headers and returns the status and body.
func doJSON(t *testing.T, method, url, token, body string, headers map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// waitDelivered waits until the stand-in has delivered an event of typ about object and checks
// the webhook accepted it (200).
func waitDelivered(t *testing.T, stand, typ, object string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var list struct {
			Deliveries []struct {
				Type, Object, Error string
				Status              int
			} `json:"deliveries"`
		}
		stripeGet(t, stand, deliveriesPath, &list)
		for _, d := range list.Deliveries {
			if d.Type == typ && d.Object == object {
				if d.Status != http.StatusOK {
					t.Fatalf("the webhook answered %d to the stand-in's %s of %s (%s)", d.Status, typ, object, d.Error)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stand-in delivered no %s of %s in 30s: %+v", typ, object, list.Deliveries)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
