package redeem

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/httpapi/httpapitest"
	"github.com/liberation/monetization/shared/mail/mailtest"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
	"github.com/liberation/monetization/shared/store"
)

// bench is the admin routes on their ports: the real handlers and rewards' workflow over the
// rewards repository on the test table (in process, or moto with the integration tag), Stripe as
// memPayments and the mail as a recorder. Nothing is started.
type bench struct {
	clk  *clock.Fake
	st   *store.Store
	d    *Deps
	pay  *memPayments
	mail *mailtest.Recorder
	reqs int
}

var monday = time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC)

var stripeDown = apperr.New(apperr.Unavailable, "stripe did not answer")

func newBench(t *testing.T) *bench {
	t.Helper()
	clk := clock.NewFake(monday)
	st := newTestStore(t, clk)
	b := &bench{clk: clk, st: st, pay: newMemPayments(), mail: &mailtest.Recorder{}}
	rd := (&rewards.Deps{Clock: clk, Store: st, Fn: "redeem-test"}).With(rewards.NewRepo(st))
	b.d = &Deps{Deps: rd, Config: platform.Config{MailFrom: mailFrom, AppURL: appURL}, Payments: b.pay, Mail: b.mail,
		Lease: 2 * time.Minute}
	return b
}

var ship = &rewards.Address{Name: "Mo Chen", Line1: "1 Main St", City: "Springfield", PostalCode: "12345", Country: "US"}

// redeem grants user 5,000 tokens and asks for reward (its e-mails go to <user>@example.com).
func (b *bench) redeem(t *testing.T, user, reward string) rewards.Redemption {
	t.Helper()
	ctx := context.Background()
	if _, _, err := b.d.Post(ctx, user, func(context.Context, rewards.Account) (rewards.Plan, error) {
		return rewards.Plan{Change: rewards.Change{Kind: rewards.KindAdjust, Delta: 5000, Earned: 5000}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	q := rewards.RedemptionRequest{RewardID: reward}
	if reward == rewardcatalog.Merchandise {
		q.Shipping = ship
	}
	red, err := b.d.CreateRedemption(ctx, user, user+"@example.com", q, "req-create")
	if err != nil {
		t.Fatal(err)
	}
	return red
}

// call invokes an admin route on redemption id as API Gateway would (a fresh Idempotency-Key each
// time); a success body is decoded into out. It returns the status and the error code.
func (b *bench) call(t *testing.T, h func(manifest.Function, *Deps) httpapi.Lambda, name, id string, body any, out any) (int, apperr.Code) {
	t.Helper()
	b.reqs++
	ev := events.APIGatewayV2HTTPRequest{PathParameters: map[string]string{"redemptionId": id},
		Headers: map[string]string{"content-type": "application/json", httpapi.IdempotencyHeader: fmt.Sprintf("key-%d", b.reqs)},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: fmt.Sprintf("req-%d", b.reqs),
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{
					"sub": "root", "email": "root@example.com", "email_verified": "true", "cognito:groups": "[admin]"}}}}}
	if body != nil {
		raw, _ := json.Marshal(body)
		ev.Body = string(raw)
	}
	return httpapitest.Serve(t, h(manifest.MustByName(name), b.d), ev, out)
}

func (b *bench) approve(t *testing.T, id string, out any) (int, apperr.Code) {
	t.Helper()
	return b.call(t, HandleApproveRedemption, "approve-redemption", id, nil, out)
}

func (b *bench) fulfil(t *testing.T, id string, body any, out any) (int, apperr.Code) {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	return b.call(t, HandleFulfilRedemption, "fulfil-redemption", id, body, out)
}

func (b *bench) reject(t *testing.T, id, reason string, out any) (int, apperr.Code) {
	t.Helper()
	return b.call(t, HandleRejectRedemption, "reject-redemption", id, RejectRequest{Reason: reason}, out)
}

func (b *bench) stored(t *testing.T, red rewards.Redemption) rewards.Redemption {
	t.Helper()
	cur, err := b.d.GetRedemption(context.Background(), red.UserID, red.ID)
	if err != nil {
		t.Fatal(err)
	}
	return cur
}

