package redeem

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripefake"
	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

// stripeBench is the Stripe adapter (stripe.go, revoke.go) on stripefake, in process: coupons and
// customer balance transactions are the fake's own state; anything else it would pass on goes to
// an address where nothing listens (a customer creation fails). Requests are recorded.
type stripeBench struct {
	p   *stripePayments
	f   *stripefake.Fake
	rec *stripefake.Recorder
	st  *store.Store
}

func newStripeBench(t *testing.T) *stripeBench {
	t.Helper()
	f := stripefake.Start(t, "http://127.0.0.1:1")
	rec := &stripefake.Recorder{}
	c := stripeapi.New("sk_test_unit", f.URL, 10*time.Second)
	c.Set(stripefake.Client("sk_test_unit", f.URL, rec))
	st := newTestStore(t, nil)
	return &stripeBench{p: &stripePayments{stripe: c, store: st}, f: f, rec: rec, st: st}
}

func reward(t *testing.T, id string) rewardcatalog.Reward {
	t.Helper()
	rw, ok := rewardcatalog.ByID(id)
	if !ok {
		t.Fatalf("no reward %s", id)
	}
	return rw
}

// A coupon is created once under its code, with what the marketplace checks (single use, the
// user, the redemption); a retry after Stripe forgot the key finds it; deleting it twice is fine.
func TestStripeCouponIsIssuedOnceAndRevoked(t *testing.T) {
	b := newStripeBench(t)
	ctx := context.Background()
	rw := reward(t, rewardcatalog.CourseCoupon)
	red := rewards.Redemption{ID: "rdm_01JE0A2B3C4D5E7K2M9QXA4D0Z", UserID: "lin", CouponCode: "LIB20-ABCDEFGHJK", ApprovedAt: monday}
	code, err := b.p.IssueCoupon(ctx, red, rw)
	if err != nil || code != red.CouponCode || !b.f.Coupon(code) {
		t.Fatalf("issue: %q %v", code, err)
	}
	posts := b.rec.Posts("/v1/coupons")
	if len(posts) != 1 {
		t.Fatalf("coupon requests %+v", posts)
	}
	p := posts[0]
	redeemBy := strconv.FormatInt(monday.Add(rewardcatalog.CouponValidDays*24*time.Hour).Unix(), 10)
	if p.Key != "redemption-"+red.ID+"-coupon" || p.Form.Get("id") != code || p.Form.Get("percent_off") != "20.0000" ||
		p.Form.Get("duration") != "once" || p.Form.Get("max_redemptions") != "1" || p.Form.Get("redeem_by") != redeemBy ||
		p.Form.Get("metadata[userId]") != "lin" || p.Form.Get("metadata[redemptionId]") != red.ID ||
		p.Form.Get("metadata[rewardId]") != rw.ID {
		t.Fatalf("coupon request: key %q form %v", p.Key, p.Form)
	}
	// Stripe forgot the idempotency key: the coupon exists, and it is this redemption's.
	if again, err := b.p.IssueCoupon(ctx, red, rw); err != nil || again != code {
		t.Fatalf("retry: %q %v", again, err)
	}
	// Another redemption never takes over a code.
	other := red
	other.ID = "rdm_01JE0A2B3C4D5E7K2M9QXA4D11"
	if _, err := b.p.IssueCoupon(ctx, other, rw); err == nil {
		t.Fatal("another redemption's coupon was accepted as this one's")
	}
	if err := b.p.RevokeCoupon(ctx, red); err != nil || b.f.Coupon(code) {
		t.Fatalf("revoke: %v (still there: %v)", err, b.f.Coupon(code))
	}
	if err := b.p.RevokeCoupon(ctx, red); err != nil {
		t.Fatalf("revoking a deleted coupon: %v", err)
	}
	// A coupon approved before codes were drawn at random has its old id.
	legacy := red
	legacy.CouponCode = ""
	if code, err := b.p.IssueCoupon(ctx, legacy, rw); err != nil || code != "LIB20-2M9QXA4D0Z" || !b.f.Coupon(code) {
		t.Fatalf("legacy code %q %v", code, err)
	}
	b.rec.FailNext(1)
	if err := b.p.RevokeCoupon(ctx, legacy); err == nil || !b.f.Coupon("LIB20-2M9QXA4D0Z") {
		t.Fatalf("a deletion Stripe failed: %v", err)
	}
}

