//go:build integration

package apispec_test

import (
	"testing"
	"time"

	"github.com/liberation/monetization/shared/facts"
	"github.com/liberation/monetization/shared/rewards"
)

// rewardsContract drives every rewards route (issue 7) through its real handler and validates the
// answers against docs/openapi.yaml: successes, and the errors a client must handle.
func rewardsContract(t *testing.T, c *contract) {
	t.Helper()
	lin, kai, admin := newCaller(false), newCaller(false), newCaller(true)
	teacher := newCaller(false)
	teacher.groups = "[instructor]"
	key := func() map[string]string { return map[string]string{"Idempotency-Key": "k-" + randHex(6)} }
	var res result

	// Public routes.
	c.call(req{fn: "list-rewards"}, 200)
	c.call(req{fn: "get-global-leaderboard", query: map[string]string{"period": "all"}}, 200)
	c.call(req{fn: "get-global-leaderboard", query: map[string]string{"period": "month"}, invalid: true}, 400)
	c.call(req{fn: "get-global-leaderboard", query: map[string]string{"limit": "101"}, invalid: true}, 400)

	// A new learner.
	c.call(req{fn: "get-token-balance", as: lin}, 200)
	c.call(req{fn: "get-token-balance"}, 401)
	c.call(req{fn: "get-profile", as: lin}, 200)
	c.call(req{fn: "update-profile", as: lin, body: `{"displayName":"Lin Q.","leaderboardOptOut":false}`}, 200)
	c.call(req{fn: "update-profile", as: lin, body: `{"displayName":"lin@example.com","leaderboardOptOut":false}`}, 400)
	c.call(req{fn: "update-profile", as: lin, body: `{"displayName":"Lin"}`, invalid: true}, 400)

	// Earning: a learning event and a fact, as their queues deliver them.
	now := time.Now().UTC()
	c.consume("apply-learning-events", rewards.EventCourseCompleted, "evt-"+randHex(4), rewards.LearningEvent{
		EventID: "evt-1", Time: now, Source: rewards.LearningSource, Detail: rewards.LearningDetail{UserID: lin.sub, CourseID: "crs_1"}})
	rn := facts.SubscriptionRenewedFact{UserID: lin.sub, Tier: "enterprise", InvoiceID: "in_" + randHex(4), PaidAt: now}
	c.consume("apply-facts", facts.SubscriptionRenewed, rn.DedupeID(), rn)

	// Admin grants (the key is required), then the learner's ledger.
	grant := func(who *caller, n int64) {
		c.call(req{fn: "adjust-tokens", as: admin, headers: key(),
			body: jsonBody(map[string]any{"userId": who.sub, "amount": n, "reason": "contract test"})}, 201)
	}
	grant(lin, 3850) // 100 + 50 + 3850 = 4000
	c.call(req{fn: "adjust-tokens", as: admin, body: jsonBody(map[string]any{"userId": lin.sub, "amount": 5, "reason": "no key"}), invalid: true}, 400)
	c.call(req{fn: "adjust-tokens", as: admin, headers: key(), body: jsonBody(map[string]any{"userId": lin.sub, "amount": 0, "reason": "zero"}), invalid: true}, 400)
	c.call(req{fn: "adjust-tokens", as: admin, headers: key(), body: jsonBody(map[string]any{"userId": kai.sub, "amount": -5, "reason": "more than kai has"})}, 409)
	c.call(req{fn: "adjust-tokens", as: lin, headers: key(), body: jsonBody(map[string]any{"userId": lin.sub, "amount": 5, "reason": "self-service"})}, 403)
	res = c.call(req{fn: "get-token-balance", as: lin}, 200)
	var bal rewards.BalanceView
	res.json(t, &bal)
	if bal.Balance != 4000 || bal.LifetimeEarned != 4000 {
		t.Fatalf("lin's balance: %+v", bal)
	}
	res = c.call(req{fn: "list-token-transactions", as: lin, query: map[string]string{"limit": "2"}}, 200)
	var page struct {
		NextCursor string `json:"nextCursor"`
	}
	res.json(t, &page)
	c.call(req{fn: "list-token-transactions", as: lin, query: map[string]string{"limit": "2", "cursor": page.NextCursor}}, 200)
	c.call(req{fn: "list-token-transactions", as: kai, query: map[string]string{"cursor": page.NextCursor}}, 400)

	// Redemptions: hold, refuse, cancel, approve (Stripe), reject, fulfil by hand.
	redeem := func(body string, status int) rewards.RedemptionView {
		var v rewards.RedemptionView
		res := c.call(req{fn: "create-redemption", as: lin, headers: key(), body: body}, status)
		if status == 201 {
			res.json(t, &v)
		}
		return v
	}
	coupon := redeem(`{"rewardId":"course-coupon-20"}`, 201)
	credit := redeem(`{"rewardId":"subscription-credit-5"}`, 201)
	merch := redeem(`{"rewardId":"merchandise-pack","shippingAddress":{"name":"Lin Q","line1":"1 Main St","city":"Springfield","postalCode":"12345","country":"US"}}`, 201)
	late := redeem(`{"rewardId":"course-coupon-20"}`, 201) // 4,000 − 3,500 held: the last 500
	redeem(`{"rewardId":"course-coupon-20"}`, 409)
	// Refused bodies, by another caller (lin has used 5 of create-redemption's 5 a minute; decision 0077).
	c.call(req{fn: "create-redemption", as: kai, headers: key(), body: `{"rewardId":"merchandise-pack"}`, invalid: true}, 400)
	c.call(req{fn: "create-redemption", as: kai, headers: key(), body: `{"rewardId":"gold"}`, invalid: true}, 400)
	c.call(req{fn: "create-redemption", as: kai, body: `{"rewardId":"course-coupon-20"}`, invalid: true}, 400)
	c.call(req{fn: "list-my-redemptions", as: lin}, 200)
	c.call(req{fn: "list-redemptions", as: admin, query: map[string]string{"status": "pending"}}, 200)
	c.call(req{fn: "list-redemptions", as: admin, query: map[string]string{"status": "lost"}, invalid: true}, 400)
	c.call(req{fn: "list-redemptions", as: lin}, 403)
	rid := func(id string) map[string]string { return map[string]string{"redemptionId": id} }
	c.call(req{fn: "cancel-redemption", as: kai, path: rid(credit.ID)}, 404)
	c.call(req{fn: "cancel-redemption", as: lin, path: rid(credit.ID)}, 200)
	c.call(req{fn: "cancel-redemption", as: lin, path: rid(credit.ID)}, 409)
	c.call(req{fn: "approve-redemption", as: admin, path: rid(coupon.ID)}, 200)
	c.call(req{fn: "approve-redemption", as: admin, path: rid(coupon.ID)}, 409)
	c.call(req{fn: "approve-redemption", as: admin, path: rid("rdm_00000000000000000000000000")}, 404)
	c.call(req{fn: "approve-redemption", as: admin, path: rid("nope"), invalid: true}, 400)
	c.call(req{fn: "approve-redemption", as: admin, path: rid(merch.ID)}, 200)
	c.call(req{fn: "fulfil-redemption", as: admin, path: rid(merch.ID), body: `{"note":"UPS 1Z999"}`}, 200)
	c.call(req{fn: "fulfil-redemption", as: admin, path: rid(merch.ID), body: `{}`}, 409)
	c.call(req{fn: "reject-redemption", as: admin, path: rid(late.ID), body: `{"reason":"Duplicate request"}`}, 200)
	c.call(req{fn: "reject-redemption", as: admin, path: rid(late.ID), body: `{"reason":"x"}`, invalid: true}, 400)
	c.call(req{fn: "get-token-metrics", as: admin, query: map[string]string{"days": "7"}}, 200)
	c.call(req{fn: "get-token-metrics", as: admin, query: map[string]string{"days": "91"}, invalid: true}, 400)

	// Boards, friends and classes.
	c.call(req{fn: "get-my-global-rank", as: lin, query: map[string]string{"period": "all"}}, 200)
	uid := func(id string) map[string]string { return map[string]string{"userId": id} }
	c.call(req{fn: "follow-user", as: kai, path: uid(lin.sub)}, 200)
	c.call(req{fn: "follow-user", as: kai, path: uid(kai.sub)}, 422)
	c.call(req{fn: "list-friends", as: kai}, 200)
	res = c.call(req{fn: "get-friends-leaderboard", as: kai, query: map[string]string{"period": "all"}}, 200)
	var fb rewards.BoardView
	res.json(t, &fb)
	if len(fb.Entries) != 1 || fb.Entries[0].DisplayName != "Lin Q." || fb.Entries[0].Score != 4000 {
		t.Fatalf("kai's friends board: %+v", fb)
	}
	c.call(req{fn: "unfollow-user", as: kai, path: uid(lin.sub)}, 200)
	res = c.call(req{fn: "create-class", as: teacher, headers: key(), body: `{"name":"Spanish A1"}`}, 201)
	var class rewards.ClassView
	res.json(t, &class)
	c.call(req{fn: "create-class", as: lin, body: `{"name":"Mine"}`}, 403)
	c.call(req{fn: "join-class", as: lin, body: jsonBody(map[string]string{"code": class.JoinCode})}, 200)
	c.call(req{fn: "join-class", as: kai, body: `{"code":"ZZZZZZZZ"}`}, 404)
	cid := map[string]string{"classId": class.ID}
	c.call(req{fn: "get-class", as: teacher, path: cid}, 200)
	c.call(req{fn: "get-class", as: lin, path: cid}, 200)
	c.call(req{fn: "get-class", as: kai, path: cid}, 404)
	c.call(req{fn: "get-class-leaderboard", as: lin, path: cid}, 200)
	c.call(req{fn: "get-class-leaderboard", as: kai, path: cid}, 404)
	c.call(req{fn: "remove-class-member", as: teacher, path: map[string]string{"classId": class.ID, "userId": lin.sub}}, 200)
	c.call(req{fn: "get-class-leaderboard", as: lin, path: cid}, 404)
	c.call(req{fn: "get-class-leaderboard", as: lin, path: map[string]string{"classId": "cls_01JE0A2B3C4D5E6F7G8H9J0KMN"}}, 404)
}

