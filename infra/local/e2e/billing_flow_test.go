//go:build integration

package e2e

// The proof, end to end through the local gateway (API Gateway v2 events, JWT authorizer,
// function URL, SQS poller) against moto, stripe-mock and mailpit.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

type subscriptionView struct {
	Tier              string   `json:"tier"`
	Status            string   `json:"status"`
	CancelAtPeriodEnd bool     `json:"cancelAtPeriodEnd"`
	Entitlements      []string `json:"entitlements"`
}

type paymentView struct {
	ID               string `json:"id"`
	AmountCents      int64  `json:"amountCents"`
	Currency         string `json:"currency"`
	Status           string `json:"status"`
	RefundedCents    int64  `json:"refundedCents"`
	ReceiptAvailable bool   `json:"receiptAvailable"`
}

func getJSON[T any](t *testing.T, h *Harness, path, token string) T {
	t.Helper()
	status, body, _ := h.Do(t, http.MethodGet, path, token, nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, status, body)
	}
	var out T
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, body)
	}
	return out
}

func payments(t *testing.T, h *Harness, token string) []paymentView {
	t.Helper()
	return getJSON[struct {
		Payments []paymentView `json:"payments"`
	}](t, h, "/payments", token).Payments
}

func post(t *testing.T, h *Harness, payload []byte) {
	t.Helper()
	if status := h.PostWebhook(t, payload); status != http.StatusOK {
		t.Fatalf("webhook: %d", status)
	}
}

func TestCheckoutToReceiptFlow(t *testing.T) {
	h := Start(t)
	alice, email := "alice-"+strconv.FormatInt(time.Now().UnixNano(), 36), ""
	email = alice + "@example.com"
	tok := h.Token(t, alice, email)

	// 1. The user starts a Checkout Session (stripe-mock answers as Stripe would).
	status, body, _ := h.Do(t, http.MethodPost, "/subscription/checkout", tok,
		map[string]string{"tier": "pro", "successUrl": "https://app.example.com/ok", "cancelUrl": "https://app.example.com/no"})
	var checkout struct{ URL, SessionID string }
	if status != http.StatusOK && status != http.StatusCreated || json.Unmarshal(body, &checkout) != nil || checkout.URL == "" || checkout.SessionID == "" {
		t.Fatalf("checkout: %d %s", status, body)
	}

	// 2. Stripe reports the outcome through the webhook.
	// The events name the customer that checkout created and remembered, as Stripe's would.
	profile, err := records.Records{S: h.Env.Store()}.GetUser(context.Background(), alice)
	if err != nil || profile.StripeCustomerID == "" {
		t.Fatalf("checkout did not remember a Stripe customer: %+v %v", profile, err)
	}
	t0 := time.Now().Add(-time.Minute)
	o := stripeevents.Options{UserID: alice, Email: email, Tier: "pro", Created: t0, CustomerID: profile.StripeCustomerID,
		SubscriptionID: "sub_" + alice, InvoiceID: "in_" + alice, ChargeID: "ch_" + alice}
	post(t, h, stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, o))
	post(t, h, stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, o))
	paid := o
	paid.EventID = "evt_paid_" + alice
	invoicePaid := stripeevents.MustBuild(stripeevents.InvoicePaid, paid)
	post(t, h, invoicePaid)

	// 3. Subscription, payment, receipt e-mail with its PDF.
	sub := getJSON[subscriptionView](t, h, "/subscription", tok)
	if sub.Tier != "pro" || sub.Status != "active" {
		t.Fatalf("subscription after payment: %+v", sub)
	}
	pays := payments(t, h, tok)
	if len(pays) != 1 || pays[0].AmountCents != 999 || pays[0].Currency != "usd" {
		t.Fatalf("payments: %+v", pays)
	}
	msgs := h.Env.Mailpit.WaitFor(t, "to:"+email, 1)
	full := h.Env.Mailpit.Get(t, msgs[0].ID)
	if len(full.Attachments) != 1 || full.Attachments[0].ContentType != "application/pdf" {
		t.Fatalf("receipt e-mail attachments: %+v", full.Attachments)
	}
	if pdf := h.Env.Mailpit.Attachment(t, full.ID, full.Attachments[0].PartID); len(pdf) < 5 || string(pdf[:5]) != "%PDF-" {
		t.Fatalf("attachment is not a PDF")
	}

	// 4. The receipt link works once the PDF is stored.
	var receipt struct{ URL string }
	var res *http.Response
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body, _ = h.Do(t, http.MethodGet, "/payments/"+pays[0].ID+"/receipt", tok, nil)
		if status == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status != http.StatusOK || json.Unmarshal(body, &receipt) != nil || receipt.URL == "" {
		t.Fatalf("receipt link: %d %s", status, body)
	}
	res, err = http.Get(receipt.URL)
	if err != nil || res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("presigned receipt download: %v %v", err, res)
	}
	res.Body.Close()

	// 5. The same event three more times, and the same invoice under a new event id: one payment,
	// one e-mail.
	for i := 0; i < 3; i++ {
		post(t, h, invoicePaid)
	}
	again := o
	again.EventID = "evt_paid_again_" + alice
	post(t, h, stripeevents.MustBuild(stripeevents.InvoicePaid, again))
	h.Drain(t, manifest.ReceiptsQueue)
	if pays := payments(t, h, tok); len(pays) != 1 {
		t.Fatalf("duplicates created payments: %+v", pays)
	}
	if msgs := h.Env.Mailpit.Search(t, "to:"+email); len(msgs) != 1 {
		t.Fatalf("want exactly one e-mail, have %d", len(msgs))
	}

	// 6. Another user cannot see it; a user cannot refund; an admin refunds in part, and a second
	// refund beyond the remainder is refused with nothing changed.
	bob := h.Token(t, "bob-"+alice, "bob@example.com")
	if status, _, _ := h.Do(t, http.MethodGet, "/payments/"+pays[0].ID, bob, nil); status != http.StatusNotFound {
		t.Fatalf("another user's payment: %d, want 404", status)
	}
	if status, _, _ := h.Do(t, http.MethodGet, "/payments/"+pays[0].ID+"/receipt", bob, nil); status != http.StatusNotFound {
		t.Fatalf("another user's receipt: %d, want 404", status)
	}
	refund := func(token string, amount int64, key string) (int, []byte) {
		req := map[string]any{"paymentId": pays[0].ID, "amountCents": amount, "reason": "requested_by_customer"}
		status, body, _ := h.doWithHeaders(t, http.MethodPost, "/admin/refunds", token, req, map[string]string{"Idempotency-Key": key})
		return status, body
	}
	if status, _ := refund(tok, 100, "k-user"); status != http.StatusForbidden {
		t.Fatalf("non-admin refund: %d, want 403", status)
	}
	admin := h.Token(t, "admin-"+alice, "ops@example.com", "admin")
	if status, body := refund(admin, 300, "k1"); status != http.StatusCreated {
		t.Fatalf("partial refund: %d %s", status, body)
	}
	// The same request retried with its key is replayed, not refunded twice.
	if status, _ := refund(admin, 300, "k1"); status != http.StatusCreated {
		t.Fatalf("replayed refund: %d", status)
	}
	if status, body := refund(admin, 700, "k2"); status != http.StatusUnprocessableEntity {
		t.Fatalf("refund beyond the remainder (699): %d %s, want 422", status, body)
	}
	got := getJSON[paymentView](t, h, "/payments/"+pays[0].ID, tok)
	if got.RefundedCents != 300 || got.AmountCents != 999 {
		t.Fatalf("after refunds: %+v, want 300 of 999 refunded", got)
	}
	if status, body := refund(admin, 699, "k3"); status != http.StatusCreated {
		t.Fatalf("refund of exactly the remainder: %d %s", status, body)
	}
	if got := getJSON[paymentView](t, h, "/payments/"+pays[0].ID, tok); got.RefundedCents != 999 {
		t.Fatalf("after full refund: %+v", got)
	}
}

