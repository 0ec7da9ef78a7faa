//go:build integration

package redeem_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/stripefake"
	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/registry"
	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/stripeapi"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// stripeRecorder sits between stripe-go and stripe-mock: it records every request and can fail
// the next ones with a 500 (an ambiguous failure).
type fixture struct {
	env    *localtest.Env
	d      *rewards.Deps
	stripe *stripefake.Recorder
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := localtest.New(t)
	rec := &stripefake.Recorder{}
	stripeapi.Open(env.Runtime).Set(stripefake.Client(localtest.StripeKey, os.Getenv(manifest.EnvStripeAPIBase), rec))
	return &fixture{env: env, d: rewards.NewDeps(env.RuntimeFor(t, manifest.MustByName("create-redemption"))), stripe: rec}
}

// call invokes a route's registered handler as API Gateway would.
func (f *fixture) call(t *testing.T, fn, user string, admin bool, path map[string]string, body string, out any) int {
	t.Helper()
	built, err := registry.Handler(f.env.Runtime, manifest.MustByName(fn))
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]string{"sub": user, "email": user + "@example.com", "email_verified": "true"}
	if admin {
		claims["cognito:groups"] = "[admin]"
	}
	headers := map[string]string{"idempotency-key": "k-" + time.Now().Format("150405.000000000")}
	if body != "" {
		headers["content-type"] = "application/json"
	}
	ev := events.APIGatewayV2HTTPRequest{Body: body, PathParameters: path, Headers: headers,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-" + fn,
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}}}
	resp, err := built.(httpapi.Lambda)(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(resp.Body), out); err != nil {
			t.Fatalf("%s: %d %s", fn, resp.StatusCode, resp.Body)
		}
	}
	return resp.StatusCode
}

