//go:build integration

package e2e

// Payments' proof for issue 5, through the local gateway (API Gateway v2 events, JWT authorizer,
// function URL, SQS poller, local jobs) against moto, mailpit and stripe-mock — behind the
// stripefault proxy, which loses Stripe's answers and keeps the refunds it made, as Stripe does.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/infra/local/stripefault"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/manifest"
	paymentsarea "github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/store"
)

// payStand is a harness whose Stripe calls go through a stripefault proxy, with one user who paid.
type payStand struct {
	t      *testing.T
	h      *Harness
	proxy  *stripefault.Proxy
	clock  *clock.Fake // nil unless asked for
	user   string
	email  string
	tok    string
	admin  string
	o      stripeevents.Options // the payment's Stripe ids
	payID  string
	amount int64
}

func startPayStand(t *testing.T, amount int64, fakeClock bool) *payStand {
	t.Helper()
	s := &payStand{t: t, amount: amount}
	s.h = Start(t, WithSetup(func(t testing.TB, env *localtest.Env) {
		var base string
		s.proxy, base = stripefault.Start(t, env.Getenv(manifest.EnvStripeAPIBase))
		env.Runtime.Config.StripeAPIBase = base
		if fakeClock {
			s.clock = env.WithFakeClock()
		}
	}))
	s.user = fmt.Sprintf("pay-%d", time.Now().UnixNano())
	s.email = s.user + "@example.com"
	s.tok = s.h.Token(t, s.user, s.email)
	s.admin = s.h.Token(t, "admin-"+s.user, "ops@example.com", "admin")
	s.o = stripeevents.Options{UserID: s.user, Email: s.email, AmountCents: amount, InvoiceID: "in_" + s.user,
		ChargeID: "ch_" + s.user, PaymentIntentID: "pi_" + s.user, Created: time.Now().Add(-time.Minute)}
	post(t, s.h, stripeevents.MustBuild(stripeevents.InvoicePaid, s.o))
	pays := payments(t, s.h, s.tok)
	if len(pays) != 1 || pays[0].AmountCents != amount {
		t.Fatalf("payments %+v", pays)
	}
	s.payID = pays[0].ID
	return s
}

// refund posts POST /admin/refunds; key "" sends no Idempotency-Key header at all.
func (s *payStand) refund(amount int64, key string) (int, []byte) {
	s.t.Helper()
	req := map[string]any{"paymentId": s.payID, "amountCents": amount, "reason": "requested_by_customer"}
	var headers map[string]string
	if key != "" {
		headers = map[string]string{"Idempotency-Key": key}
	}
	status, body, _ := s.h.DoWithHeaders(s.t, http.MethodPost, "/admin/refunds", s.admin, req, headers)
	return status, body
}

// chargeRefunded delivers Stripe's charge.refunded (API 2023-10-16: no refunds list in it).
func (s *payStand) chargeRefunded(refundedCents int64) {
	s.t.Helper()
	o := s.o
	o.EventID, o.AmountRefundedCents, o.Created = "", refundedCents, time.Now()
	post(s.t, s.h, stripeevents.MustBuild(stripeevents.ChargeRefunded, o))
}

func (s *payStand) payment() paymentView {
	s.t.Helper()
	return getJSON[paymentView](s.t, s.h, "/payments/"+s.payID, s.tok)
}

// item reads the payment item (reservations are not part of the API).
func (s *payStand) item() paymentsarea.Payment {
	s.t.Helper()
	p, err := paymentsarea.Repo{S: s.h.Env.Store()}.GetPayment(context.Background(), s.user, s.payID)
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

type dayCounters struct {
	RefundedCents    int64 `dynamodbav:"refundedCents"`
	DisputedCents    int64 `dynamodbav:"disputedCents"`
	DisputeLostCents int64 `dynamodbav:"disputeLostCents"`
	DisputeWonCents  int64 `dynamodbav:"disputeWonCents"`
	UnmatchedRefunds int64 `dynamodbav:"unmatchedRefunds"`
}

func counters(t *testing.T, h *Harness, at time.Time) dayCounters {
	t.Helper()
	var c dayCounters
	if err := h.Env.Store().GetConsistent(context.Background(), store.MetricsDayKey(at), &c); err != nil {
		t.Fatalf("day counters: %v", err)
	}
	return c
}

func (s *payStand) now() time.Time {
	if s.clock != nil {
		return s.clock.Now()
	}
	return time.Now()
}

type refundAnswer struct {
	Refund struct {
		ID          string `json:"id"`
		AmountCents int64  `json:"amountCents"`
	} `json:"refund"`
	Error struct{ Code, Message string } `json:"error"`
}

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return v
}

