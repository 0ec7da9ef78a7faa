//go:build integration

package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/liberation/monetization/shared/rewards"
)

// A rewards coupon buys a course at 20 % off: redeemed with tokens, approved (the coupon is created
// at Stripe, in the stateful stand-in), then given at the course's checkout, which applies it as the
// session's discount. Only its owner can use it; an unknown code and a free course are refused.
func TestRewardsCouponAtCourseCheckout(t *testing.T) {
	m := startMarket(t)
	admin := m.Token(t, "root", "ops@example.com", "admin")
	itok := m.Token(t, m.id("instr"), "", "instructor")
	c, _ := m.publishedCourse(t, itok, "Coupon course", 4999)
	free, _ := m.publishedCourse(t, itok, "Free course", 0)
	lin, eve := m.id("lin"), m.id("eve")
	ltok, etok := m.Token(t, lin, lin+"@example.com"), m.Token(t, eve, eve+"@example.com")

	rwGrant(t, m.Harness, admin, lin, 500)
	var red rewards.RedemptionView
	m.Harness.Call(t, http.MethodPost, "/tokens/redemptions", ltok, map[string]string{"rewardId": "course-coupon-20"}, http.StatusCreated, &red, map[string]string{"Idempotency-Key": "coupon-" + lin})
	var approved rewards.AdminRedemptionView
	m.Harness.Call(t, http.MethodPost, "/admin/redemptions/"+red.ID+"/approve", admin, nil, http.StatusOK, &approved)
	code := approved.CouponCode
	if approved.Status != rewards.Fulfilled || !strings.HasPrefix(code, "LIB20-") {
		t.Fatalf("approved: %+v", approved)
	}

	urls := func(coupon string) map[string]string {
		return map[string]string{"successUrl": "https://app.example.com/ok", "cancelUrl": "https://app.example.com/no", "couponCode": coupon}
	}
	before := len(m.fake.Checkouts())
	m.Call(t, http.MethodPost, "/courses/"+c.ID+"/purchase", etok, urls(code), http.StatusUnprocessableEntity, nil) // not hers
	m.Call(t, http.MethodPost, "/courses/"+c.ID+"/purchase", ltok, urls("LIB20-0000000000"), http.StatusUnprocessableEntity, nil)
	m.Call(t, http.MethodPost, "/courses/"+c.ID+"/purchase", ltok, urls("20OFF"), http.StatusBadRequest, nil)
	m.Call(t, http.MethodPost, "/courses/"+free.ID+"/purchase", ltok, urls(code), http.StatusUnprocessableEntity, nil)
	if n := len(m.fake.Checkouts()); n != before {
		t.Fatalf("%d sessions created by refused requests", n-before)
	}

	var res struct {
		URL       string `json:"url"`
		SessionID string `json:"sessionId"`
	}
	m.Call(t, http.MethodPost, "/courses/"+c.ID+"/purchase", ltok, urls(code), http.StatusCreated, &res)
	cs := m.fake.Checkouts()
	if len(cs) != before+1 {
		t.Fatalf("%d sessions, want 1", len(cs)-before)
	}
	form := cs[len(cs)-1]
	if form.Get("discounts[0][coupon]") != code || form.Get("metadata[couponId]") != code || form.Get("metadata[userId]") != lin ||
		form.Get("line_items[0][price_data][unit_amount]") != "4999" {
		t.Fatalf("checkout session form: %v", form)
	}
}
