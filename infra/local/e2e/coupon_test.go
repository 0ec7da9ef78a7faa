//go:build integration

package e2e

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/books"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/marketplace"
	"github.com/liberation/monetization/shared/rewards"
)

// A rewards coupon buys a course at 20 % off: redeemed with tokens, approved (the coupon is created
// at Stripe, in the stateful stand-in), then given at the course's checkout, which applies it as the
// session's discount. Only its owner can use it; an unknown code and a free course are refused.
// Stripe's checkout.session.completed then books the sale of what was paid, with the discount the
// tokens paid in its journal entry (docs/books.md, "Token redemption: coupon") and in the month
// statement's token-funded discounts.
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

	// Stripe completes that session: 20 % of 4999 is 1000 off (Stripe rounds to the cent), 3999
	// paid. The event carries the metadata the session was created with, and the discount.
	paidAt := time.Now().UTC().Add(-time.Minute)
	o := stripeevents.CoursePurchase(lin, c.ID, 3999)
	o.SessionID, o.PaymentIntentID, o.ChargeID = res.SessionID, "pi_"+lin, "ch_"+lin
	o.EventID, o.Created = "evt_"+res.SessionID, paidAt
	o.Metadata["couponId"] = form.Get("metadata[couponId]")
	m.fake.SetIntent(o.PaymentIntentID, o.ChargeID)
	o.DiscountCents = 1000
	post(t, m.Harness, stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, o))

	itokSales := m.sales(t, itok)
	if len(itokSales) != 1 || itokSales[0].AmountCents != 3999 || itokSales[0].InstructorShareCents != 2799 || itokSales[0].PlatformShareCents != 1200 {
		t.Fatalf("the instructor's sales: %+v", itokSales)
	}
	// The sale's entry: what was paid split 70/30, the tokens' 1000 a marketing expense on the
	// buyer grossing the commission up to 1200 + 1000; debits = credits = the course's price.
	e, err := journal.Repo{S: m.Env.Store()}.Get(context.Background(), journal.EntryID(marketplace.JournalSale, o.PaymentIntentID))
	if err != nil {
		t.Fatalf("the sale's journal entry: %v", err)
	}
	want := []journal.Line{{Account: journal.InstructorPayablePending, Credit: 2799, Party: m.id("instr")},
		{Account: journal.StripeInFlight, Debit: 3999}, {Account: journal.MarketingTokenRedemptions, Debit: 1000, Party: lin},
		{Account: journal.RevenueMarketplaceCommission, Credit: 2200}}
	if !slices.Equal(e.Lines, want) {
		t.Fatalf("sale entry %+v\nwant %+v", e.Lines, want)
	}
	// The month's statement counts it in the token-funded discounts (the coupon's redemption
	// itself posted nothing: a coupon costs nothing until a checkout applies it).
	var st books.StatementView
	m.Call(t, http.MethodGet, "/admin/books/statement?month="+paidAt.Format("2006-01"), admin, nil, http.StatusOK, &st)
	if len(st.Currencies) != 1 || st.Currencies[0].Currency != "usd" || st.Currencies[0].TokenDiscounts != 1000 {
		t.Fatalf("statement %+v, want usd token discounts 1000", st)
	}
	for _, sr := range st.Currencies[0].Streams {
		if sr.Stream == "marketplace_commission" && sr.Gross != 2200 {
			t.Fatalf("marketplace commission %+v, want gross 2200", sr)
		}
	}
}
