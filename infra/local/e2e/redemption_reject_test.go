//go:build integration

package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/stripefake"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
	"github.com/liberation/monetization/shared/stripeapi"
)

// A coupon approved while Stripe failed may be live at Stripe all the same (the creation's answer
// lost), so rejecting it revokes it there first: the path of reject-redemption that reads the Stripe
// key, which no other end-to-end test takes (issue 16: every grant must be used by the suite).
// Stripe here is the stateful fake (in front of stripe-mock), so a coupon that was never created is
// Stripe's real 404 on DELETE, and one that was is really deleted.
//
// Two coupons: A's approval never reached Stripe (DELETE answers 404, which counts as revoked); B's
// reached it and only the answer was lost (the coupon exists; the rejection deletes it). A revoke
// Stripe fails is a 503 that leaves A approved, its tokens held and the learner unmailed. Each
// rejection releases the held tokens in one ledger entry and mails the learner the reason.
func TestAdminRejectsACouponApprovedWhileStripeFailed(t *testing.T) {
	h := Start(t)
	fake := stripefake.Start(t, h.Env.Getenv(manifest.EnvStripeAPIBase))
	tap := &stripefake.Recorder{}
	stripeapi.Open(h.Env.Runtime).Set(stripefake.Client(localtest.StripeKey, fake.URL, tap))
	admin := h.Token(t, "root", "ops@example.com", "admin")
	noa := rwUser("noa")
	email := noa + "@example.com"
	tok := h.Token(t, noa, email)
	reward, ok := rewardcatalog.ByID(rewardcatalog.CourseCoupon)
	if !ok {
		t.Fatalf("%s is not in the reward catalogue", rewardcatalog.CourseCoupon)
	}
	granted := 2*reward.Cost + 100
	rwGrant(t, h, admin, noa, granted)

	// approvedUnfulfilled redeems the coupon and approves it while Stripe answers 500; it returns
	// the redemption and the coupon id the approval drew (the id every later Stripe call names).
	approvedUnfulfilled := func(key string) (rewards.RedemptionView, string) {
		t.Helper()
		var red rewards.RedemptionView
		h.Call(t, http.MethodPost, "/tokens/redemptions", tok, map[string]any{"rewardId": reward.ID}, http.StatusCreated, &red,
			map[string]string{"Idempotency-Key": key + "-" + noa})
		before := len(tap.Posts("/v1/coupons"))
		tap.FailNext(1)
		var v rewards.AdminRedemptionView
		h.Call(t, http.MethodPost, "/admin/redemptions/"+red.ID+"/approve", admin, nil, http.StatusOK, &v)
		if v.Status != rewards.Approved || v.FulfilmentError == "" || v.FulfilmentAttempts != 1 || v.FulfilledAt != nil {
			t.Fatalf("approved while Stripe failed: %+v", v)
		}
		posts := tap.Posts("/v1/coupons")
		if len(posts) != before+1 {
			t.Fatalf("Stripe requests of the approval: %+v", tap.All())
		}
		code := posts[len(posts)-1].Form.Get("id")
		if !strings.HasPrefix(code, "LIB20-") || fake.Coupon(code) {
			t.Fatalf("the approval's coupon %q (exists at Stripe: %v)", code, fake.Coupon(code))
		}
		return red, code
	}
	deletes := func(code string) int {
		n := 0
		for _, r := range tap.All() {
			if r.Method == http.MethodDelete && r.Path == "/v1/coupons/"+code {
				n++
			}
		}
		return n
	}
	balance := func(wantHeld int64) {
		t.Helper()
		if b := rwBalance(t, h, tok); b.Balance != granted || b.Held != wantHeld || b.Available != granted-wantHeld {
			t.Fatalf("balance: %+v, want %d held of %d", b, wantHeld, granted)
		}
	}
	type apiErr struct {
		Error struct{ Code, Message string }
	}

	// A: the approval never reached Stripe.
	redA, codeA := approvedUnfulfilled("reject-a")
	balance(reward.Cost)
	h.Env.Mailpit.WaitFor(t, "to:"+email, 1) // the approval's e-mail

	// Only admins reject, and a reason is required; neither refusal reaches Stripe.
	reason := "Coupons are paused this month"
	h.Call(t, http.MethodPost, "/admin/redemptions/"+redA.ID+"/reject", tok, map[string]string{"reason": reason}, http.StatusForbidden, nil)
	h.Call(t, http.MethodPost, "/admin/redemptions/"+redA.ID+"/reject", admin, map[string]string{"reason": "no"}, http.StatusBadRequest, nil)
	if n := deletes(codeA); n != 0 {
		t.Fatalf("a refused rejection asked Stripe to delete the coupon %d times", n)
	}

	// The revoke fails at Stripe: a 503 to retry; nothing changed for the learner.
	tap.FailNext(1)
	var e apiErr
	h.Call(t, http.MethodPost, "/admin/redemptions/"+redA.ID+"/reject", admin, map[string]string{"reason": reason}, http.StatusServiceUnavailable, &e)
	if e.Error.Code != "unavailable" || strings.Contains(e.Error.Message, "injected") || deletes(codeA) != 1 {
		t.Fatalf("a rejection whose revoke Stripe fails: %+v (deletes %d)", e, deletes(codeA))
	}
	var approved struct {
		Redemptions []rewards.AdminRedemptionView `json:"redemptions"`
	}
	rwGet(t, h, "/admin/redemptions?status=approved", admin, http.StatusOK, &approved)
	if len(approved.Redemptions) != 1 || approved.Redemptions[0].ID != redA.ID || approved.Redemptions[0].Reason != "" {
		t.Fatalf("admin queue after the failed revoke: %+v", approved)
	}
	balance(reward.Cost)
	if msgs := h.Env.Mailpit.Search(t, "to:"+email); len(msgs) != 1 {
		t.Fatalf("a failed rejection mailed: %+v", msgs)
	}

	// The retry: Stripe answers the DELETE of a coupon it never had with 404, which the revoke takes
	// as done (nothing is live), so the redemption is rejected and its tokens released.
	var v rewards.AdminRedemptionView
	h.Call(t, http.MethodPost, "/admin/redemptions/"+redA.ID+"/reject", admin, map[string]string{"reason": "  " + reason + " "}, http.StatusOK, &v)
	if v.Status != rewards.Rejected || v.Reason != reason || v.DecidedBy != "root" || v.FulfilmentError != "" ||
		v.FulfilledAt != nil || v.EmailSent == nil || !*v.EmailSent {
		t.Fatalf("rejected: %+v", v)
	}
	if n := deletes(codeA); n != 2 || fake.Coupon(codeA) {
		t.Fatalf("DELETE /v1/coupons/%s sent %d times (want the failed one and the retry); exists: %v", codeA, n, fake.Coupon(codeA))
	}
	balance(0)

	// Rejected is final: again is a 409 that asks Stripe nothing.
	h.Call(t, http.MethodPost, "/admin/redemptions/"+redA.ID+"/reject", admin, map[string]string{"reason": reason}, http.StatusConflict, nil)
	if n := deletes(codeA); n != 2 {
		t.Fatalf("a second rejection reached Stripe: %+v", tap.All())
	}

	// B: Stripe created the coupon but the approval never heard (what a lost answer leaves behind:
	// the coupon under the drawn id, live at Stripe while the redemption is approved).
	redB, codeB := approvedUnfulfilled("reject-b")
	balance(reward.Cost)
	if _, err := fake.API(localtest.StripeKey).Coupons.New(&stripe.CouponParams{ID: stripe.String(codeB),
		PercentOff: stripe.Float64(20), Duration: stripe.String("once"), MaxRedemptions: stripe.Int64(1)}); err != nil || !fake.Coupon(codeB) {
		t.Fatalf("creating the lost coupon at the fake: %v", err)
	}
	reasonB := "Duplicate of an earlier request"
	v = rewards.AdminRedemptionView{}
	h.Call(t, http.MethodPost, "/admin/redemptions/"+redB.ID+"/reject", admin, map[string]string{"reason": reasonB}, http.StatusOK, &v)
	if v.Status != rewards.Rejected || v.Reason != reasonB || v.EmailSent == nil || !*v.EmailSent {
		t.Fatalf("B rejected: %+v", v)
	}
	if deletes(codeB) != 1 || fake.Coupon(codeB) {
		t.Fatalf("the live coupon %s was not deleted at Stripe (deletes %d)", codeB, deletes(codeB))
	}
	balance(0)

	// What the learner sees: both rejected with their reasons, no code.
	var mine struct {
		Redemptions []rewards.RedemptionView `json:"redemptions"`
	}
	rwGet(t, h, "/tokens/redemptions", tok, http.StatusOK, &mine)
	got := map[string]rewards.RedemptionView{}
	for _, r := range mine.Redemptions {
		got[r.ID] = r
	}
	if len(got) != 2 || got[redA.ID].Status != rewards.Rejected || got[redA.ID].Reason != reason ||
		got[redB.ID].Status != rewards.Rejected || got[redB.ID].Reason != reasonB || got[redA.ID].CouponCode+got[redB.ID].CouponCode != "" {
		t.Fatalf("the learner's redemptions: %+v", mine)
	}

	// The ledger, newest first: each hold released by one unhold naming its redemption; nothing spent.
	txs := rwTransactions(t, h, tok)
	kinds := make([]rewards.Kind, len(txs))
	for i, x := range txs {
		kinds[i] = x.Kind
	}
	if !slices.Equal(kinds, []rewards.Kind{rewards.KindUnhold, rewards.KindHold, rewards.KindUnhold, rewards.KindHold, rewards.KindAdjust}) {
		t.Fatalf("ledger: %+v", txs)
	}
	for i, id := range map[int]string{0: redB.ID, 2: redA.ID} {
		if u := txs[i]; u.SourceID != id || u.Delta != 0 || u.HeldDelta != -reward.Cost || u.BalanceAfter != granted ||
			u.HeldAfter != 0 || u.AvailableAfter != granted {
			t.Fatalf("the release of %s: %+v", id, u)
		}
	}

	// The e-mails: an approval and a rejection per redemption; each rejection says why and that the
	// tokens are back.
	msgs := h.Env.Mailpit.WaitFor(t, "to:"+email, 4)
	var rejections []localtest.MessageSummary
	for _, m := range msgs {
		if m.Subject == "Your reward request was not approved" {
			rejections = append(rejections, m)
		}
	}
	if len(msgs) != 4 || len(rejections) != 2 {
		t.Fatalf("mail: want two approvals and two rejections, got %+v", msgs)
	}
	for _, want := range []struct{ id, reason string }{{redA.ID, reason}, {redB.ID, reasonB}} {
		found := false
		for _, s := range rejections {
			m := h.Env.Mailpit.Get(t, s.ID)
			if strings.Contains(m.Text, want.id) {
				found = true
				if m.From.Address != localtest.MailFrom || !strings.Contains(m.Text, want.reason) || !strings.Contains(m.Text, "tokens are back") {
					t.Fatalf("the rejection e-mail of %s (from %q): %s", want.id, m.From.Address, m.Text)
				}
			}
		}
		if !found {
			t.Fatalf("no rejection e-mail names %s", want.id)
		}
	}

	// reject-redemption's recorded uses: the Stripe key read, the table and ses:SendEmail, i.e. every
	// grant it has (the suite's grant-vs-use check finds none unused).
	usesCoverGrants(t, "reject-redemption", "ssm:")
}
