//go:build integration

package marketplace_test

import (
	"context"
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/mail/mailtest"
	"github.com/liberation/monetization/shared/marketplace"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// fakeStripe is the Stripe port with Stripe's state in memory: refunds per charge and transfers.
type fakeStripe struct {
	mu         sync.Mutex
	refunds    map[string][]marketplace.StripeRefund
	transfers  map[string]string // payout id → transfer id
	refuseNext bool
	calls      int
	coupons    map[string]marketplace.Coupon
}

func newFakeStripe() *fakeStripe {
	return &fakeStripe{refunds: map[string][]marketplace.StripeRefund{}, transfers: map[string]string{},
		coupons: map[string]marketplace.Coupon{}}
}

func (f *fakeStripe) CourseCheckout(context.Context, marketplace.CheckoutInput) (marketplace.CheckoutSession, error) {
	return marketplace.CheckoutSession{ID: "cs_fake", URL: "https://checkout.stripe.com/fake"}, nil
}
func (f *fakeStripe) Coupon(_ context.Context, id string) (marketplace.Coupon, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.coupons[id]
	if !ok {
		return c, apperr.New(apperr.NotFound, "no coupon %s", id)
	}
	return c, nil
}
func (f *fakeStripe) ExpressAccount(_ context.Context, id, _ string) (string, error) {
	return "acct_" + id, nil
}
func (f *fakeStripe) OnboardingLink(context.Context, string, string, string, string) (string, time.Time, error) {
	return "https://connect.stripe.com/setup/fake", time.Now().Add(5 * time.Minute), nil
}
func (f *fakeStripe) Transfer(_ context.Context, in marketplace.TransferInput) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.refuseNext {
		f.refuseNext = false
		return "", stripeapi.Error(&stripe.Error{HTTPStatusCode: 400, Type: stripe.ErrorTypeInvalidRequest,
			Code: stripe.ErrorCodeAccountInvalid}, "the payout transfer")
	}
	if id, ok := f.transfers[in.PayoutID]; ok {
		return id, nil // same idempotency key: Stripe's first answer
	}
	id := fmt.Sprintf("tr_%d", len(f.transfers)+1)
	f.transfers[in.PayoutID] = id
	return id, nil
}
func (f *fakeStripe) FindTransfer(_ context.Context, payoutID string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.transfers[payoutID]
	return id, ok, nil
}
func (f *fakeStripe) ChargeRefunds(_ context.Context, chargeID, _ string) ([]marketplace.StripeRefund, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]marketplace.StripeRefund(nil), f.refunds[chargeID]...), nil
}
func (f *fakeStripe) ChargeDisputes(context.Context, string, string) ([]marketplace.StripeDispute, error) {
	return nil, nil // the event's dispute stands in (ApplyDispute)
}
func (f *fakeStripe) ExpireCheckout(context.Context, string) error { return nil }
func (f *fakeStripe) RefundPurchase(context.Context, marketplace.RefundInput) (string, error) {
	return "re_fake", nil
}
func (f *fakeStripe) AccountPayoutsEnabled(context.Context, string) (bool, error) { return true, nil }

// sentFacts records the facts sent (dedupe ids per type).
type sentFacts struct {
	mu  sync.Mutex
	ids map[string][]string
}

func (s *sentFacts) Send(_ context.Context, _, typ, dedupeID string, _ any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids[typ] = append(s.ids[typ], dedupeID)
	return nil
}

type world struct {
	d       *marketplace.Deps
	stripe  *fakeStripe
	mail    *mailtest.Recorder
	facts   *sentFacts
	clk     *clock.Fake
	courses int
}

func newWorld(t *testing.T) *world {
	env := localtest.New(t)
	clk := env.WithFakeClock()
	fs, ms, fa := newFakeStripe(), &mailtest.Recorder{}, &sentFacts{ids: map[string][]string{}}
	d := (&marketplace.Deps{Config: env.Runtime.Config, Clock: clk, Store: env.Store(), Stripe: fs, Mail: ms, Queue: fa,
		PayoutMinimum: 5000}).Wire()
	return &world{d: d, stripe: fs, mail: ms, facts: fa, clk: clk}
}

