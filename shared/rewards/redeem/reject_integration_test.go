//go:build integration

package redeem_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
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

// tap sits between stripe-go and the stateful fake: it records every request (Recorder), can let a
// request through and lose its answer (Stripe did it; we got a 500), and can hold a request until
// released (to stop a handler inside its Stripe call).
type tap struct {
	rec *stripefake.Recorder

	mu      sync.Mutex
	lose    map[string]int // "METHOD path-prefix" → answers still to lose
	hold    string         // "METHOD path-prefix" of a request to hold
	entered chan struct{}  // closed when the held request arrives
	release chan struct{}  // close to let it through
}

func (p *tap) match(r *http.Request, rule string) bool {
	m, prefix, _ := strings.Cut(rule, " ")
	return rule != "" && r.Method == m && strings.HasPrefix(r.URL.Path, prefix)
}

func (p *tap) RoundTrip(r *http.Request) (*http.Response, error) {
	p.mu.Lock()
	held := p.match(r, p.hold)
	if held {
		p.hold = ""
	}
	lost := false
	for rule, n := range p.lose {
		if n > 0 && p.match(r, rule) {
			p.lose[rule], lost = n-1, true
		}
	}
	p.mu.Unlock()
	if held {
		close(p.entered)
		<-p.release
	}
	res, err := p.rec.RoundTrip(r)
	if err != nil || !lost {
		return res, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return &http.Response{StatusCode: 500, Header: http.Header{"Content-Type": {"application/json"}}, Request: r,
		Body: io.NopCloser(strings.NewReader(`{"error":{"type":"api_error","message":"answer lost"}}`))}, nil
}

// loseAnswer makes the next answer to a request matching rule ("POST /v1/coupons") lost after
// Stripe acted on it.
func (p *tap) loseAnswer(rule string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lose[rule]++
}

// holdNext stops the next request matching rule until the returned release is called; entered is
// closed when it arrives.
func (p *tap) holdNext(rule string) (entered <-chan struct{}, release func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold, p.entered, p.release = rule, make(chan struct{}), make(chan struct{})
	return p.entered, func() { close(p.release) }
}

type stateful struct {
	*fixture
	fake *stripefake.Fake
	tap  *tap
}

// newStateful is the fixture with the stateful Stripe stand-in (coupons and balance transactions
// are kept, so a test can see what is live at "Stripe") behind a tap.
func newStateful(t *testing.T) *stateful {
	t.Helper()
	f := newFixture(t)
	fake := stripefake.Start(t, os.Getenv(manifest.EnvStripeAPIBase))
	p := &tap{rec: f.stripe, lose: map[string]int{}}
	stripeapi.Open(f.env.Runtime).Set(stripefake.Client(localtest.StripeKey, fake.URL, p))
	return &stateful{fixture: f, fake: fake, tap: p}
}

// invoke is call without t (safe in goroutines): status and body.
func (f *fixture) invoke(fn, user string, admin bool, path map[string]string, body string) (int, string, error) {
	built, err := registry.Handler(f.env.Runtime, manifest.MustByName(fn))
	if err != nil {
		return 0, "", err
	}
	claims := map[string]string{"sub": user, "email": user + "@example.com", "email_verified": "true"}
	if admin {
		claims["cognito:groups"] = "[admin]"
	}
	headers := map[string]string{"idempotency-key": "k-" + fn + "-" + time.Now().Format("150405.000000000")}
	if body != "" {
		headers["content-type"] = "application/json"
	}
	ev := events.APIGatewayV2HTTPRequest{Body: body, PathParameters: path, Headers: headers,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-" + fn,
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}}}
	resp, err := built.(httpapi.Lambda)(context.Background(), ev)
	return resp.StatusCode, resp.Body, err
}

func (s *stateful) customerBalance(t *testing.T, user string) int64 {
	t.Helper()
	u, err := records.Records{S: s.d.Store}.GetUser(context.Background(), user)
	if err != nil || u.StripeCustomerID == "" {
		t.Fatalf("the user's Stripe customer: %+v %v", u, err)
	}
	return s.fake.CustomerBalance(u.StripeCustomerID)
}

