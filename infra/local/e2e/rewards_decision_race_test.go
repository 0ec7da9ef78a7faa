//go:build integration

package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/liberation/monetization/shared/rewards"
)

// An admin approving and another rejecting the same coupon redemptions at the same moment, through
// the gateway: for each redemption exactly one decision wins and the other is a 409 that e-mails
// nothing; a coupon exists at Stripe for exactly the approved ones, and the learner's tokens are
// spent for those and back for the rest.
func TestRewardsApproveAndRejectRace(t *testing.T) {
	m := startMarket(t)
	admin := m.Token(t, "root", "ops@example.com", "admin")
	lin := m.id("lin")
	tok := m.Token(t, lin, lin+"@example.com")
	const n = 5 // create-redemption allows 5 a minute per user (decision 0077)
	rwGrant(t, m.Harness, admin, lin, n*500)
	reds := make([]rewards.RedemptionView, n)
	for i := range reds {
		m.Harness.Call(t, http.MethodPost, "/tokens/redemptions", tok, map[string]string{"rewardId": "course-coupon-20"}, http.StatusCreated, &reds[i], map[string]string{"Idempotency-Key": fmt.Sprintf("race-%s-%d", lin, i)})
	}
	type answer struct {
		status int
		body   string
		err    error
	}
	answers := make([]answer, 2*n) // even: approve, odd: reject
	all(2*n, func(i int) {
		path, body := "/admin/redemptions/"+reds[i/2].ID+"/approve", ""
		if i%2 == 1 {
			path, body = "/admin/redemptions/"+reds[i/2].ID+"/reject", `{"reason":"Decided elsewhere"}`
		}
		req, err := http.NewRequest(http.MethodPost, m.URL+path, bytes.NewReader([]byte(body)))
		if err != nil {
			answers[i] = answer{err: err}
			return
		}
		req.Header.Set("Authorization", "Bearer "+admin)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			answers[i] = answer{err: err}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		answers[i] = answer{status: res.StatusCode, body: string(b)}
	})
	approved, rejected := 0, 0
	live := m.fake.CouponIDs()
	for i := 0; i < n; i++ {
		a, r := answers[2*i], answers[2*i+1]
		if a.err != nil || r.err != nil {
			t.Fatalf("redemption %d: %v %v", i, a.err, r.err)
		}
		switch {
		case a.status == http.StatusOK && r.status == http.StatusConflict:
			v := decode[rewards.AdminRedemptionView](t, []byte(a.body))
			if v.Status != rewards.Fulfilled || !slices.Contains(live, v.CouponCode) {
				t.Fatalf("redemption %d approved: %s; live coupons %v", i, a.body, live)
			}
			approved++
		case r.status == http.StatusOK && a.status == http.StatusConflict:
			if !strings.Contains(r.body, `"status":"rejected"`) {
				t.Fatalf("redemption %d rejected: %s", i, r.body)
			}
			rejected++
		default:
			t.Fatalf("redemption %d: approve %d %s; reject %d %s", i, a.status, a.body, r.status, r.body)
		}
	}
	t.Logf("%d approved, %d rejected", approved, rejected)
	if len(live) != approved {
		t.Fatalf("%d coupons live at Stripe for %d approvals: %v", len(live), approved, live)
	}
	b := rwBalance(t, m.Harness, tok)
	if b.Held != 0 || b.Balance != int64(n-approved)*500 || b.Available != b.Balance || b.Owed != 0 {
		t.Fatalf("after %d approvals and %d rejections: %+v", approved, rejected, b)
	}
	q := "to:" + lin + "@example.com"
	if approved > 0 {
		m.Env.Mailpit.WaitFor(t, q+` subject:"Your reward is here"`, approved)
	}
	if rejected > 0 {
		m.Env.Mailpit.WaitFor(t, q+` subject:"not approved"`, rejected)
	}
	if got := len(m.Env.Mailpit.Search(t, q)); got != n {
		t.Fatalf("%d e-mails for %d decisions (a losing decision must send none)", got, n)
	}
}