func (b *bench) account(t *testing.T, user string) rewards.Account {
	t.Helper()
	a, err := b.d.Account(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// subjects lists the subjects of the e-mails sent to user, in order.
func (b *bench) subjects(user string) []string {
	var out []string
	for _, m := range b.mail.To(user + "@example.com") {
		out = append(out, m.Subject)
	}
	return out
}

var couponCode = regexp.MustCompile(`^LIB20-[0-9A-HJKMNP-TV-Z]{10}$`)

// An approved coupon is issued at Stripe at once, with a code drawn at random, spends the held
// tokens and is mailed; approving again is a 409 that asks Stripe for nothing.
func TestApprovingACouponIssuesItOnceAndMailsTheCode(t *testing.T) {
	b := newBench(t)
	red := b.redeem(t, "lin", rewardcatalog.CourseCoupon)
	var v rewards.AdminRedemptionView
	if st, code := b.approve(t, red.ID, &v); st != 200 {
		t.Fatalf("approve: %d %s", st, code)
	}
	if v.Status != rewards.Fulfilled || !couponCode.MatchString(v.CouponCode) || strings.Contains(red.ID, v.CouponCode[6:]) ||
		v.DecidedBy != "root" || v.EmailSent == nil || !*v.EmailSent || v.FulfilmentAttempts != 1 || v.FulfilledAt == nil {
		t.Fatalf("approved: %+v", v)
	}
	if calls := b.pay.callLog(); !slices.Equal(calls, []string{"issue " + v.CouponCode}) || !b.pay.live(v.CouponCode) {
		t.Fatalf("stripe calls %v", calls)
	}
	if a := b.account(t, "lin"); a.Balance != 4500 || a.Held != 0 || a.Available != 4500 || a.LifetimeEarned != 5000 {
		t.Fatalf("after fulfilment: %+v", a)
	}
	msgs := b.mail.To("lin@example.com")
	if len(msgs) != 1 || msgs[0].Subject != "Your reward is here: 20% off a course" || !strings.Contains(msgs[0].Text, v.CouponCode) {
		t.Fatalf("mail %+v", msgs)
	}
	if cur := b.stored(t, red); cur.NotifiedStatus != rewards.Fulfilled || cur.CouponCode != v.CouponCode || !cur.ApprovedAt.Equal(monday) {
		t.Fatalf("stored %+v", cur)
	}
	if st, code := b.approve(t, red.ID, nil); st != 409 || code != apperr.Conflict {
		t.Fatalf("second approval: %d %s", st, code)
	}
	if st, code := b.fulfil(t, red.ID, nil, nil); st != 409 || code != apperr.Conflict {
		t.Fatalf("fulfilling a fulfilled one: %d %s", st, code)
	}
	if len(b.pay.callLog()) != 1 || len(b.mail.Sent()) != 1 {
		t.Fatalf("more asked of Stripe %v or mailed %d", b.pay.callLog(), len(b.mail.Sent()))
	}
}

// A credit that fails at Stripe stays approved (tokens held, the error recorded and the approval
// mailed); …/fulfil retries it (503 while Stripe fails) until it is delivered, once.
func TestACreditThatFailsAtStripeStaysApprovedUntilFulfilled(t *testing.T) {
	b := newBench(t)
	red := b.redeem(t, "kai", rewardcatalog.SubscriptionCredit)
	b.pay.failNext("credit", stripeDown)
	var v rewards.AdminRedemptionView
	if st, code := b.approve(t, red.ID, &v); st != 200 {
		t.Fatalf("approve: %d %s", st, code)
	}
	if v.Status != rewards.Approved || v.FulfilmentError == "" || v.FulfilmentAttempts != 1 || !*v.EmailSent {
		t.Fatalf("after a Stripe failure: %+v", v)
	}
	if a := b.account(t, "kai"); a.Held != 1000 || a.Balance != 5000 {
		t.Fatalf("tokens must stay held: %+v", a)
	}
	if st, code := b.fulfil(t, red.ID, FulfilRequest{Note: "by hand"}, nil); st != 400 || code != apperr.Invalid {
		t.Fatalf("a note on a credit: %d %s", st, code)
	}
	b.pay.failNext("credit", stripeDown)
	if st, code := b.fulfil(t, red.ID, nil, nil); st != 503 || code != apperr.Unavailable {
		t.Fatalf("a retry Stripe fails: %d %s", st, code)
	}
	cur := b.stored(t, red)
	if cur.Status != rewards.Approved || cur.FulfilmentAttempts != 2 || cur.ClaimUntil.After(b.clk.Now()) {
		t.Fatalf("after the failed retry (its claim ended): %+v", cur)
	}
	v = rewards.AdminRedemptionView{}
	if st, code := b.fulfil(t, red.ID, nil, &v); st != 200 {
		t.Fatalf("retry: %d %s", st, code)
	}
	c, ok := b.pay.creditOf(red.ID)
	if v.Status != rewards.Fulfilled || v.StripeCustomerID != "cus_kai" || !ok || v.BalanceTransaction != c.txn ||
		v.FulfilmentError != "" || v.FulfilmentAttempts != 3 || c.cents != 500 {
		t.Fatalf("after the retry: %+v (credit %+v)", v, c)
	}
	if a := b.account(t, "kai"); a.Held != 0 || a.Balance != 4000 {
		t.Fatalf("spent: %+v", a)
	}
	want := []string{"Your reward is approved: $5 subscription credit", "Your reward is here: $5 subscription credit"}
	if got := b.subjects("kai"); !slices.Equal(got, want) {
		t.Fatalf("mails %v", got)
	}
	if calls := b.pay.callLog(); len(calls) != 3 {
		t.Fatalf("stripe calls %v", calls)
	}
}

// Merchandise never reaches Stripe: approved, then fulfilled by hand with its shipping note.
func TestMerchandiseIsFulfilledByHand(t *testing.T) {
	b := newBench(t)
	red := b.redeem(t, "mo", rewardcatalog.Merchandise)
	var v rewards.AdminRedemptionView
	if st, _ := b.approve(t, red.ID, &v); st != 200 || v.Status != rewards.Approved || v.Shipping == nil || v.Shipping.City != "Springfield" {
		t.Fatalf("approve: %d %+v", st, v)
	}
	if st, code := b.fulfil(t, red.ID, FulfilRequest{Note: strings.Repeat("x", 501)}, nil); st != 400 || code != apperr.Invalid {
		t.Fatalf("a note too long: %d %s", st, code)
	}
	if st, _ := b.fulfil(t, red.ID, FulfilRequest{Note: "  UPS 1Z999  "}, &v); st != 200 || v.Status != rewards.Fulfilled || v.Note != "UPS 1Z999" {
		t.Fatalf("fulfil: %d %+v", st, v)
	}
	if st, code := b.fulfil(t, red.ID, nil, nil); st != 409 || code != apperr.Conflict {
		t.Fatalf("second fulfil: %d %s", st, code)
	}
	if calls := b.pay.callLog(); len(calls) != 0 {
		t.Fatalf("merchandise asked Stripe: %v", calls)
	}
	msgs := b.mail.To("mo@example.com")
	if len(msgs) != 2 || !strings.Contains(msgs[1].Text, "UPS 1Z999") || !strings.Contains(msgs[0].Text, "preparing it") {
		t.Fatalf("mails %+v", msgs)
	}
	if a := b.account(t, "mo"); a.Held != 0 || a.Balance != 3000 {
		t.Fatalf("spent: %+v", a)
	}
}

// A pending redemption is rejected at once (nothing can be live at Stripe) and its tokens come
// back; it cannot be approved afterwards.
func TestRejectingAPendingRedemptionReleasesItsTokens(t *testing.T) {
	b := newBench(t)
	red := b.redeem(t, "ana", rewardcatalog.CourseCoupon)
	if st, code := b.reject(t, red.ID, "no", nil); st != 400 || code != apperr.Invalid {
		t.Fatalf("a reason too short: %d %s", st, code)
	}
	var v rewards.AdminRedemptionView
	if st, _ := b.reject(t, red.ID, "  Not eligible <sorry>  ", &v); st != 200 || v.Status != rewards.Rejected ||
		v.Reason != "Not eligible <sorry>" || v.DecidedBy != "root" || !*v.EmailSent {
		t.Fatalf("reject: %d %+v", st, v)
	}
	if a := b.account(t, "ana"); a.Held != 0 || a.Available != 5000 || a.Balance != 5000 {
		t.Fatalf("tokens back: %+v", a)
	}
	if st, _ := b.reject(t, red.ID, "Again please", nil); st != 409 {
		t.Fatalf("second rejection: %d", st)
	}
	if st, _ := b.approve(t, red.ID, nil); st != 409 {
		t.Fatalf("approval after a rejection: %d", st)
	}
	if calls := b.pay.callLog(); len(calls) != 0 {
		t.Fatalf("a pending rejection asked Stripe: %v", calls)
	}
	msgs := b.mail.To("ana@example.com")
	if len(msgs) != 1 || msgs[0].Subject != "Your reward request was not approved" || !strings.Contains(msgs[0].HTML, "Not eligible &lt;sorry&gt;") {
		t.Fatalf("mails %+v", msgs)
	}
	for id, want := range map[string]int{"rdm_nope": 400, "rdm_01HZZZZZZZZZZZZZZZZZZZZZZZ": 404} {
		if st, _ := b.approve(t, id, nil); st != want {
			t.Errorf("approve %s: %d, want %d", id, st, want)
		}
	}
}

// An approved coupon whose issue failed may still be live at Stripe: the rejection revokes it
// first and gives the tokens back only once Stripe confirmed (503 otherwise, still approved, and
// a later fulfilment is barred).
func TestRejectingAnApprovedCouponRevokesItFirst(t *testing.T) {
	b := newBench(t)
	red := b.redeem(t, "ben", rewardcatalog.CourseCoupon)
	b.pay.failNext("issue", stripeDown)
	var v rewards.AdminRedemptionView
	if st, _ := b.approve(t, red.ID, &v); st != 200 || v.Status != rewards.Approved {
		t.Fatalf("approve: %d %+v", st, v)
	}
	code := b.stored(t, red).CouponCode
	if !couponCode.MatchString(code) {
		t.Fatalf("no code drawn at approval: %q", code)
	}
	b.pay.failNext("revoke", stripeDown)
	if st, c := b.reject(t, red.ID, "Changed my mind", nil); st != 503 || c != apperr.Unavailable {
		t.Fatalf("a revocation Stripe fails: %d %s", st, c)
	}
	cur := b.stored(t, red)
	if cur.Status != rewards.Approved || cur.Claim != rewards.ActReject || cur.ClaimUntil.After(b.clk.Now()) {
		t.Fatalf("after the failed revocation: %+v", cur)
	}
	if a := b.account(t, "ben"); a.Held != 500 {
		t.Fatalf("tokens must stay held: %+v", a)
	}
	if st, c := b.fulfil(t, red.ID, nil, nil); st != 409 || c != apperr.Conflict {
		t.Fatalf("a fulfilment after a rejection started: %d %s", st, c)
	}
	if st, _ := b.reject(t, red.ID, "Changed my mind", &v); st != 200 || v.Status != rewards.Rejected {
		t.Fatalf("reject: %d %+v", st, v)
	}
	if calls := b.pay.callLog(); !slices.Equal(calls, []string{"issue " + code, "revoke " + code, "revoke " + code}) || b.pay.live(code) {
		t.Fatalf("stripe calls %v", calls)
	}
	if a := b.account(t, "ben"); a.Held != 0 || a.Balance != 5000 {
		t.Fatalf("tokens back: %+v", a)
	}
	want := []string{"Your reward is approved: 20% off a course", "Your reward request was not approved"}
	if got := b.subjects("ben"); !slices.Equal(got, want) {
		t.Fatalf("mails %v", got)
	}
}

// An approved credit whose creation failed may still exist at Stripe (its answer lost): it is
// reversed before the rejection; without a Stripe client nothing is rejected.
func TestRejectingAnApprovedCreditReversesIt(t *testing.T) {
	b := newBench(t)
	red := b.redeem(t, "cy", rewardcatalog.SubscriptionCredit)
	b.pay.failNext("credit", stripeDown)
	if st, _ := b.approve(t, red.ID, nil); st != 200 || b.stored(t, red).Status != rewards.Approved {
		t.Fatalf("approve: %d", st)
	}
	payments := b.d.Payments
	b.d.Payments = nil
	if st, c := b.reject(t, red.ID, "Duplicate request", nil); st != 503 || c != apperr.Unavailable {
		t.Fatalf("no Stripe client: %d %s", st, c)
	}
	b.d.Payments = payments
	if st, _ := b.reject(t, red.ID, "Duplicate request", nil); st != 200 {
		t.Fatalf("reject: %d", st)
	}
	if calls := b.pay.callLog(); !slices.Equal(calls, []string{"credit " + red.ID, "reverse " + red.ID}) {
		t.Fatalf("stripe calls %v", calls)
	}
	if a := b.account(t, "cy"); a.Held != 0 || a.Balance != 5000 {
		t.Fatalf("tokens back: %+v", a)
	}
}

// While an approval talks to Stripe, a rejection is a 409 that sends nothing; the approval ends.
func TestARejectionWaitsForTheApprovalsStripeCall(t *testing.T) {
	b := newBench(t)
	red := b.redeem(t, "dee", rewardcatalog.CourseCoupon)
	var during int
	var code apperr.Code
	b.pay.inside("issue", func() { during, code = b.reject(t, red.ID, "Too late", nil) })
	var v rewards.AdminRedemptionView
	if st, _ := b.approve(t, red.ID, &v); st != 200 || v.Status != rewards.Fulfilled {
		t.Fatalf("approve: %d %+v", st, v)
	}
	if during != 409 || code != apperr.Conflict {
		t.Fatalf("a rejection during the approval's Stripe call: %d %s", during, code)
	}
	if calls := b.pay.callLog(); len(calls) != 1 || !b.pay.live(v.CouponCode) {
		t.Fatalf("stripe calls %v", calls)
	}
	if got := b.subjects("dee"); !slices.Equal(got, []string{"Your reward is here: 20% off a course"}) {
		t.Fatalf("mails %v", got)
	}
}

// An approval whose claim ran out while Stripe answered, and which a rejection overtook, revokes
// what it issued and answers 409: no coupon stays live beside the tokens given back.
func TestAnApprovalOvertakenByARejectionRevokesWhatItIssued(t *testing.T) {
	b := newBench(t)
	red := b.redeem(t, "eve", rewardcatalog.CourseCoupon)
	var rejected int
	b.pay.inside("issue", func() {
		b.clk.Advance(b.d.Lease + time.Second)
		rejected, _ = b.reject(t, red.ID, "Fraud check", nil)
	})
	if st, c := b.approve(t, red.ID, nil); st != 409 || c != apperr.Conflict {
		t.Fatalf("the overtaken approval: %d %s", st, c)
	}
	if rejected != 200 {
		t.Fatalf("the rejection: %d", rejected)
	}
	cur := b.stored(t, red)
	calls := b.pay.callLog()
	if cur.Status != rewards.Rejected || b.pay.live(cur.CouponCode) ||
		!slices.Equal(calls, []string{"revoke " + cur.CouponCode, "issue " + cur.CouponCode, "revoke " + cur.CouponCode}) {
		t.Fatalf("stored %+v, stripe calls %v", cur, calls)
	}
	if a := b.account(t, "eve"); a.Held != 0 || a.Balance != 5000 || a.Available != 5000 {
		t.Fatalf("tokens given back once, none spent: %+v", a)
	}
}

// A fulfilment overtaken by another one (its claim ran out while Stripe answered) leaves the
// recording to the one that took over: the credit is made and spent once.
func TestAFulfilmentOvertakenByAnotherIsRecordedOnce(t *testing.T) {
	b := newBench(t)
	red := b.redeem(t, "fay", rewardcatalog.SubscriptionCredit)
	b.pay.failNext("credit", stripeDown)
	if st, _ := b.approve(t, red.ID, nil); st != 200 {
		t.Fatalf("approve: %d", st)
	}
	var second int
	var v rewards.AdminRedemptionView
	b.pay.inside("credit", func() {
		b.clk.Advance(b.d.Lease + time.Second)
		second, _ = b.fulfil(t, red.ID, nil, &v)
	})
	if st, c := b.fulfil(t, red.ID, nil, nil); st != 503 || c != apperr.Unavailable {
		t.Fatalf("the overtaken fulfilment: %d %s", st, c)
	}
	if second != 200 || v.Status != rewards.Fulfilled {
		t.Fatalf("the fulfilment that took over: %d %+v", second, v)
	}
	if cur := b.stored(t, red); cur.Status != rewards.Fulfilled || cur.BalanceTransaction != v.BalanceTransaction {
		t.Fatalf("stored %+v", cur)
	}
	if a := b.account(t, "fay"); a.Held != 0 || a.Balance != 4000 {
		t.Fatalf("spent once: %+v", a)
	}
	if c, ok := b.pay.creditOf(red.ID); !ok || c.reversed || len(b.pay.credits) != 1 {
		t.Fatalf("credits %+v", b.pay.credits)
	}
}

// A coupon approved before codes were drawn at random has the only id it can have at Stripe.
func TestALegacyCouponIsFulfilledUnderItsOldCode(t *testing.T) {
	b := newBench(t)
	red := b.redeem(t, "gus", rewardcatalog.CourseCoupon)
	b.pay.failNext("issue", stripeDown)
	if st, _ := b.approve(t, red.ID, nil); st != 200 {
		t.Fatalf("approve: %d", st)
	}
	if _, err := b.d.UpdateRedemption(context.Background(), b.stored(t, red), func(n *rewards.Redemption) { n.CouponCode = "" }); err != nil {
		t.Fatal(err)
	}
	var v rewards.AdminRedemptionView
	if st, _ := b.fulfil(t, red.ID, nil, &v); st != 200 || v.Status != rewards.Fulfilled {
		t.Fatalf("fulfil: %d %+v", st, v)
	}
	want := "LIB20-" + strings.ToUpper(red.ID[len(red.ID)-10:])
	if v.CouponCode != want || !b.pay.live(want) {
		t.Fatalf("code %q, want %q (stripe %v)", v.CouponCode, want, b.pay.callLog())
	}
}

// The e-mail is best effort: without an address, or when sending fails, the transition stands and
// the answer says nothing was sent; a function without a Stripe client records why it could not
// fulfil.
func TestTheTransitionStandsWithoutItsEmail(t *testing.T) {
	b := newBench(t)
	ctx := context.Background()
	if _, _, err := b.d.Post(ctx, "hal", func(context.Context, rewards.Account) (rewards.Plan, error) {
		return rewards.Plan{Change: rewards.Change{Kind: rewards.KindAdjust, Delta: 5000, Earned: 5000}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	silent, err := b.d.CreateRedemption(ctx, "hal", "", rewards.RedemptionRequest{RewardID: rewardcatalog.Merchandise, Shipping: ship}, "req")
	if err != nil {
		t.Fatal(err)
	}
	var v rewards.AdminRedemptionView
	if st, _ := b.approve(t, silent.ID, &v); st != 200 || v.Status != rewards.Approved || v.EmailSent == nil || *v.EmailSent {
		t.Fatalf("no address: %d %+v", st, v)
	}
	red := b.redeem(t, "ivy", rewardcatalog.CourseCoupon)
	b.mail.Fail = stripeDown
	b.d.Payments = nil
	if st, _ := b.approve(t, red.ID, &v); st != 200 || v.Status != rewards.Approved || *v.EmailSent ||
		v.FulfilmentError != "Internal error." || v.FulfilmentAttempts != 1 {
		t.Fatalf("no Stripe client, mail failing: %d %+v", st, v)
	}
	if len(b.mail.Sent()) != 0 {
		t.Fatalf("sent %+v", b.mail.Sent())
	}
	if cur := b.stored(t, red); cur.NotifiedStatus != "" {
		t.Fatalf("recorded as notified: %+v", cur)
	}
}
