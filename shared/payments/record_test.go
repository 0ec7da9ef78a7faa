package payments

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

func invoiceFixture(id, chargeID string, amount int64, paidAt time.Time) *stripe.Invoice {
	return &stripe.Invoice{ID: id, AmountPaid: amount, AmountDue: amount, Currency: "usd", CustomerEmail: "a@example.com",
		Charge: &stripe.Charge{ID: chargeID}, StatusTransitions: &stripe.InvoiceStatusTransitions{PaidAt: paidAt.Unix()}}
}

func TestRecordPaymentOncePerSource(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	l, q := newFakeLedger(), &fakeQueue{}
	rec := &Recorder{Repo: l, Queue: q, Clock: clk}
	inv := invoiceFixture("in_1", "ch_1", 999, clk.Now().Add(-time.Minute))
	for _, ev := range []string{"evt_1", "evt_2", "evt_1"} {
		if err := rec.InvoicePaid(context.Background(), "u1", inv, Source{EventID: ev}); err != nil {
			t.Fatal(err)
		}
	}
	page, _ := l.ListPayments(context.Background(), "u1", 10, "")
	if len(page.Items) != 1 || !page.Items[0].PaidAt.Equal(clk.Now().Add(-time.Minute).Truncate(time.Second)) {
		t.Fatalf("payments %+v", page.Items)
	}
	if l.counter(clk.Now(), store.CtrRevenueCents) != 999 || l.counter(clk.Now(), store.CtrPaymentsSucceeded) != 1 {
		t.Fatal("counted more than once")
	}
	if ids := q.dedupeIDs(); len(ids) != 1 || len(q.sent) != 3 {
		t.Fatalf("receipts queued %v (%d messages): every delivery queues, one dedupe id", ids, len(q.sent))
	}
}

// paidAt is when the payment succeeded — the event's time — not when the session was created.
func TestCheckoutPaidAtIsWhenThePaymentSucceeded(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	l := newFakeLedger()
	rec := &Recorder{Repo: l, Queue: &fakeQueue{}, Clock: clk}
	created := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)    // session opened
	succeeded := time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC) // async payment succeeded
	s := &stripe.CheckoutSession{ID: "cs_1", Mode: stripe.CheckoutSessionModePayment,
		PaymentStatus: stripe.CheckoutSessionPaymentStatusPaid, AmountTotal: 4900, Currency: "usd",
		Created: created.Unix(), PaymentIntent: &stripe.PaymentIntent{ID: "pi_9"}}
	if err := rec.CheckoutPaid(context.Background(), "u1", s, Source{EventID: "evt_1", Created: succeeded}); err != nil {
		t.Fatal(err)
	}
	page, _ := l.ListPayments(context.Background(), "u1", 10, "")
	if len(page.Items) != 1 || !page.Items[0].PaidAt.Equal(succeeded) {
		t.Fatalf("paidAt %v, want %v", page.Items[0].PaidAt, succeeded)
	}
	if l.counter(succeeded, store.CtrRevenueCents) != 4900 || l.counter(created, store.CtrRevenueCents) != 0 {
		t.Fatal("revenue counted on the session's creation day")
	}
	// The charge's own time wins when the event carries it.
	s2 := *s
	s2.ID = "cs_2"
	charged := succeeded.Add(-time.Minute)
	s2.PaymentIntent = &stripe.PaymentIntent{ID: "pi_10", LatestCharge: &stripe.Charge{ID: "ch_10", Created: charged.Unix()}}
	if err := rec.CheckoutPaid(context.Background(), "u1", &s2, Source{EventID: "evt_2", Created: succeeded}); err != nil {
		t.Fatal(err)
	}
	p, _ := l.PaymentByStripe(context.Background(), "ch_10", "")
	if !p.PaidAt.Equal(charged) {
		t.Fatalf("paidAt %v, want the charge's %v", p.PaidAt, charged)
	}
}

