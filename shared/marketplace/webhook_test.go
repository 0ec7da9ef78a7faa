package marketplace

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/auth"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/facts"
	"github.com/liberation/monetization/shared/idempotency/idemtest"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/webhook"
)

const hookSecret = "whsec_marketplace_unit"

// hookWorld is the marketplace's webhook as production wires it — the real frame (signature,
// dedupe), the DynamoDB books and courses and payments' recorder, on the table newTestStore gives
// (minidyn, or moto with the integration tag) — with Stripe's side in memory (memStripe).
type hookWorld struct {
	s      *store.Store
	d      *Deps
	stripe *memStripe
	sent   *memQueue
	h      webhook.Handler
	clk    *clock.Fake
	course Course
}

func newHookWorld(t *testing.T) *hookWorld {
	t.Helper()
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	s := newTestStore(t, clk)
	run := ids.ULID(clk.Now())
	w := &hookWorld{s: s, stripe: newMemStripe(), sent: &memQueue{}, clk: clk}
	w.d = (&Deps{Clock: clk, Store: s, Stripe: w.stripe, Queue: w.sent, PayoutMinimum: 1000}).Wire()
	var r webhook.Router
	registerHooks(&r, w.d, &payments.Recorder{Repo: payments.Repo{S: s}, Queue: w.sent, Clock: clk})
	w.h = webhook.New(webhook.Config{Dedupe: idemtest.New(clk), InFlight: time.Minute,
		Secret: func(context.Context) (string, error) { return hookSecret, nil },
		Log:    slog.New(slog.NewJSONHandler(io.Discard, nil))}, &r)
	now := clk.Now()
	w.course = Course{ID: newID(prefixCourse, now), InstructorID: "ins-" + run, InstructorName: "Ada", Title: "Hooks",
		Description: "d", Category: "development", Level: "all", Language: "en", PriceCents: 1999, Currency: Currency,
		Status: catalog.StatusPublished, CreatedAt: now, UpdatedAt: now, PublishedAt: &now, Version: 1, Tags: []string{}}
	w.course.SetKeys()
	if err := w.d.Courses.CreateCourse(context.Background(), w.course, auth.Principal{UserID: w.course.InstructorID},
		audit.Entry{Actor: w.course.InstructorID, Action: "course.create", Target: "course:" + w.course.ID}); err != nil {
		t.Fatal(err)
	}
	return w
}

// deliver sends a signed event to the webhook: its status and outcome.
func (w *hookWorld) deliver(t *testing.T, payload []byte) (int, string) {
	t.Helper()
	res, err := w.h(context.Background(), events.LambdaFunctionURLRequest{Body: string(payload),
		Headers: map[string]string{"content-type": "application/json",
			webhook.SignatureHeader: stripeevents.SignatureHeader(payload, hookSecret, time.Now())},
		RequestContext: events.LambdaFunctionURLRequestContext{RequestID: "r1",
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "POST"}}})
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Outcome string `json:"outcome"`
	}
	_ = json.Unmarshal([]byte(res.Body), &out)
	return res.StatusCode, out.Outcome
}

func (w *hookWorld) purchase(buyer, session, pi, eventID string) []byte {
	o := stripeevents.CoursePurchase(buyer, w.course.ID, w.course.PriceCents)
	o.SessionID, o.PaymentIntentID, o.EventID, o.Created = session, pi, eventID, w.clk.Now()
	w.stripe.amounts[pi] = w.course.PriceCents
	return stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, o)
}

func (w *hookWorld) sale(t *testing.T, pi string) Sale {
	t.Helper()
	s, err := w.d.Books.SaleOfCharge(context.Background(), "", pi)
	if err != nil {
		t.Fatalf("the sale of %s: %v", pi, err)
	}
	return s
}

