package rewards

import (
	"testing"

	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/privacy/privacytest"
	"github.com/liberation/monetization/shared/store"
)

// Rewards exports the account, ledger, earnings, caps, scores, follows and redemptions (with the
// shipping address) — not another user's, nor the admins' ids and notes or the workflow's claims.
func TestPersonalDataExporter(t *testing.T) {
	s := newTestStore(t, nil)
	it := privacytest.Item
	privacytest.Seed(t, s,
		it(store.TokenAccountKey("u1"), "token-account", map[string]any{"balance": 40, "displayName": "Uno"}),
		it(store.TokenEntryKey("u1", 1), "token-entry", map[string]any{"seq": 1, "delta": 50, "kind": "adjust", "actor": "admin-9", "reason": "welcome"}),
		it(store.TokenEarnKey("u1", "lesson.completed", "c1/l1"), "token-earning", map[string]any{"state": "earned"}),
		it(store.TokenCapKey("u1", "lesson.completed", "2026-12-01"), "token-cap", map[string]any{"earned": 5}),
		it(store.LeaderboardScoreKey("u1", "all"), "leaderboard-score", map[string]any{"score": 50}),
		it(store.FollowKey("u1", "u3"), "follow", map[string]any{"followedId": "u3"}),
		it(store.RedemptionKey("u1", "rdm_1"), "redemption", map[string]any{"rewardName": "Mug", "shipping": map[string]any{"line1": "1 Main St"},
			"decidedBy": "admin-9", "note": "VIP", "claim": "approve", "claimId": "c-1"}),
		it(store.TokenAccountKey("u2"), "token-account", map[string]any{"balance": 999, "displayName": "Dos"}),
	)
	items, _ := privacytest.All(t, PersonalDataExporter(privacy.Reader{S: s}), privacy.Subject{UserID: "u1"}, 2)
	if len(items) != 7 {
		t.Fatalf("items %v", privacytest.Count(items))
	}
	privacytest.Holds(t, items, []string{"Uno", "welcome", "1 Main St", "Mug", "u3"}, []string{"Dos", "999", "admin-9", "VIP", "c-1"})
}
