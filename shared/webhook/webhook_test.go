package webhook

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// fakePayments records the payments calls (the real ones are the payments engineer's).
type fakePayments struct {
	mu    sync.Mutex
	calls []string
	fail  error
}

func (f *fakePayments) record(name, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name+":"+id)
	return f.fail
}

func (f *fakePayments) payments() Payments {
	return Payments{
		InvoicePaid: func(_ context.Context, _ *platform.Deps, u string, inv *stripe.Invoice, _ string) error {
			return f.record("invoicePaid", u+"/"+inv.ID)
		},
		InvoicePaymentFailed: func(_ context.Context, _ *platform.Deps, u string, inv *stripe.Invoice, _ string) error {
			return f.record("invoiceFailed", u+"/"+inv.ID)
		},
		CheckoutPayment: func(_ context.Context, _ *platform.Deps, u string, s *stripe.CheckoutSession, _ string) error {
			return f.record("checkoutPayment", u+"/"+s.ID)
		},
		ChargeRefunded: func(_ context.Context, _ *platform.Deps, ch *stripe.Charge, _ string) error {
			return f.record("chargeRefunded", ch.ID)
		},
		Dispute: func(_ context.Context, _ *platform.Deps, dp *stripe.Dispute, _ string) error {
			return f.record("dispute", dp.ID+"/"+string(dp.Status))
		},
	}
}

func (f *fakePayments) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

type wenv struct {
	d   *platform.Deps
	h   Handler
	pay *fakePayments
	env *localtest.Env
}

func newWenv(t *testing.T) *wenv {
	env := localtest.New(t)
	pay := &fakePayments{}
	log := slog.New(slog.NewJSONHandler(testLogOut, nil))
	return &wenv{d: env.Deps, h: New(manifest.MustByName("stripe-webhook"), env.Deps, pay.payments(), log), pay: pay, env: env}
}

// deliver signs payload like Stripe and posts it to the function URL handler.
func (w *wenv) deliver(t *testing.T, payload []byte) (int, string) {
	t.Helper()
	return w.deliverWith(t, payload, stripeevents.SignatureHeader(payload, localtest.WebhookSecret, time.Now()), false)
}

// deliverE is deliver for goroutines (no *testing.T).
func (w *wenv) deliverE(payload []byte) (int, string) {
	return w.send(payload, stripeevents.SignatureHeader(payload, localtest.WebhookSecret, time.Now()), false)
}

func (w *wenv) deliverWith(t *testing.T, payload []byte, sig string, b64 bool) (int, string) {
	t.Helper()
	return w.send(payload, sig, b64)
}

func (w *wenv) send(payload []byte, sig string, b64 bool) (int, string) {
	body := string(payload)
	if b64 {
		body = base64.StdEncoding.EncodeToString(payload)
	}
	req := events.LambdaFunctionURLRequest{Body: body, IsBase64Encoded: b64,
		Headers: map[string]string{"stripe-signature": sig, "content-type": "application/json"},
		RequestContext: events.LambdaFunctionURLRequestContext{RequestID: "req-1",
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "POST"}}}
	resp, err := w.h(context.Background(), req)
	if err != nil {
		return 0, err.Error()
	}
	var out struct {
		Outcome string `json:"outcome"`
	}
	_ = json.Unmarshal([]byte(resp.Body), &out)
	return resp.StatusCode, out.Outcome
}