// course stores a published course of instructor (its item and listing).
func (w *world) course(t *testing.T, instructor string, price int64) marketplace.Course {
	t.Helper()
	now := w.clk.Now()
	w.courses++
	c := marketplace.Course{ID: fmt.Sprintf("crs_01JDZ8K3M4N5P6Q7R8S9T0V%03d", w.courses), InstructorID: instructor,
		InstructorName: "I", Title: "Course of " + instructor, Description: "d", Category: "development", Level: "all",
		Language: "en", PriceCents: price, Currency: "usd", Status: catalog.StatusPublished, CreatedAt: now, UpdatedAt: now,
		PublishedAt: &now, Version: 1, LessonCount: 1}
	c.SetKeys()
	item, err := store.PutNewItem(c)
	if err != nil {
		t.Fatal(err)
	}
	listing, err := catalog.NewListingItem(c.Listing())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.d.Store.Transact(context.Background(), []types.TransactWriteItem{item, listing}); err != nil {
		t.Fatal(err)
	}
	return c
}

func (w *world) ledger(t *testing.T, instructor string) ([]marketplace.LedgerEntry, marketplace.Balance) {
	t.Helper()
	ctx := context.Background()
	entries, err := store.QueryAll[marketplace.LedgerEntry](ctx, w.d.Store, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :pre)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.InstructorBalanceKey(instructor).PK),
			":pre": store.S(store.LedgerPrefix)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	var b marketplace.Balance
	_ = w.d.Store.GetConsistent(ctx, store.InstructorBalanceKey(instructor), &b)
	return entries, b
}

func (w *world) sales(t *testing.T, instructor string) []marketplace.Sale {
	t.Helper()
	out, err := store.QueryAll[marketplace.Sale](context.Background(), w.d.Store, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :pre)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.InstructorBalanceKey(instructor).PK),
			":pre": store.S(store.SalePrefix)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A seeded run of a month and a half of marketplace life — sales, refunds in parts and in full,
