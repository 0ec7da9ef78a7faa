//go:build integration

package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
)

// A coupon approved while Stripe fails stays approved with its tokens held, and only an admin's
// POST …/fulfil delivers it: the path of fulfil-redemption, which no other end-to-end test takes
// (issue 16: its grants, ses:SendEmail among them, must be used by the suite). A retry Stripe also
// fails is a 503 that changes nothing the learner sees; the one that succeeds creates the same
// coupon (same code, same idempotency key), spends the held tokens in one ledger entry, and mails
// the code — through SES, the bridge, to mailpit — exactly once.
func TestAdminFulfilsACouponApprovedWhileStripeFailed(t *testing.T) {
	h := Start(t)
	tap := tapStripe(h)
	admin := h.Token(t, "root", "ops@example.com", "admin")
	kai := rwUser("kai")
	email := kai + "@example.com"
	tok := h.Token(t, kai, email)
	rwGrant(t, h, admin, kai, 1000)
	reward, ok := rewardcatalog.ByID(rewardcatalog.CourseCoupon)
	if !ok {
		t.Fatalf("%s is not in the reward catalogue", rewardcatalog.CourseCoupon)
	}

	var red rewards.RedemptionView
	h.Call(t, http.MethodPost, "/tokens/redemptions", tok, map[string]any{"rewardId": reward.ID}, http.StatusCreated, &red,
		map[string]string{"Idempotency-Key": "fulfil-" + kai})
	if red.Status != rewards.Pending || red.Cost != reward.Cost {
		t.Fatalf("created: %+v", red)
	}

	// Approval while Stripe answers 500: approved, not fulfilled, the error recorded for the admin,
	// the tokens still held, and the learner told it is approved (no code yet).
	tap.FailNext(1)
	var v rewards.AdminRedemptionView
	h.Call(t, http.MethodPost, "/admin/redemptions/"+red.ID+"/approve", admin, nil, http.StatusOK, &v)
	if v.Status != rewards.Approved || v.FulfilmentError == "" || v.FulfilmentAttempts != 1 || v.CouponCode != "" ||
		v.FulfilledAt != nil || v.EmailSent == nil || !*v.EmailSent {
		t.Fatalf("approved while Stripe failed: %+v", v)
	}
	if b := rwBalance(t, h, tok); b.Balance != 1000 || b.Held != reward.Cost || b.Available != 1000-reward.Cost {
		t.Fatalf("tokens must stay held until fulfilled: %+v", b)
	}
	approval := h.Env.Mailpit.WaitFor(t, "to:"+email, 1)
	if len(approval) != 1 || approval[0].Subject != "Your reward is approved: "+reward.Name {
		t.Fatalf("mail after the approval: %+v", approval)
	}
	failed := tap.Posts("/v1/coupons")
	if len(failed) != 1 {
		t.Fatalf("Stripe requests of the approval: %+v", tap.All())
	}
	// The code was drawn at approval and is the coupon's id: every retry must create that coupon.
	code, key := failed[0].Form.Get("id"), failed[0].Key
	if !strings.HasPrefix(code, "LIB20-") || len(code) != 16 || key != "redemption-"+red.ID+"-coupon" {
		t.Fatalf("the approval's coupon request: %+v", failed[0])
	}

	// A note is for rewards fulfilled by hand; a coupon's is refused before Stripe is asked.
	h.Call(t, http.MethodPost, "/admin/redemptions/"+red.ID+"/fulfil", admin, map[string]string{"note": "by hand"}, http.StatusBadRequest, nil)
	if n := len(tap.Posts("")); n != 1 {
		t.Fatalf("a refused fulfil reached Stripe: %+v", tap.All())
	}

	// The route wants a body; {} asks for the Stripe fulfilment to be retried.
	noNote := map[string]string{}

	// Only admins fulfil.
	h.Call(t, http.MethodPost, "/admin/redemptions/"+red.ID+"/fulfil", tok, noNote, http.StatusForbidden, nil)

	// A retry while Stripe still fails: a 503 to try again (Stripe's answer stays in the logs); still
	// approved, tokens still held.
	tap.FailNext(1)
	var e struct {
		Error struct{ Code, Message string }
	}
	h.Call(t, http.MethodPost, "/admin/redemptions/"+red.ID+"/fulfil", admin, noNote, http.StatusServiceUnavailable, &e)
	if e.Error.Code != "unavailable" || e.Error.Message == "" || strings.Contains(e.Error.Message, "injected") {
		t.Fatalf("a retry Stripe fails: %+v", e)
	}
	var approved struct {
		Redemptions []rewards.AdminRedemptionView `json:"redemptions"`
	}
	rwGet(t, h, "/admin/redemptions?status=approved", admin, http.StatusOK, &approved)
	if len(approved.Redemptions) != 1 || approved.Redemptions[0].ID != red.ID ||
		approved.Redemptions[0].FulfilmentAttempts != 2 || approved.Redemptions[0].FulfilmentError == "" {
		t.Fatalf("admin queue after the failed retry: %+v", approved)
	}
	if b := rwBalance(t, h, tok); b.Balance != 1000 || b.Held != reward.Cost {
		t.Fatalf("a failed retry moved tokens: %+v", b)
	}

	// The retry that succeeds: fulfilled, the drawn code delivered, the error cleared.
	v = rewards.AdminRedemptionView{}
	h.Call(t, http.MethodPost, "/admin/redemptions/"+red.ID+"/fulfil", admin, noNote, http.StatusOK, &v)
	if v.Status != rewards.Fulfilled || v.CouponCode != code || v.FulfilmentError != "" || v.FulfilmentAttempts != 3 ||
		v.FulfilledAt == nil || v.DecidedBy != "root" || v.EmailSent == nil || !*v.EmailSent {
		t.Fatalf("fulfilled: %+v", v)
	}
	posts := tap.Posts("")
	if len(posts) != 3 {
		t.Fatalf("Stripe requests: want the approval's and two retries, got %+v", posts)
	}
	for i, p := range posts {
		if p.Path != "/v1/coupons" || p.Key != key || p.Form.Get("id") != code || p.Form.Get("percent_off") != "20.0000" ||
			p.Form.Get("max_redemptions") != "1" || p.Form.Get("metadata[userId]") != kai || p.Form.Get("metadata[redemptionId]") != red.ID {
			t.Fatalf("Stripe request %d is not the approval's coupon again: %+v", i, p)
		}
	}

	// What the learner sees: the redemption fulfilled with its code, the held tokens spent.
	var mine struct {
		Redemptions []rewards.RedemptionView `json:"redemptions"`
	}
	rwGet(t, h, "/tokens/redemptions", tok, http.StatusOK, &mine)
	if len(mine.Redemptions) != 1 || mine.Redemptions[0].Status != rewards.Fulfilled || mine.Redemptions[0].CouponCode != code {
		t.Fatalf("the learner's redemptions: %+v", mine)
	}
	left := 1000 - reward.Cost
	if b := rwBalance(t, h, tok); b.Balance != left || b.Held != 0 || b.Available != left || b.LifetimeEarned != 1000 {
		t.Fatalf("after fulfilment: %+v", b)
	}
	txs := rwTransactions(t, h, tok) // newest first
	kinds := make([]rewards.Kind, len(txs))
	for i, x := range txs {
		kinds[i] = x.Kind
	}
	if !slices.Equal(kinds, []rewards.Kind{rewards.KindRedeem, rewards.KindHold, rewards.KindAdjust}) {
		t.Fatalf("ledger: %+v", txs)
	}
	if s := txs[0]; s.SourceID != red.ID || s.Delta != -reward.Cost || s.HeldDelta != -reward.Cost ||
		s.BalanceAfter != left || s.HeldAfter != 0 || s.AvailableAfter != left {
		t.Fatalf("the spend: %+v", s)
	}

	// The e-mail: from our sending identity, to the learner, with the code and the request id.
	msgs := h.Env.Mailpit.WaitFor(t, "to:"+email, 2)
	var here []localtest.MessageSummary
	for _, m := range msgs {
		if m.Subject == "Your reward is here: "+reward.Name {
			here = append(here, m)
		}
	}
	if len(msgs) != 2 || len(here) != 1 {
		t.Fatalf("mail: want the approval and one delivery, got %+v", msgs)
	}
	m := h.Env.Mailpit.Get(t, here[0].ID)
	if m.From.Address != localtest.MailFrom || !strings.Contains(m.Text, code) || !strings.Contains(m.Text, red.ID) ||
		!strings.Contains(m.HTML, code) {
		t.Fatalf("the delivery e-mail (from %q): %s", m.From.Address, m.Text)
	}

	// Fulfilled is final: a second fulfil is a 409 that asks Stripe nothing and mails nothing.
	h.Call(t, http.MethodPost, "/admin/redemptions/"+red.ID+"/fulfil", admin, noNote, http.StatusConflict, nil)
	if n := len(tap.Posts("")); n != 3 {
		t.Fatalf("a second fulfil reached Stripe: %+v", tap.All())
	}
	// The bridge relays over SMTP before SendEmail answers, so a third message would be in mailpit now.
	if again := h.Env.Mailpit.Search(t, "to:"+email); len(again) != 2 {
		t.Fatalf("a second fulfil mailed: %+v", again)
	}

	// The mail went out under fulfil-redemption's own role: the local IAM check allowed and recorded
	// its ses:SendEmail — the grant this test exists to exercise — and, with it, every other grant of
	// the function (table, index, Stripe key parameter), so the suite's grant-vs-use check finds none
	// of them unused.
	usesCoverGrants(t, "fulfil-redemption", "ses:SendEmail")
}