// What a recorded payment says comes from the Stripe object: its description, period, payment
// method and time, each with its fallbacks.
func TestInvoicePaidDetails(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	paid := time.Date(2026, 2, 28, 9, 0, 0, 0, time.UTC)
	created := time.Date(2026, 2, 28, 9, 5, 0, 0, time.UTC)
	long := strings.Repeat("é", 400)
	card := func(brand stripe.PaymentMethodCardBrand, last4 string) *stripe.Charge {
		return &stripe.Charge{ID: "ch_1", PaymentMethodDetails: &stripe.ChargePaymentMethodDetails{
			Card: &stripe.ChargePaymentMethodDetailsCard{Brand: brand, Last4: last4}}}
	}
	lines := func(descs ...string) *stripe.InvoiceLineItemList {
		l := &stripe.InvoiceLineItemList{}
		for _, d := range descs {
			l.Data = append(l.Data, &stripe.InvoiceLineItem{Description: d})
		}
		return l
	}
	tests := []struct {
		name   string
		edit   func(inv *stripe.Invoice)
		src    Source
		check  func(p Payment) bool
		expect string
	}{
		{"LinesJoined", func(inv *stripe.Invoice) { inv.Lines = lines("1 × Pro", "  ", "Tax") },
			Source{}, func(p Payment) bool { return p.Description == "1 × Pro; Tax" }, "line descriptions joined, blanks skipped"},
		{"InvoiceDescription", func(inv *stripe.Invoice) { inv.Lines, inv.Description = lines(" "), "Annual plan" },
			Source{}, func(p Payment) bool { return p.Description == "Annual plan" }, "the invoice's description without line descriptions"},
		{"DefaultDescription", func(inv *stripe.Invoice) {},
			Source{}, func(p Payment) bool { return p.Description == "Subscription" }, `"Subscription" without any`},
		{"LongDescriptionClipped", func(inv *stripe.Invoice) { inv.Description = long },
			Source{}, func(p Payment) bool {
				r := []rune(p.Description)
				return len(r) == 300 && r[299] == '…' && r[0] == 'é'
			}, "300 runes ending in an ellipsis"},
		{"CardSummary", func(inv *stripe.Invoice) { inv.Charge = card("visa", "4242") },
			Source{}, func(p Payment) bool { return p.PaymentMethod == "Visa •••• 4242" }, "Visa •••• 4242"},
		{"UnknownCardBrand", func(inv *stripe.Invoice) { inv.Charge = card("unknown", "0005") },
			Source{}, func(p Payment) bool { return p.PaymentMethod == "Card •••• 0005" }, "Card •••• 0005"},
		{"CardWithoutDigits", func(inv *stripe.Invoice) { inv.Charge = card("visa", "") },
			Source{}, func(p Payment) bool { return p.PaymentMethod == "" && p.ChargeID == "ch_1" }, "no summary"},
		{"LinePeriod", func(inv *stripe.Invoice) {
			inv.Lines = &stripe.InvoiceLineItemList{Data: []*stripe.InvoiceLineItem{nil, {Period: &stripe.Period{}},
				{Period: &stripe.Period{Start: paid.Unix(), End: paid.AddDate(0, 1, 0).Unix()}}}}
		}, Source{}, func(p Payment) bool {
			return p.PeriodStart != nil && p.PeriodStart.Equal(paid) && p.PeriodEnd.Equal(paid.AddDate(0, 1, 0))
		}, "the first line with a whole period"},
		{"InvoicePeriod", func(inv *stripe.Invoice) { inv.PeriodStart, inv.PeriodEnd = paid.Unix(), paid.AddDate(1, 0, 0).Unix() },
			Source{}, func(p Payment) bool {
				return p.PeriodStart != nil && p.PeriodStart.Equal(paid) && p.PeriodEnd.Equal(paid.AddDate(1, 0, 0))
			}, "the invoice's period without lines"},
		{"NoPeriod", func(inv *stripe.Invoice) { inv.PeriodStart, inv.PeriodEnd = paid.Unix(), paid.Unix() },
			Source{}, func(p Payment) bool { return p.PeriodStart == nil && p.PeriodEnd == nil }, "no period from an empty one"},
		{"PaidAtFromTheEvent", func(inv *stripe.Invoice) { inv.StatusTransitions = nil },
			Source{Created: created}, func(p Payment) bool { return p.PaidAt.Equal(created) }, "the event's time"},
		{"PaidAtNow", func(inv *stripe.Invoice) { inv.StatusTransitions = &stripe.InvoiceStatusTransitions{} },
			Source{}, func(p Payment) bool { return p.PaidAt.Equal(clk.Now()) }, "the clock's time"},
		{"CurrencyLowerCase", func(inv *stripe.Invoice) { inv.Currency = "EUR" },
			Source{}, func(p Payment) bool { return p.Currency == "eur" }, "eur"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newFakeLedger()
			rec := &Recorder{Repo: l, Queue: &fakeQueue{}, Clock: clk}
			inv := &stripe.Invoice{ID: "in_1", AmountPaid: 999, Currency: "usd", Charge: &stripe.Charge{ID: "ch_1"},
				StatusTransitions: &stripe.InvoiceStatusTransitions{PaidAt: paid.Unix()}}
			tt.edit(inv)
			if err := rec.InvoicePaid(context.Background(), "u1", inv, tt.src); err != nil {
				t.Fatal(err)
			}
			page, _ := l.ListPayments(context.Background(), "u1", 10, "")
			if len(page.Items) != 1 || !tt.check(page.Items[0]) {
				t.Fatalf("payment %+v, want %s", page.Items, tt.expect)
			}
		})
	}
}