// The same events in every order end in the same state: one payment, one e-mail, the latest
// subscription state.
func TestShuffledDeliveriesConverge(t *testing.T) {
	h := Start(t)
	orders := [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}, {1, 3, 0, 2}}
	for i, order := range orders {
		user := fmt.Sprintf("shuffle-%d-%d", i, time.Now().UnixNano())
		email := user + "@example.com"
		t0 := time.Now().Add(-10 * time.Minute)
		base := stripeevents.Options{UserID: user, Email: email, Tier: "pro", Created: t0, PeriodStart: t0,
			InvoiceID: "in_" + user, ChargeID: "ch_" + user}
		updated := base
		updated.Created = t0.Add(30 * time.Second)
		updated.CancelAtPeriodEnd = true
		events := [][]byte{
			stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, base),
			stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, base),
			stripeevents.MustBuild(stripeevents.InvoicePaid, base),
			stripeevents.MustBuild(stripeevents.CustomerSubscriptionUpdated, updated),
		}
		for _, j := range order {
			post(t, h, events[j])
			post(t, h, events[j]) // and each one twice
		}
		tok := h.Token(t, user, email)
		sub := getJSON[subscriptionView](t, h, "/subscription", tok)
		if sub.Tier != "pro" || sub.Status != "active" || !sub.CancelAtPeriodEnd {
			t.Errorf("order %v: subscription %+v, want pro/active/cancelAtPeriodEnd", order, sub)
		}
		if pays := payments(t, h, tok); len(pays) != 1 || pays[0].AmountCents != 999 {
			t.Errorf("order %v: payments %+v", order, pays)
		}
		h.Drain(t, manifest.ReceiptsQueue)
		h.Env.Mailpit.WaitFor(t, "to:"+email, 1)
		if n := len(h.Env.Mailpit.Search(t, "to:"+email)); n != 1 {
			t.Errorf("order %v: %d e-mails, want 1", order, n)
		}
	}
}

// A tampered or stale webhook is refused with 400 and leaves no trace.
func TestForgedWebhooksStoreNothing(t *testing.T) {
	h := Start(t)
	secret := h.Env.Getenv(manifest.EnvWebhookSecret)
	user := "forged-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	o := stripeevents.Options{UserID: user, Tier: "enterprise", EventID: "evt_forged_" + user}
	payload := stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, o)

	tampered := []byte(string(payload))
	sig := stripeevents.SignatureHeader(payload, secret, time.Now())
	copy(tampered[len(tampered)-40:], []byte(`"livemode": true`)) // change bytes after signing
	stale := stripeevents.SignatureHeader(payload, secret, time.Now().Add(-10*time.Minute))
	for name, c := range map[string]struct {
		body []byte
		sig  string
	}{
		"Tampered":    {tampered, sig},
		"Stale":       {payload, stale},
		"WrongSecret": {payload, stripeevents.SignatureHeader(payload, "whsec_other", time.Now())},
		"NoSignature": {payload, ""},
	} {
		if status, body := h.PostWebhookSigned(t, c.body, c.sig); status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, status, body)
		}
	}
	var rec store.IdemRecord
	if err := h.Env.Store().Get(context.Background(), store.IdempotencyKey("stripe-event", o.EventID), &rec); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("a refused event left a dedupe record: %v", err)
	}
	sub := getJSON[subscriptionView](t, h, "/subscription", h.Token(t, user, ""))
	if sub.Tier != "free" {
		t.Errorf("a refused event changed the subscription: %+v", sub)
	}
}
