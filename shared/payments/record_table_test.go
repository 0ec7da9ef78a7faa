package payments

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/mail/mailtest"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/receipts/receiptpdf"
	"github.com/liberation/monetization/shared/store"
)

// The webhook's works (Recorder, Refunder, DisputeBook) on Repo over the table — in process without
// the integration tag, on moto with it — with Stripe and the queue faked: what the table must do for
// them (one payment per source, lookups by our and Stripe's ids, counters and audit moving with the
// write, a charge id back-filled into its index). record_integration_test.go keeps what needs
// the other services (the receipts queue, mailpit, stripe-mock).

// tableWorld is payments' parts on one table.
type tableWorld struct {
	s        *store.Store
	repo     Repo
	be       ledgerBackend
	clock    *clock.Fake
	queue    *fakeQueue
	stripe   *fakeStripe
	rec      *Recorder
	refunds  *Refunder
	disputes *DisputeBook
}

func newTableWorld(t *testing.T) *tableWorld {
	t.Helper()
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	s := newTestStore(t, clk)
	w := &tableWorld{s: s, repo: Repo{S: s}, be: repoBackend(t, s), clock: clk, queue: &fakeQueue{}, stripe: newFakeStripe(clk)}
	w.refunds = &Refunder{Ledger: w.repo, Stripe: w.stripe, Queue: w.queue, Clock: clk}
	w.rec = &Recorder{Repo: w.repo, Queue: w.queue, Clock: clk, AppURL: "http://app.liberation.local/",
		Reconcile: w.refunds.ReconcileUnmatched}
	w.disputes = &DisputeBook{Ledger: w.repo, Clock: clk}
	return w
}

func tableInvoice(amount int64, email string, paidAt time.Time) *stripe.Invoice {
	u := ids.ULID(paidAt)
	return &stripe.Invoice{ID: "in_" + u, Number: "INV-" + u[:8], AmountPaid: amount, AmountDue: amount, Currency: "usd",
		CustomerEmail: email, Charge: &stripe.Charge{ID: "ch_" + u}, PaymentIntent: &stripe.PaymentIntent{ID: "pi_" + u},
		Subscription:      &stripe.Subscription{ID: "sub_" + u},
		StatusTransitions: &stripe.InvoiceStatusTransitions{PaidAt: paidAt.Unix()},
		Lines: &stripe.InvoiceLineItemList{Data: []*stripe.InvoiceLineItem{{Description: "1 × Pro (at $9.99 / month)",
			Period: &stripe.Period{Start: paidAt.Unix(), End: paidAt.AddDate(0, 1, 0).Unix()}}}}}
}

// only returns the user's one payment.
func (w *tableWorld) only(t *testing.T, userID string) Payment {
	t.Helper()
	page, err := w.repo.ListPayments(context.Background(), userID, 10, "")
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("%d payments (%v), want 1", len(page.Items), err)
	}
	return page.Items[0]
}