func TestCheckoutPaidDetails(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	tests := []struct {
		name   string
		edit   func(s *stripe.CheckoutSession)
		check  func(p Payment) bool
		expect string
	}{
		{"MetadataDescription", func(s *stripe.CheckoutSession) {
			s.Metadata = map[string]string{"description": " Gift ", "courseTitle": "Go", "productName": "P"}
		}, func(p Payment) bool { return p.Description == "Gift" }, "metadata.description first"},
		{"ProductName", func(s *stripe.CheckoutSession) {
			s.Metadata = map[string]string{"courseTitle": " ", "productName": "Poster"}
		},
			func(p Payment) bool { return p.Description == "Poster" }, "metadata.productName"},
		{"LineItems", func(s *stripe.CheckoutSession) {
			s.LineItems = &stripe.LineItemList{Data: []*stripe.LineItem{{Description: "Book"}, nil, {Description: "Pen"}}}
		}, func(p Payment) bool { return p.Description == "Book; Pen" }, "line items joined"},
		{"DefaultDescription", func(s *stripe.CheckoutSession) { s.LineItems = &stripe.LineItemList{} },
			func(p Payment) bool { return p.Description == "Purchase" }, `"Purchase"`},
		{"SessionEmail", func(s *stripe.CheckoutSession) { s.CustomerEmail = "a@example.com" },
			func(p Payment) bool { return p.CustomerEmail == "a@example.com" }, "the session's e-mail"},
		{"DetailsEmailWins", func(s *stripe.CheckoutSession) {
			s.CustomerEmail, s.CustomerDetails = "a@example.com", &stripe.CheckoutSessionCustomerDetails{Email: "b@example.com"}
		}, func(p Payment) bool { return p.CustomerEmail == "b@example.com" }, "the customer details' e-mail"},
		{"Invoice", func(s *stripe.CheckoutSession) { s.Invoice = &stripe.Invoice{ID: "in_9", Number: "INV-9"} },
			func(p Payment) bool { return p.InvoiceID == "in_9" && p.InvoiceNumber == "INV-9" }, "the session's invoice"},
		{"Charge", func(s *stripe.CheckoutSession) {
			s.PaymentIntent.LatestCharge = &stripe.Charge{ID: "ch_9", PaymentMethodDetails: &stripe.ChargePaymentMethodDetails{
				Card: &stripe.ChargePaymentMethodDetailsCard{Brand: "mastercard", Last4: "4444"}}}
		}, func(p Payment) bool {
			return p.ChargeID == "ch_9" && p.PaymentMethod == "Mastercard •••• 4444" && p.PaidAt.Equal(clk.Now())
		}, "the charge and its card (no charge time: the clock)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newFakeLedger()
			rec := &Recorder{Repo: l, Queue: &fakeQueue{}, Clock: clk}
			s := &stripe.CheckoutSession{ID: "cs_1", Mode: stripe.CheckoutSessionModePayment, Currency: "usd",
				PaymentStatus: stripe.CheckoutSessionPaymentStatusPaid, AmountTotal: 4900, PaymentIntent: &stripe.PaymentIntent{ID: "pi_1"}}
			tt.edit(s)
			if err := rec.CheckoutPaid(context.Background(), "u1", s, Source{EventID: "evt_1"}); err != nil {
				t.Fatal(err)
			}
			page, _ := l.ListPayments(context.Background(), "u1", 10, "")
			if len(page.Items) != 1 || !tt.check(page.Items[0]) {
				t.Fatalf("payment %+v, want %s", page.Items, tt.expect)
			}
		})
	}
}