// mails is how many e-mails the user got with subject, after waiting for want of them.
func (s *stateful) mails(t *testing.T, user, subject string, want int) int {
	t.Helper()
	q := "to:" + user + "@example.com subject:\"" + subject + "\""
	if want > 0 {
		s.env.Mailpit.WaitFor(t, q, want)
	}
	return len(s.env.Mailpit.Search(t, q))
}

// A coupon or a credit whose creation Stripe performed but whose answer was lost leaves the
// redemption approved (tokens held). Rejecting it then gives the tokens back only with the reward
// revoked at Stripe in the same decision: the coupon deleted, the credit reversed. Nothing can
// re-issue it afterwards.
func TestRejectAfterStripeIssuedRevokesTheReward(t *testing.T) {
	for _, tc := range []struct{ reward, issue string }{
		{"course-coupon-20", "POST /v1/coupons"},
		{"subscription-credit-5", "POST /v1/customers/"}, // the balance transaction (the customer is POST /v1/customers)
	} {
		t.Run(tc.reward, func(t *testing.T) {
			s := newStateful(t)
			user := "nia-" + time.Now().Format("150405.000000")
			s.grant(t, user, 1000)
			red := s.redeem(t, user, `{"rewardId":"`+tc.reward+`"}`)
			s.tap.loseAnswer(tc.issue)
			var v rewards.AdminRedemptionView
			path := map[string]string{"redemptionId": red.ID}
			if st := s.call(t, "approve-redemption", "root", true, path, "", &v); st != 200 || v.Status != rewards.Approved || v.FulfilmentError == "" {
				t.Fatalf("approve with the answer lost: %d %+v", st, v)
			}
			live := func() bool {
				if tc.reward == "course-coupon-20" {
					posts := s.stripe.Posts("/v1/coupons")
					return len(posts) > 0 && s.fake.Coupon(posts[0].Form.Get("id"))
				}
				return s.customerBalance(t, user) != 0
			}
			if !live() {
				t.Fatal("the reward must be live at Stripe before the rejection (the answer only was lost)")
			}
			v = rewards.AdminRedemptionView{}
			if st := s.call(t, "reject-redemption", "root", true, path, `{"reason":"Issued by mistake"}`, &v); st != 200 || v.Status != rewards.Rejected {
				t.Fatalf("reject: %d %+v", st, v)
			}
			if a := s.account(t, user); a.Held != 0 || a.Available != 1000 {
				t.Fatalf("tokens back: %+v", a)
			}
			if live() {
				t.Fatalf("rejected with its tokens back, but the %s is still live at Stripe", tc.reward)
			}
			if st := s.call(t, "fulfil-redemption", "root", true, path, `{}`, nil); st != 409 {
				t.Fatalf("fulfil after the rejection: %d", st)
			}
			if live() {
				t.Fatal("re-issued after the rejection")
			}
			if n := s.mails(t, user, "not approved", 1); n != 1 {
				t.Fatalf("%d rejection e-mails", n)
			}
		})
	}
}

// The revocation's own answer can be lost too: the rejection then does not happen (503, tokens
// still held), nothing can fulfil the half-revoked reward, and retrying the rejection finishes it.
func TestLostAnswerOfTheRevocationIsRetried(t *testing.T) {
	s := newStateful(t)
	user := "ola-" + time.Now().Format("150405.000000")
	s.grant(t, user, 500)
	red := s.redeem(t, user, `{"rewardId":"course-coupon-20"}`)
	path := map[string]string{"redemptionId": red.ID}
	s.tap.loseAnswer("POST /v1/coupons")
	if st := s.call(t, "approve-redemption", "root", true, path, "", nil); st != 200 {
		t.Fatalf("approve: %d", st)
	}
	code := s.stripe.Posts("/v1/coupons")[0].Form.Get("id")
	s.tap.loseAnswer("DELETE /v1/coupons/")
	var raw json.RawMessage
	if st := s.call(t, "reject-redemption", "root", true, path, `{"reason":"Issued by mistake"}`, &raw); st != 503 {
		t.Fatalf("reject with the revocation's answer lost: %d %s (want 503: not known to be revoked)", st, raw)
	}
	if a := s.account(t, user); a.Held != 500 {
		t.Fatalf("tokens must stay held until the revocation is known: %+v", a)
	}
	if st := s.call(t, "fulfil-redemption", "root", true, path, `{}`, nil); st != 409 {
		t.Fatalf("fulfil of a reward being revoked: %d", st)
	}
	var v rewards.AdminRedemptionView
	if st := s.call(t, "reject-redemption", "root", true, path, `{"reason":"Issued by mistake"}`, &v); st != 200 || v.Status != rewards.Rejected {
		t.Fatalf("retried reject: %d %+v", st, v)
	}
	if s.fake.Coupon(code) || s.account(t, user).Available != 500 {
		t.Fatalf("after the retry: coupon live %v, account %+v", s.fake.Coupon(code), s.account(t, user))
	}
}