func (w *wenv) dedupeRecord(t *testing.T, eventID string) (store.IdemRecord, bool) {
	t.Helper()
	var rec store.IdemRecord
	err := w.d.Store.Get(context.Background(), store.IdempotencyKey(DedupeScope, eventID), &rec)
	if apperr.Is(err, apperr.NotFound) {
		return rec, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return rec, true
}

func (w *wenv) sub(t *testing.T, userID string) (store.Subscription, bool) {
	t.Helper()
	s, err := w.d.Store.GetSubscription(context.Background(), userID)
	if apperr.Is(err, apperr.NotFound) {
		return s, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return s, true
}

func (w *wenv) gauges(t *testing.T) map[string]int64 { return w.counters(t, store.MetricsCurrentKey()) }

func (w *wenv) counters(t *testing.T, k store.Key) map[string]int64 {
	t.Helper()
	res, err := w.d.Store.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &w.d.Store.Table, Key: k.Item(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for name, v := range res.Item {
		if n, ok := v.(*types.AttributeValueMemberN); ok {
			var x int64
			_ = json.Unmarshal([]byte(n.Value), &x)
			out[name] = x
		}
	}
	return out
}

func (w *wenv) audits(t *testing.T, day time.Time, action string) int {
	t.Helper()
	return localtest.AuditCount(t, w.d.Store, day, action)
}

func TestSignatureVerification(t *testing.T) {
	w := newWenv(t)
	o := stripeevents.Options{EventID: "evt_sig_1", UserID: "u-sig"}
	payload := stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, o)
	nothingStored := func(t *testing.T) {
		t.Helper()
		if _, ok := w.dedupeRecord(t, "evt_sig_1"); ok {
			t.Fatal("dedupe record stored for a refused event")
		}
		if _, ok := w.sub(t, "u-sig"); ok {
			t.Fatal("subscription stored for a refused event")
		}
	}
	tests := []struct {
		name    string
		payload []byte
		sig     string
		b64     bool
	}{
		{"ErrWrongSecret", payload, stripeevents.SignatureHeader(payload, "whsec_attacker", time.Now()), false},
		{"ErrTamperedBody", []byte(strings.Replace(string(payload), "u-sig", "u-evil", 1)), stripeevents.SignatureHeader(payload, localtest.WebhookSecret, time.Now()), false},
		{"ErrStale", payload, stripeevents.SignatureHeader(payload, localtest.WebhookSecret, time.Now().Add(-301*time.Second)), false},
		{"ErrMissingHeader", payload, "", false},
		{"ErrGarbageHeader", payload, "t=abc,v1=zz", false},
		{"ErrTooLarge", append(payload, make([]byte, MaxBodyBytes)...), "t=1,v1=00", false},
		{"ErrAPIVersion", []byte(strings.Replace(string(payload), stripe.APIVersion, "2020-08-27", 1)), "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig := tc.sig
			if tc.name == "ErrAPIVersion" {
				sig = stripeevents.SignatureHeader(tc.payload, localtest.WebhookSecret, time.Now())
			}
			if status, _ := w.deliverWith(t, tc.payload, sig, tc.b64); status != 400 {
				t.Fatalf("status %d, want 400", status)
			}
			nothingStored(t)
		})
	}
	t.Run("ValidBase64", func(t *testing.T) {
		status, outcome := w.deliverWith(t, payload, stripeevents.SignatureHeader(payload, localtest.WebhookSecret, time.Now()), true)
		if status != 200 || outcome != outcomeApplied {
			t.Fatalf("%d %s", status, outcome)
		}
		rec, ok := w.dedupeRecord(t, "evt_sig_1")
		if !ok || rec.Status != store.IdemCompleted {
			t.Fatalf("dedupe record %+v %v", rec, ok)
		}
		if s, ok := w.sub(t, "u-sig"); !ok || s.Tier != billing.TierPro || s.Status != billing.StatusActive {
			t.Fatalf("subscription %+v", s)
		}
	})
}

func TestSameEventThreeTimesAppliesOnce(t *testing.T) {
	w := newWenv(t)
	payload := stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, stripeevents.Options{EventID: "evt_dup", UserID: "u-dup"})
	outcomes := []string{}
	for i := 0; i < 3; i++ {
		status, outcome := w.deliver(t, payload)
		if status != 200 {
			t.Fatalf("delivery %d: %d", i, status)
		}
		outcomes = append(outcomes, outcome)
	}
	if outcomes[0] != outcomeApplied || outcomes[1] != "duplicate" || outcomes[2] != "duplicate" {
		t.Fatalf("outcomes %v", outcomes)
	}
	s, _ := w.sub(t, "u-dup")
	if s.Version != 1 || s.Tier != billing.TierPro {
		t.Fatalf("subscription %+v", s)
	}
	if n := w.audits(t, time.Now(), "subscription.sync"); n != 1 {
		t.Fatalf("audit records = %d", n)
	}
	if g := w.gauges(t); g[store.GaugePayingCustomers] != 1 || g[store.GaugeMRRCents] != 999 || g["subs_pro"] != 1 {
		t.Fatalf("gauges %v", g)
	}
	if c := w.counters(t, store.MetricsDayKey(time.Now())); c[store.CtrNewPaying] != 1 {
		t.Fatalf("day counters %v", c)
	}
}