// Objects that move no money, or name no user, record and send nothing.
func TestRecordRefusesAndSkips(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	l, q := newFakeLedger(), &fakeQueue{}
	rec := &Recorder{Repo: l, Queue: q, Clock: clk}
	ctx := context.Background()
	inv := invoiceFixture("in_1", "ch_1", 999, clk.Now())
	paid := &stripe.CheckoutSession{ID: "cs_1", Mode: stripe.CheckoutSessionModePayment,
		PaymentStatus: stripe.CheckoutSessionPaymentStatusPaid, AmountTotal: 4900, Currency: "usd"}
	for name, err := range map[string]error{
		"invoice without user":         rec.InvoicePaid(ctx, "", inv, Source{}),
		"no invoice":                   rec.InvoicePaid(ctx, "u1", nil, Source{}),
		"invoice without id":           rec.InvoicePaid(ctx, "u1", &stripe.Invoice{AmountPaid: 5}, Source{}),
		"session without user":         rec.CheckoutPaid(ctx, "", paid, Source{}),
		"no session":                   rec.CheckoutPaid(ctx, "u1", nil, Source{}),
		"failed invoice without user":  rec.InvoicePaymentFailed(ctx, "", inv, Source{}),
		"failed invoice without an id": rec.InvoicePaymentFailed(ctx, "u1", &stripe.Invoice{AmountDue: 5}, Source{}),
	} {
		if !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%s: %v, want Invalid", name, err)
		}
	}
	free := *paid
	free.ID, free.AmountTotal = "cs_free", 0
	owed := *inv
	owed.AmountDue = 0
	for name, err := range map[string]error{
		"a $0 checkout":             rec.CheckoutPaid(ctx, "u1", &free, Source{}),
		"a failed invoice of $0":    rec.InvoicePaymentFailed(ctx, "u1", &owed, Source{}),
		"an unpaid checkout":        rec.CheckoutPaid(ctx, "u1", &stripe.CheckoutSession{ID: "cs_2", Mode: stripe.CheckoutSessionModePayment, AmountTotal: 5}, Source{}),
		"a subscription checkout":   rec.CheckoutPaid(ctx, "u1", &stripe.CheckoutSession{ID: "cs_3", Mode: stripe.CheckoutSessionModeSubscription, PaymentStatus: stripe.CheckoutSessionPaymentStatusPaid, AmountTotal: 5}, Source{}),
		"a setup-mode checkout":     rec.CheckoutPaid(ctx, "u1", &stripe.CheckoutSession{ID: "cs_4", Mode: stripe.CheckoutSessionModeSetup, AmountTotal: 5}, Source{}),
		"an invoice paid with $0.0": rec.InvoicePaid(ctx, "u1", invoiceFixture("in_0", "ch_0", 0, clk.Now()), Source{}),
	} {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(l.payments) != 0 || len(q.sent) != 0 || l.total(store.CtrPaymentsFailed) != 0 {
		t.Fatalf("recorded %d payments, queued %d messages", len(l.payments), len(q.sent))
	}
}