// The case: Stripe refunded 3000 of a 6000 payment but its answer was lost. Before, the
// reservation was freed, charge.refunded booked the increase as a placeholder, and the admin's retry
// with the same Idempotency-Key booked the same Stripe refund again: refunded 3000, booked 6000,
// two e-mails. Now the reservation is kept, the webhook books it under its real id, the retry
// answers that refund, and the customer gets one notice.
func TestAmbiguousRefundRetryBooksOnce(t *testing.T) {
	s := startPayStand(t, 6000, false)
	s.proxy.Inject(stripefault.Fault{Method: http.MethodPost, Path: "/v1/refunds", Kind: stripefault.Drop, Times: 2})
	s.proxy.Inject(stripefault.Fault{Method: http.MethodGet, Path: "/v1/refunds", Kind: stripefault.Status, Status: 500})
	status, body := s.refund(3000, "k-ambiguous")
	if a := decode[refundAnswer](t, body); status != http.StatusServiceUnavailable || a.Error.Code != "unavailable" {
		t.Fatalf("ambiguous refund: %d %s, want 503", status, body)
	}
	made := s.proxy.Refunds(s.o.ChargeID)
	if len(made) != 1 {
		t.Fatalf("Stripe holds %d refunds, want the one the lost answer made", len(made))
	}
	if p := s.item(); p.PendingRefundCents != 3000 || p.RefundedCents != 0 {
		t.Fatalf("after the lost answer: pending %d refunded %d, want the reservation kept", p.PendingRefundCents, p.RefundedCents)
	}

	s.chargeRefunded(3000)
	status, body = s.refund(3000, "k-ambiguous") // the admin retries with the same key
	if a := decode[refundAnswer](t, body); status != http.StatusCreated || a.Refund.ID != made[0]["id"] || a.Refund.AmountCents != 3000 {
		t.Fatalf("retry: %d %s, want 201 with Stripe's refund %v", status, body, made[0]["id"])
	}
	s.chargeRefunded(3000) // and Stripe redelivers
	s.h.Drain(t, manifest.ReceiptsQueue)

	if got := s.payment(); got.RefundedCents != 3000 || got.Status != "partially_refunded" {
		t.Fatalf("payment %+v, want 3000 refunded once", got)
	}
	if p := s.item(); p.PendingRefundCents != 0 || len(p.PendingRefunds) != 0 {
		t.Fatalf("reservation left: %+v", p.PendingRefunds)
	}
	if c := counters(t, s.h, s.now()); c.RefundedCents != 3000 {
		t.Fatalf("refundedCents counter %d, want 3000", c.RefundedCents)
	}
	if n := len(s.proxy.Refunds(s.o.ChargeID)); n != 1 {
		t.Fatalf("Stripe holds %d refunds, want 1", n)
	}
	posts := s.proxy.Requests(http.MethodPost, "/v1/refunds")
	for _, r := range posts {
		if r.IdempotencyKey != posts[0].IdempotencyKey {
			t.Fatalf("refund requests with different keys: %+v", posts)
		}
	}
	if len(posts) != 2 {
		t.Fatalf("%d refund requests, want stripe-go's two attempts and none from the retry", len(posts))
	}
	notices := s.h.Env.Mailpit.WaitFor(t, "to:"+s.email+" subject:refund", 1)
	if len(notices) != 1 || !strings.Contains(notices[0].Subject, "refund of $30.00") {
		t.Fatalf("refund notices %+v, want exactly one", notices)
	}
}