// A credit goes to the user's customer once, however often fulfilment retries; its reversal is
// made once, by metadata, even when the redemption does not name the customer.
func TestStripeCreditIsMadeAndReversedOnce(t *testing.T) {
	b := newStripeBench(t)
	ctx := context.Background()
	rw := reward(t, rewardcatalog.SubscriptionCredit)
	if _, err := (records.Records{S: b.st}).LinkStripeCustomer(ctx, "kai", "kai@example.com", "cus_kai"); err != nil {
		t.Fatal(err)
	}
	red := rewards.Redemption{ID: "rdm_01JE0A2B3C4D5E7K2M9QXA4D22", UserID: "kai", RewardName: rw.Name}
	cus, txn, err := b.p.CreditBalance(ctx, red, rw)
	if err != nil || cus != "cus_kai" || txn == "" || b.f.CustomerBalance("cus_kai") != -500 {
		t.Fatalf("credit: %q %q %v (balance %d)", cus, txn, err, b.f.CustomerBalance("cus_kai"))
	}
	posts := b.rec.Posts("/v1/customers/cus_kai/balance_transactions")
	if len(posts) != 1 || posts[0].Key != "redemption-"+red.ID+"-credit" || posts[0].Form.Get("amount") != "-500" ||
		posts[0].Form.Get("currency") != "usd" || posts[0].Form.Get("metadata[redemptionId]") != red.ID {
		t.Fatalf("credit request %+v", posts)
	}
	// A retry after an attempt that got no answer finds the credit instead of making another.
	red.FulfilmentAttempts = 1
	if _, again, err := b.p.CreditBalance(ctx, red, rw); err != nil || again != txn || len(b.rec.Posts("/v1/customers/")) != 1 {
		t.Fatalf("retry: %q %v (%d posts)", again, err, len(b.rec.Posts("/v1/customers/")))
	}
	// Reversed by an opposite transaction naming the credit; a second reversal finds it.
	for range 2 {
		if err := b.p.ReverseCredit(ctx, red); err != nil {
			t.Fatal(err)
		}
	}
	posts = b.rec.Posts("/v1/customers/cus_kai/balance_transactions")
	if len(posts) != 2 || b.f.CustomerBalance("cus_kai") != 0 || posts[1].Form.Get("amount") != "500" ||
		posts[1].Form.Get("metadata[reverses]") != txn || posts[1].Key != "redemption-"+red.ID+"-credit-reversal" {
		t.Fatalf("reversal requests %+v (balance %d)", posts, b.f.CustomerBalance("cus_kai"))
	}
	// Nothing to reverse: never credited, or no customer at all.
	never := rewards.Redemption{ID: "rdm_01JE0A2B3C4D5E7K2M9QXA4D33", UserID: "kai", StripeCustomerID: "cus_kai"}
	nobody := rewards.Redemption{ID: "rdm_01JE0A2B3C4D5E7K2M9QXA4D44", UserID: "nobody"}
	for _, r := range []rewards.Redemption{never, nobody} {
		if err := b.p.ReverseCredit(ctx, r); err != nil {
			t.Fatalf("%s: %v", r.ID, err)
		}
	}
	if n := len(b.rec.Posts("")); n != 2 {
		t.Fatalf("%d POSTs, want the credit and its reversal", n)
	}
}

// A user without a customer gets one created as billing creates it (same key, same fields); when
// Stripe cannot be reached nothing is credited.
func TestStripeCreditWithoutACustomerFailsCleanly(t *testing.T) {
	b := newStripeBench(t)
	ctx := context.Background()
	red := rewards.Redemption{ID: "rdm_01JE0A2B3C4D5E7K2M9QXA4D55", UserID: "mo", Email: "mo@example.com"}
	if _, _, err := b.p.CreditBalance(ctx, red, reward(t, rewardcatalog.SubscriptionCredit)); err == nil {
		t.Fatal("a credit without a reachable Stripe succeeded")
	}
	posts := b.rec.Posts("/v1/customers")
	if len(posts) != 1 || posts[0].Path != "/v1/customers" || posts[0].Key != "customer-mo" ||
		posts[0].Form.Get("email") != "mo@example.com" || posts[0].Form.Get("metadata[userId]") != "mo" {
		t.Fatalf("customer creation %+v", posts)
	}
	if u, err := (records.Records{S: b.st}).GetUser(ctx, "mo"); err == nil && u.StripeCustomerID != "" {
		t.Fatalf("a customer was linked: %+v", u)
	}
	// A failed credit itself: the customer exists, the balance transaction is refused.
	if _, err := (records.Records{S: b.st}).LinkStripeCustomer(ctx, "mo", "mo@example.com", "cus_mo"); err != nil {
		t.Fatal(err)
	}
	b.rec.FailNext(1)
	if cus, txn, err := b.p.CreditBalance(ctx, red, reward(t, rewardcatalog.SubscriptionCredit)); err == nil || txn != "" || cus != "cus_mo" {
		t.Fatalf("a refused credit: %q %q %v", cus, txn, err)
	}
	if b.f.CustomerBalance("cus_mo") != 0 {
		t.Fatal("credited anyway")
	}
}
