//go:build integration

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/stripefake"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/stripeapi"
)

// tapStripe routes every function's Stripe calls through a recorder (they share one client).
func tapStripe(h *Harness) *stripefake.Recorder {
	tap := &stripefake.Recorder{}
	stripeapi.Open(h.Env.Runtime).Set(stripefake.Client(localtest.StripeKey, os.Getenv(manifest.EnvStripeAPIBase), tap))
	return tap
}

// Fifty concurrent redemptions from a learner whose tokens cover three: the per-user limit lets five
// through and answers 429 to 45; of the five exactly three are held and two are refused with a 409
// that says why, and the balance and ledger are exact. Then an admin
// approves one (the coupon is created at Stripe and the learner gets the code by e-mail), rejects
// another (its tokens come back) and the learner cancels the third.
func TestRewardsRedemptionRaceAndWorkflow(t *testing.T) {
	h := Start(t)
	tap := tapStripe(h)
	admin := h.Token(t, "root", "ops@example.com", "admin")
	lin := rwUser("lin")
	tok := h.Token(t, lin, lin+"@example.com")
	rwGrant(t, h, admin, lin, 1500)

	const n = 50
	type result struct {
		status int
		body   []byte
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest(http.MethodPost, h.URL+"/tokens/redemptions", strings.NewReader(`{"rewardId":"course-coupon-20"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Idempotency-Key", fmt.Sprintf("race-%s-%d", lin, i))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			results[i] = result{res.StatusCode, b}
		}()
	}
	close(start)
	wg.Wait()
	var held []rewards.RedemptionView
	refused, limited := 0, 0
	for i, r := range results {
		switch r.status {
		case http.StatusCreated:
			var v rewards.RedemptionView
			if err := json.Unmarshal(r.body, &v); err != nil || v.Status != rewards.Pending {
				t.Fatalf("request %d: %s", i, r.body)
			}
			held = append(held, v)
		case http.StatusConflict:
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code != "conflict" ||
				e.Error.Message != "not enough tokens: 0 available, 500 needed" {
				t.Fatalf("request %d: refusal %s", i, r.body)
			}
			refused++
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("request %d: %d %s", i, r.status, r.body)
		}
	}
	// create-redemption's per-user limit (decision 0077) lets exactly its first perMinute requests
	// through; those race for the balance: 3 held, the rest refused for want of tokens.
	perMinute := manifest.MustByName("create-redemption").RateLimit.PerMinute
	if len(held) != 3 || refused != perMinute-3 || limited != n-perMinute {
		t.Fatalf("held %d, refused %d, rate-limited %d (limit %d a minute)", len(held), refused, limited, perMinute)
	}
	if b := rwBalance(t, h, tok); b.Balance != 1500 || b.Held != 1500 || b.Available != 0 {
		t.Fatalf("after the race: %+v", b)
	}
	txs := rwTransactions(t, h, tok)
	if len(txs) != 4 || txs[0].Kind != rewards.KindHold || txs[0].HeldAfter != 1500 || txs[0].AvailableAfter != 0 || txs[3].Kind != rewards.KindAdjust {
		t.Fatalf("ledger after the race: %+v", txs)
	}
	var mine struct {
		Redemptions []rewards.RedemptionView `json:"redemptions"`
	}
	rwGet(t, h, "/tokens/redemptions", tok, http.StatusOK, &mine)
	if len(mine.Redemptions) != 3 {
		t.Fatalf("stored redemptions: %+v", mine)
	}

	// The admin queue shows the three, oldest first.
	var queue struct {
		Redemptions []rewards.AdminRedemptionView `json:"redemptions"`
	}
	rwGet(t, h, "/admin/redemptions?status=pending", admin, http.StatusOK, &queue)
	if len(queue.Redemptions) != 3 || queue.Redemptions[0].UserID != lin {
		t.Fatalf("admin queue: %+v", queue)
	}

	// Approve: the coupon exists at Stripe — this is the request we sent — and the code is e-mailed.
	approved := held[0]
	var v rewards.AdminRedemptionView
	h.Call(t, http.MethodPost, "/admin/redemptions/"+approved.ID+"/approve", admin, nil, http.StatusOK, &v)
	code := v.CouponCode // drawn at random: nothing in the redemption id tells it
	if v.Status != rewards.Fulfilled || len(code) != 16 || !strings.HasPrefix(code, "LIB20-") ||
		strings.Contains(approved.ID, code[6:]) || v.EmailSent == nil || !*v.EmailSent {
		t.Fatalf("approved: %+v", v)
	}
	posts := tap.Posts("")
	if len(posts) != 1 || posts[0].Path != "/v1/coupons" || posts[0].Key != "redemption-"+approved.ID+"-coupon" ||
		posts[0].Form.Get("id") != code || posts[0].Form.Get("percent_off") != "20.0000" || posts[0].Form.Get("max_redemptions") != "1" ||
		posts[0].Form.Get("duration") != "once" || posts[0].Form.Get("metadata[userId]") != lin || posts[0].Form.Get("metadata[redemptionId]") != approved.ID {
		t.Fatalf("Stripe requests: %+v", posts)
	}
	msgs := h.Env.Mailpit.WaitFor(t, "to:"+lin+"@example.com", 1)
	if len(msgs) != 1 || msgs[0].Subject != "Your reward is here: 20% off a course" {
		t.Fatalf("mail: %+v", msgs)
	}
	if m := h.Env.Mailpit.Get(t, msgs[0].ID); !strings.Contains(m.Text, code) {
		t.Fatalf("the code is not in the e-mail: %s", m.Text)
	}
	h.Call(t, http.MethodPost, "/admin/redemptions/"+approved.ID+"/approve", admin, nil, http.StatusConflict, nil)

	// Reject: the tokens come back, and the learner is told why.
	h.Call(t, http.MethodPost, "/admin/redemptions/"+held[1].ID+"/reject", admin, map[string]string{"reason": "Duplicate request"}, http.StatusOK, &v)
	if v.Status != rewards.Rejected {
		t.Fatalf("rejected: %+v", v)
	}
	if b := rwBalance(t, h, tok); b.Balance != 1000 || b.Held != 500 || b.Available != 500 {
		t.Fatalf("after approve and reject: %+v", b)
	}
	h.Env.Mailpit.WaitFor(t, "to:"+lin+"@example.com subject:\"not approved\"", 1)

	// The learner cancels the last; someone else cannot; an admin cannot approve it afterwards.
	h.Call(t, http.MethodPost, "/tokens/redemptions/"+held[2].ID+"/cancel", h.Token(t, "mallory", "m@example.com"), nil, http.StatusNotFound, nil)
	h.Call(t, http.MethodPost, "/tokens/redemptions/"+held[2].ID+"/cancel", tok, nil, http.StatusOK, nil)
	h.Call(t, http.MethodPost, "/admin/redemptions/"+held[2].ID+"/approve", admin, nil, http.StatusConflict, nil)
	b := rwBalance(t, h, tok)
	if b.Balance != 1000 || b.Held != 0 || b.Available != 1000 || b.LifetimeEarned != 1500 {
		t.Fatalf("final: %+v", b)
	}
	if len(tap.Posts("")) != 1 {
		t.Fatalf("only the approved coupon may reach Stripe: %+v", tap.Posts(""))
	}
	// Bad input: unknown reward, no Idempotency-Key — from another learner, since lin has used this
	// minute's requests (decision 0077); lin's account must not move either.
	other := h.Token(t, rwUser("ola"), "ola@example.com")
	h.Call(t, http.MethodPost, "/tokens/redemptions", other, map[string]any{"rewardId": "gold-bar"}, http.StatusBadRequest, nil, map[string]string{"Idempotency-Key": "bad-1"})
	h.Call(t, http.MethodPost, "/tokens/redemptions", other, map[string]any{"rewardId": "course-coupon-20"}, http.StatusBadRequest, nil)
	if b2 := rwBalance(t, h, tok); b2 != b {
		t.Fatalf("refused requests changed the account: %+v", b2)
	}
}