// A reservation whose answer was lost, with no webhook, is resolved by the resolve-refunds job once
// it is older than 15 minutes: booked when Stripe has the refund, released when it has none.
func TestStuckReservationsResolvedByTheJob(t *testing.T) {
	s := startPayStand(t, 5000, true)
	// A: made at Stripe, answer lost. B: never reached Stripe (a 500 before it).
	s.proxy.Inject(stripefault.Fault{Method: http.MethodPost, Path: "/v1/refunds", Kind: stripefault.Drop, Times: 2})
	s.proxy.Inject(stripefault.Fault{Method: http.MethodGet, Path: "/v1/refunds", Kind: stripefault.Status, Status: 500})
	if status, body := s.refund(1000, "k-a"); status != http.StatusServiceUnavailable {
		t.Fatalf("A: %d %s", status, body)
	}
	s.proxy.Inject(stripefault.Fault{Method: http.MethodPost, Path: "/v1/refunds", Kind: stripefault.Status, Status: 500})
	s.proxy.Inject(stripefault.Fault{Method: http.MethodGet, Path: "/v1/refunds", Kind: stripefault.Status, Status: 500})
	if status, body := s.refund(700, "k-b"); status != http.StatusServiceUnavailable {
		t.Fatalf("B: %d %s", status, body)
	}
	if p := s.item(); p.PendingRefundCents != 1700 {
		t.Fatalf("pending %d, want both reservations kept", p.PendingRefundCents)
	}

	type report struct {
		Checked, Payments, Booked, Released, StillPending, Errors int
		Truncated                                                 bool
	}
	if rep := decode[report](t, s.h.RunJob(t, "resolve-refunds").Result); rep != (report{}) {
		t.Fatalf("fresh reservations: %+v, want untouched", rep)
	}
	s.clock.Advance(16 * time.Minute)
	if rep := decode[report](t, s.h.RunJob(t, "resolve-refunds").Result); rep != (report{Checked: 2, Payments: 1, Booked: 1, Released: 1}) {
		t.Fatalf("report %+v", rep)
	}
	p := s.item()
	if p.RefundedCents != 1000 || p.PendingRefundCents != 0 || len(p.PendingRefunds) != 0 {
		t.Fatalf("payment refunded %d pending %d %v", p.RefundedCents, p.PendingRefundCents, p.PendingRefunds)
	}
	if rep := decode[report](t, s.h.RunJob(t, "resolve-refunds").Result); rep != (report{}) {
		t.Fatalf("second run %+v: nothing left to do", rep)
	}
	// B's admin retries: Stripe never made it, so it is made now — once.
	status, body := s.refund(700, "k-b")
	if a := decode[refundAnswer](t, body); status != http.StatusCreated || a.Refund.AmountCents != 700 {
		t.Fatalf("B retried: %d %s", status, body)
	}
	if got := s.payment(); got.RefundedCents != 1700 {
		t.Fatalf("payment %+v", got)
	}
	if n := len(s.proxy.Refunds(s.o.ChargeID)); n != 2 {
		t.Fatalf("Stripe holds %d refunds, want A and B", n)
	}
}

func TestRefundWithoutIdempotencyKeyIs400(t *testing.T) {
	s := startPayStand(t, 999, false)
	for _, key := range []string{"", " "} {
		status, body := s.refund(100, key)
		a := decode[refundAnswer](t, body)
		if status != http.StatusBadRequest || a.Error.Code != "invalid" || !strings.Contains(a.Error.Message, "Idempotency-Key") {
			t.Fatalf("key %q: %d %s, want 400 naming the header", key, status, body)
		}
	}
	if got := s.payment(); got.RefundedCents != 0 {
		t.Fatalf("payment %+v", got)
	}
	if n := len(s.proxy.Requests("", "")); n != 0 {
		t.Fatalf("%d Stripe requests without a key", n)
	}
}

// charge.refunded for a charge we never recorded: 200, counted and audited once, not 500 forever.
func TestRefundOfAnUnknownChargeIsAnsweredAndCounted(t *testing.T) {
	s := startPayStand(t, 999, false)
	o := stripeevents.Options{UserID: "nobody-" + s.user, ChargeID: "ch_unknown_" + s.user, AmountCents: 1500}
	for i := 0; i < 2; i++ {
		o.EventID = fmt.Sprintf("evt_unmatched_%d_%s", i, s.user)
		if status := s.h.PostWebhook(t, stripeevents.MustBuild(stripeevents.ChargeRefunded, o)); status != http.StatusOK {
			t.Fatalf("delivery %d: %d, want 200", i, status)
		}
	}
	if c := counters(t, s.h, time.Now()); c.UnmatchedRefunds != 1 {
		t.Fatalf("unmatchedRefunds %d, want 1", c.UnmatchedRefunds)
	}
	if n := localtest.AuditCount(t, s.h.Env.Store(), time.Now(), "refund.unmatched"); n != 1 {
		t.Fatalf("%d refund.unmatched audit records, want 1", n)
	}
}

// A refund that later fails (charge.refund.updated) is taken back out of the books and counters.
func TestRefundThatFailsLaterIsReversed(t *testing.T) {
	s := startPayStand(t, 999, false)
	status, body := s.refund(400, "k-fails")
	a := decode[refundAnswer](t, body)
	if status != http.StatusCreated {
		t.Fatalf("refund: %d %s", status, body)
	}
	if !s.proxy.SetRefundStatus(a.Refund.ID, "failed") {
		t.Fatalf("Stripe has no refund %s", a.Refund.ID)
	}
	o := s.o
	o.RefundID, o.AmountRefundedCents = a.Refund.ID, 400
	for i := 0; i < 2; i++ {
		o.EventID = ""
		post(t, s.h, stripeevents.MustBuild(stripeevents.ChargeRefundUpdated, o))
	}
	if got := s.payment(); got.RefundedCents != 0 || got.Status != "succeeded" {
		t.Fatalf("payment %+v, want the failed refund reversed", got)
	}
	if c := counters(t, s.h, time.Now()); c.RefundedCents != 0 {
		t.Fatalf("refundedCents counter %d, want +400 −400", c.RefundedCents)
	}
}