// disputes opened, won and lost, releases, payouts, refunds after payouts — delivered with
// duplicates: every instructor's balance equals the sum of their ledger entries, their sales' net
// shares equal what they are owed plus what they were paid, and the marketplace gauges equal the
// sum of the balances.
func TestSeededRunLedgerEqualsBalance(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	rng := rand.New(rand.NewSource(61))
	instructors := []string{"ins-a", "ins-b", "ins-c"}
	var courses []marketplace.Course
	for i, in := range instructors {
		courses = append(courses, w.course(t, in, []int64{999, 2995, 9999}[i]))
		// Connect accounts, payouts enabled.
		if err := w.d.Store.Put(ctx, marketplace.Instructor{PK: store.InstructorKey(in).PK, SK: store.InstructorKey(in).SK,
			Type: "instructor", ID: in, Email: in + "@example.com", ConnectAccountID: "acct_" + in, PayoutsEnabled: true}, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	type bought struct {
		p        marketplace.Purchase
		refunded int64
		refunds  []marketplace.StripeRefund
	}
	var all []*bought
	start := w.clk.Now().Add(-45 * 24 * time.Hour)
	for day := 0; day < 45; day++ {
		w.clk.Set(start.Add(time.Duration(day) * 24 * time.Hour))
		for k := 0; k < 2; k++ {
			c := courses[rng.Intn(len(courses))]
			n := len(all)
			p := marketplace.Purchase{SessionID: fmt.Sprintf("cs_%d", n), PaymentIntentID: fmt.Sprintf("pi_%d", n),
				ChargeID: fmt.Sprintf("ch_%d", n), BuyerID: fmt.Sprintf("learner-%d", n), CourseID: c.ID,
				AmountCents: c.PriceCents, Currency: "usd", PaidAt: w.clk.Now()}
			for rep := 0; rep < 2; rep++ { // duplicated delivery
				if err := marketplace.RecordSale(ctx, w.d, p, fmt.Sprintf("evt_%d", n)); err != nil {
					t.Fatal(err)
				}
			}
			all = append(all, &bought{p: p})
		}
		// Some refunds (in parts), some disputes, on earlier sales.
		if len(all) > 3 && rng.Intn(3) == 0 {
			b := all[rng.Intn(len(all))]
			if left := b.p.AmountCents - b.refunded; left > 0 {
				part := left
				if rng.Intn(2) == 0 {
					part = 1 + rng.Int63n(left)
				}
				b.refunds = append(b.refunds, marketplace.StripeRefund{ID: fmt.Sprintf("re_%s_%d", b.p.ChargeID, len(b.refunds)),
					AmountCents: part, Status: "succeeded"})
				b.refunded += part
				w.stripe.mu.Lock()
				w.stripe.refunds[b.p.ChargeID] = append([]marketplace.StripeRefund(nil), b.refunds...)
				w.stripe.mu.Unlock()
				for rep := 0; rep < 2; rep++ {
					if err := marketplace.ApplyChargeRefunds(ctx, w.d, b.p.ChargeID, b.p.PaymentIntentID, 0, "evt_r"); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		if len(all) > 3 && rng.Intn(4) == 0 {
			b := all[rng.Intn(len(all))]
			dp := marketplace.StripeDispute{ID: "dp_" + b.p.ChargeID, AmountCents: b.p.AmountCents, Status: "needs_response"}
			if err := marketplace.ApplyDispute(ctx, w.d, dp, b.p.ChargeID, b.p.PaymentIntentID, "evt_d1"); err != nil {
				t.Fatal(err)
			}
			dp.Status = []string{"won", "lost", "under_review"}[rng.Intn(3)]
			if err := marketplace.ApplyDispute(ctx, w.d, dp, b.p.ChargeID, b.p.PaymentIntentID, "evt_d2"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := marketplace.RunRelease(ctx, w.d); err != nil {
			t.Fatal(err)
		}
		if day == 35 { // the monthly run, twice
			for run := 0; run < 2; run++ {
				for _, in := range instructors {
					if err := marketplace.ProcessPayout(ctx, w.d, in, marketplace.Period(w.clk.Now())); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	if len(w.stripe.transfers) == 0 {
		t.Fatal("no payout was made: the run proves nothing about payouts")
	}
	var gauges ledger.Buckets
	for _, in := range instructors {
		entries, bal := w.ledger(t, in)
		var sum ledger.Buckets
		for _, e := range entries {
			sum = sum.Plus(e.Buckets)
		}
		if sum != bal.Buckets {
			t.Errorf("%s: balance %+v, ledger (%d entries) sums to %+v", in, bal.Buckets, len(entries), sum)
		}
		var net int64
		for _, s := range w.sales(t, in) {
			net += s.InstructorNet()
			if s.InstructorNet()+s.PlatformNet() != s.Amount-s.Returned() {
				t.Errorf("sale %s: parts %d + %d do not make %d − %d − %d", s.ID, s.InstructorNet(), s.PlatformNet(), s.Amount, s.Refunded, s.DisputeLost)
			}
		}
		if net != bal.Balance()+bal.Paid {
			t.Errorf("%s: sales' net shares %d, balance %d + paid %d", in, net, bal.Balance(), bal.Paid)
		}
		gauges = gauges.Plus(bal.Buckets)
	}
	m, err := mktmetrics.Read(ctx, w.d.Store, marketplace.Period(w.clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if got := (ledger.Buckets{Pending: m.Earnings.PendingCents, Available: m.Earnings.AvailableCents,
		Held: m.Earnings.HeldCents, Paid: m.Earnings.PaidCents}); got != gauges {
		t.Errorf("gauges %+v, balances sum to %+v", got, gauges)
	}
	if len(w.mail.Sent()) != len(w.stripe.transfers) {
		t.Errorf("%d statements for %d transfers", len(w.mail.Sent()), len(w.stripe.transfers))
	}
}

// Concurrent release runs release every due sale exactly once.
func TestReleaseExactlyOnce(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.course(t, "ins-r", 1999)
	sold := w.clk.Now().Add(-31 * 24 * time.Hour)
	for i := 0; i < 12; i++ {
		p := marketplace.Purchase{SessionID: fmt.Sprintf("cs_r%d", i), PaymentIntentID: fmt.Sprintf("pi_r%d", i),
			BuyerID: fmt.Sprintf("l%d", i), CourseID: c.ID, AmountCents: 1999, Currency: "usd", PaidAt: sold}
		if err := marketplace.RecordSale(ctx, w.d, p, "evt"); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	released := 0
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := marketplace.RunRelease(ctx, w.d)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			released += rep.Released
			mu.Unlock()
		}()
	}
	wg.Wait()
	entries, bal := w.ledger(t, "ins-r")
	releases := 0
	for _, e := range entries {
		if e.Kind == ledger.KindRelease {
			releases++
		}
	}
	if released != 12 || releases != 12 || bal.Available != 12*1399 || bal.Pending != 0 {
		t.Fatalf("released %d (entries %d), balance %+v; want 12 releases, available %d", released, releases, bal.Buckets, 12*1399)
	}
	if rep, err := marketplace.RunRelease(ctx, w.d); err != nil || rep.Released != 0 {
		t.Fatalf("a later run: %+v %v", rep, err)
	}
}

// A transfer Stripe definitely refuses fails the payout and restores the balance in one
// transaction; a later period pays it.
func TestRefusedTransferRestoresTheBalance(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.course(t, "ins-f", 9999)
	if err := w.d.Store.Put(ctx, marketplace.Instructor{PK: store.InstructorKey("ins-f").PK, SK: store.InstructorKey("ins-f").SK,
		Type: "instructor", ID: "ins-f", ConnectAccountID: "acct_f", PayoutsEnabled: true}, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	p := marketplace.Purchase{SessionID: "cs_f", PaymentIntentID: "pi_f", BuyerID: "l", CourseID: c.ID, AmountCents: 9999,
		Currency: "usd", PaidAt: w.clk.Now().Add(-31 * 24 * time.Hour)}
	if err := marketplace.RecordSale(ctx, w.d, p, "evt"); err != nil {
		t.Fatal(err)
	}
	if _, err := marketplace.RunRelease(ctx, w.d); err != nil {
		t.Fatal(err)
	}
	w.stripe.refuseNext = true
	period := marketplace.Period(w.clk.Now())
	if err := marketplace.ProcessPayout(ctx, w.d, "ins-f", period); err != nil {
		t.Fatalf("a definite refusal is recorded, not retried: %v", err)
	}
	entries, bal := w.ledger(t, "ins-f")
	kinds := map[string]int{}
	for _, e := range entries {
		kinds[e.Kind]++
	}
	if bal.Available != 6999 || bal.Paid != 0 || kinds[ledger.KindPayout] != 1 || kinds[ledger.KindPayoutReversal] != 1 {
		t.Fatalf("after a refused transfer: %+v, entries by kind %v", bal.Buckets, kinds)
	}
	if err := marketplace.ProcessPayout(ctx, w.d, "ins-f", period); err != nil || w.stripe.calls != 1 {
		t.Fatalf("a failed payout is final for its period: %v, %d calls", err, w.stripe.calls)
	}
	next := marketplace.Period(w.clk.Now().AddDate(0, 1, 0))
	if err := marketplace.ProcessPayout(ctx, w.d, "ins-f", next); err != nil {
		t.Fatal(err)
	}
	if _, bal := w.ledger(t, "ins-f"); bal.Available != 0 || bal.Paid != 6999 || len(w.stripe.transfers) != 1 {
		t.Fatalf("the next period: %+v, transfers %v", bal.Buckets, w.stripe.transfers)
	}
}

// SaleItemsForPayment is the lead's hook for payments' single-transaction API: given payments'
// record of a course Checkout Session, its items book the sale and the enrolment, once.
func TestSaleItemsForPayment(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.course(t, "ins-p", 2995)
	pay := payments.Payment{ID: "pay_01JDZ8K3M4N5P6Q7R8S9T0VWXY", UserID: "buyer", Kind: payments.PaymentKindPurchase,
		AmountCents: 2995, Currency: "usd", CheckoutSessionID: "cs_p", PaymentIntentID: "pi_p", CourseID: c.ID,
		PaidAt: w.clk.Now()}
	items, err := marketplace.SaleItemsForPayment(ctx, w.d, pay, "evt_p")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.d.Store.Transact(ctx, items); err != nil {
		t.Fatal(err)
	}
	items, err = marketplace.SaleItemsForPayment(ctx, w.d, pay, "evt_p")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.d.Store.Transact(ctx, items); !store.IsConditionFailed(err) || store.FailedItems(err)[0] != 0 {
		t.Fatalf("a second booking of the same session: %v (failed items %v), want the guard (item 0) to fail", err, store.FailedItems(err))
	}
	sales := w.sales(t, "ins-p")
	if len(sales) != 1 || sales[0].PaymentID != pay.ID || sales[0].Shares[0].Cents != 2096 || sales[0].Platform != 899 {
		t.Fatalf("sales: %+v", sales)
	}
}