// rewardsProbes are the idempotency probes of the rewards POST/PUT/DELETE routes.
func rewardsProbes(user, admin *caller) map[string]req {
	unknown := map[string]string{"redemptionId": "rdm_00000000000000000000000000"}
	teacher := newCaller(false)
	teacher.groups = "[instructor]"
	return map[string]req{
		"create-redemption":   {as: user, body: `{"rewardId":"gold"}`, invalid: true},
		"cancel-redemption":   {as: user, path: map[string]string{"redemptionId": "nope"}, invalid: true, probeStatus: 400},
		"update-profile":      {as: user, body: `{"displayName":"x","leaderboardOptOut":false}`, invalid: true},
		"follow-user":         {as: user, path: map[string]string{"userId": user.sub}},
		"unfollow-user":       {as: user, path: map[string]string{"userId": user.sub}},
		"create-class":        {as: teacher, body: `{"name":""}`, invalid: true},
		"join-class":          {as: user, body: `{"code":"x"}`, invalid: true},
		"remove-class-member": {as: user, path: map[string]string{"classId": "nope", "userId": user.sub}, invalid: true, probeStatus: 400},
		"adjust-tokens":       {as: admin, body: `{"userId":"u","amount":0,"reason":"zero"}`, invalid: true},
		"approve-redemption":  {as: admin, path: unknown, probeStatus: 404},
		"fulfil-redemption":   {as: admin, path: unknown, body: `{"note":5}`, invalid: true},
		"reject-redemption":   {as: admin, path: unknown, body: `{"reason":""}`, invalid: true},
	}
}