// The marketplace's Stripe events through the webhook frame: a course purchase books the payment,
// the sale, the access and the facts once; refunds and disputes follow Stripe's lists, also when
// they arrive before the sale; Connect accounts and payout transfers are applied to their
// instructor; what is not the marketplace's is left alone.
func TestStripeHooks(t *testing.T) {
	w := newHookWorld(t)
	ctx := context.Background()
	instr := w.course.InstructorID

	t.Run("PurchaseBookedOnce", func(t *testing.T) {
		ev := w.purchase("ana", "cs_hook1", "pi_hook1", "evt_buy1")
		if code, outcome := w.deliver(t, ev); code != 200 || outcome != webhook.OutcomeApplied {
			t.Fatalf("purchase: %d %s", code, outcome)
		}
		if code, outcome := w.deliver(t, ev); code != 200 || outcome != "duplicate" {
			t.Fatalf("redelivery: %d %s", code, outcome)
		}
		s := w.sale(t, "pi_hook1")
		if s.Amount != 1999 || s.InstructorCents() != 1399 || s.Platform != 600 || s.BuyerID != "ana" || s.PaymentID == "" {
			t.Fatalf("sale: %+v", s)
		}
		pay, err := payments.Repo{S: w.s}.PaymentByStripe(ctx, "", "pi_hook1")
		if err != nil || pay.ID != s.PaymentID || pay.CourseID != w.course.ID || pay.AmountCents != 1999 {
			t.Fatalf("payments' record: %+v %v", pay, err)
		}
		if e, _ := w.d.Books.Enrollment(ctx, "ana", w.course.ID); e == nil || !e.Active() {
			t.Fatalf("enrolment: %+v", e)
		}
		if bal, _ := w.d.Books.Balance(ctx, instr); bal.Buckets != (ledger.Buckets{Pending: 1399}) {
			t.Fatalf("balance: %+v", bal)
		}
		if n := w.sent.count(facts.CoursePurchased); n != 1 {
			t.Fatalf("%d course.purchased facts", n)
		}
		if l, _ := w.d.Courses.Listing(ctx, w.course.ID); l.Enrollments != 1 {
			t.Fatalf("listing: %+v", l)
		}
	})

	t.Run("PartialRefundThenItFails", func(t *testing.T) {
		w.stripe.refunds["pi_hook1"] = []StripeRefund{{ID: "re_1", AmountCents: 500, Status: "succeeded"}}
		o := stripeevents.Options{EventID: "evt_ref1", UserID: "ana", PaymentIntentID: "pi_hook1", ChargeID: "ch_hook1",
			AmountCents: 1999, AmountRefundedCents: 500, Created: w.clk.Now()}
		if code, outcome := w.deliver(t, stripeevents.MustBuild(stripeevents.ChargeRefunded, o)); code != 200 || outcome != webhook.OutcomeApplied {
			t.Fatalf("charge.refunded: %d %s", code, outcome)
		}
		s := w.sale(t, "pi_hook1")
		if s.Refunded != 500 || s.Status != SalePartiallyRefunded {
			t.Fatalf("after a partial refund: %+v", s)
		}
		if e, _ := w.d.Books.Enrollment(ctx, "ana", w.course.ID); !e.Active() {
			t.Fatal("a partial refund revoked access")
		}
		w.stripe.refunds["pi_hook1"][0].Status = "failed"
		o.EventID, o.RefundID, o.Status = "evt_ref1f", "re_1", "failed"
		if code, _ := w.deliver(t, stripeevents.MustBuild(stripeevents.ChargeRefundUpdated, o)); code != 200 {
			t.Fatalf("charge.refund.updated: %d", code)
		}
		if s := w.sale(t, "pi_hook1"); s.Refunded != 0 || s.Status != SalePending {
			t.Fatalf("after the refund failed: %+v", s)
		}
		if bal, _ := w.d.Books.Balance(ctx, instr); bal.Buckets != (ledger.Buckets{Pending: 1399}) {
			t.Fatalf("balance after the failed refund: %+v", bal)
		}
	})

	t.Run("DisputeHoldsTheShare", func(t *testing.T) {
		w.stripe.disputes["pi_hook1"] = []StripeDispute{{ID: "dp_1", Status: "needs_response", AmountCents: 1999}}
		o := stripeevents.Options{EventID: "evt_dp1", UserID: "ana", PaymentIntentID: "pi_hook1", ChargeID: "ch_hook1",
			DisputeID: "dp_1", AmountCents: 1999, Created: w.clk.Now()}
		if code, outcome := w.deliver(t, stripeevents.MustBuild(stripeevents.ChargeDisputeCreated, o)); code != 200 || outcome != webhook.OutcomeApplied {
			t.Fatalf("dispute: %d %s", code, outcome)
		}
		if s := w.sale(t, "pi_hook1"); s.Status != SaleDisputed {
			t.Fatalf("after a dispute: %+v", s)
		}
		if bal, _ := w.d.Books.Balance(ctx, instr); bal.Held != 1399 || bal.Pending != 0 {
			t.Fatalf("balance after a dispute: %+v", bal)
		}
	})

	t.Run("RefundBeforeTheSaleIsParked", func(t *testing.T) {
		w.stripe.refunds["pi_hook2"] = []StripeRefund{{ID: "re_2", AmountCents: 1999, Status: "succeeded"}}
		o := stripeevents.Options{EventID: "evt_ref2", UserID: "bob", PaymentIntentID: "pi_hook2", ChargeID: "ch_hook2",
			AmountCents: 1999, AmountRefundedCents: 1999, Created: w.clk.Now()}
		if code, outcome := w.deliver(t, stripeevents.MustBuild(stripeevents.ChargeRefunded, o)); code != 200 || outcome != webhook.OutcomeApplied {
			t.Fatalf("an early refund: %d %s", code, outcome)
		}
		if parked, _ := w.d.Books.ParkedEvents(ctx, "pi_hook2"); len(parked) != 1 || parked[0].EventID != "evt_ref2" {
			t.Fatalf("parked: %+v", parked)
		}
		if code, _ := w.deliver(t, w.purchase("bob", "cs_hook2", "pi_hook2", "evt_buy2")); code != 200 {
			t.Fatalf("the purchase after its refund: %d", code)
		}
		if s := w.sale(t, "pi_hook2"); s.Refunded != 1999 || s.Status != SaleRefunded {
			t.Fatalf("the sale booked after its refund: %+v", s)
		}
		if e, _ := w.d.Books.Enrollment(ctx, "bob", w.course.ID); e == nil || e.Active() {
			t.Fatalf("a refunded buyer's access: %+v", e)
		}
		if parked, _ := w.d.Books.ParkedEvents(ctx, "pi_hook2"); len(parked) != 0 {
			t.Fatalf("still parked: %+v", parked)
		}
	})

	t.Run("ConnectAccount", func(t *testing.T) {
		// The event comes before connect-instructor stored the account: refused with a 403, which
		// Stripe retries; the retry after the account is stored applies it.
		acct := stripeevents.AccountIDFor(instr)
		o := stripeevents.Options{EventID: "evt_acct1", UserID: instr, Created: w.clk.Now()}
		ev := stripeevents.MustBuild(stripeevents.AccountUpdated, o)
		if code, outcome := w.deliver(t, ev); code != 403 || outcome != webhook.OutcomeUnknownAccount {
			t.Fatalf("account.updated before the account is stored: %d %s", code, outcome)
		}
		if _, _, err := w.d.Books.SaveAccount(ctx, instr, acct, "", w.clk.Now()); err != nil {
			t.Fatal(err)
		}
		if code, outcome := w.deliver(t, ev); code != 200 || outcome != webhook.OutcomeApplied {
			t.Fatalf("account.updated: %d %s", code, outcome)
		}
		if in, _ := w.d.Books.Instructor(ctx, instr); !in.PayoutsEnabled || in.AccountEventAt != w.clk.Now().Unix() {
			t.Fatalf("instructor: %+v", in)
		}
		// An account that names no instructor, or names one whose stored account is another.
		for i, obj := range []map[string]any{
			{"id": "acct_nobody", "object": "account", "metadata": map[string]any{}},
			{"id": "acct_other", "object": "account", "metadata": map[string]any{"userId": instr}},
		} {
			o = stripeevents.Options{EventID: fmt.Sprintf("evt_acct_x%d", i), Object: obj}
			if code, outcome := w.deliver(t, stripeevents.MustBuild(stripeevents.AccountUpdated, o)); code != 403 || outcome != webhook.OutcomeUnknownAccount {
				t.Fatalf("someone else's account %v: %d %s", obj["id"], code, outcome)
			}
		}
	})

	t.Run("TransferReversed", func(t *testing.T) {
		period := Period(w.clk.Now())
		po := Payout{ID: PayoutID(instr, period), InstructorID: instr, Period: period, Status: PayoutPaid, AmountCents: 700,
			Currency: Currency, TransferID: "tr_1", CreatedAt: w.clk.Now(), UpdatedAt: w.clk.Now(), Version: 1}
		if err := w.d.Books.Commit(ctx, &Change{Book: booking{At: w.clk.Now()}, Payout: &Versioned[Payout]{Item: po}}); err != nil {
			t.Fatal(err)
		}
		before, _ := w.d.Books.Balance(ctx, instr)
		tr := map[string]any{"id": "tr_1", "object": "transfer", "amount": 700, "amount_reversed": 700, "currency": "usd",
			"reversed": true, "metadata": map[string]any{"userId": instr, "period": period, "payoutId": po.ID}}
		if code, outcome := w.deliver(t, stripeevents.MustBuild("transfer.reversed", stripeevents.Options{EventID: "evt_tr1", Object: tr})); code != 200 || outcome != webhook.OutcomeApplied {
			t.Fatalf("transfer.reversed: %d %s", code, outcome)
		}
		after, _ := w.d.Books.Balance(ctx, instr)
		if after.Available-before.Available != 700 || after.Paid-before.Paid != -700 {
			t.Fatalf("balance %+v → %+v", before.Buckets, after.Buckets)
		}
		tr["metadata"] = map[string]any{"userId": instr}
		if code, outcome := w.deliver(t, stripeevents.MustBuild("transfer.reversed", stripeevents.Options{EventID: "evt_tr2", Object: tr})); code != 200 || outcome != reasonNotOurTransfer {
			t.Fatalf("a transfer that is not a payout: %d %s", code, outcome)
		}
	})

	t.Run("NotOurs", func(t *testing.T) {
		sub := stripeevents.Options{EventID: "evt_sub", UserID: "ana", Mode: "subscription"}
		if code, outcome := w.deliver(t, stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, sub)); code != 200 || outcome != webhook.OutcomeIgnored {
			t.Fatalf("a subscription checkout: %d %s", code, outcome)
		}
		bad := stripeevents.Options{EventID: "evt_bad", Object: map[string]any{"id": 5, "object": "charge"}}
		if code, _ := w.deliver(t, stripeevents.MustBuild(stripeevents.ChargeRefunded, bad)); code != 400 {
			t.Fatalf("an object not understood: %d", code)
		}
	})
}