func TestInvoicePaidOnTheTable(t *testing.T) {
	t.Run("OnceForThreeDeliveries", func(t *testing.T) {
		w := newTableWorld(t)
		ctx := context.Background()
		paidAt := w.clock.Now().Add(-time.Minute)
		inv := tableInvoice(999, "ada@example.com", paidAt)
		for i := 0; i < 3; i++ {
			if err := w.rec.InvoicePaid(ctx, "u1", inv, Source{EventID: "evt_" + ids.ULID(paidAt)}); err != nil {
				t.Fatalf("delivery %d: %v", i, err)
			}
		}
		p := w.only(t, "u1")
		if p.AmountCents != 999 || p.Currency != "usd" || p.Kind != PaymentKindSubscription || p.Status != PaymentSucceeded ||
			p.InvoiceID != inv.ID || p.InvoiceNumber != inv.Number || p.ChargeID != inv.Charge.ID || p.PaymentIntentID != inv.PaymentIntent.ID ||
			p.SubscriptionID != inv.Subscription.ID || p.CustomerEmail != "ada@example.com" || p.Description != "1 × Pro (at $9.99 / month)" ||
			!p.PaidAt.Equal(paidAt) || p.PeriodStart == nil || !p.PeriodStart.Equal(paidAt) || p.PeriodEnd == nil || !ValidPaymentID(p.ID) {
			t.Fatalf("payment = %+v", p)
		}
		if w.be.counter(paidAt, store.CtrPaymentsSucceeded) != 1 || w.be.counter(paidAt, store.CtrRevenueCents) != 999 ||
			w.be.audited(paidAt, "payment.record") != 1 {
			t.Fatal("the payment was not counted and audited once")
		}
		// Found by our id (GSI1), by charge id (GSI2) and by PaymentIntent (its pointer).
		if got, err := w.repo.PaymentByID(ctx, p.ID); err != nil || got.ID != p.ID {
			t.Fatalf("PaymentByID: %v %v", got.ID, err)
		}
		for _, find := range [][2]string{{inv.Charge.ID, ""}, {"", inv.PaymentIntent.ID}} {
			if got, err := w.repo.PaymentByStripe(ctx, find[0], find[1]); err != nil || got.ID != p.ID {
				t.Fatalf("PaymentByStripe%v: %v %v", find, got.ID, err)
			}
		}
		// Every delivery queues the receipt, all with the payment's dedupe id.
		if len(w.queue.sent) != 3 {
			t.Fatalf("%d messages, want 3", len(w.queue.sent))
		}
		for _, m := range w.queue.sent {
			job, _ := m.Payload.(ReceiptJob)
			if m.Queue != manifest.ReceiptsQueue || m.Type != MsgReceipt || m.DedupeID != ReceiptDedupeID(p.ID) ||
				job != (ReceiptJob{UserID: "u1", PaymentID: p.ID}) {
				t.Fatalf("message %+v", m)
			}
		}
	})
	t.Run("ZeroAmountRecordsNothing", func(t *testing.T) {
		w := newTableWorld(t)
		if err := w.rec.InvoicePaid(context.Background(), "u1", tableInvoice(0, "ada@example.com", w.clock.Now()), Source{EventID: "evt_zero"}); err != nil {
			t.Fatal(err)
		}
		page, _ := w.repo.ListPayments(context.Background(), "u1", 10, "")
		if len(page.Items) != 0 || len(w.queue.sent) != 0 || w.be.counter(w.clock.Now(), store.CtrPaymentsSucceeded) != 0 {
			t.Fatal("a $0 invoice must record, count and send nothing")
		}
	})
}