func (f *fixture) grant(t *testing.T, user string, n int64) {
	t.Helper()
	var out map[string]any
	if st := f.call(t, "adjust-tokens", "root", true, nil, `{"userId":"`+user+`","amount":`+itoa(n)+`,"reason":"test grant"}`, &out); st != 201 {
		t.Fatalf("grant: %d %v", st, out)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func (f *fixture) redeem(t *testing.T, user, body string) rewards.RedemptionView {
	t.Helper()
	var v rewards.RedemptionView
	if st := f.call(t, "create-redemption", user, false, nil, body, &v); st != 201 {
		t.Fatalf("redeem %s: %d %+v", body, st, v)
	}
	return v
}

func (f *fixture) account(t *testing.T, user string) rewards.Account {
	t.Helper()
	a, err := f.d.Account(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestApproveCouponCreatesItAtStripeAndMailsTheCode(t *testing.T) {
	f := newFixture(t)
	user := "lin-" + time.Now().Format("150405.000000")
	f.grant(t, user, 600)
	red := f.redeem(t, user, `{"rewardId":"course-coupon-20"}`)
	var v rewards.AdminRedemptionView
	if st := f.call(t, "approve-redemption", "root", true, map[string]string{"redemptionId": red.ID}, "", &v); st != 200 {
		t.Fatalf("approve: %d %+v", st, v)
	}
	code := v.CouponCode // drawn at random: nothing in the redemption id tells it
	if v.Status != rewards.Fulfilled || !strings.HasPrefix(code, "LIB20-") || len(code) != 16 ||
		strings.Contains(red.ID, code[6:]) || v.EmailSent == nil || !*v.EmailSent || v.DecidedBy != "root" {
		t.Fatalf("approved: %+v", v)
	}
	posts := f.stripe.Posts("/v1/coupons")
	if len(posts) != 1 {
		t.Fatalf("coupon requests: %+v", posts)
	}
	p := posts[0]
	if p.Key != "redemption-"+red.ID+"-coupon" || p.Form.Get("id") != code || p.Form.Get("percent_off") != "20.0000" ||
		p.Form.Get("duration") != "once" || p.Form.Get("max_redemptions") != "1" || p.Form.Get("metadata[userId]") != user ||
		p.Form.Get("metadata[redemptionId]") != red.ID || p.Form.Get("redeem_by") == "" {
		t.Fatalf("coupon request: key %q form %v", p.Key, p.Form)
	}
	if a := f.account(t, user); a.Balance != 100 || a.Held != 0 || a.Available != 100 || a.LifetimeEarned != 600 {
		t.Fatalf("after fulfilment: %+v", a)
	}
	msgs := f.env.Mailpit.WaitFor(t, "to:"+user+"@example.com", 1)
	if len(msgs) != 1 || msgs[0].Subject != "Your reward is here: 20% off a course" {
		t.Fatalf("mail: %+v", msgs)
	}
	if body := f.env.Mailpit.Get(t, msgs[0].ID); !strings.Contains(body.Text, code) || !strings.Contains(body.HTML, code) {
		t.Fatalf("the code is not in the e-mail: %s", body.Text)
	}
	// A second approval is a 409 and sends nothing more to Stripe.
	if st := f.call(t, "approve-redemption", "root", true, map[string]string{"redemptionId": red.ID}, "", nil); st != 409 {
		t.Fatalf("second approval: %d", st)
	}
	if len(f.stripe.Posts("/v1/coupons")) != 1 {
		t.Fatal("a second coupon was requested")
	}
}

func TestCreditCreatesTheCustomerOnceAndSurvivesAStripeFailure(t *testing.T) {
	f := newFixture(t)
	user := "kai-" + time.Now().Format("150405.000000")
	f.grant(t, user, 1000)
	red := f.redeem(t, user, `{"rewardId":"subscription-credit-5"}`)
	f.stripe.FailNext(1) // the customer creation fails: no answer from Stripe
	var v rewards.AdminRedemptionView
	if st := f.call(t, "approve-redemption", "root", true, map[string]string{"redemptionId": red.ID}, "", &v); st != 200 {
		t.Fatalf("approve: %d", st)
	}
	if v.Status != rewards.Approved || v.FulfilmentError == "" || v.FulfilmentAttempts != 1 {
		t.Fatalf("after a Stripe failure: %+v", v)
	}
	if a := f.account(t, user); a.Held != 1000 || a.Balance != 1000 {
		t.Fatalf("tokens must stay held: %+v", a)
	}
	v = rewards.AdminRedemptionView{} // json leaves fields absent from the answer as they were
	if st := f.call(t, "fulfil-redemption", "root", true, map[string]string{"redemptionId": red.ID}, `{}`, &v); st != 200 {
		t.Fatalf("retry: %d %+v", st, v)
	}
	if v.Status != rewards.Fulfilled || v.StripeCustomerID == "" || v.BalanceTransaction == "" || v.FulfilmentError != "" {
		t.Fatalf("after the retry: %+v", v)
	}
	customers := f.stripe.Posts("/v1/customers")
	var creations, credits []stripefake.Request
	for _, r := range customers {
		if r.Path == "/v1/customers" {
			creations = append(creations, r)
		} else if strings.HasSuffix(r.Path, "/balance_transactions") {
			credits = append(credits, r)
		}
	}
	if len(creations) != 2 || creations[0].Key != "customer-"+user || creations[1].Key != "customer-"+user ||
		creations[1].Form.Get("metadata[userId]") != user || creations[1].Form.Get("email") != user+"@example.com" {
		t.Fatalf("customer creations (one failed, one retried with the same key): %+v", creations)
	}
	if len(credits) != 1 || credits[0].Key != "redemption-"+red.ID+"-credit" || credits[0].Form.Get("amount") != "-500" ||
		credits[0].Form.Get("currency") != "usd" || credits[0].Form.Get("metadata[redemptionId]") != red.ID {
		t.Fatalf("credit: %+v", credits)
	}
	// The customer is now on the user's profile, where billing finds it too.
	u, err := records.Records{S: f.d.Store}.GetUser(context.Background(), user)
	if err != nil || u.StripeCustomerID != v.StripeCustomerID {
		t.Fatalf("profile: %+v %v", u, err)
	}
	if a := f.account(t, user); a.Held != 0 || a.Balance != 0 {
		t.Fatalf("spent: %+v", a)
	}
	// Approved e-mail first (the fulfilment failed), then the fulfilled one.
	msgs := f.env.Mailpit.WaitFor(t, "to:"+user+"@example.com", 2)
	subjects := map[string]bool{}
	for _, m := range msgs {
		subjects[m.Subject] = true
	}
	if len(msgs) != 2 || !subjects["Your reward is approved: $5 subscription credit"] || !subjects["Your reward is here: $5 subscription credit"] {
		t.Fatalf("mails: %+v", msgs)
	}
}

func TestRejectReleasesAndMerchandiseIsFulfilledByHand(t *testing.T) {
	f := newFixture(t)
	user := "mo-" + time.Now().Format("150405.000000")
	f.grant(t, user, 4000)
	ship := `{"rewardId":"merchandise-pack","shippingAddress":{"name":"Mo Chen","line1":"1 Main St","city":"Springfield","postalCode":"12345","country":"US"}}`
	a1, a2 := f.redeem(t, user, ship), f.redeem(t, user, ship)
	if a := f.account(t, user); a.Held != 4000 || a.Available != 0 {
		t.Fatalf("two holds: %+v", a)
	}
	var v rewards.AdminRedemptionView
	if st := f.call(t, "reject-redemption", "root", true, map[string]string{"redemptionId": a1.ID}, `{"reason":"Out of stock <sorry>"}`, &v); st != 200 {
		t.Fatalf("reject: %d", st)
	}
	if v.Status != rewards.Rejected || v.Reason != "Out of stock <sorry>" {
		t.Fatalf("rejected: %+v", v)
	}
	if a := f.account(t, user); a.Held != 2000 || a.Available != 2000 || a.Balance != 4000 {
		t.Fatalf("tokens back: %+v", a)
	}
	if st := f.call(t, "approve-redemption", "root", true, map[string]string{"redemptionId": a1.ID}, "", nil); st != 409 {
		t.Fatalf("approve after reject: %d", st)
	}
	var raw json.RawMessage
	if st := f.call(t, "approve-redemption", "root", true, map[string]string{"redemptionId": a2.ID}, "", &raw); st != 200 {
		t.Fatalf("approve merchandise: %d %s", st, raw)
	}
	v = rewards.AdminRedemptionView{}
	if err := json.Unmarshal(raw, &v); err != nil || v.Status != rewards.Approved {
		t.Fatalf("approve merchandise: %v %s", err, raw)
	}
	if len(f.stripe.Posts("/v1/")) != 0 {
		t.Fatal("merchandise must not call Stripe")
	}
	if st := f.call(t, "fulfil-redemption", "root", true, map[string]string{"redemptionId": a2.ID}, `{"note":"UPS 1Z999"}`, &v); st != 200 || v.Status != rewards.Fulfilled || v.Note != "UPS 1Z999" {
		t.Fatalf("fulfil: %d %+v", st, v)
	}
	if st := f.call(t, "fulfil-redemption", "root", true, map[string]string{"redemptionId": a2.ID}, `{}`, nil); st != 409 {
		t.Fatalf("second fulfil: %d", st)
	}
	if a := f.account(t, user); a.Held != 0 || a.Balance != 2000 || a.Available != 2000 {
		t.Fatalf("spent: %+v", a)
	}
	msgs := f.env.Mailpit.WaitFor(t, "to:"+user+"@example.com", 3)
	if len(msgs) != 3 {
		t.Fatalf("mails: %+v", msgs)
	}
	for _, m := range msgs {
		if m.Subject == "Your reward request was not approved" {
			if body := f.env.Mailpit.Get(t, m.ID); !strings.Contains(body.HTML, "Out of stock &lt;sorry&gt;") {
				t.Fatalf("reason not escaped in HTML: %s", body.HTML)
			}
		}
	}
	// Someone else's or an unknown redemption.
	if st := f.call(t, "cancel-redemption", "eve", false, map[string]string{"redemptionId": a2.ID}, "", nil); st != 404 {
		t.Fatalf("another user's cancel: %d", st)
	}
	if st := f.call(t, "approve-redemption", "root", true, map[string]string{"redemptionId": "rdm_00000000000000000000000000"}, "", nil); st != 404 {
		t.Fatalf("unknown id: %d", st)
	}
}