// permutations returns every ordering of n indexes.
func permutations(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

func TestAnyArrivalOrderGivesTheSameState(t *testing.T) {
	w := newWenv(t)
	base := time.Now().Add(-4 * time.Minute).Truncate(time.Second)
	periodEnd := base.AddDate(0, 1, 0)
	build := func(user string) [][]byte {
		o := func(typ string, off time.Duration, mod func(*stripeevents.Options)) []byte {
			opts := stripeevents.Options{UserID: user, Created: base.Add(off), PeriodStart: base, PeriodEnd: periodEnd}
			if mod != nil {
				mod(&opts)
			}
			return stripeevents.MustBuild(typ, opts)
		}
		return [][]byte{
			o(stripeevents.CustomerSubscriptionCreated, 0, func(o *stripeevents.Options) { o.Status = "incomplete" }),
			o(stripeevents.CustomerSubscriptionUpdated, 0, nil), // same second as created: rank orders them
			o(stripeevents.InvoicePaid, 10*time.Second, nil),
			o(stripeevents.CustomerSubscriptionUpdated, 20*time.Second, func(o *stripeevents.Options) { o.CancelAtPeriodEnd = true }),
			o(stripeevents.CustomerSubscriptionDeleted, 30*time.Second, func(o *stripeevents.Options) { o.CancelAtPeriodEnd = true }),
		}
	}
	type final struct {
		tier, status, price string
		cancel              bool
		end, paid           time.Time
	}
	// 24 of the 120 orders, chosen so that each event reaches every position, one at a time: moto
	// answers concurrent TransactWriteItems with HTTP 500 (real DynamoDB conflicts are retried).
	var perms [][]int
	for i, p := range permutations(5) {
		if i%5 == (i/5)%5 {
			perms = append(perms, p)
		}
	}
	results := make([]final, len(perms))
	errs := make(chan string, len(perms))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 1)
	for i, perm := range perms {
		wg.Add(1)
		go func(i int, perm []int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			user := fmt.Sprintf("u-perm-%03d", i)
			evs := build(user)
			for _, j := range perm {
				if status, _ := w.deliverE(evs[j]); status != 200 {
					errs <- fmt.Sprintf("perm %v event %d: %d", perm, j, status)
					return
				}
			}
			if i%4 == 0 { // and again, as Stripe may redeliver
				for _, j := range perm {
					w.deliverE(evs[j])
				}
			}
			s, err := w.d.Store.GetSubscription(context.Background(), user)
			if err != nil {
				errs <- err.Error()
				return
			}
			results[i] = final{s.Tier, s.Status, s.PriceID, s.CancelAtPeriodEnd, s.CurrentPeriodEnd, s.PaidThrough}
		}(i, perm)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	want := results[0]
	if want.status != billing.StatusCanceled || want.tier != billing.TierFree || !want.paid.Equal(periodEnd) || !want.cancel {
		t.Fatalf("final state %+v", want)
	}
	for i, got := range results {
		if got != want {
			t.Fatalf("perm %v: %+v, want %+v", perms[i], got, want)
		}
	}
	if g := w.gauges(t); g[store.GaugePayingCustomers] != 0 || g[store.GaugeMRRCents] != 0 || g["subs_pro"] != 0 {
		t.Fatalf("gauges must net to zero: %v", g)
	}
	if c := w.counters(t, store.MetricsDayKey(base)); c[store.CtrNewPaying] != c[store.CtrChurnedPaying] {
		t.Fatalf("every new paying subscription churned: %v", c)
	}
	if n := len(w.pay.got()); n != len(perms) { // redeliveries were deduped
		t.Fatalf("invoice.paid reached payments %d times, want %d", n, len(perms))
	}
}

func TestIncompleteAfterActiveInTheSameSecond(t *testing.T) {
	w := newWenv(t)
	at := time.Now().Truncate(time.Second)
	active := stripeevents.MustBuild(stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-inc", Created: at})
	incomplete := stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-inc", Created: at, Status: "incomplete"})
	w.deliver(t, active)
	w.deliver(t, incomplete)
	if s, _ := w.sub(t, "u-inc"); s.Status != billing.StatusActive || s.Tier != billing.TierPro {
		t.Fatalf("late created(incomplete) overwrote active: %+v", s)
	}
}

func TestPastDueKeepsAccessUntilPeriodEnd(t *testing.T) {
	w := newWenv(t)
	clk := w.env.WithFakeClock()
	now := time.Now().Truncate(time.Second)
	end := now.Add(3 * 24 * time.Hour)
	w.deliver(t, stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-pd", Created: now.Add(-time.Minute), PeriodEnd: end}))
	w.deliver(t, stripeevents.MustBuild(stripeevents.InvoicePaymentFailed, stripeevents.Options{UserID: "u-pd", Created: now}))
	w.deliver(t, stripeevents.MustBuild(stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-pd", Created: now, Status: "past_due", PeriodEnd: end}))

	s, _ := w.sub(t, "u-pd")
	if a := billing.AccessAt(s, clk.Now()); a.Tier != billing.TierPro || !a.AccessUntil.Equal(end) {
		t.Fatalf("past_due before the end: %+v", a)
	}
	if g := w.gauges(t); g[store.GaugePayingCustomers] != 1 {
		t.Fatalf("past_due still counts as paying: %v", g)
	}
	if got := w.pay.got(); len(got) != 1 || got[0] != "invoiceFailed:u-pd/"+strings.Split(got[0], "/")[1] {
		t.Fatalf("payments calls %v", got)
	}
	clk.Set(end.Add(time.Second))
	if a := billing.AccessAt(s, clk.Now()); a.Tier != billing.TierFree {
		t.Fatalf("past_due after the end: %+v", a)
	}
	w.deliver(t, stripeevents.MustBuild(stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-pd", Created: now.Add(time.Minute), Status: "unpaid", PeriodEnd: end}))
	s, _ = w.sub(t, "u-pd")
	if s.Tier != billing.TierFree || s.Status != billing.StatusUnpaid {
		t.Fatalf("unpaid: %+v", s)
	}
	if g := w.gauges(t); g[store.GaugePayingCustomers] != 0 || g[store.GaugeMRRCents] != 0 {
		t.Fatalf("unpaid is not paying: %v", g)
	}
}

func TestUnknownTypeAndUnknownUserStoreNothing(t *testing.T) {
	w := newWenv(t)
	unknown := stripeevents.MustBuild("customer.created", stripeevents.Options{EventID: "evt_unknown",
		Object: map[string]any{"id": "cus_x", "object": "customer"}})
	if status, outcome := w.deliver(t, unknown); status != 200 || outcome != outcomeIgnored {
		t.Fatalf("%d %s", status, outcome)
	}
	if _, ok := w.dedupeRecord(t, "evt_unknown"); ok {
		t.Fatal("unknown type stored a dedupe record")
	}

	// A subscription event without metadata.userId for a customer we do not know.
	var ev map[string]any
	_ = json.Unmarshal(stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, stripeevents.Options{EventID: "evt_nouser", UserID: "u-ghost"}), &ev)
	delete(ev["data"].(map[string]any)["object"].(map[string]any)["metadata"].(map[string]any), "userId")
	payload, _ := json.Marshal(ev)
	if status, outcome := w.deliver(t, payload); status != 200 || outcome != outcomeUnknownUser {
		t.Fatalf("%d %s", status, outcome)
	}
	if _, ok := w.dedupeRecord(t, "evt_nouser"); ok {
		t.Fatal("unknown user stored a dedupe record")
	}
	if _, ok := w.sub(t, "u-ghost"); ok {
		t.Fatal("unknown user got a subscription")
	}
	if g := w.gauges(t); len(g) != 0 {
		t.Fatalf("gauges changed: %v", g)
	}

	// Once the customer is linked (checkout.session.completed), the same kind of event resolves.
	if status, _ := w.deliver(t, stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, stripeevents.Options{UserID: "u-ghost"})); status != 200 {
		t.Fatalf("checkout: %d", status)
	}
	ev["id"] = "evt_nouser_2"
	payload, _ = json.Marshal(ev)
	if status, outcome := w.deliver(t, payload); status != 200 || outcome != outcomeApplied {
		t.Fatalf("%d %s", status, outcome)
	}
	if s, ok := w.sub(t, "u-ghost"); !ok || s.Tier != billing.TierPro {
		t.Fatalf("resolved by customer: %+v", s)
	}
}

func TestPaymentEventsReachPayments(t *testing.T) {
	w := newWenv(t)
	end := time.Now().AddDate(0, 1, 0).Truncate(time.Second)
	paid := stripeevents.MustBuild(stripeevents.InvoicePaid, stripeevents.Options{EventID: "evt_paid", UserID: "u-pay", InvoiceID: "in_1", PeriodEnd: end})

	// A failing payments step makes Stripe retry: 500 and the dedupe record released.
	w.pay.fail = errors.New("boom")
	if status, _ := w.deliver(t, paid); status != 500 {
		t.Fatalf("failure: %d", status)
	}
	if rec, ok := w.dedupeRecord(t, "evt_paid"); ok && (rec.Status == store.IdemCompleted || rec.ExpiresAt > time.Now().Unix()) {
		t.Fatalf("dedupe record still claims the event after a failure: %+v", rec)
	}
	w.pay.fail = nil
	if status, _ := w.deliver(t, paid); status != 200 {
		t.Fatalf("retry: %d", status)
	}
	if s, _ := w.sub(t, "u-pay"); !s.PaidThrough.Equal(end) {
		t.Fatalf("paidThrough %v, want %v", s.PaidThrough, end)
	}

	w.deliver(t, stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, stripeevents.Options{UserID: "u-pay", Mode: "payment", SessionID: "cs_1"}))
	w.deliver(t, stripeevents.MustBuild(stripeevents.CheckoutAsyncPaymentPaid, stripeevents.Options{UserID: "u-pay", SessionID: "cs_2"}))
	w.deliver(t, stripeevents.MustBuild(stripeevents.ChargeRefunded, stripeevents.Options{UserID: "u-pay", ChargeID: "ch_1"}))
	w.deliver(t, stripeevents.MustBuild(stripeevents.ChargeDisputeCreated, stripeevents.Options{DisputeID: "dp_1"}))
	w.deliver(t, stripeevents.MustBuild(stripeevents.ChargeDisputeClosed, stripeevents.Options{DisputeID: "dp_1", Status: "won"}))
	want := []string{"invoicePaid:u-pay/in_1", "invoicePaid:u-pay/in_1", "checkoutPayment:u-pay/cs_1", "checkoutPayment:u-pay/cs_2", "chargeRefunded:ch_1",
		"dispute:dp_1/needs_response", "dispute:dp_1/won"}
	if got := w.pay.got(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("calls %v\nwant  %v", got, want)
	}
	if _, err := w.d.Store.UserIDByStripeCustomer(context.Background(), stripeevents.CustomerIDFor("u-pay")); err != nil {
		t.Fatalf("checkout did not link the customer: %v", err)
	}
}

var testLogOut io.Writer = io.Discard