// An approval and a rejection of one redemption racing: exactly one wins; the other is a 409 that
// sends no e-mail. The rejection arrives while the approval is inside its Stripe call (the window
// in which the old code let both succeed), or before the approval starts.
func TestApproveAndRejectAreMutuallyExclusive(t *testing.T) {
	for _, rejectFirst := range []bool{false, true} {
		name := map[bool]string{false: "reject during the approval's Stripe call", true: "reject first"}[rejectFirst]
		t.Run(name, func(t *testing.T) {
			s := newStateful(t)
			user := "pia-" + time.Now().Format("150405.000000")
			s.grant(t, user, 500)
			red := s.redeem(t, user, `{"rewardId":"course-coupon-20"}`)
			path := map[string]string{"redemptionId": red.ID}
			reject := func() (int, string, error) {
				return s.invoke("reject-redemption", "root", true, path, `{"reason":"Changed my mind"}`)
			}
			var approveSt, rejectSt int
			var approveBody, rejectBody string
			if rejectFirst {
				var err error
				if rejectSt, rejectBody, err = reject(); err != nil {
					t.Fatal(err)
				}
				if approveSt, approveBody, err = s.invoke("approve-redemption", "root", true, path, ""); err != nil {
					t.Fatal(err)
				}
			} else {
				entered, release := s.tap.holdNext("POST /v1/coupons")
				done := make(chan error, 1)
				go func() {
					var err error
					approveSt, approveBody, err = s.invoke("approve-redemption", "root", true, path, "")
					done <- err
				}()
				select {
				case <-entered:
				case <-time.After(10 * time.Second):
					t.Fatal("the approval never reached Stripe")
				}
				var err error
				rejectSt, rejectBody, err = reject()
				release()
				if err != nil || <-done != nil {
					t.Fatal(err)
				}
			}
			a := s.account(t, user)
			coupons := s.stripe.Posts("/v1/coupons")
			couponLive := len(coupons) > 0 && s.fake.Coupon(coupons[0].Form.Get("id"))
			switch {
			case approveSt == 200 && rejectSt == 409:
				if !strings.Contains(approveBody, `"status":"fulfilled"`) || !couponLive || a.Held != 0 || a.Balance != 0 {
					t.Fatalf("approval won: %s, coupon live %v, account %+v", approveBody, couponLive, a)
				}
				if s.mails(t, user, "Your reward is here", 1) != 1 || s.mails(t, user, "not approved", 0) != 0 {
					t.Fatal("e-mails of the approval that won")
				}
			case rejectSt == 200 && approveSt == 409:
				if !strings.Contains(rejectBody, `"status":"rejected"`) || couponLive || a.Held != 0 || a.Available != 500 {
					t.Fatalf("rejection won: %s, coupon live %v, account %+v", rejectBody, couponLive, a)
				}
				if s.mails(t, user, "not approved", 1) != 1 || s.mails(t, user, "Your reward is", 0) != 0 {
					t.Fatal("e-mails of the rejection that won")
				}
			default:
				t.Fatalf("approve %d %s; reject %d %s; coupon live %v; account %+v", approveSt, approveBody, rejectSt, rejectBody, couponLive, a)
			}
			if rejectFirst != (rejectSt == 200) {
				t.Fatalf("the first decision must win: approve %d, reject %d", approveSt, rejectSt)
			}
		})
	}
}