// A failed attempt is counted once and queues its dunning notice on every delivery.
func TestInvoicePaymentFailedQueuesDunning(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	l, q := newFakeLedger(), &fakeQueue{}
	rec := &Recorder{Repo: l, Queue: q, Clock: clk, AppURL: "https://app.example/"}
	inv := &stripe.Invoice{ID: "in_1", Number: "INV-1", AmountDue: 999, Currency: "EUR", CustomerEmail: "a@example.com",
		AttemptCount: 2, HostedInvoiceURL: "https://invoice.stripe.com/i/1"}
	for i := 0; i < 2; i++ {
		if err := rec.InvoicePaymentFailed(context.Background(), "u1", inv, Source{EventID: "evt_1"}); err != nil {
			t.Fatal(err)
		}
	}
	if l.counter(clk.Now(), store.CtrPaymentsFailed) != 1 || len(q.sent) != 2 {
		t.Fatalf("counted %d, queued %d", l.counter(clk.Now(), store.CtrPaymentsFailed), len(q.sent))
	}
	want := DunningJob{UserID: "u1", Email: "a@example.com", InvoiceID: "in_1", InvoiceNumber: "INV-1", Attempt: 2,
		AmountCents: 999, Currency: "eur", HostedInvoiceURL: "https://invoice.stripe.com/i/1", UpdatePaymentURL: "https://app.example/account/billing"}
	m := q.sent[1]
	if job, _ := m.Payload.(DunningJob); m.Type != MsgDunning || m.DedupeID != "dunning#in_1#2" || job != want {
		t.Fatalf("message %+v\nwant job %+v", m, want)
	}
	next := clk.Now().Add(72 * time.Hour)
	inv.AttemptCount, inv.NextPaymentAttempt = 3, next.Unix()
	if err := rec.InvoicePaymentFailed(context.Background(), "u1", inv, Source{EventID: "evt_2"}); err != nil {
		t.Fatal(err)
	}
	if job, _ := q.sent[2].Payload.(DunningJob); job.NextAttemptAt == nil || !job.NextAttemptAt.Equal(next) || job.Attempt != 3 {
		t.Fatalf("third attempt's job %+v", job)
	}
}

// recordFault fails CreatePayment with err (a table that is down).
type recordFault struct {
	RecordRepo
	err error
}

func (r recordFault) CreatePayment(context.Context, Payment, string, audit.Entry, []types.TransactWriteItem) (PaymentLookup, bool, error) {
	return PaymentLookup{}, false, r.err
}

// A payment not written, or whose earlier refunds could not be reconciled, is an error for the
// webhook to retry — and its receipt is not queued for a payment that may not exist.
func TestRecordFailuresAreRetried(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	inv := invoiceFixture("in_1", "ch_1", 999, clk.Now())
	q := &fakeQueue{}
	down := apperr.New(apperr.Unavailable, "write failed")
	rec := &Recorder{Repo: recordFault{newFakeLedger(), down}, Queue: q, Clock: clk}
	if err := rec.InvoicePaid(ctx, "u1", inv, Source{}); !errors.Is(err, down) {
		t.Fatalf("table down: %v", err)
	}
	session := &stripe.CheckoutSession{ID: "cs_1", Mode: stripe.CheckoutSessionModePayment,
		PaymentStatus: stripe.CheckoutSessionPaymentStatusPaid, AmountTotal: 4900, Currency: "usd"}
	extraFailed := apperr.New(apperr.Unprocessable, "course not for sale")
	rec.Repo = newFakeLedger()
	if err := rec.CheckoutPaidWith(ctx, "u1", session, Source{}, func(context.Context, Payment) ([]types.TransactWriteItem, error) {
		return nil, extraFailed
	}); !errors.Is(err, extraFailed) {
		t.Fatalf("another area's items failed: %v", err)
	}
	reconcileFailed := apperr.New(apperr.Unavailable, "stripe down")
	var reconciled Payment
	rec.Reconcile = func(_ context.Context, p Payment) error { reconciled = p; return reconcileFailed }
	if err := rec.InvoicePaid(ctx, "u1", inv, Source{}); !errors.Is(err, reconcileFailed) || reconciled.UserID != "u1" || !ValidPaymentID(reconciled.ID) {
		t.Fatalf("reconcile failed: %v (reconciled %+v)", err, reconciled)
	}
	if len(q.sent) != 0 {
		t.Fatalf("%d receipts queued for payments not settled", len(q.sent))
	}
}