func TestCheckoutPurchaseOnTheTable(t *testing.T) {
	w := newTableWorld(t)
	ctx := context.Background()
	s := &stripe.CheckoutSession{
		ID: "cs_" + ids.ULID(w.clock.Now()), Mode: stripe.CheckoutSessionModePayment, PaymentStatus: stripe.CheckoutSessionPaymentStatusPaid,
		AmountTotal: 4900, Currency: "usd", Created: w.clock.Now().Unix(),
		CustomerDetails: &stripe.CheckoutSessionCustomerDetails{Email: "ada@example.com"},
		PaymentIntent:   &stripe.PaymentIntent{ID: "pi_" + ids.ULID(w.clock.Now())},
		Metadata:        map[string]string{"courseId": "course-1", "courseTitle": "Go for <Beginners>"},
	}
	unpaid := *s
	unpaid.ID, unpaid.PaymentStatus = "cs_unpaid", stripe.CheckoutSessionPaymentStatusUnpaid
	sub := *s
	sub.ID, sub.Mode = "cs_sub", stripe.CheckoutSessionModeSubscription
	for _, x := range []*stripe.CheckoutSession{s, &unpaid, &sub, s} {
		if err := w.rec.CheckoutPaid(ctx, "u1", x, Source{EventID: "evt_" + x.ID, Created: w.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	p := w.only(t, "u1") // unpaid and subscription sessions are not purchases
	if p.Kind != PaymentKindPurchase || p.AmountCents != 4900 || p.Description != "Go for <Beginners>" ||
		p.CourseID != "course-1" || p.CustomerEmail != "ada@example.com" || p.ChargeID != "" || p.CheckoutSessionID != s.ID {
		t.Fatalf("payment = %+v", p)
	}
	// A purchase has no charge id yet: charge.refunded finds it through its PaymentIntent, books the
	// refund Stripe lists (a Dashboard refund) under its own id, and back-fills the charge id, so the
	// charge index finds the payment from then on.
	chargeID := "ch_" + ids.ULID(w.clock.Now())
	dash := w.stripe.dashboardRefund(chargeID, 1000)
	if err := w.refunds.ChargeRefunded(ctx, ChargeRef{ChargeID: chargeID, PaymentIntentID: s.PaymentIntent.ID, AmountRefundedCents: 1000},
		Source{EventID: "evt_r1"}); err != nil {
		t.Fatal(err)
	}
	got, err := w.repo.PaymentByStripe(ctx, chargeID, "")
	if err != nil || got.ID != p.ID || got.RefundedCents != 1000 || got.Status != PaymentPartiallyRefunded || got.ChargeID != chargeID {
		t.Fatalf("after the refund: %+v %v", got, err)
	}
	if rs, _ := w.repo.Refunds(ctx, "u1", p.ID); len(rs) != 1 || rs[0].ID != dash.ID || rs[0].Source != RefundSourceStripe {
		t.Fatalf("refunds %+v", rs)
	}
	if w.be.counter(w.clock.Now(), store.CtrRefundedCents) != 1000 {
		t.Fatal("the refund was not counted")
	}
	if last := w.queue.sent[len(w.queue.sent)-1]; last.Type != MsgRefundReceipt || last.DedupeID != RefundDedupeID(dash.ID) {
		t.Fatalf("refund notice %+v", last)
	}
}

// A refunded charge seen before its payment is counted once; recording the payment later books
// Stripe's refunds of it.
func TestRefundBeforeItsPaymentOnTheTable(t *testing.T) {
	w := newTableWorld(t)
	ctx := context.Background()
	inv := tableInvoice(999, "ada@example.com", w.clock.Now())
	dash := w.stripe.dashboardRefund(inv.Charge.ID, 999)
	for _, ev := range []string{"evt_1", "evt_2"} {
		if err := w.refunds.ChargeRefunded(ctx, ChargeRef{ChargeID: inv.Charge.ID, AmountRefundedCents: 999}, Source{EventID: ev}); err != nil {
			t.Fatal(err)
		}
	}
	if w.be.counter(w.clock.Now(), store.CtrUnmatchedRefunds) != 1 {
		t.Fatal("the unmatched charge was not counted once")
	}
	if err := w.rec.InvoicePaid(ctx, "u1", inv, Source{EventID: "evt_paid"}); err != nil {
		t.Fatal(err)
	}
	p := w.only(t, "u1")
	if p.RefundedCents != 999 || p.Status != PaymentRefunded {
		t.Fatalf("payment %+v: the earlier refund is not booked", p)
	}
	if rs, _ := w.repo.Refunds(ctx, "u1", p.ID); len(rs) != 1 || rs[0].ID != dash.ID {
		t.Fatalf("refunds %+v", rs)
	}
}

func TestInvoicePaymentFailedOnTheTable(t *testing.T) {
	w := newTableWorld(t)
	ctx := context.Background()
	inv := tableInvoice(999, "ada@example.com", w.clock.Now())
	inv.AttemptCount = 1
	inv.NextPaymentAttempt = w.clock.Now().Add(72 * time.Hour).Unix()
	inv.HostedInvoiceURL = "https://invoice.stripe.com/i/acct_test/" + inv.ID
	for i := 0; i < 2; i++ {
		if err := w.rec.InvoicePaymentFailed(ctx, "u1", inv, Source{EventID: "evt_f1"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.be.counter(w.clock.Now(), store.CtrPaymentsFailed); n != 1 {
		t.Fatalf("paymentsFailed = %d, want 1 for one attempt", n)
	}
	inv.AttemptCount = 2
	if err := w.rec.InvoicePaymentFailed(ctx, "u1", inv, Source{EventID: "evt_f2"}); err != nil {
		t.Fatal(err)
	}
	if n := w.be.counter(w.clock.Now(), store.CtrPaymentsFailed); n != 2 || w.be.audited(w.clock.Now(), "payment.failed") != 2 {
		t.Fatalf("paymentsFailed = %d, want 2 after a second attempt", n)
	}
	if ids := w.queue.dedupeIDs(); len(w.queue.sent) != 3 || len(ids) != 2 ||
		ids[0] != DunningDedupeID(inv.ID, 1) || ids[1] != DunningDedupeID(inv.ID, 2) {
		t.Fatalf("dunning messages %v (%d)", ids, len(w.queue.sent))
	}
	// The consumer, its e-mail claims on the table, sends one e-mail per attempt.
	sent := &mailtest.Recorder{}
	m := &Mailer{Source: w.repo, Claims: w.s, Docs: newFakeDocs(), Mail: sent, From: "billing@liberation.local", Render: receiptpdf.Render}
	for _, qm := range w.queue.sent {
		if err := m.Handle(ctx, msg(t, qm.Type, qm.DedupeID, qm.Payload)); err != nil {
			t.Fatal(err)
		}
	}
	if len(sent.Sent()) != 2 {
		t.Fatalf("%d dunning e-mails sent, want one per attempt (2)", len(sent.Sent()))
	}
	e := sent.Sent()[0]
	if e.To != "ada@example.com" || len(e.Attachments) != 0 || e.Headers[DedupeHeader] != DunningDedupeID(inv.ID, 1) {
		t.Fatalf("dunning e-mail to %q, %d attachments, headers %v", e.To, len(e.Attachments), e.Headers)
	}
	for _, want := range []string{"$9.99", inv.HostedInvoiceURL, "http://app.liberation.local" + BillingPath} {
		if !strings.Contains(e.Text, want) || !strings.Contains(e.HTML, want) {
			t.Errorf("dunning e-mail lacks %q", want)
		}
	}
}

func TestDisputeOnTheTable(t *testing.T) {
	w := newTableWorld(t)
	ctx := context.Background()
	inv := tableInvoice(999, "ada@example.com", w.clock.Now())
	if err := w.rec.InvoicePaid(ctx, "u1", inv, Source{EventID: "evt_paid"}); err != nil {
		t.Fatal(err)
	}
	p := w.only(t, "u1")
	apply := func(dp *stripe.Dispute, typ stripe.EventType) {
		t.Helper()
		if err := w.disputes.Apply(ctx, dp, typ, Source{EventID: "evt_" + string(typ)}); err != nil {
			t.Fatal(err)
		}
	}
	dp := &stripe.Dispute{ID: "dp_" + ids.ULID(w.clock.Now()), Amount: 999, Currency: "usd", Charge: &stripe.Charge{ID: inv.Charge.ID},
		Reason: stripe.DisputeReasonFraudulent, Status: stripe.DisputeStatusNeedsResponse, Created: w.clock.Now().Unix()}
	apply(dp, stripe.EventTypeChargeDisputeCreated)
	apply(dp, stripe.EventTypeChargeDisputeCreated)
	apply(dp, stripe.EventTypeChargeDisputeFundsWithdrawn)
	now := w.clock.Now()
	if w.be.counter(now, store.CtrDisputedCents) != 999 || w.be.counter(now, store.CtrDisputeLostCents) != 0 {
		t.Fatal("the dispute was not counted once")
	}
	got, _ := w.repo.GetPayment(ctx, "u1", p.ID)
	if !got.Disputed || got.DisputeStatus != "needs_response" || got.DisputedCents != 999 {
		t.Fatalf("payment not flagged: %+v", got)
	}
	lost := *dp
	lost.Status = stripe.DisputeStatusLost
	apply(&lost, stripe.EventTypeChargeDisputeClosed)
	apply(&lost, stripe.EventTypeChargeDisputeClosed)
	apply(dp, stripe.EventTypeChargeDisputeUpdated) // stale: a closed dispute never reopens
	rec, err := w.repo.Dispute(ctx, "u1", dp.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = w.repo.GetPayment(ctx, "u1", p.ID)
	if rec.Status != "lost" || !rec.FundsWithdrawn || got.DisputeStatus != "lost" || got.DisputeLostCents != 999 || got.RefundableCents() != 0 {
		t.Fatalf("dispute %+v, payment %+v", rec, got)
	}
	if w.be.counter(now, store.CtrDisputedCents) != 999 || w.be.counter(now, store.CtrDisputeLostCents) != 999 ||
		w.be.counter(now, store.CtrDisputeWonCents) != 0 {
		t.Fatal("the loss was not counted once")
	}
	if n := w.be.audited(now, "dispute.lost"); n != 1 {
		t.Fatalf("%d dispute.lost audit records", n)
	}
	// A dispute on an unknown charge is retried later, not dropped.
	unknown := *dp
	unknown.ID, unknown.Charge = "dp_unknown", &stripe.Charge{ID: "ch_unknown"}
	if err := w.disputes.Apply(ctx, &unknown, stripe.EventTypeChargeDisputeCreated, Source{EventID: "evt_x"}); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("unknown charge: %v", err)
	}
}

// A receipt to a seat holder of a license with branding goes out in the organisation's brand
// (licensing's records, read from the table); everyone else's in the platform's.
func TestReceiptInTheOrganisationsBrand(t *testing.T) {
	w := newTableWorld(t)
	ctx := context.Background()
	seat := store.SeatHolderKey("u-org")
	if err := w.s.Put(ctx, licensing.Membership{PK: seat.PK, SK: seat.SK, Type: "license-membership", UserID: "u-org",
		LicenseID: "lic_1", SeatID: "seat_1", JoinedAt: w.clock.Now()}, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	bk := store.LicenseBrandingKey("lic_1")
	if err := w.s.Put(ctx, licensing.BrandingRecord{PK: bk.PK, SK: bk.SK, Type: "license-branding", LicenseID: "lic_1",
		Branding: licensing.Branding{DisplayName: "Acme Academy", PrimaryColor: "#112233", AccentColor: "#445566",
			EmailFromName: "Acme Learning", SupportEmail: "help@acme.example"}, UpdatedAt: w.clock.Now()}, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	sent := &mailtest.Recorder{}
	m := &Mailer{Source: w.repo, Claims: w.s, Docs: newFakeDocs(), Mail: sent, From: "Liberation <receipts@liberation.local>",
		Brands: licenseBrands{w.s}, Render: receiptpdf.Render}
	for _, user := range []string{"u-org", "u-solo"} {
		inv := tableInvoice(999, user+"@example.com", w.clock.Now())
		if err := w.rec.InvoicePaid(ctx, user, inv, Source{EventID: "evt_" + user}); err != nil {
			t.Fatal(err)
		}
		p := w.only(t, user)
		if err := m.Handle(ctx, msg(t, MsgReceipt, ReceiptDedupeID(p.ID), ReceiptJob{UserID: user, PaymentID: p.ID})); err != nil {
			t.Fatal(err)
		}
	}
	org, solo := sent.To("u-org@example.com"), sent.To("u-solo@example.com")
	if len(org) != 1 || len(solo) != 1 {
		t.Fatalf("sent %d and %d receipts", len(org), len(solo))
	}
	if org[0].From != `"Acme Learning" <receipts@liberation.local>` || !strings.Contains(org[0].HTML, "Acme Academy") ||
		!strings.Contains(org[0].Text, "help@acme.example") {
		t.Fatalf("the organisation's receipt: from %q\n%s", org[0].From, org[0].Text)
	}
	if solo[0].From != m.From || strings.Contains(solo[0].HTML, "Acme") {
		t.Fatalf("the platform's receipt: from %q", solo[0].From)
	}
}

// unreadable fails every read, as an unreachable table does.
type unreadable struct{}

func (unreadable) GetConsistent(context.Context, store.Key, any) error {
	return apperr.New(apperr.Unavailable, "read failed")
}

// When the branding cannot be read the receipt is retried, not sent in the wrong brand.
func TestBrandUnreadable(t *testing.T) {
	if _, _, err := (licenseBrands{unreadable{}}).BrandFor(context.Background(), "u1", "r@liberation.local"); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("err %v, want Unavailable", err)
	}
}