// A course bought with a rewards coupon, through the webhook as production wires it (payments'
// record and the sale in one transaction): the sale records the discount and its coupon, and the
// sale's journal entry in DynamoDB books it — Dr stripe_in_flight what was paid, Dr
// marketing_token_redemptions the discount (the buyer's), Cr the instructor's share of what was
// paid, Cr commission the platform's share + the discount. A discount the session does not tie to
// its rewards coupon books the plain sale.
func TestCouponPurchaseThroughTheWebhookBooksTheDiscount(t *testing.T) {
	w := newHookWorld(t)
	ctx := context.Background()
	instr := w.course.InstructorID
	const code = "LIB20-7K3M9Q2X4D"
	buy := func(buyer, session, pi, evID, coupon string) []byte {
		o := stripeevents.CoursePurchase(buyer, w.course.ID, 1599) // 1999 at 20 % off
		o.SessionID, o.PaymentIntentID, o.EventID, o.Created = session, pi, evID, w.clk.Now()
		if coupon != "" {
			o.Metadata["couponId"] = coupon
		}
		w.stripe.amounts[pi] = 1599
		o.DiscountCents = 400
		return stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, o)
	}

	if code, outcome := w.deliver(t, buy("ana", "cs_cp1", "pi_cp1", "evt_cp1", code)); code != 200 || outcome != webhook.OutcomeApplied {
		t.Fatalf("purchase: %d %s", code, outcome)
	}
	s := w.sale(t, "pi_cp1")
	if s.Amount != 1599 || s.DiscountCents != 400 || s.CouponID != code || s.InstructorCents() != 1119 || s.Platform != 480 {
		t.Fatalf("sale: %+v", s)
	}
	if pay, err := (payments.Repo{S: w.s}).PaymentByStripe(ctx, "", "pi_cp1"); err != nil || pay.AmountCents != 1599 {
		t.Fatalf("payments' record: %+v %v", pay, err)
	}
	e, err := journal.Repo{S: w.s}.Get(ctx, journal.EntryID(JournalSale, "pi_cp1"))
	if err != nil {
		t.Fatal(err)
	}
	want := []journal.Line{{Account: journal.InstructorPayablePending, Credit: 1119, Party: instr},
		{Account: journal.StripeInFlight, Debit: 1599}, {Account: journal.MarketingTokenRedemptions, Debit: 400, Party: "ana"},
		{Account: journal.RevenueMarketplaceCommission, Credit: 880}}
	if !slices.Equal(e.Lines, want) {
		t.Fatalf("sale entry %+v\nwant %+v", e.Lines, want)
	}

	// The same discount without the checkout's rewards coupon: the sale of what was paid.
	if code, outcome := w.deliver(t, buy("bob", "cs_cp2", "pi_cp2", "evt_cp2", "")); code != 200 || outcome != webhook.OutcomeApplied {
		t.Fatalf("purchase: %d %s", code, outcome)
	}
	if s := w.sale(t, "pi_cp2"); s.Amount != 1599 || s.DiscountCents != 0 || s.CouponID != "" {
		t.Fatalf("sale: %+v", s)
	}
	e, err = journal.Repo{S: w.s}.Get(ctx, journal.EntryID(JournalSale, "pi_cp2"))
	if err != nil {
		t.Fatal(err)
	}
	want = []journal.Line{{Account: journal.InstructorPayablePending, Credit: 1119, Party: instr},
		{Account: journal.StripeInFlight, Debit: 1599}, {Account: journal.RevenueMarketplaceCommission, Credit: 480}}
	if !slices.Equal(e.Lines, want) {
		t.Fatalf("sale entry %+v\nwant %+v", e.Lines, want)
	}
}
